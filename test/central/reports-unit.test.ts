// The reports' pure parts without a database: the periods (weeks from Monday across a month and a
// year, February in a leap year, the previous period of each kind, a period not over), the
// ranking and its changes, the cameras below their class's target, the cause named, against
// numbers computed here by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CameraTotals } from '../../central/figures/pool';
import {
  assembleReport,
  camerasBelowTarget,
  camerasWithoutCoordinates,
  deltaPoints,
  dominantCause,
  rankGroups,
  type ReportInput,
} from '../../central/reports/assemble';
import { contentDisposition, reportFileName } from '../../central/reports/formats';
import { dayRuns, periodLabel, periodProgress, previousReportPeriod, reportPeriod } from '../../central/reports/period';
import { reportRegion } from '../../central/reports/load';
import { TARGETS, ZONE } from '../kit/figures-day';

const DAY_MS = 86_400_000;
const H_MS = 3_600_000;
const CONFIG = { targets: TARGETS, hdMinHeight: 1080, timezone: ZONE } as ReportInput['config'];
const NO_NAMES = { sites: new Map<string, string | null>(), cameras: new Map<string, string | null>() };

/** A camera known the whole day, online but for `offlineMs`, its picture bad for `faultMs`. */
function camera(site: string, id: string, cls: 1 | 2 | 3 | null, region: string | null, o: Partial<CameraTotals> & { offlineMs?: number } = {}): CameraTotals {
  const offlineMs = o.offlineMs ?? 0;
  const faultMs = o.faultMs ?? 0;
  return {
    site,
    camera: id,
    countedMs: DAY_MS,
    knownMs: DAY_MS,
    onlineMs: DAY_MS - offlineMs,
    offlineMs,
    intactKnownMs: DAY_MS,
    intactMs: DAY_MS - offlineMs - faultMs,
    faultMs,
    causes: { ...(offlineMs > 0 ? { offline: offlineMs } : {}) },
    class: cls,
    region,
    owner: null,
    hasCoordinates: true,
    mainHeight: 1080,
    presentAtEnd: true,
    ...o,
  };
}

test('periods: a week runs Monday to Sunday across a month and a year; months by the calendar, February of a leap year whole', () => {
  assert.deepEqual(reportPeriod('daily', '2026-12-01'), { from: '2026-12-01', to: '2026-12-01' });
  assert.deepEqual(reportPeriod('weekly', '2026-12-01'), { from: '2026-11-30', to: '2026-12-06' }, 'a Tuesday: its Monday is in November');
  assert.deepEqual(reportPeriod('weekly', '2026-01-01'), { from: '2025-12-29', to: '2026-01-04' }, 'a Thursday: the week began the year before');
  assert.deepEqual(reportPeriod('weekly', '2026-12-06'), { from: '2026-11-30', to: '2026-12-06' }, 'a Sunday ends its week');
  assert.deepEqual(reportPeriod('weekly', '2026-11-30'), { from: '2026-11-30', to: '2026-12-06' }, 'a Monday begins it');
  assert.deepEqual(reportPeriod('monthly', '2028-02-15'), { from: '2028-02-01', to: '2028-02-29' }, '2028 is a leap year');
  assert.deepEqual(reportPeriod('monthly', '2026-02-28'), { from: '2026-02-01', to: '2026-02-28' });
  assert.deepEqual(reportPeriod('monthly', '2100-02-01'), { from: '2100-02-01', to: '2100-02-28' }, '2100 is not a leap year');
  assert.deepEqual(reportPeriod('monthly', '2026-12-31'), { from: '2026-12-01', to: '2026-12-31' });

  assert.deepEqual(previousReportPeriod('daily', { from: '2028-03-01', to: '2028-03-01' }), { from: '2028-02-29', to: '2028-02-29' });
  assert.deepEqual(previousReportPeriod('weekly', reportPeriod('weekly', '2026-01-01')), { from: '2025-12-22', to: '2025-12-28' });
  assert.deepEqual(previousReportPeriod('monthly', reportPeriod('monthly', '2028-03-10')), { from: '2028-02-01', to: '2028-02-29' }, 'the whole of February');
  assert.deepEqual(previousReportPeriod('monthly', reportPeriod('monthly', '2027-01-20')), { from: '2026-12-01', to: '2026-12-31' });
  assert.deepEqual(previousReportPeriod('monthly', reportPeriod('monthly', '2026-03-31')), { from: '2026-02-01', to: '2026-02-28' });

  const week = reportPeriod('weekly', '2026-12-01');
  assert.deepEqual(periodProgress(week, '2026-12-03'), { begun: true, partial: true, through: '2026-12-03' }, 'a week that includes today is partial');
  assert.deepEqual(periodProgress(week, '2026-12-06'), { begun: true, partial: true, through: '2026-12-06' }, 'its last day is today: not over yet');
  assert.deepEqual(periodProgress(week, '2026-12-07'), { begun: true, partial: false, through: '2026-12-06' });
  assert.equal(periodProgress(week, '2026-11-29').begun, false);

  assert.deepEqual(periodLabel('weekly', reportPeriod('weekly', '2026-01-01')), {
    zh: '2026年第1周（2025-12-29 至 2026-01-04）',
    en: 'week 1 of 2026 (2025-12-29 to 2026-01-04)',
  });
  assert.deepEqual(periodLabel('monthly', reportPeriod('monthly', '2028-02-15')), { zh: '2028年2月', en: '2028-02' });
  assert.deepEqual(dayRuns(['2026-12-03', '2026-11-30', '2026-12-01', '2026-12-05']), [
    { from: '2026-11-30', to: '2026-12-01' },
    { from: '2026-12-03', to: '2026-12-03' },
    { from: '2026-12-05', to: '2026-12-05' },
  ]);
});

