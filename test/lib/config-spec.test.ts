// lib/config serves any program: its own schema, its own environment prefix. A second, small
// schema (as the central will have) gets its keys, flags, variables, defaults, validation and
// masking from the same loader, and nothing of the agent's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { ConfigSpec, configSchemaDocument } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { tempDir } from '../kit/temp';

const CentralLike = Type.Object(
  {
    http: Type.Object(
      {
        port: Type.Integer({ description: 'TCP port of the API.', default: 8090, minimum: 0, maximum: 65535 }),
        token: Type.Optional(Type.String({ description: 'API token.', 'x-secret': true })),
      },
      { additionalProperties: false, description: 'The HTTP API.' },
    ),
    db: Type.String({ description: 'SQLite file or postgres:// URL.', default: './central.db', minLength: 1, 'x-flag-alias': '--db' }),
  },
  { $id: 'https://camgate.local/schema/central-like.json', additionalProperties: false },
);

const spec = new ConfigSpec(CentralLike, { prefix: 'CAMGATE_CENTRAL_', nonKeys: ['CAMGATE_CENTRAL_CONFIG'] });

test('another schema and prefix: keys, variables and flags come from it', () => {
  assert.deepEqual(
    spec.keys.map((k) => [k.path, k.env, k.flag, k.flagAlias ?? null]),
    [
      ['http.port', 'CAMGATE_CENTRAL_HTTP_PORT', '--http.port', null],
      ['http.token', 'CAMGATE_CENTRAL_HTTP_TOKEN', '--http.token', null],
      ['db', 'CAMGATE_CENTRAL_DB', '--db', '--db'],
    ],
  );
});

test('another schema and prefix: defaults < file < environment, validated, with the right names in messages', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'central.yaml');
  writeFileSync(file, 'http:\n  port: 9000\n');
  const loaded = spec.load({ file, env: { CAMGATE_CENTRAL_HTTP_TOKEN: 's3cret-token', CAMGATE_SITE_ID: 'agent-key-ignored', CAMGATE_CENTRAL_DBB: 'x' } });
  assert.equal(loaded.config.http.port, 9000);
  assert.equal(loaded.config.db, './central.db');
  assert.equal(loaded.config.http.token, 's3cret-token');
  // Only variables with this program's prefix are its business; a near miss is named.
  assert.deepEqual(loaded.warnings, ['unknown environment variable CAMGATE_CENTRAL_DBB ignored (did you mean CAMGATE_CENTRAL_DB?)']);
  assert.deepEqual(spec.masked(loaded.config), { http: { port: 9000, token: '********' }, db: './central.db' });
  assert.deepEqual(spec.secretValues(loaded.config), ['s3cret-token']);

  assert.throws(
    () => spec.load({ env: { CAMGATE_CENTRAL_HTTP_PORT: 'abc' } }),
    (err: unknown) =>
      err instanceof ConfigError && err.issues.join() === 'http.port = "abc" (env CAMGATE_CENTRAL_HTTP_PORT): expected an integer ≥ 0 (at most 65535)',
  );
});

test('another schema: its published file has no required keys and keeps its own $id', () => {
  const doc = JSON.parse(configSchemaDocument(spec)) as { $id: string; required?: unknown; properties: { http: { required?: unknown } } };
  assert.equal(doc.$id, 'https://camgate.local/schema/central-like.json');
  assert.equal(doc.required, undefined);
  assert.equal(doc.properties.http.required, undefined);
});
