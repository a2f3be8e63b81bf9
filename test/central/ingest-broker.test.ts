// The central's ingest against a real Mosquitto: sites' messages (built with the contract's
// builders, at times the test chooses) reach the ledger; bad ones are counted per site and reason
// and never stall the rest; a message delivered twice counts once; what sites send while the
// central is down reaches it when it is back (its broker session); several instances on one
// PostgreSQL database split the load and give the same answers as one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { SimulatedSite } from '../../scripts/sim/telemetry';
import { centralTestConfig, publisher, startTestCentral, type TestCentral } from '../kit/central';
import { testDatabase } from '../kit/postgres';
import { waitFor } from '../kit/wait';
import { metricsByHour } from '../../central/ledger/history';
import { captureLogger } from '../kit/logger';

interface CameraList {
  total: number;
  items: Array<{
    site: string;
    camera: string;
    state: string;
    status: string | null;
    picture: string | null;
    faults: string[];
    class: number | null;
    region: string | null;
  }>;
}

async function written(central: TestCentral, n: number): Promise<void> {
  await waitFor(
    () => {
      const s = central.ingest!.stats();
      return s.written + s.duplicates + s.refused >= n && s.queued === 0;
    },
    `${n} messages taken in`,
    20_000,
    () => JSON.stringify(central.ingest!.stats()),
  );
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`${dialect}: a site’s messages reach the ledger; bad ones are counted and the rest go on; a duplicate counts once`, async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const central = await startTestCentral(t, { brokerUrl: broker.url, ...(dialect === 'postgres' ? { db: await testDatabase(t) } : {}) });
    await waitFor(() => central.ingest!.stats().connected, 'central connected');
    const pub = await publisher(t, broker.url);
    const now = Date.now();
    const site = new SimulatedSite('town-a', [
      { camera: 'cam-1', class: 1, region: '浙江省/杭州市/西湖区/留下街道', latitude: 30.27, longitude: 120.1 },
      { camera: 'cam-2', class: 2, region: '浙江省/杭州市/西湖区/转塘街道' },
      { camera: 'cam-3', class: 3, region: '浙江省/杭州市/余杭区' },
    ]);
    await pub.send(
      site.connect(now - 5000, {
        'cam-1': { state: 'online', picture: { ok: true } },
        'cam-2': { state: 'online', picture: { ok: false, faults: ['black'] } },
        'cam-3': { state: 'offline' },
      }),
    );
    // Garbage in between: not JSON, a payload of another site, an invalid status, an unknown topic.
    const status = site.status('cam-1', 'degraded', now - 1000, { ok: true });
    await pub.client.publishAsync('camgate/v1/town-a/cameras/cam-1/status', 'not json {', { qos: 1 });
    await pub.client.publishAsync('camgate/v1/town-b/cameras/cam-1/status', status.payload, { qos: 1 });
    await pub.client.publishAsync('camgate/v1/town-a/cameras/cam-1/status', JSON.stringify({ ...JSON.parse(status.payload), state: 'exploded' }), { qos: 1 });
    await pub.client.publishAsync('camgate/v1/town-a/metrics', JSON.stringify({ schemaVersion: 1 }), { qos: 1 });
    // The same status twice (QoS 1 redelivery, a replay): one point.
    await pub.send([status, status]);
    await written(central, 2 + 3 + 3 + 4 + 2);

    const cams = await central.get<CameraList>('/api/cameras?site=town-a');
    assert.equal(cams.status, 200);
    assert.deepEqual(
      cams.body.items.map((c) => [c.camera, c.state, c.status, c.picture, c.faults]),
      [
        ['cam-1', 'online', 'degraded', 'ok', []],
        ['cam-2', 'online', 'online', 'fault', ['black']],
        ['cam-3', 'offline', 'offline', 'none', []],
      ],
    );
    const stats = central.ingest!.stats();
    assert.equal(stats.refused, 4);
    assert.equal(stats.duplicates, 1);
    const rejects = await central.get<Array<{ site: string; reason: string; count: number; example: string }>>('/api/ingest/rejects');
    assert.deepEqual(rejects.body.map((r) => `${r.site} ${r.reason} ${r.count}`).sort(), ['town-a invalid 2', 'town-a not-json 1', 'town-b wrong-site 1']);
    assert.match(rejects.body.find((r) => r.reason === 'wrong-site')!.example, /the payload says site "town-a"/);

    const points = await central.db.db
      .selectFrom('status_points')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('camera_id', '=', 'cam-1')
      .executeTakeFirstOrThrow();
    assert.equal(Number(points.n), 2, 'the connect status and one degraded status');

    // Filters: region below a path, class, state, fault, text.
    const inXihu = await central.get<CameraList>('/api/cameras?region=' + encodeURIComponent('浙江省/杭州市/西湖区'));
    assert.deepEqual(
      inXihu.body.items.map((c) => c.camera),
      ['cam-1', 'cam-2'],
    );
    assert.deepEqual(
      (await central.get<CameraList>('/api/cameras?state=offline')).body.items.map((c) => c.camera),
      ['cam-3'],
    );
    assert.deepEqual(
      (await central.get<CameraList>('/api/cameras?fault=black')).body.items.map((c) => c.camera),
      ['cam-2'],
    );
    assert.deepEqual(
      (await central.get<CameraList>('/api/cameras?class=3')).body.items.map((c) => c.camera),
      ['cam-3'],
    );
    assert.deepEqual(
      (await central.get<CameraList>('/api/cameras?text=CAM-2')).body.items.map((c) => c.camera),
      ['cam-2'],
    );
    // A region name with LIKE's wildcards matches literally.
    assert.equal((await central.get<CameraList>('/api/cameras?region=%25')).body.total, 0);
    const bad = await central.get<{ error: string; message: string }>('/api/cameras?state=sleeping');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /state/);
    const missing = await central.get<{ error: string; message: string }>('/api/cameras/town-a/nope');
    assert.equal(missing.status, 404);
    assert.match(missing.body.message, /no camera nope at site town-a/);

    // A removal (meta cleared) takes the camera out of the list.
    await pub.send(site.metaCleared('cam-3'));
    await waitFor(async () => (await central.get<CameraList>('/api/cameras?site=town-a')).body.total === 2, 'cam-3 removed');
  });
}

