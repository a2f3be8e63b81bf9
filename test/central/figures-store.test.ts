// The figures from ingest to the API's numbers, on SQLite and PostgreSQL: two sites' day written
// through the ingest writer (an uplink outage whose backlog comes late, twice and shuffled; an
// outage across midnight; a camera added at noon and one removed at 18:00; a picture fault that
// clears; a box that lost power), measured by the refresher, and compared with what the test
// computes by hand from what it made the cameras do.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { classify, type Accepted } from '../../central/ingest/classify';
import { IngestWriter, type Received } from '../../central/ingest/writer';
import { openCentralDb, type CentralDb } from '../../central/store/open';
import { addDays, dayOf } from '../../central/figures/days';
import { FiguresRefresher } from '../../central/figures/refresher';
import { figuresFor, regionTree } from '../../central/figures/query';
import { FiguresCache } from '../../central/figures/cache';
import { warmOverview } from '../../central/figures/warm';
import { TREND_DAYS } from '../../central/figures/trend';
import { SimulatedSite, type TelemetryMessage } from '../../scripts/sim/telemetry';
import { at, D, EXPECTED_DAY, LINPING, M, S, scenario, TARGETS, YUHANG, ZONE } from '../kit/figures-day';
import { clockReading } from '../kit/clock';
import { silentLogger } from '../kit/logger';
import { testDatabase } from '../kit/postgres';
import { shuffle } from '../kit/random';
import { tempDir } from '../kit/temp';

function accepted(m: TelemetryMessage): Accepted {
  const c = classify(m.topic, Buffer.from(m.payload), 1 << 20);
  if (!c.ok || !c.message) throw new Error(`refused: ${JSON.stringify(c)}`);
  return c.message;
}

const CONFIG = { targets: TARGETS, hdMinHeight: 1080, timezone: ZONE } as Parameters<typeof figuresFor>[2];

async function writeAll(writer: IngestWriter, messages: TelemetryMessage[], receivedAt: number, batch = 250): Promise<void> {
  const received: Received[] = messages.map((m, i) => ({ message: accepted(m), receivedAt: receivedAt + i }));
  for (let i = 0; i < received.length; i += batch) await writer.write(received.slice(i, i + batch));
}

function near(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);
}

