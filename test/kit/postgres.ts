// A fresh PostgreSQL database per test on the server the machine runs (127.0.0.1:5432, trust auth
// for postgres; CAMGATE_TEST_PG_URL names another server), dropped when the test ends.
import { createScratchDatabase } from '../../scripts/peers/postgres';
import type { TestContext } from './temp';

export const TEST_PG_SERVER = process.env.CAMGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates an empty database and returns its URL; dropped (connections closed first) after the test. */
export async function testDatabase(t: TestContext, prefix = 'camgate_test'): Promise<string> {
  const db = await createScratchDatabase(TEST_PG_SERVER, prefix);
  t.after(() => db.drop());
  return db.url;
}
