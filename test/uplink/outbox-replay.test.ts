// replay(): the bounded-window loop that drains the outbox (agent/uplink/replay.ts), against the
// real SQLite outbox with an injected publish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openOutbox, type SqliteOutbox } from '../../agent/uplink/outbox';
import { replay } from '../../agent/uplink/replay';
import { DropClass, type OutboxMessage } from '../../agent/uplink/types';
import { tempDir } from '../kit/temp';

async function filled(t: { after(fn: () => unknown): void }, n: number): Promise<SqliteOutbox> {
  const ob = openOutbox({ file: join(tempDir(t), 'outbox.db'), quotaBytes: 1e12 });
  t.after(() => ob.close());
  await Promise.all(Array.from({ length: n }, (_, i) => ob.enqueue({ topic: `t/${i % 4}`, payload: { i }, dropClass: DropClass.PeriodicStatus })));
  return ob;
}

/** A fake broker: publishes resolve after a random small delay (PUBACKs out of order). */
function fakeBroker(opts: { failAt?: number; delay?: () => number } = {}) {
  const sent: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const publish = (msg: OutboxMessage): Promise<void> => {
    sent.push(msg.seq);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise((resolve, reject) => {
      setTimeout(
        () => {
          inFlight--;
          if (opts.failAt !== undefined && msg.seq >= opts.failAt) reject(new Error(`connection lost at ${msg.seq}`));
          else resolve();
        },
        opts.delay ? opts.delay() : Math.floor(Math.random() * 3),
      );
    });
  };
  return { publish, sent, stats: () => ({ inFlight, maxInFlight }) };
}

test('replay: drains everything in seq order within the window and acks it all', async (t) => {
  const ob = await filled(t, 2500);
  const broker = fakeBroker();
  const acks: number[][] = [];
  const spy = { read: ob.read.bind(ob), ack: (s: readonly number[]) => (acks.push([...s]), ob.ack(s)) };
  const result = await replay({ outbox: spy, publish: broker.publish, window: 50, readBatch: 300, ackBatch: 200 });
  assert.deepEqual(result, { reason: 'drained', published: 2500, lastSeq: 2500 });
  assert.deepEqual(
    broker.sent,
    Array.from({ length: 2500 }, (_, i) => i + 1),
  );
  assert.ok(broker.stats().maxInFlight <= 50);
  assert.ok(broker.stats().maxInFlight > 1, 'publishes overlapped');
  assert.equal(ob.stats().depth, 0);
  assert.ok(acks.every((a) => a.length <= 200));
  assert.ok(acks.length >= 2500 / 200);
  assert.deepEqual(
    acks.flat().sort((a, b) => a - b),
    broker.sent,
  );
});

test('replay: window 1 publishes strictly one after the other', async (t) => {
  const ob = await filled(t, 30);
  const broker = fakeBroker();
  const result = await replay({ outbox: ob, publish: broker.publish, window: 1 });
  assert.equal(result.reason, 'drained');
  assert.equal(broker.stats().maxInFlight, 1);
  assert.equal(ob.stats().depth, 0);
});

test('replay: an empty outbox resolves at once', async (t) => {
  const ob = await filled(t, 0);
  const result = await replay({ outbox: ob, publish: () => Promise.reject(new Error('unused')), window: 10, afterSeq: 17 });
  assert.deepEqual(result, { reason: 'drained', published: 0, lastSeq: 17 });
});

test('replay: on a failed publish it starts nothing new, lets the in-flight ones settle, acks the successes; a second replay resends the rest in order', async (t) => {
  const ob = await filled(t, 100);
  const broker = fakeBroker({ failAt: 40, delay: () => 1 });
  const result = await replay({ outbox: ob, publish: broker.publish, window: 8, ackBatch: 1000 });
  assert.equal(result.reason, 'failed');
  assert.match(String((result.error as Error).message), /connection lost at 4\d/);
  assert.equal(result.published, 39);
  // Nothing was started once the first failure was seen: at most the window beyond it.
  assert.ok(broker.sent.length <= 39 + 8, `sent ${broker.sent.length}`);
  assert.equal(ob.stats().oldestSeq, 40, 'everything acknowledged was acked, nothing else');
  assert.equal(ob.stats().depth, 61);

  const again = fakeBroker();
  const r2 = await replay({ outbox: ob, publish: again.publish, window: 8 });
  assert.equal(r2.reason, 'drained');
  assert.deepEqual(
    again.sent,
    Array.from({ length: 61 }, (_, i) => i + 40),
  );
  assert.equal(ob.stats().depth, 0);
});

test('replay: a publish that throws synchronously counts as a failure', async (t) => {
  const ob = await filled(t, 5);
  const result = await replay({
    outbox: ob,
    window: 4,
    publish: (m) => {
      if (m.seq === 3) throw new Error('not connected');
      return Promise.resolve();
    },
  });
  assert.equal(result.reason, 'failed');
  assert.equal(result.published, 2);
  assert.deepEqual(
    ob.read(0, 10).map((m) => m.seq),
    [3, 4, 5],
  );
});

test('replay: shouldYield stops it between messages; afterSeq resumes', async (t) => {
  const ob = await filled(t, 50);
  const broker = fakeBroker();
  let calls = 0;
  const r1 = await replay({ outbox: ob, publish: broker.publish, window: 5, shouldYield: () => ++calls > 20 });
  assert.equal(r1.reason, 'yielded');
  assert.equal(r1.published, 20);
  assert.equal(r1.lastSeq, 20);
  assert.equal(ob.stats().oldestSeq, 21);
  const r2 = await replay({ outbox: ob, publish: broker.publish, window: 5, afterSeq: r1.lastSeq });
  assert.deepEqual(r2, { reason: 'drained', published: 30, lastSeq: 50 });
  assert.deepEqual(
    broker.sent,
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
});

test('replay: messages enqueued while it runs are sent too, after the older ones', async (t) => {
  const ob = await filled(t, 100);
  const broker = fakeBroker();
  let added = false;
  const result = await replay({
    outbox: ob,
    window: 10,
    readBatch: 20,
    publish: (m) => {
      if (m.seq === 50 && !added) {
        added = true;
        void ob.enqueue({ topic: 'live', payload: { late: true }, dropClass: DropClass.Transition });
      }
      return broker.publish(m);
    },
  });
  assert.equal(result.reason, 'drained');
  assert.deepEqual(
    broker.sent,
    Array.from({ length: 101 }, (_, i) => i + 1),
  );
  assert.equal(ob.stats().depth, 0);
});

test('replay: an ack that fails stops it and reports the error', async (t) => {
  const ob = await filled(t, 20);
  const broker = fakeBroker();
  const result = await replay({
    outbox: {
      read: ob.read.bind(ob),
      ack: () => {
        throw new Error('disk I/O error');
      },
    },
    publish: broker.publish,
    window: 4,
    ackBatch: 5,
  });
  assert.equal(result.reason, 'failed');
  assert.match(String((result.error as Error).message), /disk I\/O/);
  assert.ok(broker.sent.length < 20);
});

test('replay: rejects a window below 1', async () => {
  await assert.rejects(replay({ outbox: { read: () => [], ack: () => {} }, publish: async () => {}, window: 0 }), /window/);
});
