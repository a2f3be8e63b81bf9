// The durable store-and-forward outbox: every QoS 1 message goes through this SQLite
// file before it is published, and leaves it only after the broker's PUBACK (the session calls
// read()/ack(), usually through replay.ts).
//
// Durability rule (group commit)
// ------------------------------
// enqueue() assigns the seq, serialises the payload and appends the message to an in-memory
// pending batch; it does not write. The batch is committed in ONE transaction either on the next
// turn of the event loop (setImmediate) or at once when it reaches `maxBatch` messages. The
// database runs in WAL mode with synchronous=FULL, so COMMIT returns only after the WAL has been
// fsync'ed. The promise returned by enqueue() resolves only after that COMMIT:
//   * resolved  => the message survives kill -9 and power loss;
//   * pending   => it may or may not be there after a crash (never half of it), and if it is,
//                  every message with a lower seq is there too (batches commit in seq order);
//   * rejected  => it was not stored (the batch's transaction failed, e.g. disk full).
// A producer that must not lose a fact awaits the promise before it forgets the fact (or, like
// the health loop, simply re-derives it on restart). Many concurrent producers share one fsync,
// which is what keeps throughput high; a producer that awaits each enqueue alone pays one fsync
// per message.
//
// ack() commits with synchronous=NORMAL: losing the newest acks to a power cut only makes those
// messages go out again (QoS 1 is at-least-once anyway; the centre drops duplicates by seq). The
// WAL frames of that commit become durable with the next FULL commit or checkpoint. Quota drops
// always run inside an enqueue batch, i.e. FULL.
//
// Storage: one row per message, `seq` is the INTEGER PRIMARY KEY (the rowid: no extra index),
// the topic is a small integer into `topics`, the payload is TEXT. One index on drop_class (the
// rowid is implicitly its second column) finds the oldest message of a class for quota drops.
// Depth, accounted bytes, the seq high-water mark and the drop counter live in the one-row
// `state` table, updated in the same transaction as the rows they describe: stats() and quota
// checks never scan the table, and the figures are exact after any crash.
//
// Accounted bytes = for each stored message, UTF-8 length of its payload + ROW_OVERHEAD_BYTES
// (topic id, seq, flags, timestamp, B-tree cell, index entry, page slack; measured on the
// 1M-message benchmark). The quota compares against that figure, which tracks live data; the file itself
// may be larger by free pages (see compaction below) and the WAL (bounded by journal_size_limit
// after checkpoints).
//
// Quota: when a batch brings the accounted bytes over `quotaBytes`, the same transaction deletes
// Metric messages oldest first, then PeriodicStatus, and Transition only when nothing else is
// left, until the bytes are at or below quotaBytes * lowWaterRatio (hysteresis, so a full outbox
// does not drop and report on every batch). onDrop listeners get a DropReport after the COMMIT.
//
// Compaction: the file does not shrink by itself. It is created with auto_vacuum=INCREMENTAL;
// while a backlog is large, the pages freed by acks and drops are simply reused by new messages
// (moving pages then would only churn the disk). Once free pages dominate the file (the backlog
// has mostly drained), ack() releases them in bounded chunks with PRAGMA incremental_vacuum, at
// most once per `compactIntervalMs`; compact() does the same on demand.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DropClass, type DropReport, type Outbox, type OutboxInput, type OutboxMessage, type OutboxStats } from './types';
import { SQLITE_CACHE_KIB } from '../inventory/open';
import { systemClock, type Clock } from '../../lib/clock';
import { payloadWithSeq } from './splice';

/** Per-message overhead added to the payload's UTF-8 length in the byte accounting. Measured
 * (scripts/bench/outbox.ts): a 1M-message backlog of 209-byte payloads takes 252 B/message on disk
 * after a checkpoint (row, index entry, page slack), i.e. ~43 B beyond the payload. */
export const ROW_OVERHEAD_BYTES = 44;

export const OUTBOX_SCHEMA_VERSION = 1;