test('the region of a report: the scope when none is asked or a wider one is; a region outside the scope stays as asked', () => {
  assert.deepEqual(reportRegion(undefined, ''), { region: '', narrowed: false });
  assert.deepEqual(reportRegion('浙江省/杭州市/', ''), { region: '浙江省/杭州市', narrowed: false });
  assert.deepEqual(reportRegion(undefined, '浙江省/杭州市'), { region: '浙江省/杭州市', narrowed: false });
  assert.deepEqual(reportRegion('浙江省', '浙江省/杭州市'), { region: '浙江省/杭州市', narrowed: true });
  assert.deepEqual(reportRegion('浙江省/杭州市/余杭区', '浙江省/杭州市'), { region: '浙江省/杭州市/余杭区', narrowed: false });
  assert.deepEqual(reportRegion('浙江省/宁波市', '浙江省/杭州市'), { region: '浙江省/宁波市', narrowed: false });
});

test('ranking: the regions one level down by pooled online rate, their change in points, the ones below target marked; sites when there is no level below', () => {
  const R = '浙江省/杭州市';
  const current = [
    camera('north', 'a1', 1, `${R}/余杭区/良渚街道`, { offlineMs: H_MS }),
    camera('north', 'a2', 2, `${R}/余杭区`),
    camera('south', 'b1', 1, `${R}/临平区`),
    camera('south', 'b2', 3, `${R}/临平区`, { offlineMs: 2 * H_MS }),
    camera('east', 'c1', 2, R, { knownMs: 0, onlineMs: 0, intactKnownMs: 0, intactMs: 0 }),
  ];
  const previous = [camera('north', 'a1', 1, `${R}/余杭区/良渚街道`), camera('north', 'a2', 2, `${R}/余杭区`, { offlineMs: 3 * H_MS })];
  const ranking = rankGroups(current, previous, R, NO_NAMES, CONFIG);
  assert.equal(ranking.by, 'region');
  // 临平区: (86400 + 79200) / 172800 = 0.958333…; 余杭区: (82800 + 86400) / 172800 = 0.979166…; the
  // city's own camera was never known: no rate, ranked last.
  assert.deepEqual(
    ranking.rows.map((r) => [r.rank, r.key, r.name]),
    [
      [1, `${R}/余杭区`, '余杭区'],
      [2, `${R}/临平区`, '临平区'],
      [3, R, '杭州市（本级 itself）'],
    ],
  );
  const yuhang = ranking.rows[0];
  assert.ok(Math.abs((yuhang.figure.onlineRate ?? 0) - 169_200 / 172_800) < 1e-12);
  // Before: (86400 + 75600) / 172800 = 0.9375 → now 0.979166…: +4.1666… points.
  assert.ok(Math.abs((yuhang.delta.onlineRate ?? 0) - (169_200 / 172_800 - 162_000 / 172_800) * 100) < 1e-9);
  assert.ok(Math.abs((yuhang.delta.onlineRate ?? 0) - 4.1666666) < 1e-6);
  assert.deepEqual(yuhang.belowTarget, ['online', 'intact'], 'its class-1 camera is at 95.83% (target 98%)');
  const linping = ranking.rows[1];
  assert.equal(linping.delta.onlineRate, null, 'no figures before: no change');
  assert.deepEqual(linping.belowTarget, [], 'its class-3 camera has no target; its class-1 one is at 100%');
  assert.equal(ranking.rows[2].figure.onlineRate, null);

  // Asked for everything: the single province and the single city are passed through to where it branches.
  const everything = rankGroups(current, previous, '', NO_NAMES, CONFIG);
  assert.deepEqual([everything.by, everything.within], ['region', R]);
  assert.deepEqual(
    everything.rows.map((r) => [r.key, r.delta.onlineRate]),
    ranking.rows.map((r) => [r.key, r.delta.onlineRate]),
  );

  const inCounty = current.filter((c) => c.region?.startsWith(`${R}/临平区`));
  const bySite = rankGroups(inCounty, [], `${R}/临平区`, { sites: new Map([['south', '临平南站']]) }, CONFIG);
  assert.deepEqual([bySite.by, bySite.within], ['site', `${R}/临平区`], 'no camera lies below 临平区: its sites are ranked');
  assert.deepEqual(
    bySite.rows.map((r) => [r.rank, r.key, r.name]),
    [[1, 'south', '临平南站']],
  );
  assert.equal(deltaPoints(0.95, null), null);
  assert.ok(Math.abs((deltaPoints(0.9, 0.95) ?? 0) + 5) < 1e-12);
});

