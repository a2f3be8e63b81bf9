// The timeline's rules against cases computed by hand (docs/metrics.md has the same ones worked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureCamera, type StatusPoint } from '../../central/figures/timeline';
import { addDays, dayBounds, dayOf, daysBetween, previousPeriod } from '../../central/figures/days';
import { Pool, type CameraTotals } from '../../central/figures/pool';
import { regionLevels } from '../../central/ledger/scope';
import { intersect, union } from '../../lib/intervals';

const H = 3_600_000;
const M = 60_000;
const DAY = { start: 0, end: 24 * H };
const ALWAYS = [{ start: -1e15, end: 1e15 }];

function s(at: number, state: string, picture = 'ok', faults: string[] = []): StatusPoint {
  return { at, state, picture, faults };
}

test('a whole known day: online and offline split at the statuses; offline is known and not intact', () => {
  const r = measureCamera({
    period: DAY,
    lifetimes: ALWAYS,
    evidence: ALWAYS,
    carryIn: s(-H, 'online'),
    points: [s(6 * H, 'offline', 'none'), s(9 * H, 'online')],
  });
  assert.equal(r.countedMs, 24 * H);
  assert.equal(r.knownMs, 24 * H);
  assert.equal(r.onlineMs, 21 * H);
  assert.equal(r.offlineMs, 3 * H);
  assert.equal(r.intactKnownMs, 24 * H);
  assert.equal(r.intactMs, 21 * H);
  assert.deepEqual(r.causes, { offline: 3 * H });
  assert.deepEqual(r.last, s(9 * H, 'online'));
});

test('an outage across midnight counts in both days: the status in force at midnight carries over', () => {
  const day1 = measureCamera({ period: DAY, lifetimes: ALWAYS, evidence: ALWAYS, carryIn: s(-H, 'online'), points: [s(23 * H, 'offline', 'none')] });
  assert.equal(day1.offlineMs, H);
  const day2Period = { start: 24 * H, end: 48 * H };
  const day2 = measureCamera({ period: day2Period, lifetimes: ALWAYS, evidence: ALWAYS, carryIn: day1.last, points: [s(25 * H, 'online')] });
  assert.equal(day2.offlineMs, H);
  assert.equal(day2.onlineMs, 23 * H);
});

test('a camera added at noon counts from its first meta; one removed at 18:00 until then', () => {
  const added = measureCamera({ period: DAY, lifetimes: [{ start: 12 * H, end: Infinity }], evidence: ALWAYS, carryIn: null, points: [s(12 * H, 'online')] });
  assert.equal(added.countedMs, 12 * H);
  assert.equal(added.onlineMs, 12 * H);
  const removed = measureCamera({ period: DAY, lifetimes: [{ start: -H, end: 18 * H }], evidence: ALWAYS, carryIn: s(-H, 'online'), points: [] });
  assert.equal(removed.countedMs, 18 * H);
  assert.equal(removed.onlineMs, 18 * H);
});

test('before its first status a camera is unknown: counted, not known', () => {
  const r = measureCamera({ period: DAY, lifetimes: ALWAYS, evidence: ALWAYS, carryIn: null, points: [s(2 * H, 'online')] });
  assert.equal(r.countedMs, 24 * H);
  assert.equal(r.knownMs, 22 * H);
});

test('a box that lost power at 10:00: its last message is evidence for S more, then everything is unknown', () => {
  const S = 3 * M;
  const evidence = union(Array.from({ length: 600 }, (_, i) => ({ start: i * M, end: i * M + S })));
  assert.deepEqual(evidence, [{ start: 0, end: 599 * M + S }]);
  const r = measureCamera({ period: DAY, lifetimes: ALWAYS, evidence, carryIn: s(-H, 'online'), points: [] });
  assert.equal(r.knownMs, 10 * H - M + S);
  assert.equal(r.onlineMs, 10 * H - M + S);
  assert.equal(r.countedMs - r.knownMs, 14 * H + M - S);
});

test('a status unknown counts as unknown; degraded counts as online', () => {
  const r = measureCamera({
    period: DAY,
    lifetimes: ALWAYS,
    evidence: ALWAYS,
    carryIn: s(-H, 'degraded'),
    points: [s(4 * H, 'unknown', 'none'), s(8 * H, 'online')],
  });
  assert.equal(r.knownMs, 20 * H);
  assert.equal(r.onlineMs, 20 * H);
});

test('a picture fault that clears: online but not intact while it lasts, each fault a cause; no verdict is unknown for the intact rate', () => {
  const r = measureCamera({
    period: DAY,
    lifetimes: ALWAYS,
    evidence: ALWAYS,
    carryIn: s(-H, 'online', 'none'),
    points: [s(2 * H, 'online', 'fault', ['black']), s(5 * H, 'online', 'fault', ['frozen', 'no-video']), s(6 * H, 'online', 'ok')],
  });
  assert.equal(r.onlineMs, 24 * H);
  assert.equal(r.intactKnownMs, 22 * H);
  assert.equal(r.intactMs, 18 * H);
  assert.equal(r.faultMs, 4 * H);
  assert.deepEqual(r.causes, { black: 3 * H, frozen: H, 'no-video': H });
});

