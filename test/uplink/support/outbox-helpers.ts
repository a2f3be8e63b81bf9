// Helpers for the outbox tests: temp dirs and a second, read-only look at the database.
import Database from 'better-sqlite3';
import { ROW_OVERHEAD_BYTES } from '../../../agent/uplink/outbox';

export interface Truth {
  depth: number;
  bytes: number;
  seqs: number[];
}

/** What is really in the file, computed the slow way on a separate connection. */
export function truth(file: string): Truth {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare(`SELECT COUNT(*) AS n, COALESCE(SUM(octet_length(payload)), 0) + COUNT(*) * ${ROW_OVERHEAD_BYTES} AS bytes FROM messages`).get() as {
      n: number;
      bytes: number;
    };
    const seqs = db.prepare('SELECT seq FROM messages ORDER BY seq').pluck().all() as number[];
    return { depth: row.n, bytes: row.bytes, seqs };
  } finally {
    db.close();
  }
}
