// Alarms in the database, on SQLite and PostgreSQL: raised and cleared from what the ingest writer
// takes in (statuses, the Will, metrics, outbox drops, removals), acknowledged, replayed late;
// the silence check on virtual time; two writers racing on one PostgreSQL database open one alarm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AlarmStore } from '../../central/alarms/store';
import { acknowledgeAlarm, listAlarms, type AlarmView } from '../../central/alarms/queries';
import { ALARM_KINDS } from '../../central/alarms/rules';
import { SilenceCheck } from '../../central/alarms/silence';
import { classify } from '../../central/ingest/classify';
import { IngestWriter, type Received } from '../../central/ingest/writer';
import { openCentralDb, type CentralDb } from '../../central/store/open';
import { metricsPayload, siteTopics } from '../../contract';
import { SimulatedSite, type TelemetryMessage } from '../../scripts/sim/telemetry';
import { FakeClock } from '../kit/clock';
import { silentLogger } from '../kit/logger';
import { testDatabase } from '../kit/postgres';
import { waitFor } from '../kit/wait';
import { tempDir, type TestContext } from '../kit/temp';

const STALE_MS = 180_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const min = (n: number) => T0 + n * 60_000;

async function openDb(t: TestContext, dialect: 'sqlite' | 'postgres', url?: string): Promise<CentralDb> {
  const db = await openCentralDb(url ?? (dialect === 'postgres' ? await testDatabase(t) : join(tempDir(t), 'central.db')));
  t.after(() => db.close());
  return db;
}

function received(messages: TelemetryMessage | TelemetryMessage[], receivedAt = min(1000)): Received[] {
  return (Array.isArray(messages) ? messages : [messages]).map((m) => {
    const c = classify(m.topic, Buffer.from(m.payload), 1 << 20);
    if (!c.ok || !c.message) throw new Error(`refused: ${JSON.stringify(c)}`);
    // Delivered live (a retained Will would mean the central was away when the site died).
    return { message: c.message, receivedAt, retained: false };
  });
}

function metrics(site: string, at: number, freePercent: number): TelemetryMessage {
  const payload = metricsPayload(
    site,
    {
      host: {
        loadAvg1: 0.1,
        memTotalBytes: 1e9,
        memFreeBytes: 5e8,
        uptimeSec: 100,
        cpus: 2,
        disk: { path: '/var/lib/camgate', mount: '/', sizeBytes: 1e10, freeBytes: freePercent * 1e8, freePercent },
      },
      agent: { rssBytes: 1e7, heapUsedBytes: 1e6, uptimeSec: 100, cameras: 1 },
      outbox: { depth: 0, bytes: 0, oldestSeq: null, newestSeq: null, droppedTotal: 0 },
      uplink: { connected: true, bdSeq: 1, connects: 1, url: null },
    },
    at,
  );
  return { topic: siteTopics(site).metrics, payload: JSON.stringify({ ...payload, seq: 1 }), retain: false };
}

function rig(db: CentralDb) {
  const store = new AlarmStore({ dialect: db.dialect, kinds: new Set(ALARM_KINDS), diskLowPercent: 10 });
  const writer = new IngestWriter(db, { staleAfterMs: STALE_MS, follower: store });
  const alarms = async (filter: Partial<Parameters<typeof listAlarms>[1]> = {}): Promise<AlarmView[]> =>
    (await listAlarms(db.db, { limit: 1000, scope: '', ...filter })).items;
  return { store, writer, alarms };
}

