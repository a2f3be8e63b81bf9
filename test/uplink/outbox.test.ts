import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openOutbox, ROW_OVERHEAD_BYTES, type SqliteOutbox } from '../../agent/uplink/outbox';
import { DropClass, type DropReport, type OutboxInput } from '../../agent/uplink/types';
import { truth } from './support/outbox-helpers';
import { seededRandom } from '../../lib/random';
import { systemClock } from '../../lib/clock';
import { markHistorical } from '../../agent/uplink/splice';
import { tempDir } from '../kit/temp';

const BIG = 1e12;

function input(payload: Record<string, unknown>, dropClass = DropClass.Transition, topic = 'camgate/v1/s1/events'): OutboxInput {
  return { topic, payload, dropClass };
}

function open(t: { after(fn: () => unknown): void }, file: string, opts: Partial<Parameters<typeof openOutbox>[0]> = {}): SqliteOutbox {
  const ob = openOutbox({ file, quotaBytes: BIG, ...opts });
  t.after(() => ob.close());
  return ob;
}

test('outbox: creates a WAL, synchronous=FULL, incremental auto_vacuum database', async (t) => {
  const file = join(tempDir(t), 'data', 'outbox.db');
  const ob = open(t, file);
  await ob.enqueue(input({ a: 1 }));
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('auto_vacuum', { simple: true }), 2);
  assert.equal(db.pragma('user_version', { simple: true }), 1);
  // synchronous is per connection: ask the outbox's own. ack() commits with NORMAL and must
  // switch back to FULL for the enqueue commits.
  assert.deepEqual(ob.settings(), { journalMode: 'wal', synchronous: 2, autoVacuum: 2 });
  ob.ack([1]);
  assert.equal(ob.settings().synchronous, 2);
});

test('outbox: seq starts at 1, is written first into the payload, and read() returns what was stored', async (t) => {
  let now = 1_700_000_000_000;
  const ob = open(t, join(tempDir(t), 'outbox.db'), { clock: { ...systemClock, now: () => now++ } });
  const s1 = await ob.enqueue({ topic: 'camgate/v1/s1/events', payload: { type: 'x', n: 'é中😀' }, dropClass: DropClass.Transition });
  const s2 = await ob.enqueue({ topic: 'camgate/v1/s1/status', payload: {}, dropClass: DropClass.PeriodicStatus, retain: true });
  assert.deepEqual([s1, s2], [1, 2]);
  assert.deepEqual(ob.read(0, 10), [
    {
      seq: 1,
      topic: 'camgate/v1/s1/events',
      payload: '{"seq":1,"type":"x","n":"é中😀"}',
      retain: false,
      dropClass: DropClass.Transition,
      enqueuedAt: 1_700_000_000_000,
    },
    { seq: 2, topic: 'camgate/v1/s1/status', payload: '{"seq":2}', retain: true, dropClass: DropClass.PeriodicStatus, enqueuedAt: 1_700_000_000_001 },
  ]);
  assert.deepEqual(JSON.parse(ob.read(0, 1)[0].payload), { seq: 1, type: 'x', n: 'é中😀' });
});

test('outbox: seq is strictly increasing and persists across reopen, even after the table was emptied', async (t) => {
  const file = join(tempDir(t), 'outbox.db');
  let ob = openOutbox({ file, quotaBytes: BIG });
  const first = await Promise.all([1, 2, 3, 4, 5].map((i) => ob.enqueue(input({ i }))));
  assert.deepEqual(first, [1, 2, 3, 4, 5]);
  ob.ack(first);
  assert.equal(ob.stats().depth, 0);
  await ob.close();

  ob = openOutbox({ file, quotaBytes: BIG });
  assert.deepEqual(ob.stats(), { depth: 0, bytes: 0, oldestSeq: null, newestSeq: null, droppedTotal: 0 });
  const next = await ob.enqueue(input({ i: 6 }));
  assert.equal(next, 6);
  assert.equal(ob.read(0, 10)[0].payload, '{"seq":6,"i":6}');
  await ob.close();

  ob = open(t, file);
  const seqs: number[] = [];
  for (let i = 0; i < 3; i++) seqs.push(await ob.enqueue(input({ i })));
  assert.deepEqual(seqs, [7, 8, 9]);
  assert.deepEqual(
    ob.read(0, 100).map((m) => m.seq),
    [6, 7, 8, 9],
  );
});

