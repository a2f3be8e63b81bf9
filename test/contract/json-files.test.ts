// The JSON Schema files in contract/json/ are what consumers outside TypeScript read: they must be
// exactly what the contract's schemas emit (run `npm run contract:json` after changing a schema).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_NAMES, contractJsonDocuments, PAYLOAD_KINDS } from '../../contract';

const dir = join(__dirname, '../../../contract/json');

test('contract/json holds exactly the documents the schemas emit, byte for byte', () => {
  const documents = contractJsonDocuments();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  assert.deepEqual(files, Object.keys(documents).sort(), 'the set of files differs: run npm run contract:json');
  for (const [file, doc] of Object.entries(documents)) {
    const onDisk = readFileSync(join(dir, file), 'utf8');
    assert.equal(onDisk, JSON.stringify(doc, null, 2) + '\n', `contract/json/${file} differs from its schema in contract/: run npm run contract:json`);
  }
});

test('every payload kind and command has a document with its own $id and no TypeBox residue', () => {
  const documents = contractJsonDocuments();
  for (const kind of PAYLOAD_KINDS) assert.ok(documents[`${kind}.json`], kind);
  for (const name of COMMAND_NAMES) assert.ok(documents[`cmd-${name}.json`], name);
  for (const [file, doc] of Object.entries(documents)) {
    assert.equal((doc as { $id: string }).$id, `https://camgate.local/schema/uplink/${file}`);
    assert.doesNotMatch(JSON.stringify(doc), /"\[?(Kind|Hint|Optional)\]?"/);
  }
});