test('below target: each camera against its own class’s target; class 3 and unclassified have none; the cause with the most seconds is named', () => {
  const at = (rate: number) => Math.round(DAY_MS * (1 - rate));
  const cameras = [
    camera('s', 'c1-below', 1, 'r', { offlineMs: at(0.979) }),
    camera('s', 'c1-at-target', 1, 'r', { offlineMs: at(0.98) }),
    camera('s', 'c1-black', 1, 'r', { faultMs: 3 * H_MS, causes: { black: 3 * H_MS } }),
    camera('s', 'c2-fine', 2, 'r', { offlineMs: at(0.96) }),
    camera('s', 'c2-below', 2, 'r', { offlineMs: at(0.94), faultMs: 2 * H_MS, causes: { offline: at(0.94), frozen: 2 * H_MS } }),
    camera('s', 'c3-bad', 3, 'r', { offlineMs: at(0.1) }),
    camera('s', 'none-bad', null, 'r', { offlineMs: DAY_MS }),
  ];
  const below = camerasBelowTarget(cameras, { sites: new Map([['s', '站']]), cameras: new Map([['s/c1-below', '南门']]) }, CONFIG);
  assert.deepEqual(
    below.map((c) => [c.camera, c.misses, c.cause]),
    [
      ['c1-below', ['online', 'intact'], 'offline'],
      ['c1-black', ['intact'], 'black'],
      ['c2-below', ['online', 'intact'], 'frozen'],
    ],
  );
  const first = below[0];
  assert.equal(first.name, '南门');
  assert.equal(first.siteName, '站');
  assert.deepEqual(first.targets, { online: 98, intact: 98 });
  assert.equal(first.offlineSeconds, Math.round(at(0.979) / 1000));
  assert.equal(below[1].faultSeconds, 3 * 3600);
  assert.deepEqual(below[2].causes, { offline: Math.round(at(0.94) / 1000), frozen: 7200 });

  assert.equal(dominantCause({ offline: 100, black: 200 }), 'black');
  assert.equal(dominantCause({ black: 100, offline: 100 }), 'offline', 'a tie goes to offline');
  assert.equal(dominantCause({ 'colour-cast': 5, frozen: 5 }), 'frozen', 'then to the picture faults in the agent’s order');
  assert.equal(dominantCause({ smudge: 7, black: 7 }), 'black', 'a cause the reports do not know comes after those they do');
  assert.equal(dominantCause({ smudge: 8, black: 7 }), 'smudge');
  assert.equal(dominantCause({}), null);
  assert.equal(dominantCause({ black: 0 }), null);

  const unlabelled = camerasWithoutCoordinates(
    [
      camera('s', 'a', 2, 'r', { hasCoordinates: false }),
      camera('s', 'b', 1, 'r', { hasCoordinates: false }),
      camera('s', 'gone', 1, 'r', { hasCoordinates: false, presentAtEnd: false }),
      camera('s', 'c', null, 'r', { hasCoordinates: false }),
      camera('s', 'd', 1, 'r'),
    ],
    NO_NAMES,
    CONFIG,
  );
  assert.deepEqual(
    unlabelled.map((c) => [c.camera, c.againstTarget]),
    [
      ['b', true],
      ['a', false],
      ['c', false],
    ],
  );
});

