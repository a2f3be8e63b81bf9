// A camera's timeline laid out as bands of one state each: a hand-worked day, and for any
// statuses, lifetimes and evidence the bands cover the period once and each state's bands add up
// to the seconds measureCamera counts, so the drawn timeline cannot disagree with the figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cameraBands, measureCamera, type CameraPeriodInput, type StatusPoint } from '../../central/figures/timeline';
import { union } from '../../lib/intervals';

const H = 3_600_000;
const DAY = { start: 0, end: 24 * H };

function s(at: number, state: string, picture = 'ok', faults: string[] = []): StatusPoint {
  return { at, state, picture, faults };
}

test('a worked day: not counted before the first meta, unknown while the site was silent, then its states; same states join', () => {
  const bands = cameraBands({
    period: DAY,
    lifetimes: [{ start: 2 * H, end: Infinity }],
    evidence: [
      { start: 0, end: 10 * H },
      { start: 12 * H, end: 24 * H },
    ],
    carryIn: null,
    points: [s(3 * H, 'online'), s(5 * H, 'degraded', 'ok'), s(6 * H, 'online', 'fault', ['black']), s(8 * H, 'offline', 'none'), s(14 * H, 'unknown', 'none')],
  });
  assert.deepEqual(
    bands.map((b) => [b.start / H, b.end / H, b.state, [...b.faults]]),
    [
      [0, 2, 'uncounted', []],
      [2, 3, 'unknown', []],
      [3, 6, 'online', []],
      [6, 8, 'fault', ['black']],
      [8, 10, 'offline', []],
      [10, 12, 'unknown', []],
      [12, 14, 'offline', []],
      [14, 24, 'unknown', []],
    ],
  );
});

const statusArb = fc.record({
  at: fc.integer({ min: -2 * H, max: 26 * H }),
  state: fc.constantFrom('online', 'degraded', 'offline', 'unknown'),
  picture: fc.constantFrom('ok', 'fault', 'none'),
  faults: fc.constantFrom([], ['black'], ['frozen', 'black']),
});
const spansArb = fc
  .array(fc.tuple(fc.integer({ min: -H, max: 25 * H }), fc.integer({ min: 1, max: 10 * H })), { maxLength: 4 })
  .map((pairs) => union(pairs.map(([start, length]) => ({ start, end: start + length }))));

test('for any input the bands tile the period and add up to what measureCamera measures', () => {
  fc.assert(
    fc.property(fc.array(statusArb, { maxLength: 12 }), fc.option(statusArb, { nil: null }), spansArb, spansArb, (points, carryIn, lifetimes, evidence) => {
      const input: CameraPeriodInput = { period: DAY, lifetimes, evidence, carryIn, points: [...points].sort((a, b) => a.at - b.at) };
      const bands = cameraBands(input);
      assert.equal(bands[0].start, DAY.start);
      assert.equal(bands[bands.length - 1].end, DAY.end);
      for (let i = 1; i < bands.length; i++) {
        assert.equal(bands[i].start, bands[i - 1].end, 'no gap, no overlap');
        assert.ok(bands[i].start < bands[i].end);
      }
      const sum = (...states: string[]) => bands.filter((b) => states.includes(b.state)).reduce((n, b) => n + b.end - b.start, 0);
      const measured = measureCamera(input);
      assert.equal(sum('online', 'fault', 'offline', 'unknown'), measured.countedMs, 'counted');
      assert.equal(sum('online', 'fault'), measured.onlineMs, 'online');
      assert.equal(sum('fault'), measured.faultMs, 'fault');
      assert.equal(sum('offline'), measured.offlineMs, 'offline');
      assert.equal(sum('online', 'fault', 'offline'), measured.knownMs, 'known');
    }),
    { numRuns: 500 },
  );
});