async function checkFigures(t: TestContext, db: CentralDb): Promise<void> {
  let now = at(60);
  const clock = clockReading(() => now);
  const writer = new IngestWriter(db, { staleAfterMs: S, dayOf: (ms) => dayOf(ms, ZONE) });
  const refresher = new FiguresRefresher({
    db: db.db,
    dialect: db.dialect,
    clock,
    log: silentLogger,
    timezone: ZONE,
    settleMs: S,
    everyMs: M,
    todayEveryMs: 0,
  });
  const { delivered, backlog } = scenario();
  await writeAll(writer, shuffle(delivered, 7), now);

  const first = await refresher.refresh();
  assert.deepEqual(first.days, ['2026-11-30', D, '2026-12-02', '2026-12-03'], 'every day since the first camera is measured');
  const cameras = async (day = D) => new Map((await figuresFor(db.db, { from: day, to: day, groupBy: 'camera' }, CONFIG)).groups.map((g) => [g.key, g]));

  // Before the backlog: the outage is unknown time (02:58's sample is evidence until 03:01; the next is 05:00).
  let c1 = (await cameras()).get('north/c1')?.figure;
  assert.equal(c1?.countedSeconds, 86400);
  assert.equal(c1?.knownSeconds, 86400 - 119 * 60);
  assert.equal(c1?.onlineSeconds, 86400 - 119 * 60 - 3600);

  // Figures kept in a cache answer as pooled afresh, before and after a late backlog.
  const cache = new FiguresCache();
  const city = { from: D, to: D, groupBy: 'region' as const, region: '浙江省/杭州市' };
  const month = { from: '2026-11-30', to: '2026-12-03', groupBy: 'day' as const };
  const asked = async () => ({
    city: await figuresFor(db.db, city, CONFIG, cache),
    month: await figuresFor(db.db, month, CONFIG, cache),
    tree: await regionTree(db.db, { from: D, to: D }, CONFIG, cache),
  });
  const afresh = async () => ({
    city: await figuresFor(db.db, city, CONFIG),
    month: await figuresFor(db.db, month, CONFIG),
    tree: await regionTree(db.db, { from: D, to: D }, CONFIG),
  });
  const keptBefore = await asked();
  assert.deepEqual(keptBefore, await afresh(), 'first asked: pooled and kept');
  const kept = cache.size;
  assert.deepEqual(await asked(), keptBefore, 'asked again: the kept answers');
  assert.equal(cache.size, kept, 'nothing pooled again while the days are unchanged');

  // The backlog arrives twice, shuffled, in small batches: the day is measured again from the marks.
  now = at(60, 5);
  await writeAll(writer, shuffle([...backlog, ...backlog], 11), now, 17);
  const second = await refresher.refresh();
  assert.ok(second.siteDays >= 1, 'the stale site day was measured again');
  const keptAfter = await asked();
  assert.deepEqual(keptAfter, await afresh(), 'after the site day was measured again the cache answers as pooled afresh');
  assert.notDeepEqual(keptAfter.city.total, keptBefore.city.total, 'the backlog changed the day (so the kept answer had to go)');
  assert.notDeepEqual(keptAfter.month.groups, keptBefore.month.groups);
  assert.notDeepEqual(keptAfter.tree, keptBefore.tree);

  // After a round, the overview's figures of a user without scope are pooled ahead: its requests,
  // shaped as the API passes them on, pool nothing more.
  await warmOverview(db.db, CONFIG, cache, now);
  const pooled = cache.pooled;
  const today = dayOf(now, ZONE);
  const asRoute = { region: undefined, site: undefined, owner: undefined, class: undefined, scope: '' };
  await figuresFor(db.db, { from: today, to: today, groupBy: 'none', ...asRoute }, CONFIG, cache);
  await regionTree(db.db, { from: today, to: today, region: undefined, scope: '' }, CONFIG, cache);
  await figuresFor(db.db, { from: addDays(today, -(TREND_DAYS - 1)), to: today, groupBy: 'day', ...asRoute }, CONFIG, cache);
  assert.equal(cache.pooled, pooled, "the overview's requests find what the warm-up pooled");
  const byCamera = await cameras();
  c1 = byCamera.get('north/c1')?.figure;
  assert.equal(c1?.knownSeconds, 86400);
  assert.equal(c1?.onlineSeconds, 86400 - 1800 - 3600);
  assert.equal(c1?.offlineSeconds, 1800 + 3600);
  assert.deepEqual(byCamera.get('north/c1')?.causes, { offline: 5400 });
  const c2 = byCamera.get('north/c2');
  assert.equal(c2?.figure.countedSeconds, 12 * 3600);
  assert.equal(c2?.figure.intactSeconds, 10 * 3600);
  assert.deepEqual(c2?.causes, { black: 7200 });
  assert.equal(c2?.figure.atEnd.hd, 0);
  const c3 = byCamera.get('north/c3')?.figure;
  assert.equal(c3?.countedSeconds, 18 * 3600);
  assert.equal(c3?.onlineSeconds, 18 * 3600);
  assert.equal(c3?.atEnd.cameras, 0, 'removed before the end of the day');
  const s1 = byCamera.get('south/s1')?.figure;
  assert.equal(s1?.knownSeconds, 10 * 3600 + 180);
  assert.equal(s1?.countedSeconds - (s1?.knownSeconds ?? 0), 13 * 3600 + 57 * 60, 'the dead box is unknown, not offline');
  assert.equal(s1?.offlineSeconds, 0);

  // The whole day, pooled: Σ online / Σ known.
  const hours = (h: number) => h * 3600;
  const day = await figuresFor(db.db, { from: D, to: D, groupBy: 'region', region: '浙江省/杭州市' }, CONFIG);
  const e = EXPECTED_DAY;
  assert.equal(day.total.cameras, e.cameras);
  assert.equal(day.total.countedSeconds, e.counted);
  assert.equal(day.total.knownSeconds, e.known);
  near(day.total.onlineRate, e.online / e.known, 'online rate');
  near(day.total.coverage, e.known / e.counted, 'coverage');
  near(day.total.assessedOnlineRate, e.online / e.counted, 'assessed online rate');
  near(day.total.intactRate, e.intact / e.known, 'intact rate');
  assert.deepEqual(day.total.atEnd.byClass, e.byClass);
  near(day.total.atEnd.geoLabelledRate, e.geoLabelledRate, 'geo-labelled rate');
  near(day.total.atEnd.hdRate, e.hdRate, 'HD rate');
  assert.deepEqual(
    day.groups.map((g) => [g.key, g.figure.cameras]),
    [
      [LINPING, 2],
      [YUHANG, 2],
    ],
  );
  assert.equal(day.total.targets.online.met, false);
  assert.equal(day.daysMissing.length, 0);
  assert.ok(day.computedAt !== null);
  const tree = await regionTree(db.db, { from: D, to: D }, CONFIG);
  assert.deepEqual(
    tree.map((r) => [r.region, r.figure.cameras, r.parent]),
    [
      ['浙江省', 4, null],
      ['浙江省/杭州市', 4, '浙江省'],
      [LINPING, 2, '浙江省/杭州市'],
      [YUHANG, 2, '浙江省/杭州市'],
    ],
  );

  // The next day: c1's outage across midnight ends at 01:00.
  c1 = (await cameras('2026-12-02')).get('north/c1')?.figure;
  assert.equal(c1?.offlineSeconds, 3600);
  assert.equal(c1?.onlineSeconds, 23 * 3600);

  // A late status of 23:30 (c1 back online then): the day is measured again, and so is the next
  // (the status in force at midnight changed), which is no longer today.
  const north = new SimulatedSite('north', []);
  now = at(60, 10);
  await writeAll(writer, [north.status('c1', 'online', at(23, 30), { ok: true }, { historical: true })], now);
  await refresher.refresh();
  const after = await cameras();
  assert.equal(after.get('north/c1')?.figure.offlineSeconds, 1800 + 1800);
  c1 = (await cameras('2026-12-02')).get('north/c1')?.figure;
  assert.equal(c1?.offlineSeconds, 0, 'the carry into the next day changed: measured again');

  // Two days as one range: seconds add up; the groups and counts are those of the last day.
  const both = await figuresFor(db.db, { from: D, to: '2026-12-02', groupBy: 'site' }, CONFIG);
  assert.deepEqual(
    both.groups.map((g) => g.key),
    ['north', 'south'],
  );
  assert.equal(both.groups.find((g) => g.key === 'north')?.figure.countedSeconds, hours(24) + hours(12) + hours(18) + hours(24) + hours(24));
  void t;
}

