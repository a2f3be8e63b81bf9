// Opens (creating if needed) <dataDir>/camgate.db in WAL mode and migrates it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, Migration, MIGRATIONS } from './migrations';
import { CamgateError } from '../../lib/errors';

export const DB_FILE = 'camgate.db';

/**
 * Page cache per SQLite connection, as PRAGMA cache_size (negative: KiB). better-sqlite3 compiles
 * SQLite with 16 MB (-16000) per connection; the agent keeps two connections (this DB and the
 * outbox) open for good, and a ledger with a thumbnail per camera, or an outbox backlog, would
 * fill that much RSS. SQLite's own default, 2 MB, holds a 256-camera ledger (~1 MB) whole.
 */
export const SQLITE_CACHE_KIB = -2000;

export function databasePath(dataDir: string): string {
  return join(dataDir, DB_FILE);
}

export function openDatabase(dataDir: string, migrations: Migration[] = MIGRATIONS): Database.Database {
  try {
    // Owner and group only: the DB holds the site ledger (credentials in it are encrypted regardless).
    mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new CamgateError(`cannot create data directory ${dataDir}: ${(err as Error).message}`, 1, { cause: err });
  }
  const file = databasePath(dataDir);
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (err) {
    throw new CamgateError(`cannot open ${file}: ${(err as Error).message}`, 1, { cause: err });
  }
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode; only a power cut may lose the last commit.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // The agent and a CLI command may use the DB at the same time.
    db.pragma('busy_timeout = 5000');
    db.pragma(`cache_size = ${SQLITE_CACHE_KIB}`);
    migrate(db, file, migrations);
  } catch (err) {
    db.close();
    if (err instanceof CamgateError) throw err;
    throw new CamgateError(`cannot use ${file}: ${(err as Error).message}`, 1, { cause: err });
  }
  return db;
}
