// The central's configuration: its schema with the CAMGATE_CENTRAL_ environment prefix.
import { ConfigSpec } from '../../lib/config';
import { CentralConfigSchema } from './schema';

export const centralConfig = new ConfigSpec(CentralConfigSchema, {
  prefix: 'CAMGATE_CENTRAL_',
  nonKeys: ['CAMGATE_CENTRAL_CONFIG'],
  ignored: ['CAMGATE_CENTRAL_TEST'],
});