export interface OutboxOptions {
  /** The database file, e.g. <dataDir>/outbox.db (its own file, not the inventory). */
  file: string;
  /** Upper bound for the accounted bytes (see above). */
  quotaBytes: number;
  /** For enqueuedAt; default the system clock. */
  clock?: Clock;
  /** A pending batch is committed at once when it reaches this many messages. Default 1000. */
  maxBatch?: number;
  /** After a quota drop the accounted bytes are at most quotaBytes * lowWaterRatio. Default 0.95. */
  lowWaterRatio?: number;
  /** Synchronous mode of enqueue commits. Default and only durable choice: 'FULL'.
   * 'NORMAL' (survives kill -9, not power loss) exists for benchmark comparisons. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Minimum interval between automatic compaction steps run from ack(). Default 1000 ms. */
  compactIntervalMs?: number;
  /** Pages released per compaction step. Default 2048 (8 MiB with 4 KiB pages). */
  compactChunkPages?: number;
}

/** The outbox plus maintenance calls that are not part of the uplink contract. */
export interface SqliteOutbox extends Outbox {
  readonly file: string;
  /** Commits the pending batch now (resolves when it is durable). */
  flush(): Promise<void>;
  /** Releases up to `maxPages` free pages to the file system (incremental vacuum); returns how many. */
  compact(maxPages?: number): number;
  /** PRAGMA wal_checkpoint(TRUNCATE): folds the WAL into the database file and truncates it. */
  checkpoint(): void;
  /** The connection's durability settings, for diagnostics and tests (synchronous: 1 NORMAL, 2 FULL). */
  settings(): { journalMode: string; synchronous: number; autoVacuum: number };
}

interface Pending {
  seq: number;
  topic: string;
  payload: string;
  bytes: number;
  retain: boolean;
  dropClass: DropClass;
  enqueuedAt: number;
  resolve(seq: number): void;
  reject(err: unknown): void;
}

interface State {
  nextSeq: number;
  depth: number;
  bytes: number;
  droppedTotal: number;
}

const SCHEMA = `
  CREATE TABLE topics (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
  ) STRICT;
  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    topic_id INTEGER NOT NULL,
    drop_class INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    enqueued_at INTEGER NOT NULL,
    payload TEXT NOT NULL
  ) STRICT;
  -- (drop_class, rowid): oldest message of a class for quota drops.
  CREATE INDEX messages_by_class ON messages(drop_class);
  CREATE TABLE state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    next_seq INTEGER NOT NULL,
    depth INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    dropped_total INTEGER NOT NULL
  ) STRICT;
  INSERT INTO state (id, next_seq, depth, bytes, dropped_total) VALUES (1, 1, 0, 0, 0);
`;

/** Drop order under the quota: first entry goes first. */
const DROP_ORDER: readonly DropClass[] = [DropClass.Metric, DropClass.PeriodicStatus, DropClass.Transition];

