// SQLite statements prepared once per SQL text. Kysely's SQLite driver prepares every query it
// runs anew, and preparing (parsing and planning the SQL) cost more than running it: a quarter of
// the central's CPU while ingest wrote a busy stream (docs/benchmarks.md). The writer's queries
// repeat the same few texts with other parameters, so the prepared statements are kept by their
// text, the least recently used dropped past a bound (texts with IN lists of many lengths would
// otherwise grow it without end).
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Statements kept at most: far more than the texts the central runs, far less than memory matters. */
export const STATEMENT_CACHE_SIZE = 500;

/** The database as Kysely's SqliteDialect takes it, with `prepare` answering kept statements. */
export function withStatementCache(database: BetterSqlite3.Database, size = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const kept = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      kept.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      const statement = kept.get(sql);
      if (statement) {
        // A statement still iterating a result (a streamed query) cannot run again until it ends.
        if (statement.busy) return database.prepare(sql);
        // Map order is insertion order: taking it out and back makes it the most recent.
        kept.delete(sql);
        kept.set(sql, statement);
        return statement;
      }
      const fresh = database.prepare(sql);
      kept.set(sql, fresh);
      if (kept.size > size) kept.delete(kept.keys().next().value as string);
      return fresh;
    },
  };
}
