// Picture references: their storage (migration, round trip, a refused row, removal with the
// camera), how the monitor takes, passes, renews and clears them (scripted probes on a FakeClock
// over a real SQLite inventory), and the picture-reference command through the dispatcher. The
// whole chain with the camera simulator and ffmpeg: e2e-health.test.ts.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from 'better-sqlite3';
import { agentConfig } from '../../agent/config/spec';
import { listCameras, removeCamera } from '../../agent/inventory/cameras';
import { currentVersion } from '../../agent/inventory/migrations';
import { HealthStore } from '../../agent/health/store';
import { HealthMonitor, type HealthConfig, type HealthProbes, type PictureRequest } from '../../agent/health/monitor';
import { REFERENCE_VERSION } from '../../agent/health/picture/reference';
import type { Frame, PictureFault, PictureReference, PictureResult } from '../../agent/health/types';
import { probePicture, type PictureProbeRequest } from '../../agent/health/picture/probe';
import { agentHandlers, type UplinkHandlerDeps } from '../../agent/commands/site';
import { CommandDispatcher } from '../../agent/uplink/commands';
import { validatePayload, type CameraStatus, type EventBody } from '../../contract';
import { FakeClock } from '../kit/clock';
import { fakeDiagnosis } from '../kit/diagnosis';
import { captureLogger } from '../kit/logger';
import { inventoryWith } from '../kit/reports';
import { tempDir, type TestContext } from '../kit/temp';

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
const REFERENCE_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 9, 9, 9, 9, 0xff, 0xd9]);

function inventory(t: TestContext, cameras: number): { db: Database; ids: string[] } {
  const db = inventoryWith(tempDir(t, 'camgate-reference-'), cameras);
  t.after(() => db.close());
  return { db, ids: listCameras(db).map((c) => c.id) };
}

function referenceOf(measures = fakeDiagnosis().measures, origin: PictureReference['origin'] = 'first-good-probe'): PictureReference {
  return { measures, takenAt: '2026-01-01T00:00:00.000Z', origin };
}

test('store: migration 5 makes camera_reference; a reference round-trips with its thumbnail; a renewal asked for is kept apart', (t) => {
  const { db, ids } = inventory(t, 2);
  assert.ok(currentVersion(db) >= 5);
  const store = new HealthStore(db);
  assert.deepEqual(store.reference(ids[0]), { reference: null, thumbnail: null, renewRequestedAt: null });
  const ref = referenceOf();
  store.saveReference(ids[0], ref, REFERENCE_JPEG, null);
  assert.deepEqual(store.reference(ids[0]), { reference: ref, thumbnail: REFERENCE_JPEG, renewRequestedAt: null });
  assert.deepEqual(store.reference(ids[1]).reference, null, 'per camera');

  // A renewal asked for: kept beside the reference until a probe answers it.
  assert.equal(store.requestRenewal(ids[0], new Date('2026-01-02T00:00:00Z')), true);
  assert.equal(store.reference(ids[0]).renewRequestedAt, '2026-01-02T00:00:00.000Z');
  assert.deepEqual(store.renewalsRequested(), [ids[0]]);
  // A probe that answered an older request leaves the newer one.
  const renewed = { ...ref, takenAt: '2026-01-02T00:00:05.000Z', origin: 'command' as const };
  store.saveReference(ids[0], renewed, JPEG, '2026-01-01T12:00:00.000Z');
  assert.equal(store.reference(ids[0]).renewRequestedAt, '2026-01-02T00:00:00.000Z');
  store.saveReference(ids[0], renewed, JPEG, '2026-01-02T00:00:00.000Z');
  assert.deepEqual(store.reference(ids[0]), { reference: renewed, thumbnail: JPEG, renewRequestedAt: null });
  assert.deepEqual(store.renewalsRequested(), []);

  // A renewal for a camera without a reference; clear forgets both.
  assert.equal(store.requestRenewal(ids[1], new Date('2026-01-03T00:00:00Z')), true);
  assert.deepEqual(store.reference(ids[1]), { reference: null, thumbnail: null, renewRequestedAt: '2026-01-03T00:00:00.000Z' });
  assert.equal(store.clearReference(ids[1]), true);
  assert.equal(store.clearReference(ids[1]), false, 'nothing left to clear');
  assert.equal(store.requestRenewal('no-such-camera', new Date()), false);
  store.saveReference('no-such-camera', ref, null, null);
  assert.deepEqual(store.reference('no-such-camera').reference, null, 'nothing kept for a camera not in the inventory');
});