test('a flapping camera: every change counts to the millisecond', () => {
  const points: StatusPoint[] = [];
  for (let i = 0; i < 48; i++) points.push(s(i * 30 * M + (i % 2) * 7 * M, i % 2 === 0 ? 'online' : 'offline', 'none'));
  const r = measureCamera({ period: DAY, lifetimes: ALWAYS, evidence: ALWAYS, carryIn: null, points });
  // Each hour: online from :00 to :37, offline from :37 to the next :00.
  assert.equal(r.onlineMs, 24 * 37 * M);
  assert.equal(r.offlineMs, 24 * 23 * M);
});

test('evidence gaps split a status span: only the known parts count', () => {
  const r = measureCamera({
    period: DAY,
    lifetimes: ALWAYS,
    evidence: [
      { start: 0, end: 3 * H },
      { start: 5 * H, end: 30 * H },
    ],
    carryIn: s(-H, 'offline', 'none'),
    points: [s(4 * H, 'online')],
  });
  assert.equal(r.offlineMs, 3 * H);
  assert.equal(r.onlineMs, 19 * H);
  assert.equal(r.knownMs, 22 * H);
});

test('intervals: union joins touching spans, intersect keeps the common part', () => {
  assert.deepEqual(
    union([
      { start: 5, end: 7 },
      { start: 0, end: 5 },
      { start: 9, end: 9 },
    ]),
    [{ start: 0, end: 7 }],
  );
  assert.deepEqual(
    intersect(
      [
        { start: 0, end: 4 },
        { start: 6, end: 10 },
      ],
      [{ start: 3, end: 8 }],
    ),
    [
      { start: 3, end: 4 },
      { start: 6, end: 8 },
    ],
  );
});

test('local days: Asia/Shanghai midnight is 16:00 UTC; a DST day in Europe is 23 hours', () => {
  assert.equal(dayOf(Date.parse('2026-12-01T16:00:00Z'), 'Asia/Shanghai'), '2026-12-02');
  assert.equal(dayOf(Date.parse('2026-12-01T15:59:59Z'), 'Asia/Shanghai'), '2026-12-01');
  const b = dayBounds('2026-12-02', 'Asia/Shanghai');
  assert.equal(new Date(b.start).toISOString(), '2026-12-01T16:00:00.000Z');
  assert.equal(b.end - b.start, 24 * H);
  const dst = dayBounds('2026-03-29', 'Europe/Berlin');
  assert.equal(dst.end - dst.start, 23 * H);
  assert.equal(addDays('2026-12-31', 1), '2027-01-01');
  assert.deepEqual(daysBetween('2026-02-27', '2026-03-01'), ['2026-02-27', '2026-02-28', '2026-03-01']);
  assert.deepEqual(previousPeriod('2026-12-07', '2026-12-13'), { from: '2026-11-30', to: '2026-12-06' });
});

function camera(over: Partial<CameraTotals>): CameraTotals {
  return {
    site: 's',
    camera: 'c',
    countedMs: 0,
    knownMs: 0,
    onlineMs: 0,
    offlineMs: 0,
    intactKnownMs: 0,
    intactMs: 0,
    faultMs: 0,
    class: 1,
    region: null,
    owner: null,
    hasCoordinates: false,
    mainHeight: null,
    presentAtEnd: true,
    ...over,
  };
}

test('groups pool seconds (Σ online / Σ known) with the per-camera mean beside; targets per class', () => {
  const targets = { online: { class1: 98, class2: 95 }, intact: { class1: 98, class2: 95 }, geoLabelled: { class1: 100 } };
  const pool = new Pool()
    .add(
      camera({ camera: 'a', class: 1, countedMs: 100, knownMs: 100, onlineMs: 99, intactKnownMs: 100, intactMs: 99, hasCoordinates: true, mainHeight: 1080 }),
    )
    .add(camera({ camera: 'b', class: 1, countedMs: 100, knownMs: 10, onlineMs: 5, intactKnownMs: 10, intactMs: 5, mainHeight: 720 }))
    .add(camera({ camera: 'c', class: 2, countedMs: 100, knownMs: 100, onlineMs: 96, intactKnownMs: 0, presentAtEnd: false }));
  const f = pool.figure(targets, 1080);
  assert.equal(f.onlineRate, (99 + 5 + 96) / 210);
  assert.equal(f.coverage, 210 / 300);
  assert.equal(f.assessedOnlineRate, 200 / 300);
  assert.equal(f.meanOnlineRate, (0.99 + 0.5 + 0.96) / 3);
  assert.equal(f.intactRate, 104 / 110);
  assert.equal(f.atEnd.cameras, 2);
  assert.equal(f.atEnd.geoLabelledRate, 0.5);
  assert.equal(f.atEnd.hdRate, 0.5);
  assert.deepEqual(f.atEnd.byClass, { class1: 2, class2: 0, class3: 0, unclassified: 0 });
  // Class 1 pooled: 104/110 = 94.5 % < 98 %; class 2: 96 % ≥ 95 %.
  assert.deepEqual(
    f.targets.online.byClass.map((c) => [c.class, c.met]),
    [
      [1, false],
      [2, true],
    ],
  );
  assert.equal(f.targets.online.met, false);
  assert.equal(f.targets.geoLabelled.met, false);
  assert.deepEqual(regionLevels('浙江省/杭州市/余杭区'), ['浙江省', '浙江省/杭州市', '浙江省/杭州市/余杭区']);
});