const summary = (a: AlarmView) => [a.camera, a.kind, a.state, a.openedAt, a.clearedAt];
const iso = (ms: number) => new Date(ms).toISOString();

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`${dialect}: the quiet keys' compare-and-set moves only a latest all-clear older than the batch's, and changes nothing the second time`, async (t) => {
    const db = await openDb(t, dialect);
    const { store, writer } = rig(db);
    const site = new SimulatedSite('s1', [{ camera: 'c1' }, { camera: 'c2' }]);
    await writer.write(received(site.connect(min(0), { c1: { state: 'online' }, c2: { state: 'online' } })));
    await writer.write(received(site.status('c2', 'offline', min(5))));
    const clear = (camera: string, at: number) => ({
      site: 's1',
      camera,
      kind: 'camera-offline' as const,
      observation: { at, fault: false, evidence: 'status online' },
    });
    const latest = async () =>
      (await db.db.selectFrom('alarm_latest').select(['camera_id', 'at', 'fault']).where('kind', '=', 'camera-offline').orderBy('camera_id').execute()).map(
        (r) => [r.camera_id, Number(r.at), Number(r.fault)],
      );
    const quiet = [clear('c1', min(7)), clear('c1', min(6)), clear('c2', min(6)), clear('c3', min(6))];
    // c2's latest is a fault and c3 has no row: both must go the whole way.
    assert.deepEqual([...(await store.settleQuiet(db.db, quiet))], ['s1\u0000c1\u0000camera-offline']);
    assert.deepEqual(await latest(), [
      ['c1', min(7), 0],
      ['c2', min(5), 1],
    ]);
    assert.deepEqual([...(await store.settleQuiet(db.db, quiet))], [], 'applied again: nothing newer than the latest');
    assert.deepEqual(
      [...(await store.settleQuiet(db.db, [clear('c1', min(8)), { ...clear('c1', min(9)), observation: { at: min(9), fault: true, evidence: 'x' } }]))],
      [],
      'a fault among them: not quiet',
    );
    assert.deepEqual(await latest(), [
      ['c1', min(7), 0],
      ['c2', min(5), 1],
    ]);
  });

  test(`${dialect}: a camera offline opens an alarm; acknowledged it stays; back online clears it keeping who acknowledged; it recurs as a new one`, async (t) => {
    const db = await openDb(t, dialect);
    const { writer, alarms } = rig(db);
    const site = new SimulatedSite('s1', [{ camera: 'c1' }, { camera: 'c2' }]);
    await writer.write(received(site.connect(min(0), { c1: { state: 'online' }, c2: { state: 'online' } })));
    assert.deepEqual(await alarms(), [], 'nothing wrong yet');

    await writer.write(received(site.status('c1', 'offline', min(5))));
    const [opened] = await alarms();
    assert.deepEqual(summary(opened), ['c1', 'camera-offline', 'open', iso(min(5)), null]);
    assert.match(opened.openedBy, /status offline: no answer/);

    const ack = await acknowledgeAlarm(db.db, opened.id, 'duty-1', 'sent a technician', min(6), '');
    assert.ok(ack.ok);
    assert.equal(ack.alarm.state, 'acknowledged');
    const again = await acknowledgeAlarm(db.db, opened.id, 'duty-2', null, min(7), '');
    assert.deepEqual([again.ok, !again.ok && again.why], [false, 'acknowledged']);
    // Still offline: the same alarm, acknowledged.
    await writer.write(received(site.status('c1', 'offline', min(8))));
    assert.deepEqual((await alarms()).map(summary), [['c1', 'camera-offline', 'acknowledged', iso(min(5)), null]]);

    await writer.write(received(site.status('c1', 'online', min(10))));
    const [cleared] = await alarms();
    assert.deepEqual(summary(cleared), ['c1', 'camera-offline', 'cleared', iso(min(5)), iso(min(10))]);
    assert.deepEqual([cleared.acknowledgedBy, cleared.note, cleared.acknowledgedAt], ['duty-1', 'sent a technician', iso(min(6))]);
    assert.equal(cleared.clearedBy, 'status online');
    const late = await acknowledgeAlarm(db.db, cleared.id, 'duty-2', null, min(11), '');
    assert.deepEqual([late.ok, !late.ok && late.why], [false, 'cleared']);

    await writer.write(received(site.status('c1', 'offline', min(20))));
    assert.deepEqual((await alarms()).map(summary), [
      ['c1', 'camera-offline', 'open', iso(min(20)), null],
      ['c1', 'camera-offline', 'cleared', iso(min(5)), iso(min(10))],
    ]);
    // Filters and paging.
    assert.equal((await alarms({ state: 'active' })).length, 1);
    assert.equal((await alarms({ state: 'cleared' })).length, 1);
    assert.equal((await alarms({ camera: 'c2' })).length, 0);
    assert.equal((await alarms({ from: min(11), to: min(19) })).length, 0, 'nothing in force between the two');
    const page1 = await listAlarms(db.db, { limit: 1, scope: '' });
    assert.ok(page1.next);
    const page2 = await listAlarms(db.db, { limit: 1, scope: '', cursor: { openedAt: min(20), id: page1.items[0].id } });
    assert.deepEqual(
      page2.items.map((a) => a.openedAt),
      [iso(min(5))],
    );
    assert.equal(page2.next, null);
  });

  test(`${dialect}: out of order and twice: a late status neither clears nor reopens; a replayed outage is a cleared alarm with its times`, async (t) => {
    const db = await openDb(t, dialect);
    const { writer, alarms } = rig(db);
    const site = new SimulatedSite('s2', [{ camera: 'c1' }]);
    const statuses = [
      site.status('c1', 'offline', min(10)),
      site.status('c1', 'offline', min(12)),
      site.status('c1', 'online', min(15)),
      site.status('c1', 'offline', min(20)),
    ];
    // Newest first, each twice, in two batches.
    await writer.write(received([site.connect(min(0))[0], statuses[3], statuses[2]]));
    await writer.write(received([statuses[1], statuses[0], statuses[3], statuses[1]]));
    // The newest (20) opened it; the late ones (10, 12) came before the all-clear at 15: a fault of their own, over.
    assert.deepEqual((await alarms()).map(summary), [
      ['c1', 'camera-offline', 'open', iso(min(20)), null],
      ['c1', 'camera-offline', 'cleared', iso(min(10)), iso(min(15))],
    ]);

    // The agent comes back at 60 with the camera online; its backlog then replays a fault of 30..40.
    await writer.write(received(site.status('c1', 'online', min(60), null, { direct: true })));
    await writer.write(
      received([
        site.status('c1', 'degraded', min(30), { ok: false, faults: ['black'] }, { historical: true }),
        site.status('c1', 'online', min(40), { ok: true }, { historical: true }),
      ]),
    );
    const all = await alarms();
    assert.deepEqual(all.map(summary), [
      ['c1', 'picture-fault', 'cleared', iso(min(30)), iso(min(40))],
      // Degraded at 30 is reachable: the backlog says it was back by then.
      ['c1', 'camera-offline', 'cleared', iso(min(20)), iso(min(30))],
      ['c1', 'camera-offline', 'cleared', iso(min(10)), iso(min(15))],
    ]);
    assert.equal(all[0].historical, true);
    assert.deepEqual(all[0].detail.faults, ['black']);
  });

  test(`${dialect}: the Will opens site-offline and the next connect clears it; low disk; a removed camera's alarms are cleared`, async (t) => {
    const db = await openDb(t, dialect);
    const { writer, alarms } = rig(db);
    const site = new SimulatedSite('s3', [{ camera: 'c1' }]);
    await writer.write(received(site.connect(min(0), { c1: { state: 'offline' } }), min(0)));
    await writer.write(received(site.will(min(0)), min(30)));
    await writer.write(received(site.connect(min(40), { c1: { state: 'offline' } }), min(40)));
    await writer.write(received(metrics('s3', min(41), 4)));
    assert.deepEqual((await alarms()).map(summary), [
      [null, 'disk-low', 'open', iso(min(41)), null],
      [null, 'site-offline', 'cleared', iso(min(30)), iso(min(40))],
      ['c1', 'camera-offline', 'open', iso(min(0)), null],
    ]);
    await writer.write(received(metrics('s3', min(42), 30)));
    await writer.write(
      received(
        site.event(
          { type: 'camera-removed', severity: 'info', camera: 'c1', message: 'removed', detail: { removedAt: iso(min(45)), deviceId: 'd', name: null } },
          min(45),
        ),
      ),
    );
    const after = await alarms();
    assert.deepEqual(after.map(summary), [
      [null, 'disk-low', 'cleared', iso(min(41)), iso(min(42))],
      [null, 'site-offline', 'cleared', iso(min(30)), iso(min(40))],
      ['c1', 'camera-offline', 'cleared', iso(min(0)), iso(min(45))],
    ]);
    assert.equal(after[2].clearedBy, 'camera removed');
    // A status of before the removal, delivered after it, does not reopen.
    await writer.write(received(site.status('c1', 'offline', min(44))));
    assert.equal((await alarms({ state: 'active' })).length, 0);
  });

  test(`${dialect}: a site silent for staleAfterSec gets site-offline from the periodic check; its next live message clears it`, async (t) => {
    const db = await openDb(t, dialect);
    const { writer, alarms, store } = rig(db);
    const clock = new FakeClock(min(0));
    let listening = true;
    const check = new SilenceCheck({ db: db.db, store, clock, log: silentLogger, staleAfterMs: STALE_MS, intervalMs: 30_000, listening: () => listening });
    t.after(() => check.stop());
    const site = new SimulatedSite('s4', [{ camera: 'c1' }]);
    await writer.write(received(site.connect(min(0), { c1: { state: 'online' } })));
    assert.equal(await check.checkOnce(), 0);
    await clock.advance(STALE_MS);
    listening = false;
    assert.equal(await check.checkOnce(), 0, 'the central is not listening: the silence is its own');
    listening = true;
    await clock.advance(60_000);
    assert.equal(await check.checkOnce(), 0, 'listening again, but not yet for staleAfterSec');
    await clock.advance(STALE_MS - 1);
    assert.equal(await check.checkOnce(), 0);
    assert.deepEqual(await alarms(), []);
    await clock.advance(1);
    assert.equal(await check.checkOnce(), 1);
    const [silent] = await alarms();
    assert.deepEqual(summary(silent), [null, 'site-offline', 'open', iso(min(3)), null]);
    assert.match(silent.openedBy, /silent/);
    assert.equal(await check.checkOnce(), 0, 'already open');
    await writer.write(received(site.connect(min(20), { c1: { state: 'online' } })));
    assert.deepEqual((await alarms()).map(summary), [[null, 'site-offline', 'cleared', iso(min(3)), iso(min(20))]]);

    // Started, it looks by itself every interval: silent again after its last message (20 min).
    await clock.advance(min(30) - clock.now());
    check.start();
    await clock.advance(30_000);
    await waitFor(async () => (await alarms({ state: 'open' })).length === 1, 'the periodic check raising site-offline');
    assert.deepEqual(summary((await alarms({ state: 'open' }))[0]), [null, 'site-offline', 'open', iso(min(23)), null]);
  });
}

