// Writes config/schema.json (the agent's configuration, agent/config/schema.ts) and
// config/central-schema.json (the central's, central/config/schema.ts); a test fails while either
// file differs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentConfig } from '../../agent/config/spec';
import { centralConfig } from '../../central/config/spec';
import { configSchemaDocument } from '../../lib/config';

const dir = join(__dirname, '..', '..', '..', 'config');
for (const [name, spec] of [
  ['schema.json', agentConfig],
  ['central-schema.json', centralConfig],
] as const) {
  writeFileSync(join(dir, name), configSchemaDocument(spec));
  console.log(`${join(dir, name)}: written`);
}