test('outbox: read(afterSeq, limit) pages oldest first', async (t) => {
  const ob = open(t, join(tempDir(t), 'outbox.db'));
  await Promise.all(Array.from({ length: 25 }, (_, i) => ob.enqueue(input({ i }, i % 3))));
  const pages: number[][] = [];
  let after = 0;
  for (;;) {
    const page = ob.read(after, 10);
    if (page.length === 0) break;
    pages.push(page.map((m) => m.seq));
    after = page[page.length - 1].seq;
  }
  assert.deepEqual(
    pages.map((p) => p.length),
    [10, 10, 5],
  );
  assert.deepEqual(
    pages.flat(),
    Array.from({ length: 25 }, (_, i) => i + 1),
  );
  assert.deepEqual(
    ob.read(7, 2).map((m) => m.seq),
    [8, 9],
  );
  assert.deepEqual(ob.read(25, 10), []);
  assert.deepEqual(ob.read(0, 0), []);
});

test('outbox: ack removes, is idempotent, ignores unknown seqs, and keeps the stats exact', async (t) => {
  const file = join(tempDir(t), 'outbox.db');
  const ob = open(t, file);
  await Promise.all(Array.from({ length: 10 }, (_, i) => ob.enqueue(input({ i, text: 'x'.repeat(i * 7) }))));
  ob.ack([2, 4, 6]);
  ob.ack([2, 4, 6]);
  ob.ack([4, 99, 1000, -1]);
  ob.ack([]);
  assert.deepEqual(
    ob.read(0, 100).map((m) => m.seq),
    [1, 3, 5, 7, 8, 9, 10],
  );
  const real = truth(file);
  const stats = ob.stats();
  assert.equal(stats.depth, 7);
  assert.equal(stats.bytes, real.bytes);
  assert.equal(stats.oldestSeq, 1);
  assert.equal(stats.newestSeq, 10);
  ob.ack([1, 10]);
  assert.equal(ob.stats().oldestSeq, 3);
  assert.equal(ob.stats().newestSeq, 9);
});

test('outbox: rejects payloads it cannot store as specified', async (t) => {
  const ob = open(t, join(tempDir(t), 'outbox.db'));
  await assert.rejects(ob.enqueue(input({ seq: 5 })), /must not contain "seq"/);
  await assert.rejects(ob.enqueue(input({ historical: true })), /must not contain/);
  await assert.rejects(ob.enqueue({ topic: '', payload: {}, dropClass: DropClass.Metric }), /topic/);
  await assert.rejects(ob.enqueue({ topic: 't', payload: [] as unknown as Record<string, unknown>, dropClass: DropClass.Metric }), /JSON object/);
  await assert.rejects(ob.enqueue({ topic: 't', payload: {}, dropClass: 7 as DropClass }), /dropClass/);
  await assert.rejects(ob.enqueue(input({ n: 1n })), /BigInt/);
  // None of the rejected ones used up a seq.
  assert.equal(await ob.enqueue(input({ ok: true })), 1);
});

test('outbox group commit: nothing is visible before the promise resolves; a full batch commits at once', async (t) => {
  const ob = open(t, join(tempDir(t), 'outbox.db'), { maxBatch: 10 });
  const p = ob.enqueue(input({ a: 1 }));
  assert.equal(ob.read(0, 10).length, 0, 'not committed within the same tick');
  assert.equal(ob.stats().depth, 0);
  assert.equal(await p, 1);
  assert.equal(ob.read(0, 10).length, 1);

  const ps = Array.from({ length: 25 }, (_, i) => ob.enqueue(input({ i })));
  // 2 full batches of 10 were committed synchronously by enqueue(); 5 wait for the next tick.
  assert.equal(ob.stats().depth, 21);
  assert.deepEqual(
    await Promise.all(ps),
    Array.from({ length: 25 }, (_, i) => i + 2),
  );
  assert.equal(ob.stats().depth, 26);
});

test('outbox: close() commits the pending batch; enqueue after close rejects', async (t) => {
  const file = join(tempDir(t), 'outbox.db');
  const ob = openOutbox({ file, quotaBytes: BIG });
  const ps = [ob.enqueue(input({ a: 1 })), ob.enqueue(input({ a: 2 }))];
  await ob.close();
  assert.deepEqual(await Promise.all(ps), [1, 2]);
  await assert.rejects(ob.enqueue(input({ a: 3 })), /closed/);
  await ob.close(); // twice is fine
  assert.deepEqual(truth(file).seqs, [1, 2]);
});

