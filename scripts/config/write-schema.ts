// Writes config/schema.json from the agent's configuration schema (agent/config/schema.ts); a test
// fails while the file differs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentConfig } from '../../agent/config/spec';
import { configSchemaDocument } from '../../lib/config';

const file = join(__dirname, '..', '..', '..', 'config', 'schema.json');
writeFileSync(file, configSchemaDocument(agentConfig));
console.log(`${file}: written`);