test('store: a row parseReference refuses is reported with why, and dropped (a renewal asked for stays)', (t) => {
  const { db, ids } = inventory(t, 3);
  const store = new HealthStore(db);
  for (const id of ids) store.saveReference(id, referenceOf(), REFERENCE_JPEG, null);
  const put = db.prepare('UPDATE camera_reference SET measures = ? WHERE camera_id = ?');
  put.run(JSON.stringify({ ...fakeDiagnosis().measures, version: REFERENCE_VERSION + 1 }), ids[0]);
  put.run('{"version": 1, "blur": ', ids[1]);
  put.run(JSON.stringify({ ...fakeDiagnosis().measures, layout: [1, 2, 3] }), ids[2]);
  store.requestRenewal(ids[2], new Date('2026-01-02T00:00:00Z'));
  const refused = ids.map((id) => store.reference(id));
  assert.match(refused[0].refused ?? '', /another version of the diagnosis/);
  assert.equal(refused[1].refused, 'its measures are not JSON');
  assert.match(refused[2].refused ?? '', /layout is not \d+ numbers/);
  assert.ok(refused.every((r) => r.reference === null && r.thumbnail === null));
  for (const id of ids) store.dropRefusedReference(id);
  assert.deepEqual(store.reference(ids[0]), { reference: null, thumbnail: null, renewRequestedAt: null });
  assert.deepEqual(store.reference(ids[2]), { reference: null, thumbnail: null, renewRequestedAt: '2026-01-02T00:00:00.000Z' });
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM camera_reference').get() as { n: number }).n, 1);
});

test('store: a camera removed from the inventory loses its reference', (t) => {
  const { db, ids } = inventory(t, 2);
  const store = new HealthStore(db);
  for (const id of ids) store.saveReference(id, referenceOf(), REFERENCE_JPEG, null);
  removeCamera(db, ids[0]);
  assert.deepEqual(
    (db.prepare('SELECT camera_id FROM camera_reference').all() as Array<{ camera_id: string }>).map((r) => r.camera_id),
    [ids[1]],
  );
});

// --- the monitor --------------------------------------------------------------------------------

function healthConfig(over: Partial<HealthConfig> = {}): HealthConfig {
  const base = agentConfig.load({ env: {} }).config.health;
  return { ...base, reachIntervalSec: 3600, streamIntervalSec: 0, pictureIntervalSec: 3600, statusIntervalSec: 0, confirmDelayMs: 20, ...over };
}

/** Probes that answer at once: every device up, each picture as `show` says for its camera. */
function rig(t: TestContext, cameras = 1, over: Partial<HealthConfig> = {}) {
  const { db, ids } = inventory(t, cameras);
  const clock = new FakeClock();
  const requests: PictureRequest[] = [];
  const events: EventBody[] = [];
  const statuses: CameraStatus[] = [];
  const show = new Map<string, PictureFault[] | 'none'>();
  const probes: HealthProbes = {
    reach: async () => ({ ok: true, latencyMs: 1 }),
    clock: async () => ({ ok: true, offsetMs: 0, latencyMs: 1 }),
    stream: async ({ stream }) => ({ ok: true, stream, codec: 'H264', width: 640, height: 360, latencyMs: 1 }),
    picture: async (req) => {
      requests.push(req);
      const faults = show.get(req.camera) ?? [];
      if (faults === 'none') return { ok: false, source: 'stream', diagnosis: null, frames: 0, latencyMs: 5, error: { code: 'timeout', message: 'no frames' } };
      // A camera's picture: its measures tell probes apart (blur = how many probes it has had).
      const diagnosis = fakeDiagnosis(faults, { blurred: requests.filter((r) => r.camera === req.camera).length / 100 });
      return { ok: true, source: 'stream', diagnosis, thumbnail: JPEG, frames: 6, latencyMs: 5 } satisfies PictureResult;
    },
  };
  const log = captureLogger('info');
  const monitor = new HealthMonitor({
    db,
    config: healthConfig(over),
    probes,
    sink: {
      event: async (body) => void events.push(body),
      status: async (status) => void statuses.push(status),
    },
    clock,
    logger: log.logger,
  });
  t.after(() => monitor.stop());
  const store = new HealthStore(db);
  const picturesOf = (camera: string) => requests.filter((r) => r.camera === camera);
  const until = (pred: () => boolean, what: string) => clock.until(pred, { stepMs: 10, maxMs: 120_000, what });
  return { db, ids, clock, monitor, store, show, events, statuses, log, picturesOf, until };
}