test('outbox: a failed batch transaction rejects its promises, later batches still commit', async (t) => {
  const file = join(tempDir(t), 'outbox.db');
  const ob = open(t, file);
  assert.equal(await ob.enqueue(input({ a: 1 })), 1);
  // Another connection takes seq 3, so the batch holding seq 2 and 3 hits a UNIQUE violation.
  const other = new Database(file);
  other.prepare("INSERT INTO messages (seq, topic_id, drop_class, retain, enqueued_at, payload) VALUES (3, 1, 0, 0, 0, '{}')").run();
  other.close();
  const results = await Promise.allSettled([ob.enqueue(input({ a: 2 })), ob.enqueue(input({ a: 3 }))]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  assert.equal(ob.stats().depth, 1, 'the failed batch left no trace in the accounting');
  assert.equal(await ob.enqueue(input({ a: 4 })), 4);
  assert.deepEqual(truth(file).seqs, [1, 3, 4]);
});

// -- quota ---------------------------------------------------------------------------------------

/** Payload whose stored form ({"seq":N,"p":"..."}) is exactly `size` bytes for the given seq. */
function sized(seq: number, size: number): Record<string, unknown> {
  const fixed = `{"seq":${seq},"p":""}`.length;
  return { p: 'x'.repeat(size - fixed) };
}

test('outbox quota: drops Metric oldest first, then PeriodicStatus, Transition only when nothing else is left', async (t) => {
  const SIZE = 100;
  const ROW = SIZE + ROW_OVERHEAD_BYTES;
  const file = join(tempDir(t), 'outbox.db');
  const ob = open(t, file, { quotaBytes: 6 * ROW, lowWaterRatio: 1 });
  const reports: DropReport[] = [];
  ob.onDrop((r) => reports.push(r));
  const { Transition: T, PeriodicStatus: P, Metric: M } = DropClass;
  let seq = 0;
  const put = async (cls: DropClass) => {
    seq++;
    assert.equal(await ob.enqueue(input(sized(seq, SIZE), cls)), seq);
  };
  for (const cls of [T, M, P, M, P, T]) await put(cls); // seqs 1..6, exactly at quota
  assert.equal(reports.length, 0);
  assert.equal(ob.stats().bytes, 6 * ROW);

  await put(M); // 7: over by one row -> oldest Metric (2)
  assert.deepEqual(reports.pop(), { reason: 'quota', dropped: [{ dropClass: M, count: 1, fromSeq: 2, toSeq: 2 }] });
  await put(P); // 8 -> Metric 4
  assert.deepEqual(reports.pop(), { reason: 'quota', dropped: [{ dropClass: M, count: 1, fromSeq: 4, toSeq: 4 }] });
  await put(T); // 9 -> Metric 7 (the last Metric)
  assert.deepEqual(reports.pop(), { reason: 'quota', dropped: [{ dropClass: M, count: 1, fromSeq: 7, toSeq: 7 }] });
  assert.deepEqual(
    ob.read(0, 100).map((m) => m.seq),
    [1, 3, 5, 6, 8, 9],
  );
  await put(T); // 10 -> no Metric left: oldest PeriodicStatus (3)
  assert.deepEqual(reports.pop(), { reason: 'quota', dropped: [{ dropClass: P, count: 1, fromSeq: 3, toSeq: 3 }] });
  await put(T); // 11 -> PeriodicStatus 5
  await put(T); // 12 -> PeriodicStatus 8 (the last)
  assert.deepEqual(
    reports.splice(0).map((r) => r.dropped[0].fromSeq),
    [5, 8],
  );
  assert.deepEqual(
    ob.read(0, 100).map((m) => m.seq),
    [1, 6, 9, 10, 11, 12],
  );
  await put(M); // 13 -> a new Metric is the only non-Transition: it goes, the Transitions stay
  assert.deepEqual(reports.pop(), { reason: 'quota', dropped: [{ dropClass: M, count: 1, fromSeq: 13, toSeq: 13 }] });
  await put(T); // 14 -> only Transitions left: the oldest goes
  assert.deepEqual(reports.pop(), { reason: 'quota', dropped: [{ dropClass: T, count: 1, fromSeq: 1, toSeq: 1 }] });
  assert.deepEqual(
    ob.read(0, 100).map((m) => m.seq),
    [6, 9, 10, 11, 12, 14],
  );
  const stats = ob.stats();
  assert.equal(stats.droppedTotal, 8);
  assert.equal(stats.bytes, 6 * ROW);
  assert.equal(truth(file).bytes, stats.bytes);
});

test('outbox quota: one drop spanning classes drops down to the low-water mark and reports each class', async (t) => {
  const SIZE = 100;
  const ROW = SIZE + ROW_OVERHEAD_BYTES;
  const file = join(tempDir(t), 'outbox.db');
  // Quota 10 rows, low water 50%: a drop goes down to 5 rows.
  const ob = open(t, file, { quotaBytes: 10 * ROW, lowWaterRatio: 0.5 });
  const reports: DropReport[] = [];
  ob.onDrop((r) => reports.push(r));
  const { Transition: T, PeriodicStatus: P, Metric: M } = DropClass;
  const classes = [M, P, T, M, P, T, M, P, T, T]; // seqs 1..10
  await Promise.all(classes.map((cls, i) => ob.enqueue(input(sized(i + 1, SIZE), cls))));
  assert.equal(reports.length, 0);
  await ob.enqueue(input(sized(11, SIZE), P)); // 11 rows -> down to 5: 3 Metrics, then 3 PeriodicStatus
  assert.deepEqual(reports, [
    {
      reason: 'quota',
      dropped: [
        { dropClass: M, count: 3, fromSeq: 1, toSeq: 7 },
        { dropClass: P, count: 3, fromSeq: 2, toSeq: 8 },
      ],
    },
  ]);
  assert.deepEqual(
    ob.read(0, 100).map((m) => m.seq),
    [3, 6, 9, 10, 11],
  );
  assert.equal(ob.stats().bytes, 5 * ROW);
  assert.equal(ob.stats().droppedTotal, 6);
});

test('outbox quota: a lowered quota is enforced after open, once listeners could register', async (t) => {
  const file = join(tempDir(t), 'outbox.db');
  const a = openOutbox({ file, quotaBytes: BIG });
  await Promise.all(Array.from({ length: 20 }, (_, i) => a.enqueue(input({ i, pad: 'y'.repeat(50) }, i % 2 ? DropClass.Metric : DropClass.Transition))));
  await a.close();
  const quota = 12 * (76 + ROW_OVERHEAD_BYTES);
  const b = open(t, file, { quotaBytes: quota });
  const report = await new Promise<DropReport>((resolve) => b.onDrop(resolve));
  assert.equal(report.dropped.length, 1);
  assert.equal(report.dropped[0].dropClass, DropClass.Metric);
  assert.equal(report.dropped[0].fromSeq, 2);
  assert.ok(b.stats().bytes <= quota * 0.95);
  assert.equal(b.stats().bytes, truth(file).bytes);
  assert.equal(b.stats().droppedTotal, report.dropped[0].count);
});

test('outbox: a throwing onDrop listener does not break the outbox or the other listeners', async (t) => {
  const ob = open(t, join(tempDir(t), 'outbox.db'), { quotaBytes: 500 });
  const seen: DropReport[] = [];
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  ob.onDrop(() => {
    throw new Error('boom');
  });
  ob.onDrop((r) => seen.push(r));
  for (let i = 0; i < 10; i++) await ob.enqueue(input({ pad: 'z'.repeat(100) }, DropClass.Metric));
  assert.ok(seen.length > 0);
  await new Promise((r) => setImmediate(r));
  assert.ok(warnings.some((w) => w.includes('boom')));
});

test('outbox accounting: bytes, depth and droppedTotal stay exact over many enqueue/ack/drop cycles and a reopen', async (t) => {
  const file = join(tempDir(t), 'outbox.db');
  const rnd = seededRandom(42);
  const quotaBytes = 60_000;
  let ob = openOutbox({ file, quotaBytes, maxBatch: 64 });
  let dropped = 0;
  const listen = (o: SqliteOutbox) => o.onDrop((r) => (dropped += r.dropped.reduce((n, d) => n + d.count, 0)));
  listen(ob);
  const alphabet = ['a', 'é', '中', '😀', '"', '\\', '\n'];
  let lastSeq = 0;
  for (let round = 0; round < 60; round++) {
    const n = 1 + Math.floor(rnd() * 150);
    const seqs = await Promise.all(
      Array.from({ length: n }, () => {
        const len = Math.floor(rnd() * 400);
        let text = '';
        for (let i = 0; i < len; i++) text += alphabet[Math.floor(rnd() * alphabet.length)];
        return ob.enqueue(input({ text }, Math.floor(rnd() * 3), `t/${Math.floor(rnd() * 5)}`));
      }),
    );
    for (const s of seqs) {
      assert.ok(s > lastSeq);
      lastSeq = s;
    }
    // ack a random subset, some twice, some already dropped
    const stored = ob.read(0, 10_000).map((m) => m.seq);
    const toAck = stored.filter(() => rnd() < 0.3);
    ob.ack([...toAck, ...toAck.slice(0, 3), lastSeq + 1000]);
    if (round % 10 === 9) {
      await ob.close();
      ob = openOutbox({ file, quotaBytes, maxBatch: 64 });
      listen(ob);
    }
    const real = truth(file);
    const stats = ob.stats();
    assert.equal(stats.bytes, real.bytes, `bytes after round ${round}`);
    assert.equal(stats.depth, real.depth, `depth after round ${round}`);
    assert.ok(stats.bytes <= quotaBytes);
    assert.equal(stats.oldestSeq, real.seqs[0] ?? null);
    assert.equal(stats.newestSeq, real.seqs[real.seqs.length - 1] ?? null);
  }
  assert.ok(dropped > 0, 'the quota was exercised');
  assert.equal(ob.stats().droppedTotal, dropped);
  await ob.close();
});

test('outbox compaction: after a drained backlog, compact() gives the pages back to the file system', async (t) => {
  const file = join(tempDir(t), 'outbox.db');
  const ob = open(t, file, { compactIntervalMs: 1e9 });
  await Promise.all(Array.from({ length: 20_000 }, (_, i) => ob.enqueue(input({ i, pad: 'p'.repeat(150) }))));
  ob.checkpoint();
  const full = statSync(file).size;
  let after = 0;
  for (;;) {
    const batch = ob.read(after, 1000);
    if (batch.length === 0) break;
    ob.ack(batch.map((m) => m.seq));
    after = batch[batch.length - 1].seq;
  }
  assert.equal(ob.stats().depth, 0);
  ob.checkpoint();
  assert.equal(statSync(file).size, full, 'the file does not shrink by itself');
  let released = 0;
  for (let n = ob.compact(); n > 0; n = ob.compact()) released += n;
  ob.checkpoint();
  const small = statSync(file).size;
  assert.ok(released > 0);
  assert.ok(small < full / 10, `file ${small} B after compaction, ${full} B before`);
  // Still usable, seq continues.
  assert.equal(await ob.enqueue(input({ again: true })), 20_001);
});

test('outbox compaction: ack() compacts by itself once free pages dominate the file', async (t) => {
  const file = join(tempDir(t), 'outbox.db');
  const ob = open(t, file, { compactIntervalMs: 0, compactChunkPages: 64 });
  await Promise.all(Array.from({ length: 5_000 }, (_, i) => ob.enqueue(input({ i, pad: 'p'.repeat(150) }))));
  ob.checkpoint();
  const full = statSync(file).size;
  const all = ob.read(0, 10_000).map((m) => m.seq);
  for (let i = 0; i < all.length; i += 100) ob.ack(all.slice(i, i + 100));
  ob.checkpoint();
  assert.ok(statSync(file).size < full, 'some pages were released');
});

// -- markHistorical ------------------------------------------------------------------------------

test('markHistorical: splices "historical":true into a JSON object without parsing', () => {
  assert.equal(markHistorical('{"seq":1,"a":2}'), '{"historical":true,"seq":1,"a":2}');
  assert.equal(markHistorical('{}'), '{"historical":true}');
  assert.equal(markHistorical('{ }'), '{"historical":true}');
  assert.equal(markHistorical('  {"seq":1}'), '  {"historical":true,"seq":1}');
  assert.equal(markHistorical('{\n  "seq": 1\n}'), '{"historical":true,\n  "seq": 1\n}');
  for (const p of ['{"seq":1,"a":{"b":[1,2]},"s":"中"}', '{}', '{ "x" : null }']) {
    const out = markHistorical(p);
    assert.deepEqual(JSON.parse(out), { historical: true, ...JSON.parse(p) });
    assert.equal(markHistorical(out), out, 'idempotent');
  }
  assert.throws(() => markHistorical('[1,2]'), /not a JSON object/);
  assert.throws(() => markHistorical(''), /not a JSON object/);
  assert.throws(() => markHistorical('null'), /not a JSON object/);
});
