// The scheduler on virtual time: jobs wait on the same FakeClock the scheduler runs on, so due
// times, guard deadlines and slot hand-overs happen in a fixed order without sleeping.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RunCancelled, Scheduler } from '../../agent/health/scheduler';
import { sleep } from '../../lib/clock';
import { FakeClock } from '../kit/clock';

test('runs due jobs with at most `limit` of a kind at once, earliest first', async () => {
  const clock = new FakeClock();
  const s = new Scheduler({ clock, limits: { reach: 3 }, guardMs: { reach: 5000 } });
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  // Due in the future, so every job is queued before the first starts (order is then by due time).
  const now = clock.now() + 200;
  for (let i = 9; i >= 0; i--) {
    s.schedule(`job-${i}`, 'reach', now + i, async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await sleep(clock, 15);
      running--;
    });
  }
  await clock.until(() => order.length === 10 && running === 0, { stepMs: 10, maxMs: 1000, what: 'every job run' });
  await s.idle();
  s.stop();
  assert.equal(order.length, 10);
  assert.equal(peak, 3);
  assert.deepEqual(order.slice(0, 3).sort(), [0, 1, 2]);
});

test('a hung job frees its slot at the guard deadline and its signal aborts; others are not delayed', async () => {
  const clock = new FakeClock();
  const s = new Scheduler({ clock, limits: { reach: 1 }, guardMs: { reach: 50 } });
  let aborted = false;
  const done: string[] = [];
  s.schedule('hung', 'reach', clock.now(), (signal) => {
    signal.addEventListener('abort', () => (aborted = true));
    return new Promise(() => undefined); // never settles
  });
  s.schedule('fine', 'reach', clock.now() + 1, async () => void done.push('fine'));
  // The slot is held up to the guard deadline, and handed over right at it.
  await clock.advance(49);
  assert.deepEqual(done, []);
  await clock.advance(1);
  s.stop();
  assert.deepEqual(done, ['fine']);
  assert.equal(aborted, true);
});

test('scheduling a running key re-runs it after it finishes; a waiting key only moves earlier', async () => {
  const clock = new FakeClock();
  const s = new Scheduler({ clock, limits: { k: 4 }, guardMs: { k: 5000 } });
  const runs: string[] = [];
  s.schedule('a', 'k', clock.now(), async () => {
    runs.push('a1');
    s.schedule('a', 'k', clock.now(), async () => void runs.push('a2'));
    await sleep(clock, 10);
  });
  s.schedule('b', 'k', clock.now() + 60_000, async () => void runs.push('b-late'));
  s.schedule('b', 'k', clock.now() + 100_000, async () => void runs.push('b-later')); // ignored: later
  s.schedule('b', 'k', clock.now(), async () => void runs.push('b-now')); // moves earlier
  await clock.advance(30);
  await s.idle();
  s.stop();
  assert.deepEqual(runs.sort(), ['a1', 'a2', 'b-now']);
});

test('cancel drops a waiting job; a throwing job is reported and does not stop the scheduler', async () => {
  const clock = new FakeClock();
  const errors: string[] = [];
  const s = new Scheduler({ clock, limits: { k: 1 }, guardMs: { k: 5000 }, onError: (key) => errors.push(key) });
  const runs: string[] = [];
  s.schedule('x', 'k', clock.now() + 20, async () => void runs.push('x'));
  s.cancel('x');
  s.schedule('boom', 'k', clock.now(), async () => {
    throw new Error('bad');
  });
  s.schedule('y', 'k', clock.now(), async () => void runs.push('y'));
  await clock.advance(50);
  await s.idle();
  s.stop();
  assert.deepEqual(runs, ['y']);
  assert.deepEqual(errors, ['boom']);
});

test('requests share one run of a key and resolve when it ends; a request joining a waiting regular run that is due later moves it earlier', async () => {
  const clock = new FakeClock();
  const s = new Scheduler({ clock, limits: { k: 4 }, guardMs: { k: 5000 } });
  const runs: string[] = [];
  s.schedule('a', 'k', clock.now() + 1000, async () => void runs.push('regular'));
  const forced = async () => {
    runs.push('forced');
    await sleep(clock, 10);
  };
  const both = Promise.all([s.request('a', 'k', clock.now(), forced), s.request('a', 'k', clock.now(), forced)]);
  await clock.advance(10);
  await both;
  assert.deepEqual(runs, ['forced']);
  // The requested run took the regular one's place; what the run itself schedules comes next.
  assert.equal(s.has('a'), false);
  s.stop();
});

test('a request withdrawn before its run starts puts back the regular run it displaced; withdrawn while running, the run is cancelled (RunCancelled)', async () => {
  const clock = new FakeClock();
  const s = new Scheduler({ clock, limits: { k: 1 }, guardMs: { k: 5000 } });
  const runs: string[] = [];
  // The one slot is busy, so the request waits.
  s.schedule('busy', 'k', clock.now(), () => sleep(clock, 100));
  s.schedule('a', 'k', clock.now() + 1000, async () => void runs.push('regular'));
  const gaveUp = new AbortController();
  const waiting = s.request('a', 'k', clock.now(), async () => void runs.push('forced'), gaveUp.signal);
  gaveUp.abort();
  await waiting;
  await clock.advance(1000);
  assert.deepEqual(runs, ['regular'], 'the regular run came back at its own time');

  let cancelled: unknown;
  const stop = new AbortController();
  const running = s.request(
    'b',
    'k',
    clock.now(),
    (signal) =>
      new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => {
          cancelled = signal.reason;
          resolve();
        }),
      ),
    stop.signal,
  );
  await clock.advance(1);
  stop.abort();
  await running;
  await clock.advance(1);
  assert.ok(cancelled instanceof RunCancelled, `aborted with ${String(cancelled)}`);
  assert.deepEqual(s.inFlight(), { k: 0 });
  s.stop();
});
