import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openDatabase } from '../../agent/inventory/open';
import { latestVersion, MIGRATIONS, Migration } from '../../agent/inventory/migrations';
import { confirmMove, discardMove, pendingMoveOf, pendingMoves, setPendingMoveCredential, upsertDeviceReport } from '../../agent/inventory/upsert';
import { getDeviceCredentials, setDeviceCredentials, storeCredentials } from '../../agent/credentials/store';
import { applyLabelUpdates, getCamera, listCameras, listDevices, removeCamera, resolveCamera } from '../../agent/inventory/cameras';
import { CamgateError, UsageError } from '../../lib/errors';
import { tempDir } from '../kit/temp';
import { channel, report } from '../kit/reports';

const now = new Date('2025-01-02T03:04:05.000Z');
const later = new Date('2025-02-01T00:00:00.000Z');

test('migrations: a fresh DB is created in WAL mode at the latest version', (t) => {
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'data'));
  t.after(() => db.close());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  const rows = db.prepare('SELECT version, name FROM schema_migrations').all() as Array<{ version: number }>;
  assert.deepEqual(
    rows.map((r) => r.version),
    MIGRATIONS.map((m) => m.version),
  );
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name);
  for (const name of ['devices', 'cameras', 'credentials', 'schema_migrations']) assert.ok(tables.includes(name));
});

test('migrations: re-opening applies nothing twice and keeps data', (t) => {
  const dir = tempDir(t);
  const db = openDatabase(dir);
  upsertDeviceReport(db, report({ host: '10.0.0.5' }), { now });
  db.close();
  const again = openDatabase(dir);
  t.after(() => again.close());
  assert.equal((again.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n, MIGRATIONS.length);
  assert.equal(listCameras(again).length, 1);
});

test('migrations: a DB written by a newer camgate is refused with a clear error', (t) => {
  const dir = tempDir(t);
  openDatabase(dir).close();
  const raw = new Database(join(dir, 'camgate.db'));
  raw.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 'x')").run();
  raw.close();
  assert.throws(
    () => openDatabase(dir),
    (err: Error) => {
      assert.ok(err instanceof CamgateError);
      assert.match(err.message, new RegExp(`schema version 99, newer than this camgate understands \\(${latestVersion()}\\).*Upgrade camgate`));
      return true;
    },
  );
});