test('monitor: a camera without a reference takes one from its first probe without a fault; later probes are judged against it', async (t) => {
  const { ids, monitor, store, show, picturesOf, until, clock } = rig(t, 1, { pictureIntervalSec: 60 });
  const [cam] = ids;
  show.set(cam, ['black']);
  monitor.start();
  await until(() => picturesOf(cam).length === 1, 'the first probe');
  assert.equal(picturesOf(cam)[0].reference, undefined);
  // A probe with a fault gives no reference, even once it is confirmed.
  await until(() => picturesOf(cam).length === 2, 'the confirming probe');
  assert.equal(store.reference(cam).reference, null);
  show.set(cam, []);
  await until(() => picturesOf(cam).length === 3, 'a good probe');
  const taken = store.reference(cam);
  assert.equal(taken.reference?.origin, 'first-good-probe');
  assert.equal(taken.reference?.takenAt, new Date(clock.now()).toISOString());
  assert.equal(taken.reference?.measures.blur, 0.03, "the measures of that probe's picture");
  assert.deepEqual(taken.thumbnail, JPEG);
  assert.deepEqual(monitor.status(cam)?.picture?.reference, { takenAt: taken.reference?.takenAt, origin: 'first-good-probe' });
  await until(() => picturesOf(cam).length === 4, 'the next probe');
  assert.deepEqual(picturesOf(cam)[3].reference, taken.reference?.measures, 'judged against the reference');
  assert.equal(picturesOf(cam)[3].takeReference, undefined);
  assert.deepEqual(store.reference(cam).reference, taken.reference, 'kept, not retaken');
});

test('monitor: renew takes the next picture whatever it shows, now, judged against itself; clear forgets it and the next good probe takes one again', async (t) => {
  const { ids, monitor, store, show, picturesOf, until, statuses, clock } = rig(t, 2);
  const [cam, other] = ids;
  monitor.start();
  await until(() => store.reference(cam).reference !== null && store.reference(other).reference !== null, 'first references');
  const first = store.reference(cam).reference!;
  show.set(cam, ['scene-change']);
  await clock.advance(60_000);
  const before = picturesOf(cam).length;
  const renewal = await monitor.renewReference(cam);
  assert.equal(picturesOf(cam).length, before + 1, 'the renewal probe ran at once (the interval is an hour)');
  assert.equal(picturesOf(cam).at(-1)?.takeReference, true);
  assert.equal(renewal.renewed, true);
  assert.equal(renewal.reference?.origin, 'command');
  assert.equal(renewal.reference?.takenAt, new Date(clock.now()).toISOString());
  assert.notDeepEqual(renewal.reference?.measures, first.measures);
  assert.equal(renewal.renewRequestedAt, null);
  assert.deepEqual(statuses.filter((s) => s.camera === cam).at(-1)?.picture?.reference, { takenAt: renewal.reference?.takenAt, origin: 'command' });
  assert.equal(store.reference(other).reference?.origin, 'first-good-probe', 'other cameras keep theirs');

  // A renewal whose probe gets no picture waits for the next probe with one.
  show.set(cam, 'none');
  const failed = await monitor.renewReference(cam);
  assert.equal(failed.renewed, false);
  assert.notEqual(failed.renewRequestedAt, null);
  assert.deepEqual(failed.reference, renewal.reference, 'the old reference stays in use meanwhile');
  show.set(cam, []);
  await clock.advance(3600_000);
  assert.equal(store.reference(cam).renewRequestedAt, null);
  assert.notEqual(store.reference(cam).reference?.takenAt, renewal.reference?.takenAt);

  assert.equal(monitor.clearReference(cam), true);
  assert.equal(store.reference(cam).reference, null);
  assert.equal(statuses.filter((s) => s.camera === cam).at(-1)?.picture?.reference, null, 'the status says so at once');
  await clock.advance(3600_000);
  assert.equal(store.reference(cam).reference?.origin, 'first-good-probe');
});

