// The agent's configuration: its schema with the CAMGATE_ environment prefix. Everything the CLI
// and the loader need (keys, flags, variables, loading, masking) comes from this one value.
import { ConfigSpec } from '../../lib/config';
import { AgentConfigSchema } from './schema';

export const agentConfig = new ConfigSpec(AgentConfigSchema, {
  prefix: 'CAMGATE_',
  // Variables of ours that are not config keys: the config file and the credential key.
  nonKeys: ['CAMGATE_CONFIG', 'CAMGATE_SECRET_KEY'],
  // The test suites' own switches, and the central's variables (an all-in-one box has both).
  ignored: ['CAMGATE_TEST', 'CAMGATE_CENTRAL_'],
});
