// The ledger watch (agent/inventory/changes.ts) on the virtual clock, with a real SQLite ledger
// written through a second connection as the CLI does from its own process, and a recording sink
// in place of the uplink.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { LedgerWatch, pendingRemovals, type CameraRemoval } from '../../agent/inventory/changes';
import { applyLabelUpdates, listCameras, recordDeviceSeen, removeCamera } from '../../agent/inventory/cameras';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { cameraRemovedEvent } from '../../agent/uplink/payloads';
import { eventPayload, validatePayload } from '../../contract';
import { FakeClock } from '../kit/clock';
import { channel, inventoryWith, report } from '../kit/reports';
import { tempDir, type TestContext } from '../kit/temp';

interface Rig {
  /** The agent's connection. */
  db: Database;
  /** Another connection to the same file: the CLI. */
  cli: Database;
  clock: FakeClock;
  sink: RecordingSink;
  ids: string[];
  watch(): LedgerWatch;
}

class RecordingSink {
  online = true;
  /** Answers of metaChanged/clearRetained while online (false: the publish failed). */
  publishes = true;
  metas: string[] = [];
  removed: CameraRemoval[] = [];
  cleared: string[] = [];
  connected = () => this.online;
  metaChanged = (id: string) => {
    if (!this.publishes) return Promise.resolve(false);
    this.metas.push(id);
    return Promise.resolve(true);
  };
  cameraRemoved = (removal: CameraRemoval) => {
    this.removed.push(removal);
    return Promise.resolve(this.removed.length);
  };
  clearRetained = (id: string) => {
    if (!this.publishes) return Promise.resolve(false);
    this.cleared.push(id);
    return Promise.resolve(true);
  };
}

function rig(t: TestContext, cameras = 2): Rig {
  const dir = tempDir(t);
  const db = inventoryWith(dir, cameras);
  t.after(() => db.close());
  const cli = openDatabase(join(dir, 'inv'));
  t.after(() => cli.close());
  const clock = new FakeClock();
  const sink = new RecordingSink();
  const ids = listCameras(db).map((c) => c.id);
  return {
    db,
    cli,
    clock,
    sink,
    ids,
    watch() {
      const w = new LedgerWatch({ db, sink, clock });
      t.after(() => w.stop());
      w.start();
      return w;
    },
  };
}

const setName = (db: Database, id: string, name: string) => applyLabelUpdates(db, [{ id, patch: { name } }], new Date());

test('a label set from another connection reaches the sink at the next check, once; nothing while the ledger is unchanged', async (t) => {
  const r = rig(t);
  let changes = 0;
  const watch = new LedgerWatch({ db: r.db, sink: r.sink, clock: r.clock, onChange: () => changes++ });
  t.after(() => watch.stop());
  watch.start();
  await r.clock.advance(5000);
  assert.deepEqual([r.sink.metas, r.sink.removed, r.sink.cleared, changes], [[], [], [], 0]);

  setName(r.cli, r.ids[0], '北门');
  assert.deepEqual(r.sink.metas, [], 'nothing before the next check');
  await r.clock.advance(1000);
  assert.deepEqual(r.sink.metas, [r.ids[0]]);
  assert.equal(changes, 1, 'the health monitor is told');
  await r.clock.advance(10_000);
  assert.deepEqual(r.sink.metas, [r.ids[0]], 'published once');
  assert.equal(changes, 1);
  assert.equal((r.db.prepare('SELECT COUNT(*) AS n FROM camera_changes').get() as { n: number }).n, 0, 'handled changes are forgotten');
});

test("a device's identity changes every channel's meta; a health check's last-seen and clock offset change none", async (t) => {
  const r = rig(t, 0);
  const host = '127.0.9.50';
  const nvr = report({ host, isNvr: true, channels: [channel(1, host), channel(2, host)] });
  const saved = upsertDeviceReport(r.cli, nvr, { now: new Date() });
  r.watch();
  await r.clock.advance(1000);
  assert.deepEqual(r.sink.metas, [], 'cameras there before the start: the connect burst publishes them');

  assert.ok(recordDeviceSeen(r.cli, saved.deviceId, { at: new Date(), clockOffsetMs: 4242 }));
  await r.clock.advance(1000);
  assert.deepEqual(r.sink.metas, []);

  upsertDeviceReport(r.cli, { ...nvr, identity: { ...nvr.identity, firmware: '2.00' } }, { now: new Date() });
  await r.clock.advance(1000);
  assert.deepEqual(r.sink.metas.sort(), saved.cameras.map((c) => c.id).sort());
});