test('monitor: a stored reference that cannot be used is dropped with one log line saying why, and retaken from the next good probe', async (t) => {
  const { db, ids, monitor, store, picturesOf, until, log } = rig(t, 1);
  const [cam] = ids;
  store.saveReference(cam, referenceOf(), REFERENCE_JPEG, null);
  db.prepare('UPDATE camera_reference SET measures = ? WHERE camera_id = ?').run(JSON.stringify({ ...fakeDiagnosis().measures, version: 0 }), cam);
  monitor.start();
  await until(() => picturesOf(cam).length === 1, 'the first probe');
  assert.equal(picturesOf(cam)[0].reference, undefined, 'the refused measures are not used');
  const lines = log.lines.filter((l) => l.problem === 'picture-reference-refused');
  assert.equal(lines.length, 1);
  assert.match(
    String(lines[0].msg),
    new RegExp(
      `${cam}: stored picture reference dropped \\(made by another version of the diagnosis \\(0, now ${REFERENCE_VERSION}\\)\\); a new one is taken from the next good probe`,
    ),
  );
  assert.equal(store.reference(cam).reference?.origin, 'first-good-probe');
});

test('monitor: a renewal asked for from another process (the CLI) is taken soon, once', async (t) => {
  const { db, ids, monitor, store, picturesOf, until, clock } = rig(t, 1);
  const [cam] = ids;
  monitor.start();
  await until(() => store.reference(cam).reference !== null, 'a first reference');
  const probes = picturesOf(cam).length;
  // What the CLI does, through a store of its own.
  new HealthStore(db).requestRenewal(cam, new Date(clock.now()));
  // The inventory is re-read every min(reachIntervalSec, 60) s; the probe follows at once.
  await clock.advance(61_000);
  assert.equal(picturesOf(cam).length, probes + 1);
  assert.equal(store.reference(cam).reference?.origin, 'command');
  await clock.advance(10 * 60_000);
  assert.equal(picturesOf(cam).length, probes + 1, 'no more probes than the regular ones');
});

// --- the command ----------------------------------------------------------------------------------