test('migrations: a failing migration rolls back entirely and names itself', (t) => {
  const dir = tempDir(t);
  const next = latestVersion() + 1;
  const broken: Migration[] = [...MIGRATIONS, { version: next, name: 'half-broken', up: 'CREATE TABLE extra (x INTEGER); INSERT INTO nowhere VALUES (1);' }];
  assert.throws(() => openDatabase(dir, broken), new RegExp(`migration ${next} \\(half-broken\\) failed: .*left at version ${next - 1}`));
  const db = new Database(join(dir, 'camgate.db'));
  t.after(() => db.close());
  assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'extra'").get(), undefined);
  assert.equal((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v, next - 1);
});

test('upsert: a device at a new IP (a pending move until an installer confirms it) keeps its camera ids and labels; identity is refreshed', (t) => {
  const db = openDatabase(tempDir(t));
  t.after(() => db.close());
  const first = upsertDeviceReport(db, report({ host: '10.0.0.5' }), { now });
  assert.equal(first.created, true);
  const cameraId = first.cameras[0].id;
  assert.equal(cameraId, first.deviceId);
  applyLabelUpdates(
    db,
    [
      {
        id: cameraId,
        patch: {
          name: 'Gate north',
          class: 1,
          latitude: 30.27,
          longitude: 120.15,
          region: 'Zhejiang/Hangzhou',
          owner: 'police',
          notes: 'pole 3',
          installDate: '2024-05-01',
        },
      },
    ],
    now,
  );

  const claimed = upsertDeviceReport(
    db,
    report({
      host: '10.0.0.77',
      identity: { manufacturer: 'Acme', model: 'IPC-100', firmware: '1.10', serial: 'SN0001' },
      channels: [channel(1, '10.0.0.77')],
    }),
    { now: later },
  );
  // Only a claim until an installer confirms it: the record stays where it was.
  assert.deepEqual(claimed.pendingMove, { deviceId: first.deviceId, from: '10.0.0.5:80', to: '10.0.0.77:80', matched: ['uuid', 'serial'] });
  assert.equal(getCamera(db, cameraId)!.device.host, '10.0.0.5');
  const moved = confirmMove(db, first.deviceId, later);
  assert.equal(moved.created, false);
  assert.equal(moved.deviceId, first.deviceId);
  assert.equal(moved.movedFrom, '10.0.0.5:80');
  const cam = getCamera(db, cameraId)!;
  assert.equal(cam.name, 'Gate north');
  assert.equal(cam.class, 1);
  assert.equal(cam.latitude, 30.27);
  assert.equal(cam.region, 'Zhejiang/Hangzhou');
  assert.equal(cam.notes, 'pole 3');
  assert.equal(cam.device.host, '10.0.0.77');
  assert.equal(cam.device.firmware, '1.10'); // a string, exactly as sent
  assert.equal(typeof cam.device.firmware, 'string');
  assert.equal(cam.device.mac, '44:19:b6:00:00:01'); // kept: this report did not include it
  assert.equal(cam.device.firstSeen, now.toISOString());
  assert.equal(cam.device.lastSeen, later.toISOString());
  assert.equal(cam.profiles[0].streamUri, 'rtsp://10.0.0.77:554/ch1/main');
  assert.equal(listDevices(db).length, 1);
});

// Written out rather than derived: the ids in every ledger in the field come from this path (what
// a report says → identity → id), and a change anywhere along it would orphan their labels.
test('upsert: a known identity gets the same camera ids in every release', (t) => {
  const db = openDatabase(tempDir(t));
  t.after(() => db.close());
  const single = upsertDeviceReport(db, report({ host: '10.0.0.5', endpointUuid: 'urn:uuid:5f1c2d3e-0000-4000-8000-00000000c0de' }), { now });
  assert.deepEqual(
    single.cameras.map((c) => c.id),
    ['cam-18a10f5750'],
  );
  const nvr = upsertDeviceReport(
    db,
    report({
      host: '10.0.0.9',
      endpointUuid: undefined,
      identity: { manufacturer: 'Hikvision', model: 'DS-7608NI', serial: 'DS-7608NI-K2/8P0820200101CCRR123456789WCVU' },
      isNvr: true,
      channels: [channel(1, '10.0.0.9'), channel(2, '10.0.0.9')],
    }),
    { now },
  );
  assert.deepEqual(
    nvr.cameras.map((c) => c.id),
    ['cam-e97f804867-ch01', 'cam-e97f804867-ch02'],
  );
});

test('upsert: found by serial or MAC when the device gives no UUID', (t) => {
  const db = openDatabase(tempDir(t));
  t.after(() => db.close());
  const a = upsertDeviceReport(db, report({ host: '10.0.0.5', endpointUuid: undefined }), { now });
  assert.equal(a.idBasis, 'serial');
  const b = upsertDeviceReport(db, report({ host: '10.0.0.6', endpointUuid: undefined, identity: { mac: '44:19:b6:00:00:01' } }), { now });
  assert.equal(b.deviceId, a.deviceId);
});

test('upsert: another device taking over an IP is a new device, not a relabel', (t) => {
  const db = openDatabase(tempDir(t));
  t.after(() => db.close());
  const a = upsertDeviceReport(db, report({ host: '10.0.0.5' }), { now });
  applyLabelUpdates(db, [{ id: a.cameras[0].id, patch: { name: 'Old camera' } }], now);
  const b = upsertDeviceReport(
    db,
    report({
      host: '10.0.0.5',
      endpointUuid: 'urn:uuid:99999999-0000-0000-0000-000000000000',
      identity: { manufacturer: 'Acme', serial: 'SN0002', mac: '44:19:b6:00:00:02' },
    }),
    { now },
  );
  assert.equal(b.created, true);
  assert.notEqual(b.deviceId, a.deviceId);
  assert.equal(getCamera(db, b.cameras[0].id)!.name, null);
  assert.equal(getCamera(db, a.cameras[0].id)!.name, 'Old camera');
});

test('upsert: two units cloned with one UUID stay two devices', (t) => {
  const db = openDatabase(tempDir(t));
  t.after(() => db.close());
  const a = upsertDeviceReport(db, report({ host: '10.0.0.5' }), { now });
  const b = upsertDeviceReport(db, report({ host: '10.0.0.6', identity: { manufacturer: 'Acme', serial: 'SN0002', mac: '44:19:b6:00:00:02' } }), { now });
  assert.notEqual(b.deviceId, a.deviceId);
  assert.equal(b.idBasis, 'serial');
  assert.equal(listDevices(db).length, 2);
});

test('NVR channels are cameras of their own, linked to the NVR device', (t) => {
  const db = openDatabase(tempDir(t));
  t.after(() => db.close());
  const host = '10.0.0.9';
  const nvr = report({ host, isNvr: true, channels: [1, 2, 3, 4].map((n) => channel(n, host)) });
  const r = upsertDeviceReport(db, nvr, { now });
  assert.deepEqual(
    r.cameras.map((c) => c.id),
    [1, 2, 3, 4].map((n) => `${r.deviceId}-ch0${n}`),
  );
  applyLabelUpdates(db, [{ id: `${r.deviceId}-ch02`, patch: { name: 'Channel two' } }], now);
  // Found again at a new address with the same channels: same ids, labels kept.
  const again = upsertDeviceReport(db, { ...nvr, host: '10.0.0.10', channels: [1, 2, 3, 4].map((n) => channel(n, '10.0.0.10')) }, { now: later });
  assert.deepEqual(
    again.cameras.map((c) => c.id),
    r.cameras.map((c) => c.id),
  );
  assert.equal(
    again.cameras.every((c) => !c.created),
    true,
  );
  const cams = listCameras(db);
  assert.equal(cams.length, 4);
  assert.ok(cams.every((c) => c.deviceId === r.deviceId && c.device.isNvr));
  assert.equal(getCamera(db, `${r.deviceId}-ch02`)!.name, 'Channel two');
  assert.throws(
    () => resolveCamera(db, r.deviceId),
    (err: Error) => err instanceof UsageError && /channel camera\(s\): use one of .*-ch01/.test(err.message),
  );
});

test('stored profiles and URLs carry no credentials', (t) => {
  const db = openDatabase(tempDir(t));
  t.after(() => db.close());
  const host = '10.0.0.5';
  const r = upsertDeviceReport(
    db,
    report({
      host,
      channels: [
        {
          channel: 1,
          profiles: [{ token: 'a', streamUri: `rtsp://admin:hunter22@${host}/live?password=hunter22`, snapshotUri: `http://admin:hunter22@${host}/snap` }],
        },
      ],
    }),
    { now },
  );
  const raw = JSON.stringify(db.prepare('SELECT * FROM cameras').all()) + JSON.stringify(db.prepare('SELECT * FROM devices').all());
  assert.ok(!raw.includes('hunter22'));
  assert.equal(getCamera(db, r.cameras[0].id)!.profiles[0].streamUri, `rtsp://${host}/live?password=***`);
});

test('labels: names are unique in the DB; two cameras can swap names in one update', (t) => {
  const db = openDatabase(tempDir(t));
  t.after(() => db.close());
  const a = upsertDeviceReport(db, report({ host: '10.0.0.5' }), { now }).cameras[0].id;
  const b = upsertDeviceReport(db, report({ host: '10.0.0.6', endpointUuid: 'urn:uuid:2', identity: { serial: 'X2' } }), { now }).cameras[0].id;
  applyLabelUpdates(
    db,
    [
      { id: a, patch: { name: 'A' } },
      { id: b, patch: { name: 'B' } },
    ],
    now,
  );
  assert.throws(() => applyLabelUpdates(db, [{ id: b, patch: { name: 'A' } }], now), /UNIQUE/);
  const changed = applyLabelUpdates(
    db,
    [
      { id: a, patch: { name: 'B' } },
      { id: b, patch: { name: 'A' } },
    ],
    later,
  );
  assert.deepEqual(changed.sort(), [a, b].sort());
  assert.equal(getCamera(db, a)!.name, 'B');
  assert.equal(getCamera(db, b)!.name, 'A');
  // No-op updates change nothing, not even updated_at.
  assert.deepEqual(applyLabelUpdates(db, [{ id: a, patch: { name: 'B' } }], new Date()), []);
  assert.equal(getCamera(db, a)!.updatedAt, later.toISOString());
});

test('remove: the last camera of a device removes the device too', (t) => {
  const db = openDatabase(tempDir(t));
  t.after(() => db.close());
  const host = '10.0.0.9';
  const r = upsertDeviceReport(db, report({ host, isNvr: true, channels: [channel(1, host), channel(2, host)] }), { now });
  assert.deepEqual(removeCamera(db, r.cameras[0].id), {});
  assert.deepEqual(removeCamera(db, r.cameras[1].id), { removedDevice: r.deviceId });
  assert.equal(listDevices(db).length, 0);
  assert.throws(() => removeCamera(db, 'cam-nope'), UsageError);
});

test('pending moves: a login given with the claim waits sealed and applies only on confirmation; discard forgets both; a taken address is refused', (t) => {
  const db = openDatabase(tempDir(t));
  t.after(() => db.close());
  const key = () => Buffer.alloc(32, 7);
  const first = upsertDeviceReport(db, report({ host: '10.0.0.5' }), { now });
  setDeviceCredentials(db, first.deviceId, { username: 'admin', password: 'own-pw' }, key);
  const claim = upsertDeviceReport(db, report({ host: '10.0.0.9' }), { now: later, source: 'added' });
  assert.equal(claim.pendingMove?.to, '10.0.0.9:80');
  setPendingMoveCredential(db, first.deviceId, storeCredentials(db, { username: 'admin', password: 'typed-for-new' }, key));
  // Until confirmed the device keeps its own login and address.
  assert.equal(getDeviceCredentials(db, first.deviceId, key)?.password, 'own-pw');
  assert.deepEqual(
    pendingMoves(db).map((m) => [m.deviceId, m.from, m.to, m.hasLogin, m.source]),
    [[first.deviceId, '10.0.0.5:80', '10.0.0.9:80', true, 'added']],
  );
  // A claim from yet another address replaces the first, and its login (never confirmed) is dropped.
  upsertDeviceReport(db, report({ host: '10.0.0.10' }), { now: later });
  assert.equal(pendingMoveOf(db, first.deviceId)?.hasLogin, false);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM credentials').get() as { n: number }).n, 1);
  discardMove(db, first.deviceId);
  assert.equal(pendingMoves(db).length, 0);
  assert.throws(() => confirmMove(db, first.deviceId, later), /no pending move/);

  // Confirmed with a login: it becomes the device's own, the old one goes.
  upsertDeviceReport(db, report({ host: '10.0.0.9' }), { now: later, source: 'added' });
  setPendingMoveCredential(db, first.deviceId, storeCredentials(db, { username: 'admin', password: 'typed-for-new' }, key));
  const moved = confirmMove(db, first.deviceId, later);
  assert.equal(moved.movedFrom, '10.0.0.5:80');
  assert.equal(getDeviceCredentials(db, first.deviceId, key)?.password, 'typed-for-new');
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM credentials').get() as { n: number }).n, 1);

  // Another device took the claimed address meanwhile: confirming would make one camera twice.
  const other = upsertDeviceReport(
    db,
    report({ host: '10.0.0.20', endpointUuid: 'urn:uuid:99999999-2222-3333-4444-555555555555', identity: { serial: 'SN9', mac: '44:19:b6:00:00:99' } }),
    { now },
  );
  upsertDeviceReport(db, report({ host: '10.0.0.20' }), { now: later });
  assert.throws(
    () => confirmMove(db, first.deviceId, later),
    (err: Error) => err instanceof UsageError && err.message.includes(other.deviceId),
  );
});
