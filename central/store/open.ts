// Opens the central's database: SQLite (a file; the embedded default, in WAL mode) or PostgreSQL
// (a postgres:// URL; several central instances share it), migrated to the latest schema.
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { Pool, types as pgTypes } from 'pg';
import { CamgateError } from '../../lib/errors';
import { redactUrl } from '../../lib/url';
import { migrationProvider } from './migrations';
import { withStatementCache } from './sqlite-statements';
import type { CentralTables } from './schema';

export type Dialect = 'sqlite' | 'postgres';

export interface CentralDb {
  db: Kysely<CentralTables>;
  dialect: Dialect;
  /** Where it is, for logs (a URL without its password). */
  where: string;
  close(): Promise<void>;
}

export function isPostgresUrl(target: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(target);
}

/** pg returns bigint (int8) and numeric as strings; every one of ours fits a double exactly. */
/** SQLite's wal_autocheckpoint for the central's database, in pages (4 KiB). */
const SQLITE_CHECKPOINT_PAGES = 10_000;
const INT8 = 20;
const NUMERIC = 1700;
const pgTypeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pgTypes.getTypeParser(oid, format) as (value: string) => unknown;
  },
};

/** One line that says why PostgreSQL could not be used and what to change. */
export function describePostgresError(err: unknown, where: string): string {
  const e = err as { code?: string; message?: string };
  const detail = e.message ?? String(err);
  switch (e.code) {
    case 'ECONNREFUSED':
      return `database ${where}: connection refused (is PostgreSQL running and listening there? check --db)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `database ${where}: host name not found (check --db)`;
    case '3D000':
      return `database ${where}: ${detail} (create it first: createdb <name>, or CREATE DATABASE)`;
    case '28P01':
    case '28000':
      return `database ${where}: the login was refused: ${detail} (check the user and password: PGPASSWORD or ~/.pgpass)`;
    default:
      return `database ${where}: ${detail}`;
  }
}

export async function openCentralDb(target: string): Promise<CentralDb> {
  let db: Kysely<CentralTables>;
  let dialect: Dialect;
  let where: string;
  if (isPostgresUrl(target)) {
    dialect = 'postgres';
    where = redactUrl(target);
    const pool = new Pool({ connectionString: target, max: 8, types: pgTypeParsers, connectionTimeoutMillis: 10_000 });
    // An idle client's error (the server restarted) must not crash the process: the pool drops it.
    pool.on('error', () => undefined);
    try {
      await pool.query('select 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new CamgateError(describePostgresError(err, where), 1, { cause: err });
    }
    db = new Kysely<CentralTables>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = 'sqlite';
    where = resolve(target);
    mkdirSync(dirname(where), { recursive: true });
    const sqlite = new BetterSqlite3(where);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    // The checkpoint (copying the log's pages into the database, with an fsync) runs inside the
    // commit that crosses this many pages. A batch changes ~1,000 pages (message ids are random,
    // a page per row), so at SQLite's default of 1,000 every batch paid a checkpoint: half the
    // writer's wall time. At 10,000 (a log of up to ~40 MB) pages changed by several batches are
    // copied once.
    sqlite.pragma(`wal_autocheckpoint = ${SQLITE_CHECKPOINT_PAGES}`);
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<CentralTables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  }
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new CamgateError(
      `central database ${where}: migration ${failed ?? '?'} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
      1,
      { cause: error },
    );
  }
  return { db, dialect, where, close: () => db.destroy() };
}