test('picture-reference command: show, renew, clear through the dispatcher; bad args and a monitor that is off get errors that say what to change', async (t) => {
  const { db, ids, monitor, store, show, until } = rig(t, 1);
  const [cam] = ids;
  monitor.start();
  await until(() => store.reference(cam).reference !== null, 'a first reference');
  const { config } = agentConfig.load({ env: { CAMGATE_SITE_ID: 'v012', CAMGATE_BROKER_URLS: 'mqtt://127.0.0.1:1' } });
  const deps: UplinkHandlerDeps = {
    site: 'v012',
    version: '1',
    bootId: 'b',
    config,
    db,
    credentialsFor: () => undefined,
    openDriver: () => {
      throw new Error('no driver in this test');
    },
    rebirth: async () => 0,
    session: () => ({ bdSeq: 0, connected: true }),
    startedAt: 0,
    health: monitor,
  };
  const audits: string[] = [];
  const dispatcher = (d: UplinkHandlerDeps) =>
    new CommandDispatcher({ site: 'v012', handlers: agentHandlers(d), timeoutMs: 5000, audit: (e) => audits.push(`${e.command} ${e.camera} ${e.ok}`) });
  const run = async (args: unknown, d = deps) => {
    const out = await dispatcher(d).handle({
      topic: 'camgate/v1/v012/cmd/picture-reference',
      payload: Buffer.from(JSON.stringify({ schemaVersion: 1, messageId: 'm', args })),
    });
    assert.ok(out);
    const v = validatePayload('reply', out.payload);
    assert.ok(v.ok, v.errors.join('; '));
    return out.payload;
  };

  const shown = await run({ camera: cam, action: 'show' });
  assert.equal(shown.ok, true, JSON.stringify(shown.error));
  const kept = store.reference(cam);
  assert.deepEqual(shown.result, {
    camera: cam,
    action: 'show',
    reference: { takenAt: kept.reference?.takenAt, origin: 'first-good-probe', thumbnailBytes: JPEG.length },
    renewPending: false,
    contentType: 'image/jpeg',
    base64: JPEG.toString('base64'),
  });

  const renewed = await run({ camera: cam, action: 'renew' });
  assert.equal((renewed.result as { renewed: boolean }).renewed, true);
  assert.equal((renewed.result as { reference: { origin: string } }).reference.origin, 'command');

  show.set(cam, 'none');
  const failed = (await run({ camera: cam, action: 'renew' })).result as { renewed: boolean; renewPending: boolean; error: { code: string; message: string } };
  assert.equal(failed.renewed, false);
  assert.equal(failed.renewPending, true);
  assert.deepEqual(failed.error, { code: 'timeout', message: `${cam} gave no picture (no frames); the reference is taken at its next probe with a picture` });

  assert.deepEqual((await run({ camera: cam, action: 'clear' })).result, { camera: cam, action: 'clear', cleared: true });
  assert.deepEqual((await run({ camera: cam, action: 'clear' })).result, { camera: cam, action: 'clear', cleared: false });
  assert.deepEqual(((await run({ camera: cam, action: 'show' })).result as { reference: unknown }).reference, null);
  assert.ok(audits.includes(`picture-reference ${cam} true`), 'audited: it changes what the camera is judged against');

  const error = async (args: unknown, d = deps) => (await run(args, d)).error;
  assert.deepEqual(await error({ camera: 'no-such-camera', action: 'show' }), {
    code: 'invalid-args',
    message: 'no camera with id "no-such-camera" on this site',
  });
  const badAction = await error({ camera: cam, action: 'reset' });
  assert.equal(badAction?.code, 'invalid-args');
  assert.match(badAction?.message ?? '', /\/action: must be equal to one of the allowed values/);
  const noAction = await error({ camera: cam });
  assert.equal(noAction?.code, 'invalid-args');
  assert.match(noAction?.message ?? '', /must have required property 'action'/);
  const extra = await error({ camera: cam, action: 'show', when: 'now' });
  assert.match(extra?.message ?? '', /unknown property "when"/);
  const off = await error({ camera: cam, action: 'renew' }, { ...deps, health: undefined });
  assert.deepEqual(off, { code: 'not-available', message: 'health monitoring is off on this site (health.enabled: false): no picture references are kept' });
});

// --- the probe ------------------------------------------------------------------------------------

/** Six frames of one scene: a gradient across (`across`) or down the picture, with a moving speck. */
function scene(across: boolean): Frame[] {
  return Array.from({ length: 6 }, (_, i) => {
    const width = 320;
    const height = 180;
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const near = Math.abs(x - 40 - i * 30) < 6 && Math.abs(y - 90) < 6;
        const v = near ? 255 : 30 + Math.round((across ? x / width : y / height) * 190);
        data.set([v, v, v], (y * width + x) * 3);
      }
    return { width, height, data };
  });
}

test('probe: frames are judged against the reference given; a picture being taken as the reference is judged against itself', async () => {
  const across = scene(true);
  const down = scene(false);
  const probe = (frames: Frame[], extra: Partial<PictureProbeRequest>) =>
    probePicture(
      { streamUrl: 'rtsp://127.0.0.1/x', frames: 6, seconds: 3, timeoutMs: 10_000, ...extra },
      { grab: async () => ({ frames, source: 'stream', ffmpegMs: 1, thumbnail: JPEG }) },
    );
  const own = (await probe(across, {})).diagnosis!;
  assert.equal(own.scores['scene-change'], 0, 'no reference: scene-change is not judged');
  const elsewhere = (await probe(down, {})).diagnosis!.measures;
  const against = (await probe(across, { reference: elsewhere })).diagnosis!;
  assert.ok(against.scores['scene-change'] > 0.3, `the picture differs from the reference: scene-change ${against.scores['scene-change']}`);
  const taken = (await probe(across, { reference: elsewhere, takeReference: true })).diagnosis!;
  assert.equal(taken.scores['scene-change'], 0, 'judged against its own measures');
  assert.ok(!taken.faults.includes('scene-change'));
  assert.deepEqual(taken.measures, own.measures, 'the measures kept are the picture’s own');
});