test('postgres: two writers and two silence checks racing on one database open one alarm per camera', async (t) => {
  const url = await testDatabase(t);
  const a = await openDb(t, 'postgres', url);
  const b = await openDb(t, 'postgres', url);
  const ra = rig(a);
  const rb = rig(b);
  const cameras = Array.from({ length: 8 }, (_, i) => ({ camera: `c${i}` }));
  const site = new SimulatedSite('race', cameras);
  await ra.writer.write(received(site.connect(min(0))));
  // Each writer gets its own offline statuses of every camera (different times, different messages).
  for (let round = 0; round < 5; round++) {
    const forA = cameras.map((c) => site.status(c.camera, 'offline', min(10 + round * 2)));
    const forB = cameras.map((c) => site.status(c.camera, 'offline', min(11 + round * 2)));
    await Promise.all([ra.writer.write(received(forA)), rb.writer.write(received(forB))]);
  }
  const open = await ra.alarms({ state: 'active', kind: 'camera-offline' });
  assert.equal(open.length, cameras.length, 'one per camera');
  assert.ok(open.every((x) => x.openedAt === iso(min(10))));
  // The same key decided at once by two instances' stores, without the ingest's site lock.
  const silence = (store: AlarmStore, db: CentralDb, at: number) =>
    db.db
      .transaction()
      .execute((tx) => store.record(tx, [{ site: 'race', camera: '', kind: 'site-offline', observation: { at, fault: true, evidence: `silent ${at}` } }]));
  for (let i = 0; i < 10; i++) await Promise.all([silence(ra.store, a, min(100 + i)), silence(rb.store, b, min(100 + i) + 1)]);
  const siteAlarms = await ra.alarms({ kind: 'site-offline' });
  assert.deepEqual(siteAlarms.map(summary), [[null, 'site-offline', 'open', iso(min(100)), null]]);
});