test('a whole report: rates with targets and their change in points; no change without previous figures; notes for a period not over and days missing', () => {
  const R = '浙江省/杭州市/余杭区';
  const current = [camera('north', 'a1', 1, `${R}/良渚街道`, { offlineMs: 2 * H_MS }), camera('north', 'a2', 2, `${R}/良渚街道`, { hasCoordinates: false })];
  const input: ReportInput = {
    kind: 'weekly',
    period: { from: '2026-11-30', to: '2026-12-06' },
    previousPeriod: { from: '2026-11-23', to: '2026-11-29' },
    progress: periodProgress({ from: '2026-11-30', to: '2026-12-06' }, '2026-12-02'),
    region: R,
    current,
    previous: [camera('north', 'a1', 1, `${R}/良渚街道`)],
    computed: { computedAt: '2026-12-02T01:00:00.000Z', computedThrough: '2026-12-02T01:00:00.000Z', daysMissing: ['2026-11-30'] },
    names: NO_NAMES,
    generatedAt: Date.parse('2026-12-02T01:05:00Z'),
    config: CONFIG,
  };
  const report = assembleReport(input);
  assert.equal(report.title.zh, '余杭区 视频监控周通报 2026年第49周（2026-11-30 至 2026-12-06）');
  assert.equal(report.period.partial, true);
  assert.equal(report.period.through, '2026-12-02');
  const online = report.summary.rates.find((r) => r.key === 'onlineRate');
  // Now (79200 + 86400) / 172800 = 0.958333…; before 1: −4.1666… points; class 1 alone 91.67% < 98%.
  assert.ok(Math.abs((online?.value ?? 0) - 165_600 / 172_800) < 1e-12);
  assert.ok(Math.abs((online?.deltaPoints ?? 0) - (165_600 / 172_800 - 1) * 100) < 1e-9);
  assert.deepEqual(
    online?.targets.map((t) => [t.class, t.target, t.met]),
    [
      [1, 98, false],
      [2, 95, true],
    ],
  );
  assert.equal(online?.met, false);
  assert.equal(report.summary.rates.find((r) => r.key === 'hdRate')?.met, null, 'no target for the HD rate');
  const geo = report.summary.rates.find((r) => r.key === 'geoLabelledRate');
  assert.equal(geo?.value, 0.5);
  assert.equal(geo?.met, true, 'the class-1 camera has coordinates; class 2 has no geo target');
  assert.deepEqual(
    report.summary.counts.map((c) => [c.key, c.value, c.delta]),
    [
      ['cameras', 2, 1],
      ['class1', 1, 0],
      ['class2', 1, 1],
      ['class3', 0, 0],
      ['unclassified', 0, 0],
      ['geoLabelled', 1, 0],
      ['hd', 2, 1],
    ],
  );
  assert.deepEqual(
    [report.ranking.by, report.ranking.within],
    ['site', `${R}/良渚街道`],
    'its cameras all lie in one township: the ranking passes down to it, and to its sites',
  );
  assert.deepEqual(
    report.ranking.rows.map((r) => [r.key, r.belowTarget]),
    [['north', ['online', 'intact']]],
  );
  assert.match(report.notes.map((n) => n.en).join('\n'), /not over/);
  assert.match(report.notes.map((n) => n.en).join('\n'), /1 day\(s\) have no figures \(2026-11-30\)/);

  const alone = assembleReport({ ...input, previous: [] });
  assert.equal(alone.previousPeriod.hasFigures, false);
  assert.equal(alone.summary.previous, null);
  assert.ok(alone.summary.rates.every((r) => r.deltaPoints === null));
  assert.ok(alone.summary.counts.every((c) => c.delta === null));
  assert.ok(alone.ranking.rows.every((r) => r.delta.onlineRate === null));
  assert.match(alone.notes.map((n) => n.en).join('\n'), /previous period has no figures/);

  assert.equal(reportFileName(report, 'xlsx'), '周通报-weekly_浙江省-杭州市-余杭区_2026-11-30_2026-12-06.xlsx');
  assert.equal(reportFileName(report, 'xlsx', true), 'weekly_2026-11-30_2026-12-06.xlsx');
  assert.equal(
    contentDisposition('attachment', '日统计-daily_a_2026-12-01.csv', 'daily_a_2026-12-01.csv'),
    `attachment; filename="daily_a_2026-12-01.csv"; filename*=UTF-8''%E6%97%A5%E7%BB%9F%E8%AE%A1-daily_a_2026-12-01.csv`,
  );
});
