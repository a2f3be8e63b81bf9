// Writes the contract's JSON Schema documents to contract/json/ (run after changing a schema in
// contract/; test/contract/json-files.test.ts fails while the files differ from the schemas).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contractJsonDocuments } from '../../contract';

const dir = join(__dirname, '..', '..', '..', 'contract', 'json');
mkdirSync(dir, { recursive: true });
const documents = contractJsonDocuments();
for (const stale of readdirSync(dir).filter((f) => f.endsWith('.json') && !(f in documents))) rmSync(join(dir, stale));
for (const [file, doc] of Object.entries(documents)) writeFileSync(join(dir, file), JSON.stringify(doc, null, 2) + '\n');
console.log(`contract/json: ${Object.keys(documents).length} schema files written`);