test('disconnected: the camera-removed event is recorded at once, metas and the clear wait for the connection', async (t) => {
  const r = rig(t, 3);
  r.sink.online = false;
  r.watch();
  const [kept, gone] = r.ids;
  const goneDevice = listCameras(r.db).find((c) => c.id === gone)!.deviceId;
  setName(r.cli, gone, '南门');
  setName(r.cli, kept, '北门');
  removeCamera(r.cli, gone);
  await r.clock.advance(1000);
  assert.deepEqual(r.sink.metas, []);
  assert.deepEqual(r.sink.cleared, []);
  assert.equal(r.sink.removed.length, 1);
  const removal = r.sink.removed[0];
  assert.equal(removal.cameraId, gone);
  assert.equal(removal.name, '南门');
  assert.match(removal.removedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(removal.deviceId, goneDevice);
  assert.deepEqual(
    pendingRemovals(r.db).map((p) => [p.cameraId, p.announced, p.cleared]),
    [[gone, true, false]],
  );

  await r.clock.advance(5000);
  assert.equal(r.sink.removed.length, 1, 'announced once');
  r.sink.online = true;
  await r.clock.advance(1000);
  assert.deepEqual(r.sink.metas, [kept], 'the meta of the camera still there, not of the one removed');
  assert.deepEqual(r.sink.cleared, [gone]);
  assert.deepEqual(pendingRemovals(r.db), []);
  assert.equal((r.db.prepare('SELECT COUNT(*) AS n FROM removed_cameras').get() as { n: number }).n, 0, 'a removal done is forgotten');
  await r.clock.advance(5000);
  assert.deepEqual([r.sink.metas, r.sink.cleared, r.sink.removed.length], [[kept], [gone], 1]);
});

test('a publish that fails is tried again at the next check', async (t) => {
  const r = rig(t);
  r.watch();
  r.sink.publishes = false;
  setName(r.cli, r.ids[0], '北门');
  removeCamera(r.cli, r.ids[1]);
  await r.clock.advance(3000);
  assert.deepEqual([r.sink.metas, r.sink.cleared, r.sink.removed.length], [[], [], 1]);
  r.sink.publishes = true;
  await r.clock.advance(1000);
  assert.deepEqual([r.sink.metas, r.sink.cleared, r.sink.removed.length], [[r.ids[0]], [r.ids[1]], 1]);
});

test('removals made while the agent was stopped are announced when it starts; one announced before is only cleared', async (t) => {
  const r = rig(t, 3);
  r.sink.online = false;
  const first = r.watch();
  removeCamera(r.cli, r.ids[0]);
  await r.clock.advance(1000);
  assert.equal(r.sink.removed.length, 1);
  await first.stop();

  // Stopped: another camera goes.
  removeCamera(r.cli, r.ids[1]);
  const sink = new RecordingSink();
  const second = new LedgerWatch({ db: r.db, sink, clock: r.clock });
  t.after(() => second.stop());
  second.start();
  await r.clock.advance(0);
  assert.deepEqual(
    sink.removed.map((x) => x.cameraId),
    [r.ids[1]],
  );
  assert.deepEqual(sink.cleared.sort(), [r.ids[0], r.ids[1]].sort());
  assert.deepEqual(sink.metas, []);
});

test('a camera removed and added again before the agent looked is not announced as removed', async (t) => {
  const r = rig(t, 1);
  r.watch();
  const [camera] = listCameras(r.cli);
  removeCamera(r.cli, camera.id);
  const host = camera.device.host;
  upsertDeviceReport(
    r.cli,
    report({
      host,
      endpointUuid: camera.device.endpointUuid!,
      identity: { serial: camera.device.serial!, mac: camera.device.mac! },
      channels: [channel(1, host)],
    }),
    { now: new Date() },
  );
  assert.deepEqual(
    listCameras(r.cli).map((c) => c.id),
    [camera.id],
    'the same id again',
  );
  await r.clock.advance(1000);
  assert.deepEqual([r.sink.metas, r.sink.removed, r.sink.cleared], [[camera.id], [], []]);
});

test('stopped: no timer left, nothing more is read', async (t) => {
  const r = rig(t);
  const watch = r.watch();
  await r.clock.advance(1000);
  await watch.stop();
  assert.equal(r.clock.count, 0);
  setName(r.cli, r.ids[0], '北门');
  await r.clock.advance(5000);
  assert.deepEqual(r.sink.metas, []);
});

test('the camera-removed event as the uplink builds it is valid against the contract; without a camera or a removal time it is not', () => {
  const removal: CameraRemoval = {
    cameraId: 'cam-1',
    deviceId: 'dev-1',
    name: '南门',
    removedAt: '2026-01-01T00:00:00.000Z',
    announced: false,
    cleared: false,
  };
  const body = cameraRemovedEvent(removal);
  const payload = { ...eventPayload('v163', body, removal.removedAt), seq: 7 };
  const ok = validatePayload('event', payload);
  assert.ok(ok.ok, ok.errors.join('; '));
  assert.deepEqual(
    [body.type, body.severity, body.camera, body.detail],
    ['camera-removed', 'info', 'cam-1', { removedAt: removal.removedAt, deviceId: 'dev-1', name: '南门' }],
  );
  const { camera: _camera, ...noCamera } = payload;
  assert.equal(validatePayload('event', noCamera).ok, false);
  assert.equal(validatePayload('event', { ...payload, detail: { ...payload.detail, removedAt: 'yesterday' } }).ok, false);
});
