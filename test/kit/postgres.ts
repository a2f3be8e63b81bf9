// A fresh PostgreSQL database per test on the server the machine runs (127.0.0.1:5432, trust auth
// for postgres; CAMGATE_TEST_PG_URL names another server), dropped when the test ends.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { TestContext } from './temp';

export const TEST_PG_SERVER = process.env.CAMGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_PG_SERVER });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database and returns its URL; dropped (connections closed first) after the test. */
export async function testDatabase(t: TestContext, prefix = 'camgate_test'): Promise<string> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  t.after(() => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
  const url = new URL(TEST_PG_SERVER);
  url.pathname = `/${name}`;
  return url.toString();
}
