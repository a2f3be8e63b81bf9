import test from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Scheduler } from '../../agent/health/scheduler';

test('runs due jobs with at most `limit` of a kind at once, earliest first', async () => {
  const s = new Scheduler({ limits: { reach: 3 }, guardMs: { reach: 5000 } });
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  // Due in the future, so every job is queued before the first starts (order is then by due time).
  const now = Date.now() + 200;
  for (let i = 9; i >= 0; i--) {
    s.schedule(`job-${i}`, 'reach', now + i, async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await sleep(15);
      running--;
    });
  }
  await sleep(260);
  await s.idle();
  s.stop();
  assert.equal(order.length, 10);
  assert.equal(peak, 3);
  assert.deepEqual(order.slice(0, 3).sort(), [0, 1, 2]);
});

test('a hung job frees its slot at the guard deadline and its signal aborts; others are not delayed', async () => {
  const s = new Scheduler({ limits: { reach: 1 }, guardMs: { reach: 50 } });
  let aborted = false;
  const done: string[] = [];
  s.schedule('hung', 'reach', Date.now(), (signal) => {
    signal.addEventListener('abort', () => (aborted = true));
    return new Promise(() => undefined); // never settles
  });
  s.schedule('fine', 'reach', Date.now() + 1, async () => void done.push('fine'));
  const started = Date.now();
  while (done.length === 0 && Date.now() - started < 2000) await sleep(5);
  s.stop();
  assert.deepEqual(done, ['fine']);
  assert.equal(aborted, true);
});

test('scheduling a running key re-runs it after it finishes; a waiting key only moves earlier', async () => {
  const s = new Scheduler({ limits: { k: 4 }, guardMs: { k: 5000 } });
  const runs: string[] = [];
  s.schedule('a', 'k', Date.now(), async () => {
    runs.push('a1');
    s.schedule('a', 'k', Date.now(), async () => void runs.push('a2'));
    await sleep(10);
  });
  s.schedule('b', 'k', Date.now() + 60_000, async () => void runs.push('b-late'));
  s.schedule('b', 'k', Date.now() + 100_000, async () => void runs.push('b-later')); // ignored: later
  s.schedule('b', 'k', Date.now(), async () => void runs.push('b-now')); // moves earlier
  await sleep(30);
  await s.idle();
  s.stop();
  assert.deepEqual(runs.sort(), ['a1', 'a2', 'b-now']);
});

test('cancel drops a waiting job; a throwing job is reported and does not stop the scheduler', async () => {
  const errors: string[] = [];
  const s = new Scheduler({ limits: { k: 1 }, guardMs: { k: 5000 }, onError: (key) => errors.push(key) });
  const runs: string[] = [];
  s.schedule('x', 'k', Date.now() + 20, async () => void runs.push('x'));
  s.cancel('x');
  s.schedule('boom', 'k', Date.now(), async () => {
    throw new Error('bad');
  });
  s.schedule('y', 'k', Date.now(), async () => void runs.push('y'));
  await sleep(50);
  await s.idle();
  s.stop();
  assert.deepEqual(runs, ['y']);
  assert.deepEqual(errors, ['boom']);
});