test('figures from ingest to API numbers, by hand: SQLite', async (t) => {
  const db = await openCentralDb(join(tempDir(t), 'central.db'));
  t.after(() => db.close());
  await checkFigures(t, db);
});

test('figures from ingest to API numbers, by hand: PostgreSQL', async (t) => {
  const db = await openCentralDb(await testDatabase(t));
  t.after(() => db.close());
  await checkFigures(t, db);
});

test('two instances measuring the same days at once on one PostgreSQL agree, and neither fails', async (t) => {
  const url = await testDatabase(t);
  const one = await openCentralDb(url);
  t.after(() => one.close());
  const two = await openCentralDb(url);
  t.after(() => two.close());
  const clock = clockReading(() => at(60));
  const writer = new IngestWriter(one, { staleAfterMs: S, dayOf: (ms) => dayOf(ms, ZONE) });
  const { delivered, backlog } = scenario();
  await writeAll(writer, shuffle([...delivered, ...backlog], 3), at(60));
  const refresher = (db: CentralDb) =>
    new FiguresRefresher({ db: db.db, dialect: db.dialect, clock, log: silentLogger, timezone: ZONE, settleMs: S, everyMs: M, todayEveryMs: 0 });
  // Both see every day without figures and measure them all, at the same time.
  const [a, b] = await Promise.all([refresher(one).refresh(), refresher(two).refresh()]);
  assert.deepEqual(a.days, b.days);
  assert.ok(a.days.includes(D));
  const rows = await one.db
    .selectFrom('camera_days')
    .select(['day', 'site_id', 'camera_id', 'online_ms', 'known_ms'])
    .orderBy(['day', 'site_id', 'camera_id'])
    .execute();
  // The same figures as one instance measuring alone.
  const alone = await openCentralDb(await testDatabase(t));
  t.after(() => alone.close());
  await writeAll(new IngestWriter(alone, { staleAfterMs: S, dayOf: (ms) => dayOf(ms, ZONE) }), shuffle([...delivered, ...backlog], 3), at(60));
  await refresher(alone).refresh();
  const expected = await alone.db
    .selectFrom('camera_days')
    .select(['day', 'site_id', 'camera_id', 'online_ms', 'known_ms'])
    .orderBy(['day', 'site_id', 'camera_id'])
    .execute();
  assert.deepEqual(rows, expected);
});
