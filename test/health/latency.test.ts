// LatencyStats (pure): bounded window per kind, nearest-rank percentiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyStats, nearestRank } from '../../agent/health/latency';
import { clockReading } from '../kit/clock';

test('nearest-rank percentiles over 1..100 (recorded shuffled)', () => {
  const s = new LatencyStats();
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  for (let i = values.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [values[i], values[j]] = [values[j], values[i]];
  }
  for (const v of values) s.record('reach', v);
  assert.deepEqual(s.snapshot(), { reach: { count: 100, p50: 50, p95: 95, p99: 99, max: 100 } });
});

test('small windows: p50 of [1,2,3,4] is 2, p99 of fewer than 100 samples is the max; one sample', () => {
  const s = new LatencyStats();
  for (const v of [4, 1, 3, 2]) s.record('clock', v);
  s.record('describe', 7.5);
  assert.deepEqual(s.snapshot(), {
    clock: { count: 4, p50: 2, p95: 4, p99: 4, max: 4 },
    describe: { count: 1, p50: 7.5, p95: 7.5, p99: 7.5, max: 7.5 },
  });
  assert.equal(nearestRank([10, 20, 30], 0), 10);
  assert.equal(nearestRank([10, 20, 30], 100), 30);
  assert.equal(nearestRank([10, 20, 30], 34), 20);
});

test('numeric sort (not lexicographic), kinds independent, empty kinds omitted', () => {
  const s = new LatencyStats();
  for (const v of [100, 9, 20, 1000, 3]) s.record('picture', v);
  assert.deepEqual(s.snapshot().picture, { count: 5, p50: 20, p95: 1000, p99: 1000, max: 1000 });
  assert.deepEqual(Object.keys(s.snapshot()), ['picture']);
  assert.deepEqual(new LatencyStats().snapshot(), {});
});

test('capacity bounds the window: only the last N samples count', () => {
  const s = new LatencyStats({ capacity: 4 });
  for (const v of [1000, 900, 1, 2, 3, 4]) s.record('reach', v);
  assert.deepEqual(s.snapshot().reach, { count: 4, p50: 2, p95: 4, p99: 4, max: 4 });
  for (let i = 0; i < 10_000; i++) s.record('reach', i);
  assert.equal(s.snapshot().reach.count, 4);
  assert.equal(s.snapshot().reach.max, 9999);
});

test('maxAgeMs drops old samples (injected clock); a kind whose samples all aged out is omitted', () => {
  let now = 0;
  const s = new LatencyStats({ maxAgeMs: 60_000, clock: clockReading(() => now) });
  s.record('reach', 500);
  now = 30_000;
  s.record('reach', 10);
  s.record('diagnosisCpu', 3);
  now = 60_000;
  assert.deepEqual(s.snapshot().reach, { count: 2, p50: 10, p95: 500, p99: 500, max: 500 });
  now = 60_001;
  assert.deepEqual(s.snapshot().reach, { count: 1, p50: 10, p95: 10, p99: 10, max: 10 });
  now = 90_001;
  assert.deepEqual(s.snapshot(), {});
});

test('non-finite and negative values are ignored; reset forgets everything; snapshot does not disturb the window', () => {
  const s = new LatencyStats();
  s.record('reach', Number.NaN);
  s.record('reach', Number.POSITIVE_INFINITY);
  s.record('reach', -1);
  assert.deepEqual(s.snapshot(), {});
  s.record('reach', 0);
  s.record('reach', 5);
  const a = s.snapshot();
  assert.deepEqual(s.snapshot(), a);
  s.record('reach', 1);
  assert.deepEqual(s.snapshot().reach, { count: 3, p50: 1, p95: 5, p99: 5, max: 5 });
  s.reset();
  assert.deepEqual(s.snapshot(), {});
  assert.throws(() => new LatencyStats({ capacity: 0 }), /capacity/);
});

// How fast record() and snapshot() are is measured by scripts/bench/latency-stats.ts, not here:
// a time limit would fail on a loaded machine. What keeps them cheap is that nothing grows.
test('1M records over 5 kinds keep the windows bounded: 1024 samples each', () => {
  const s = new LatencyStats();
  const kinds = ['reach', 'clock', 'describe', 'picture', 'diagnosisCpu'];
  for (let i = 0; i < 1_000_000; i++) s.record(kinds[i % 5], (i * 37) % 1000);
  const snap = s.snapshot();
  assert.equal(Object.keys(snap).length, 5);
  assert.ok(Object.values(snap).every((k) => k.count === 1024));
});
