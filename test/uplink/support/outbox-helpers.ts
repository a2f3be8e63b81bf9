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

/** Small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
