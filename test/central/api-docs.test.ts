// docs/api.md summarises the OpenAPI document the API serves: every operation is listed there with
// its role, so the page cannot fall behind the routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { startTestCentral } from '../kit/central';

interface Operation {
  summary?: string;
  description?: string;
  security?: unknown[];
}

test('docs/api.md lists every operation of /api/openapi.json with the role it needs', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const central = await startTestCentral(t, { brokerUrl: broker.url });
  const doc = await central.client().get<{ paths: Record<string, Record<string, Operation>> }>('/api/openapi.json');
  assert.equal(doc.status, 200);
  const page = readFileSync('docs/api.md', 'utf8');
  const rows = new Map<string, string>();
  for (const line of page.split('\n')) {
    const row = /^\| `(GET|POST|PUT|PATCH|DELETE) ([^`]+)` \| (\w+) \|/.exec(line);
    if (row) rows.set(`${row[1]} ${row[2]}`, row[3]);
  }
  const served = new Set<string>();
  const problems: string[] = [];
  for (const [path, methods] of Object.entries(doc.body.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      // OpenAPI writes {site}; the page writes :site, as the routes and the error messages do.
      const key = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
      served.add(key);
      const role = /Needs the (\w+) role/.exec(op.description ?? '')?.[1] ?? 'public';
      const listed = rows.get(key);
      if (listed === undefined) problems.push(`missing from docs/api.md: | \`${key}\` | ${role} | ${op.summary ?? ''} |`);
      else if (listed !== role) problems.push(`${key}: docs/api.md says ${listed}, the route needs ${role}`);
    }
  }
  for (const key of rows.keys()) if (!served.has(key)) problems.push(`docs/api.md lists ${key}, which the API does not serve`);
  assert.deepEqual(problems, []);
  assert.ok(served.size >= 25, `only ${served.size} operations served`);
});
