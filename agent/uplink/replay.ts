// Bounded-window replay of the outbox: reads committed messages oldest first, keeps at
// most `window` publishes in flight, and acks the ones whose publish resolved (PUBACK) back to
// the outbox in batches. The MQTT session injects `publish` (and decides there whether to mark a
// message historical); the loop knows nothing about MQTT.
//
// Why bounded: MQTT packet ids are 16-bit and mqtt.js keeps every unacknowledged QoS 1 publish in
// memory; queuing a 100k-message backlog at once never completed (see NOTES.md).
//
// Ordering: publishes are started in seq order, so they reach the broker in seq order on one
// connection. PUBACKs may come back in any order; ack() is only a delete. Delivery is
// at-least-once: a message whose PUBACK arrived but whose ack was not yet committed (crash, or the
// ack batch was still filling) is sent again by the next replay with the same seq, and the
// receiver drops it as a duplicate.
//
// Stopping: on the first rejected publish (connection lost) or when shouldYield() returns true,
// no new publish starts; the loop waits for the ones in flight to settle, acks those that
// succeeded, and resolves. It never throws; the result says why it stopped.
import type { Outbox, OutboxMessage } from './types';

export interface ReplayOptions {
  outbox: Pick<Outbox, 'read' | 'ack'>;
  /** Publishes one message; resolves on PUBACK, rejects if it will not be acknowledged. */
  publish(msg: OutboxMessage): Promise<void>;
  /** Maximum publishes in flight (>= 1). */
  window: number;
  /** Start after this seq (default 0: from the oldest stored message). */
  afterSeq?: number;
  /** Messages read from the outbox per read() call. Default 1000. */
  readBatch?: number;
  /** Acknowledged seqs are passed to outbox.ack() in batches of this size (and at the end). Default 1000. */
  ackBatch?: number;
  /** Polled before each publish; true stops the replay (e.g. live traffic waiting, shutdown). */
  shouldYield?(): boolean;
}

export type ReplayStop = 'drained' | 'yielded' | 'failed';

export interface ReplayResult {
  reason: ReplayStop;
  /** Publishes that resolved (and were acked to the outbox, unless ack itself failed). */
  published: number;
  /** Highest seq handed to publish (afterSeq if none): a following replay may start after it. */
  lastSeq: number;
  /** The first publish or ack error, when reason is 'failed'. */
  error?: unknown;
}

export function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { outbox, publish, shouldYield } = options;
  const window = Math.floor(options.window);
  if (!(window >= 1)) return Promise.reject(new RangeError(`replay: window must be >= 1 (got ${options.window})`));
  const readBatch = Math.max(1, Math.floor(options.readBatch ?? 1000));
  const ackBatch = Math.max(1, Math.floor(options.ackBatch ?? 1000));

  let cursor = options.afterSeq ?? 0; // highest seq handed to publish
  let readCursor = cursor; // highest seq read into the buffer
  let buffer: OutboxMessage[] = [];
  let next = 0;
  let inFlight = 0;
  let published = 0;
  let toAck: number[] = [];
  let stop: ReplayStop | null = null;
  let error: unknown;
  let settled = false;

  return new Promise<ReplayResult>((resolve) => {
    const fail = (err: unknown): void => {
      if (stop !== 'failed') {
        stop = 'failed';
        error = err;
      }
    };

    const flushAcks = (): void => {
      if (toAck.length === 0) return;
      const seqs = toAck;
      toAck = [];
      try {
        outbox.ack(seqs);
      } catch (err) {
        fail(err);
      }
    };

    /** Appends the next batch to the buffer; returns how many messages it got. */
    const fetch = (): number => {
      let rows: OutboxMessage[];
      try {
        rows = outbox.read(readCursor, readBatch);
      } catch (err) {
        fail(err);
        return 0;
      }
      if (rows.length === 0) return 0;
      buffer = next >= buffer.length ? rows : buffer.slice(next).concat(rows);
      next = 0;
      readCursor = rows[rows.length - 1].seq;
      return rows.length;
    };

    // Completions only count. The window is refilled once per burst of PUBACKs (one microtask),
    // so the new publishes go out together; the synchronous SQLite work (ack, read-ahead) runs
    // after them, while those publishes are on the wire, not before. Both measurably faster with
    // mqtt.js (docs/benchmarks.md).
    let refillScheduled = false;
    const refill = (): void => {
      refillScheduled = false;
      pump();
      if (!settled && toAck.length >= ackBatch) flushAcks();
    };
    const scheduleRefill = (): void => {
      if (refillScheduled) return;
      refillScheduled = true;
      queueMicrotask(refill);
    };

    const onPublished = (seq: number): void => {
      inFlight--;
      published++;
      toAck.push(seq);
      scheduleRefill();
    };

    const onFailed = (err: unknown): void => {
      inFlight--;
      fail(err);
      scheduleRefill();
    };

    /** Starts publishes up to the window; returns false when the buffer ran dry. */
    const launch = (): void => {
      while (stop === null && inFlight < window) {
        if (next >= buffer.length && fetch() === 0) return;
        if (shouldYield?.()) {
          stop = 'yielded';
          return;
        }
        const msg = buffer[next++];
        cursor = msg.seq;
        inFlight++;
        let p: Promise<void>;
        try {
          p = publish(msg);
        } catch (err) {
          fail(err); // stop launching right away, as for a rejection
          p = Promise.reject(err);
        }
        p.then(() => onPublished(msg.seq), onFailed);
      }
    };

    const pump = (): void => {
      if (settled) return;
      launch();
      // Read ahead once the publishes are out, so the next refill finds messages waiting.
      if (stop === null && buffer.length - next < Math.min(window, readBatch) && fetch() > 0 && inFlight < window) launch();
      if (inFlight === 0) {
        settled = true;
        flushAcks();
        resolve({ reason: stop ?? 'drained', published, lastSeq: cursor, ...(stop === 'failed' ? { error } : {}) });
      }
    };

    pump();
  });
}
