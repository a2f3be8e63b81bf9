// The figures through the whole central: the hand-computed day of test/kit/figures-day.ts published
// to a real Mosquitto (the outage's backlog late, twice, out of order), taken in, measured, and read
// back from the HTTP API; and the API's refusals of a malformed range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock, type Clock } from '../../lib/clock';
import { createUser } from '../../central/auth/users';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { publisher, startTestCentral, type TestCentral } from '../kit/central';
import { at, D, EXPECTED_DAY, LINPING, scenario, YUHANG } from '../kit/figures-day';
import { shuffle } from '../kit/random';
import { waitFor } from '../kit/wait';

interface Figure {
  cameras: number;
  countedSeconds: number;
  knownSeconds: number;
  onlineRate: number | null;
  intactRate: number | null;
  atEnd: { geoLabelledRate: number | null; byClass: Record<string, number> };
  targets: { online: { met: boolean | null } };
}
interface FiguresBody {
  period: { from: string; to: string; start: string };
  total: Figure;
  groups: Array<{ key: string; figure: Figure; causes?: Record<string, number> }>;
  daysMissing: string[];
}

async function taken(central: TestCentral, n: number): Promise<void> {
  await waitFor(
    () => {
      const s = central.ingest!.stats();
      return s.written + s.duplicates >= n && s.queued === 0;
    },
    `${n} messages taken in`,
    30_000,
    () => JSON.stringify(central.ingest!.stats()),
  );
}

test('figures API: a hand-computed day through Mosquitto, ingest and the refresher; malformed ranges refused', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  // The central lives two and a half days after the day (real timers, its own "now").
  const offset = Date.now() - at(60);
  const clock: Clock = { ...systemClock, now: () => Date.now() - offset };
  const central = await startTestCentral(t, { brokerUrl: broker.url, deps: { clock } });
  await waitFor(() => central.ingest!.stats().connected, 'central connected');
  const pub = await publisher(t, broker.url);
  const { delivered, backlog } = scenario();
  await pub.send(delivered);
  await taken(central, delivered.length);
  await pub.send(shuffle([...backlog, ...backlog], 3));
  await taken(central, delivered.length + 2 * backlog.length);
  await central.figures.refresh();

  const day = await central.get<FiguresBody>(`/api/figures?from=${D}&to=${D}&groupBy=region&region=${encodeURIComponent('浙江省/杭州市/')}`);
  assert.equal(day.status, 200, JSON.stringify(day.body));
  const e = EXPECTED_DAY;
  assert.equal(day.body.total.cameras, e.cameras);
  assert.equal(day.body.total.countedSeconds, e.counted);
  assert.equal(day.body.total.knownSeconds, e.known);
  assert.ok(Math.abs((day.body.total.onlineRate ?? 0) - e.online / e.known) < 1e-9, JSON.stringify(day.body.total));
  assert.ok(Math.abs((day.body.total.intactRate ?? 0) - e.intact / e.known) < 1e-9);
  assert.deepEqual(day.body.total.atEnd.byClass, e.byClass);
  assert.equal(day.body.total.targets.online.met, false);
  assert.deepEqual(
    day.body.groups.map((g) => g.key),
    [LINPING, YUHANG],
  );
  assert.equal(day.body.period.start, new Date(at(0)).toISOString());

  const cameras = await central.get<FiguresBody>(`/api/figures?from=${D}&to=${D}&groupBy=camera&site=north`);
  assert.deepEqual(
    cameras.body.groups.map((g) => [g.key, g.causes]),
    [
      ['north/c1', { offline: 5400 }],
      ['north/c2', { black: 7200 }],
      ['north/c3', {}],
    ],
  );

  const regions = await central.get<{ regions: Array<{ region: string; figure: Figure }> }>(`/api/regions?from=${D}&to=${D}`);
  assert.deepEqual(
    regions.body.regions.map((r) => [r.region, r.figure.cameras]),
    [
      ['浙江省', 4],
      ['浙江省/杭州市', 4],
      [LINPING, 2],
      [YUHANG, 2],
    ],
  );

  // The raw material: c1's timeline of the day (the backlog's statuses in it) and south's history.
  const timeline = await central.get<{
    initial: { state: string } | null;
    points: Array<{ at: string; state: string }>;
    counted: Array<{ from: string; to: string | null }>;
    evidence: Array<{ from: string; to: string }>;
  }>(`/api/cameras/north/c1/timeline?from=${D}&to=${D}`);
  assert.equal(timeline.status, 200, JSON.stringify(timeline.body));
  assert.equal(timeline.body.initial?.state, 'online');
  assert.deepEqual(
    timeline.body.points.map((p) => [p.at, p.state]),
    [
      [new Date(at(3, 30)).toISOString(), 'offline'],
      [new Date(at(4)).toISOString(), 'online'],
      [new Date(at(23)).toISOString(), 'offline'],
    ],
  );
  assert.equal(timeline.body.evidence.length, 1, 'the backlog filled the outage in');
  const history = await central.get<{
    latestMetrics: { observedAt: string } | null;
    connections: Array<{ connection: string; reason: string | null }>;
    metrics: Array<{ hour: string; samples: number }>;
  }>(`/api/sites/south/history?from=2026-11-30&to=2026-12-03`);
  assert.equal(history.status, 200, JSON.stringify(history.body));
  assert.deepEqual(
    history.body.connections.map((c) => [c.connection, c.reason]),
    [
      ['online', null],
      ['offline', 'will'],
    ],
  );
  assert.equal(history.body.metrics.find((m) => m.hour === new Date(at(5)).toISOString())?.samples, 30, 'a sample every two minutes');
  assert.equal(history.body.latestMetrics?.observedAt, new Date(at(10)).toISOString(), 'the latest sample, whatever order they came in');
  assert.equal((await central.get(`/api/sites/south/history?from=${D}&to=2026-11-30`)).status, 400);

  // A viewer of one county sees only its cameras' figures, and nothing of the others.
  await createUser(central.db.db, clock, { username: 'linping-viewer', role: 'viewer', scope: LINPING, password: 'linping-pass-2026' });
  const county = await central.login('linping-viewer', 'linping-pass-2026');
  const scoped = await county.get<FiguresBody>(`/api/figures?from=${D}&to=${D}&groupBy=camera`);
  assert.deepEqual(
    scoped.body.groups.map((g) => g.key),
    ['north/c2', 'south/s1'],
  );
  assert.equal(scoped.body.total.cameras, 2);
  const scopedRegions = await county.get<{ regions: Array<{ region: string }> }>(`/api/regions?from=${D}&to=${D}`);
  assert.deepEqual(
    scopedRegions.body.regions.map((r) => r.region),
    [LINPING],
    'no level above its scope (it would show its part as the whole)',
  );
  assert.equal((await county.get(`/api/cameras/north/c1/timeline?from=${D}`)).status, 404);
  assert.equal((await county.get('/api/sites/north/history')).status, 200, 'north has a camera in its county');

  for (const [query, fragment] of [
    ['from=2026-13-01', 'from'],
    ['from=2026-02-30', 'not a calendar day'],
    ['from=2026-12-05&to=2026-12-01', 'after to'],
    ['from=2024-01-01&to=2026-12-01', 'more than 400 days'],
    ['groupBy=street', 'groupBy'],
    ['class=4', 'class'],
    ['colour=red', 'colour'],
  ]) {
    const res = await central.get<{ error: string; message: string }>(`/api/figures?${query}`);
    assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.message, new RegExp(fragment), query);
  }
});