export function openOutbox(options: OutboxOptions): SqliteOutbox {
  const file = options.file;
  const quotaBytes = options.quotaBytes;
  if (!(quotaBytes > 0)) throw new RangeError(`outbox: quotaBytes must be > 0 (got ${quotaBytes})`);
  const clock = options.clock ?? systemClock;
  const maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 1000));
  const lowWaterRatio = options.lowWaterRatio ?? 0.95;
  if (!(lowWaterRatio > 0 && lowWaterRatio <= 1)) throw new RangeError('outbox: lowWaterRatio must be in (0, 1]');
  const enqueueSync = options.synchronous ?? 'FULL';
  const compactIntervalMs = options.compactIntervalMs ?? 1000;
  const compactChunkPages = options.compactChunkPages ?? 2048;

  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
  const db = new Database(file);
  let state: State;
  try {
    // Must precede the first CREATE TABLE to take effect; a no-op on an existing file.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${enqueueSync}`);
    db.pragma('busy_timeout = 5000');
    // Truncate the WAL back to 64 MiB after a checkpoint (a 1M-message backlog would leave it large).
    db.pragma('journal_size_limit = 67108864');
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection; a backlog read through
    // during a long broker outage would keep that much RSS for good. SQLite's own default (2 MB)
    // is plenty for appending at one end and reading at the other (the agent's memory budget, docs/benchmarks.md).
    db.pragma(`cache_size = ${SQLITE_CACHE_KIB}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > OUTBOX_SCHEMA_VERSION) {
      throw new Error(`outbox ${file} has schema version ${version}, newer than this camgate (${OUTBOX_SCHEMA_VERSION})`);
    }
    if (version === 0) {
      db.transaction(() => {
        db.exec(SCHEMA);
        db.pragma(`user_version = ${OUTBOX_SCHEMA_VERSION}`);
      }).immediate();
    }
    const row = db.prepare('SELECT next_seq, depth, bytes, dropped_total FROM state WHERE id = 1').get() as
      { next_seq: number; depth: number; bytes: number; dropped_total: number } | undefined;
    if (!row) throw new Error(`outbox ${file}: state row missing`);
    state = { nextSeq: row.next_seq, depth: row.depth, bytes: row.bytes, droppedTotal: row.dropped_total };
  } catch (err) {
    db.close();
    throw err;
  }

  const topicIds = new Map<string, number>();
  const topicNames: string[] = [];
  for (const t of db.prepare('SELECT id, name FROM topics').all() as Array<{ id: number; name: string }>) {
    topicIds.set(t.name, t.id);
    topicNames[t.id] = t.name;
  }

  const insertTopic = db.prepare('INSERT INTO topics (name) VALUES (?)');
  const insertMessage = db.prepare('INSERT INTO messages (seq, topic_id, drop_class, retain, enqueued_at, payload) VALUES (?, ?, ?, ?, ?, ?)');
  const updateState = db.prepare('UPDATE state SET next_seq = ?, depth = ?, bytes = ?, dropped_total = ? WHERE id = 1');
  const selectAfter = db.prepare('SELECT seq, topic_id, retain, drop_class, enqueued_at, payload FROM messages WHERE seq > ? ORDER BY seq LIMIT ?').raw(true);
  // ack(): the seqs go in as one JSON array; counting and deleting run inside SQLite (7x the rate
  // of one DELETE ... RETURNING per seq measured here, ~800k rows/s).
  const ackedRows = db
    .prepare('SELECT COUNT(*), COALESCE(SUM(octet_length(payload)), 0) FROM messages WHERE seq IN (SELECT value FROM json_each(?))')
    .raw(true);
  const deleteAcked = db.prepare('DELETE FROM messages WHERE seq IN (SELECT value FROM json_each(?))');
  const victims = db.prepare('SELECT seq, octet_length(payload) FROM messages WHERE drop_class = ? ORDER BY drop_class, seq').raw(true);
  const deleteClassUpTo = db.prepare('DELETE FROM messages WHERE drop_class = ? AND seq <= ?');
  // PRAGMA synchronous takes effect when the statement is compiled, so a prepared statement cannot
  // be reused for it: exec() compiles it each time (cheaper than db.pragma(), which also reads back).
  const ackSyncMode = { run: () => db.exec('PRAGMA synchronous = NORMAL') };
  const enqueueSyncMode = { run: () => db.exec(`PRAGMA synchronous = ${enqueueSync}`) };
  const minSeq = db.prepare('SELECT MIN(seq) FROM messages').pluck(true);
  const maxSeq = db.prepare('SELECT MAX(seq) FROM messages').pluck(true);

  // Pending batch (not yet committed) and seqs handed out so far. Seqs of a batch that failed
  // are never reused in this process; after a restart the next seq continues from the last
  // committed one (an uncommitted seq was never visible to anyone).
  let pending: Pending[] = [];
  let allocSeq = state.nextSeq;
  let flushScheduled = false;
  let closed = false;
  const dropListeners: Array<(report: DropReport) => void> = [];
  let lastCompactAt = -Infinity;

  /** Inside a transaction: deletes until bytes <= target; returns the report and the new figures. */
  function dropOverQuota(bytes: number, depth: number): { bytes: number; depth: number; report: DropReport } {
    const target = Math.floor(quotaBytes * lowWaterRatio);
    const dropped: DropReport['dropped'] = [];
    for (const cls of DROP_ORDER) {
      if (bytes <= target) break;
      let count = 0;
      let freed = 0;
      let fromSeq = 0;
      let toSeq = 0;
      for (const [seq, len] of victims.iterate(cls) as IterableIterator<[number, number]>) {
        if (count === 0) fromSeq = seq;
        toSeq = seq;
        count++;
        freed += len + ROW_OVERHEAD_BYTES;
        if (bytes - freed <= target) break; // leaves the iterator (closes the statement)
      }
      if (count === 0) continue;
      const deleted = deleteClassUpTo.run(cls, toSeq).changes;
      if (deleted !== count) throw new Error(`outbox: quota drop deleted ${deleted} rows, expected ${count}`);
      bytes -= freed;
      depth -= count;
      dropped.push({ dropClass: cls, count, fromSeq, toSeq });
    }
    return { bytes, depth, report: { dropped, reason: 'quota' } };
  }

  const commitBatch = db.transaction((batch: Pending[], newTopics: Map<string, number>) => {
    let { bytes, depth, droppedTotal } = state;
    for (const m of batch) {
      let topicId = topicIds.get(m.topic) ?? newTopics.get(m.topic);
      if (topicId === undefined) {
        topicId = Number(insertTopic.run(m.topic).lastInsertRowid);
        newTopics.set(m.topic, topicId);
      }
      insertMessage.run(m.seq, topicId, m.dropClass, m.retain ? 1 : 0, m.enqueuedAt, m.payload);
      bytes += m.bytes;
      depth++;
    }
    let report: DropReport | null = null;
    if (bytes > quotaBytes) {
      const r = dropOverQuota(bytes, depth);
      bytes = r.bytes;
      depth = r.depth;
      report = r.report;
      for (const d of report.dropped) droppedTotal += d.count;
    }
    const nextSeq = batch[batch.length - 1].seq + 1;
    updateState.run(nextSeq, depth, bytes, droppedTotal);
    return { next: { nextSeq, depth, bytes, droppedTotal }, report };
  });

  // Seqs already acked or dropped simply match nothing: ack is idempotent.
  const commitAcks = db.transaction((seqs: readonly number[]) => {
    const json = JSON.stringify(seqs);
    const [count, payloadBytes] = ackedRows.get(json) as [number, number];
    if (count === 0) return state;
    const deleted = deleteAcked.run(json).changes;
    if (deleted !== count) throw new Error(`outbox: ack deleted ${deleted} rows, expected ${count}`);
    const depth = state.depth - count;
    const bytes = state.bytes - payloadBytes - count * ROW_OVERHEAD_BYTES;
    updateState.run(state.nextSeq, depth, bytes, state.droppedTotal);
    return { ...state, depth, bytes };
  });

  function emitDrop(report: DropReport): void {
    for (const listener of dropListeners) {
      try {
        listener(report);
      } catch (err) {
        process.emitWarning(`outbox onDrop listener threw: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  }

  function flushNow(): void {
    flushScheduled = false;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const newTopics = new Map<string, number>();
    let result: { next: State; report: DropReport | null };
    try {
      result = commitBatch.immediate(batch, newTopics);
    } catch (err) {
      for (const m of batch) m.reject(err);
      return;
    }
    state = result.next;
    for (const [name, id] of newTopics) {
      topicIds.set(name, id);
      topicNames[id] = name;
    }
    for (const m of batch) m.resolve(m.seq);
    if (result.report) emitDrop(result.report);
  }

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flushNow);
  }

  function compact(maxPages = compactChunkPages): number {
    const before = db.pragma('freelist_count', { simple: true }) as number;
    if (before === 0) return 0;
    db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(maxPages))})`);
    const after = db.pragma('freelist_count', { simple: true }) as number;
    return before - after;
  }

  function maybeCompact(): void {
    const now = performance.now();
    if (now - lastCompactAt < compactIntervalMs) return;
    lastCompactAt = now;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    if (free < compactChunkPages) return;
    const total = db.pragma('page_count', { simple: true }) as number;
    // Only once the backlog has mostly drained: free pages are 3/4 of the file.
    if (free * 4 < total * 3) return;
    compact(compactChunkPages);
  }

  // A quota lowered since the last run: enforce it once listeners had a chance to register.
  if (state.bytes > quotaBytes) {
    setImmediate(() => {
      if (closed || state.bytes <= quotaBytes) return;
      let r: { bytes: number; depth: number; report: DropReport };
      try {
        r = db
          .transaction(() => {
            const out = dropOverQuota(state.bytes, state.depth);
            const dropped = out.report.dropped.reduce((n, d) => n + d.count, 0);
            updateState.run(state.nextSeq, out.depth, out.bytes, state.droppedTotal + dropped);
            return out;
          })
          .immediate();
      } catch (err) {
        process.emitWarning(`outbox: quota enforcement at open failed: ${(err as Error).message}`);
        return;
      }
      const dropped = r.report.dropped.reduce((n, d) => n + d.count, 0);
      state = { ...state, bytes: r.bytes, depth: r.depth, droppedTotal: state.droppedTotal + dropped };
      emitDrop(r.report);
    });
  }

  const outbox: SqliteOutbox = {
    file,

    enqueue(input: OutboxInput): Promise<number> {
      if (closed) return Promise.reject(new Error('outbox is closed'));
      const { topic, payload, dropClass } = input;
      if (typeof topic !== 'string' || topic.length === 0) return Promise.reject(new TypeError('outbox: topic must be a non-empty string'));
      if (dropClass !== DropClass.Transition && dropClass !== DropClass.PeriodicStatus && dropClass !== DropClass.Metric) {
        return Promise.reject(new TypeError(`outbox: invalid dropClass ${String(dropClass)}`));
      }
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
        return Promise.reject(new TypeError('outbox: payload must be a JSON object'));
      }
      if (Object.prototype.hasOwnProperty.call(payload, 'seq') || Object.prototype.hasOwnProperty.call(payload, 'historical')) {
        return Promise.reject(new TypeError('outbox: payload must not contain "seq" or "historical" (set by the uplink)'));
      }
      let body: string;
      try {
        body = JSON.stringify(payload);
      } catch (err) {
        return Promise.reject(err);
      }
      const seq = allocSeq++;
      const text = payloadWithSeq(body, seq);
      return new Promise<number>((resolve, reject) => {
        pending.push({
          seq,
          topic,
          payload: text,
          bytes: Buffer.byteLength(text, 'utf8') + ROW_OVERHEAD_BYTES,
          retain: input.retain === true,
          dropClass,
          enqueuedAt: clock.now(),
          resolve,
          reject,
        });
        if (pending.length >= maxBatch) flushNow();
        else scheduleFlush();
      });
    },

    read(afterSeq: number, limit: number): OutboxMessage[] {
      if (closed) throw new Error('outbox is closed');
      if (!(limit > 0)) return [];
      const rows = selectAfter.all(afterSeq, Math.floor(limit)) as Array<[number, number, number, number, number, string]>;
      const out = new Array<OutboxMessage>(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        out[i] = { seq: r[0], topic: topicNames[r[1]], retain: r[2] === 1, dropClass: r[3], enqueuedAt: r[4], payload: r[5] };
      }
      return out;
    },

    ack(seqs: readonly number[]): void {
      if (closed) throw new Error('outbox is closed');
      if (seqs.length === 0) return;
      ackSyncMode.run();
      try {
        state = commitAcks.immediate(seqs);
      } finally {
        enqueueSyncMode.run();
      }
      maybeCompact();
    },

    stats(): OutboxStats {
      if (closed) throw new Error('outbox is closed');
      const empty = state.depth === 0;
      return {
        depth: state.depth,
        bytes: state.bytes,
        oldestSeq: empty ? null : (minSeq.get() as number),
        newestSeq: empty ? null : (maxSeq.get() as number),
        droppedTotal: state.droppedTotal,
      };
    },

    onDrop(listener: (report: DropReport) => void): void {
      dropListeners.push(listener);
    },

    flush(): Promise<void> {
      if (closed) return Promise.resolve();
      const last = pending[pending.length - 1];
      if (!last) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const { resolve: res0, reject: rej0 } = last;
        last.resolve = (seq) => {
          res0(seq);
          resolve();
        };
        last.reject = (err) => {
          rej0(err);
          reject(err);
        };
        flushNow();
      });
    },

    compact(maxPages?: number): number {
      if (closed) throw new Error('outbox is closed');
      return compact(maxPages);
    },

    checkpoint(): void {
      if (closed) throw new Error('outbox is closed');
      db.pragma('wal_checkpoint(TRUNCATE)');
    },

    settings() {
      if (closed) throw new Error('outbox is closed');
      return {
        journalMode: db.pragma('journal_mode', { simple: true }) as string,
        synchronous: db.pragma('synchronous', { simple: true }) as number,
        autoVacuum: db.pragma('auto_vacuum', { simple: true }) as number,
      };
    },

    async close(): Promise<void> {
      if (closed) return;
      flushNow();
      closed = true;
      db.close();
    },
  };
  return outbox;
}