test('what sites send while the central is down reaches it when it comes back (its broker session)', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const config = centralTestConfig({ brokerUrl: broker.url }, t);
  const first = await startTestCentral(t, { brokerUrl: broker.url }, config);
  await waitFor(() => first.ingest!.stats().connected, 'central connected');
  const pub = await publisher(t, broker.url);
  const site = new SimulatedSite('town-c', [{ camera: 'cam-1', class: 1 }]);
  const t0 = Date.now() - 60_000;
  await pub.send(site.connect(t0, { 'cam-1': { state: 'online', picture: { ok: true } } }));
  await written(first, 4);
  await first.stop();

  const whileDown = Array.from({ length: 50 }, (_, i) => site.status('cam-1', i % 2 ? 'online' : 'offline', t0 + 1000 * (i + 1)));
  await pub.send(whileDown);
  const second = await startTestCentral(t, { brokerUrl: broker.url }, config);
  await waitFor(
    async () => {
      const n = await second.db.db
        .selectFrom('status_points')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(n.n) === 51;
    },
    'all 50 statuses sent while the central was down',
    20_000,
  );
  const cam = await second.get<{ status: string }>('/api/cameras/town-c/cam-1');
  assert.equal(cam.body.status, 'online', 'the latest by observedAt (the 50th)');
});

test('two instances on one PostgreSQL database split the sites’ messages and count each once', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const db = await testDatabase(t);
  const logA = captureLogger('warn');
  const a = await startTestCentral(t, { brokerUrl: broker.url, db, deps: { logger: logA.logger } });
  const b = await startTestCentral(t, { brokerUrl: broker.url, db });
  await waitFor(() => a.ingest!.stats().connected && b.ingest!.stats().connected, 'both connected');
  const pub = await publisher(t, broker.url);
  const t0 = Date.now() - 3_600_000;
  const sites = Array.from(
    { length: 6 },
    (_, s) =>
      new SimulatedSite(
        `site-${s}`,
        Array.from({ length: 5 }, (_, c) => ({ camera: `cam-${c}`, class: ((c % 3) + 1) as 1 | 2 | 3 })),
      ),
  );
  const opening = sites.flatMap((s) => s.connect(t0));
  await pub.send(opening);
  // Out of order on purpose: the newest status of each camera is sent first.
  const statuses = sites.flatMap((s) =>
    s.cameras.flatMap((c) => Array.from({ length: 20 }, (_, i) => s.status(c.camera, i === 19 ? 'offline' : 'online', t0 + 1000 * (i + 1))).reverse()),
  );
  // Each site's metrics, in one hour: both instances add samples to that hour.
  const metrics = sites.flatMap((s) => Array.from({ length: 12 }, (_, i) => s.metrics(t0 + 1000 * (i + 1))));
  await pub.send([...statuses, ...metrics]);
  // And all of them again, as a replayed backlog would.
  await pub.send([...statuses, ...metrics]);
  const total = opening.length + 2 * (statuses.length + metrics.length);
  await waitFor(
    () =>
      a.ingest!.stats().received + b.ingest!.stats().received >= total + opening.filter((m) => m.topic.endsWith('/meta') || m.topic.endsWith('/state')).length,
    'every message received',
    30_000,
  );
  await Promise.all([a.ingest!.drained(), b.ingest!.drained()]);
  const sa = a.ingest!.stats();
  const sb = b.ingest!.stats();
  assert.ok(
    sa.written > 0 && sb.written > 0,
    `both instances wrote (a ${JSON.stringify(sa)}, b ${JSON.stringify(sb)}) ${JSON.stringify(logA.lines.slice(0, 3))}`,
  );
  const points = await a.db.db
    .selectFrom('status_points')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  assert.equal(Number(points.n), statuses.length, 'each status once');
  const hours = await metricsByHour(a.db.db).orderBy('site_id').execute();
  assert.deepEqual(
    hours.map((h) => ({ site: h.site_id, samples: Number(h.samples) })),
    sites.map((s) => ({ site: s.site, samples: 12 })),
    'every sample counted once in its site’s hour, whichever instance took it',
  );
  const writers = await a.db.db.selectFrom('metrics_hourly').select('writer').distinct().execute();
  assert.equal(writers.length, 2, 'each instance added to rows of its own');
  const fromA = await a.get<CameraList>('/api/cameras?limit=1000');
  const fromB = await b.get<CameraList>('/api/cameras?limit=1000');
  assert.equal(fromA.body.total, 30);
  assert.deepEqual(fromA.body, fromB.body);
  assert.ok(
    fromA.body.items.every((c) => c.status === 'offline'),
    'the newest status of every camera, whatever order they came in',
  );
});
