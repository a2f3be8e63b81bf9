// The monitor with scripted probes (no sockets) over a real SQLite inventory: scheduling,
// confirmation, fan-out to NVR channels, publication, persistence. The probes themselves are
// tested against the simulator in probes-*.test.ts; the whole chain in e2e-health.test.ts.
// Everything runs on a FakeClock: the scripted probes answer at once, so virtual time only moves
// the schedule (intervals, confirmations, guards, the hourly clock sync) forward.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { agentConfig } from '../../agent/config/spec';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { HealthMonitor, HealthProbes, HealthConfig } from '../../agent/health/monitor';
import type { PictureResult } from '../../agent/health/types';
import type { CameraStatus, EventBody } from '../../contract';
import { listCameras } from '../../agent/inventory/cameras';
import { channel, report } from '../kit/reports';
import { FakeClock } from '../kit/clock';
import { fakeDiagnosis } from '../kit/diagnosis';

function healthConfig(over: Partial<HealthConfig> = {}): HealthConfig {
  const base = agentConfig.load({ env: {} }).config.health;
  return { ...base, reachIntervalSec: 3600, streamIntervalSec: 3600, pictureIntervalSec: 3600, statusIntervalSec: 0, confirmDelayMs: 20, ...over };
}

function inventory(t: { after(fn: () => void): void }, hosts: Array<{ host: string; channels?: number }>): { db: Database; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'camgate-health-'));
  const db = openDatabase(dir);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  hosts.forEach(({ host, channels = 1 }, i) => {
    upsertDeviceReport(
      db,
      report({
        host,
        endpointUuid: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        identity: { manufacturer: 'Acme', model: 'IPC', firmware: '1.00', serial: `SN${i}`, mac: `44:19:b6:00:02:${(i + 16).toString(16)}` },
        isNvr: channels > 1,
        channels: Array.from({ length: channels }, (_, c) => channel(c + 1, host)),
      }),
      { now: new Date() },
    );
  });
  return { db, dir };
}

class Recorder {
  events: EventBody[] = [];
  /** When each event was observed (same index as events). */
  eventTimes: number[] = [];
  statuses: Array<{ status: CameraStatus; periodic: boolean }> = [];
  constructor(private readonly clock: FakeClock) {}
  async event(body: EventBody, observedAt: Date) {
    this.events.push(body);
    this.eventTimes.push(observedAt.getTime());
    return 1;
  }
  async status(status: CameraStatus, opts: { periodic?: boolean }) {
    this.statuses.push({ status, periodic: opts.periodic ?? false });
    return 1;
  }
  /** Moves virtual time until `pred` holds; fails after `ms` of virtual time. */
  async waitFor(pred: () => boolean, what: string, ms = 5000) {
    try {
      await this.clock.until(pred, { stepMs: 10, maxMs: ms, what });
    } catch (err) {
      assert.fail(`${(err as Error).message}; events: ${this.events.map((e) => `${e.type}:${e.camera}`).join(' ')}`);
    }
  }
}

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);

function scriptedProbes(
  down: Set<string>,
  calls: Record<string, string[]>,
  opts: { hang?: string; picture?: (url: string) => PictureResult; offsetMs?: (deviceUrl: string) => number } = {},
): HealthProbes {
  const log = (kind: string, what: string) => (calls[kind] ??= []).push(what);
  return {
    async reach({ host }, { signal }) {
      log('reach', host);
      if (host === opts.hang) await new Promise((resolve) => signal.addEventListener('abort', resolve)); // ignores its own timeout
      if (down.has(host)) return { ok: false, latencyMs: null, error: { code: 'refused', message: `${host}:80 refused the connection` } };
      return { ok: true, latencyMs: 1 };
    },
    async clock(url) {
      log('clock', url);
      return { ok: true, offsetMs: opts.offsetMs?.(url) ?? 1500, latencyMs: 2 };
    },
    async stream({ url, stream }) {
      log('stream', url);
      return { ok: true, stream, codec: 'H264', width: stream === 'main' ? 1920 : 640, height: stream === 'main' ? 1080 : 360, latencyMs: 3 };
    },
    async picture({ streamUrl }) {
      log('picture', streamUrl ?? '');
      return (
        opts.picture?.(streamUrl ?? '') ?? {
          ok: true,
          source: 'stream',
          diagnosis: fakeDiagnosis([], { black: 0 }),
          thumbnail: JPEG,
          frames: 6,
          latencyMs: 10,
          diagnosisCpuMs: 1,
        }
      );
    },
  };
}

test('first sweep: every device probed once (NVR channels share it), all online, statuses published', async (t) => {
  const { db } = inventory(t, [{ host: '127.0.0.21' }, { host: '127.0.0.22', channels: 4 }]);
  const clock = new FakeClock();
  const rec = new Recorder(clock);
  const calls: Record<string, string[]> = {};
  const latencies: string[] = [];
  const monitor = new HealthMonitor({
    db,
    config: healthConfig(),
    probes: scriptedProbes(new Set(), calls),
    sink: rec,
    clock,
    recordLatency: (k) => latencies.push(k),
  });
  t.after(() => monitor.stop());
  monitor.start();
  await rec.waitFor(
    () => monitor.statuses().every((s) => s.state === 'online' && s.picture !== null && (s.streams?.length ?? 0) === 2),
    'all online with picture and streams',
  );
  assert.deepEqual(calls.reach.sort(), ['127.0.0.21', '127.0.0.22']);
  assert.equal(calls.clock.length, 2);
  assert.equal(calls.stream.length, 5 * 2); // main + sub of 5 cameras
  assert.equal(calls.picture.length, 5);
  assert.ok(
    calls.picture.every((u) => u.endsWith('/sub')),
    'pictures come from the sub stream',
  );
  assert.deepEqual(rec.events, []);
  assert.equal(new Set(rec.statuses.map((s) => s.status.camera)).size, 5);
  assert.ok(rec.statuses.every((s) => !s.periodic));
  assert.equal(monitor.statuses()[0].clockOffsetMs, 1500);
  assert.deepEqual(monitor.counts(), { cameras: 5, online: 5, offline: 0, degraded: 0, unknown: 0, flapping: 0, pictureFaults: {} });
  assert.deepEqual(monitor.thumbnail(monitor.statuses()[0].camera)?.jpeg, JPEG);
  for (const k of ['reach', 'clock', 'describe', 'picture', 'diagnosisCpu']) assert.ok(latencies.includes(k), `latency ${k} recorded`);
});

test('a camera going down is confirmed quickly (not at the next interval) and alarmed once; all NVR channels follow', async (t) => {
  const { db } = inventory(t, [{ host: '127.0.0.31' }, { host: '127.0.0.32', channels: 2 }]);
  const clock = new FakeClock();
  const rec = new Recorder(clock);
  const down = new Set<string>();
  const calls: Record<string, string[]> = {};
  const monitor = new HealthMonitor({
    db,
    config: healthConfig({ pictureIntervalSec: 0, streamIntervalSec: 0 }),
    probes: scriptedProbes(down, calls),
    sink: rec,
    clock,
  });
  t.after(() => monitor.stop());
  monitor.start();
  await rec.waitFor(() => monitor.counts().online === 3, 'online');
  down.add('127.0.0.32');
  // One probe now (the next regular one is an hour away): the confirmations follow by themselves.
  await monitor.sweepNow();
  await rec.waitFor(() => rec.events.filter((e) => e.type === 'camera-offline').length === 2, 'two offline alarms (both channels)');
  assert.equal(calls.reach.filter((h) => h === '127.0.0.32').length, 1 + 3);
  const offline = monitor.statuses().filter((s) => s.state === 'offline');
  assert.equal(offline.length, 2);
  assert.match(offline[0].reason ?? '', /127\.0\.0\.32:80 refused/);
  down.delete('127.0.0.32');
  await monitor.sweepNow();
  await rec.waitFor(() => rec.events.filter((e) => e.type === 'camera-online').length === 2, 'back online');
  assert.equal(rec.events.length, 4);
});

test('a probe that hangs past its own timeout does not hold up the other cameras', async (t) => {
  const { db } = inventory(t, [{ host: '127.0.0.41' }, { host: '127.0.0.42' }, { host: '127.0.0.43' }]);
  const clock = new FakeClock();
  const rec = new Recorder(clock);
  const calls: Record<string, string[]> = {};
  const config = healthConfig({ concurrency: 1, connectTimeoutMs: 50, requestTimeoutMs: 100, pictureIntervalSec: 0, streamIntervalSec: 0 });
  const monitor = new HealthMonitor({ db, config, probes: scriptedProbes(new Set(), calls, { hang: '127.0.0.41' }), sink: rec, clock });
  t.after(() => monitor.stop());
  monitor.start();
  // With one slot, the hung probe is cut at its guard (connect + request + 1 s) and the others run.
  await rec.waitFor(() => monitor.statuses().filter((s) => s.state === 'online').length === 3, 'the hung camera is cut and every camera checked');
});

test('offline cameras get no stream or picture probes; picture faults and no-picture are published', async (t) => {
  const { db } = inventory(t, [{ host: '127.0.0.51' }, { host: '127.0.0.52' }, { host: '127.0.0.53' }]);
  const clock = new FakeClock();
  const rec = new Recorder(clock);
  const calls: Record<string, string[]> = {};
  const picture = (url: string): PictureResult =>
    url.includes('127.0.0.52')
      ? {
          ok: true,
          source: 'stream',
          diagnosis: fakeDiagnosis(['black'], { black: 0.99 }),
          thumbnail: JPEG,
          frames: 6,
          latencyMs: 9,
        }
      : {
          ok: true,
          source: 'stream',
          diagnosis: fakeDiagnosis([], { black: 0 }),
          thumbnail: JPEG,
          frames: 6,
          latencyMs: 9,
        };
  const monitor = new HealthMonitor({
    db,
    config: healthConfig({ offlineAfterFailures: 1 }),
    probes: scriptedProbes(new Set(['127.0.0.53']), calls, { picture }),
    sink: rec,
    clock,
  });
  t.after(() => monitor.stop());
  monitor.start();
  // The black picture is confirmed by a second probe, health.picture.confirmSeconds (30 s) later.
  await rec.waitFor(
    () => rec.events.some((e) => e.type === 'picture-fault') && rec.events.some((e) => e.type === 'camera-offline'),
    'black picture and offline alarms',
    60_000,
  );
  // Past the first stream and picture slots of every camera (connect + request timeouts after start).
  await clock.advance(10_000);
  assert.ok(!(calls.stream ?? []).some((u) => u.includes('127.0.0.53')));
  assert.ok(!(calls.picture ?? []).some((u) => u.includes('127.0.0.53')));
  const black = monitor.statuses().find((s) => s.picture?.faults.includes('black'));
  assert.equal(black?.state, 'degraded');
  assert.equal(monitor.counts().pictureFaults.black, 1);
});

test('statuses survive a restart: an offline camera that is still offline raises no second alarm', async (t) => {
  const { db } = inventory(t, [{ host: '127.0.0.61' }]);
  const down = new Set(['127.0.0.61']);
  const clock = new FakeClock();
  const rec1 = new Recorder(clock);
  const m1 = new HealthMonitor({
    db,
    config: healthConfig({ pictureIntervalSec: 0, streamIntervalSec: 0 }),
    probes: scriptedProbes(down, {}),
    sink: rec1,
    clock,
  });
  m1.start();
  await rec1.waitFor(() => rec1.events.some((e) => e.type === 'camera-offline'), 'first alarm');
  m1.stop();
  const rec2 = new Recorder(clock);
  const calls: Record<string, string[]> = {};
  const m2 = new HealthMonitor({
    db,
    config: healthConfig({ pictureIntervalSec: 0, streamIntervalSec: 0 }),
    probes: scriptedProbes(down, calls),
    sink: rec2,
    clock,
  });
  t.after(() => m2.stop());
  m2.start();
  assert.equal(m2.statuses()[0].state, 'offline');
  await rec2.waitFor(() => (calls.reach?.length ?? 0) >= 1, 'probed again');
  // Several confirmations later: still no second alarm.
  await clock.advance(1000);
  assert.deepEqual(rec2.events, []);
});

test('periodic statuses are marked periodic; cameras added to the inventory while running are picked up', async (t) => {
  const { db } = inventory(t, [{ host: '127.0.0.71' }]);
  const clock = new FakeClock();
  const rec = new Recorder(clock);
  const monitor = new HealthMonitor({
    db,
    config: healthConfig({ pictureIntervalSec: 0, streamIntervalSec: 0, reachIntervalSec: 1, statusIntervalSec: 1 }),
    probes: scriptedProbes(new Set(), {}),
    sink: rec,
    clock,
  });
  t.after(() => monitor.stop());
  monitor.start();
  await rec.waitFor(() => rec.statuses.some((s) => s.periodic), 'a periodic status', 4000);
  upsertDeviceReport(
    db,
    report({ host: '127.0.0.72', endpointUuid: 'urn:uuid:00000000-0000-4000-8000-000000000072', identity: { serial: 'SN72', mac: '44:19:b6:00:03:72' } }),
    { now: new Date() },
  );
  await rec.waitFor(() => monitor.statuses().length === 2 && monitor.statuses().every((s) => s.state === 'online'), 'new camera online', 4000);
});

const HOUR = 60 * 60_000;

/** The inventory's device id and camera ids (in the monitor's order) of the device at `host`. */
function deviceAt(db: Database, host: string): { id: string; cameras: string[] } {
  const records = listCameras(db).filter((c) => c.device.host === host);
  return { id: records[0].deviceId, cameras: records.map((c) => c.id) };
}

function autoSyncRig(t: { after(fn: () => void): void }, autoSync: boolean) {
  const { db } = inventory(t, [{ host: '127.0.0.81' }, { host: '127.0.0.82', channels: 2 }]);
  const clock = new FakeClock();
  const rec = new Recorder(clock);
  const calls: Record<string, string[]> = {};
  // Device clock offsets by host; a host not listed is 1.5 s off (under maxDriftMs).
  const offsets = new Map<string, number>([['127.0.0.81', 60_000]]);
  const syncs: Array<{ host: string; at: number }> = [];
  const down = new Set<string>();
  const base = healthConfig();
  const config = healthConfig({ reachIntervalSec: 30, streamIntervalSec: 0, pictureIntervalSec: 0, clock: { ...base.clock, autoSync } });
  const monitor = new HealthMonitor({
    db,
    config,
    probes: scriptedProbes(down, calls, { offsetMs: (url) => offsets.get(new URL(url).hostname) ?? 1500 }),
    sink: rec,
    clock,
    // Each camera takes the sync (or refuses it) and its clock keeps running off, as with a dead RTC battery.
    syncClock: async (device) => {
      syncs.push({ host: device.host, at: clock.now() });
      if (device.host === '127.0.0.82') throw new Error('SetSystemDateAndTime: sender not authorized');
    },
  });
  t.after(() => monitor.stop());
  return { db, clock, rec, calls, offsets, syncs, down, monitor, config };
}

test('clock autoSync: a device that keeps drifting is synced once an hour at most, each device on its own hour, with a clock-synced event each time', async (t) => {
  const { db, clock, rec, calls, offsets, syncs, monitor, config } = autoSyncRig(t, true);
  assert.equal(config.clock.maxDriftMs, 5000);
  const a = deviceAt(db, '127.0.0.81');
  const b = deviceAt(db, '127.0.0.82');
  const at = (host: string) => syncs.filter((s) => s.host === host).map((s) => s.at);
  const reachesOf = (host: string) => (calls.reach ?? []).filter((h) => h === host).length;
  const t0 = clock.now();
  monitor.start();
  await clock.advance(0);
  assert.deepEqual(at('127.0.0.81'), [t0], 'the drifting device is synced at its first check');

  // 20 minutes on: 40 more checks of the first device, no second sync; then the second device drifts.
  await clock.advance(20 * 60_000);
  assert.deepEqual(at('127.0.0.81'), [t0]);
  assert.deepEqual(at('127.0.0.82'), []);
  offsets.set('127.0.0.82', -90_000);
  const tB = clock.now();

  // Up to the hour itself: the first device still synced once, over 120 checks; the second one
  // got its own first sync at its next check, not held back by the first device's hour.
  await clock.advance(t0 + HOUR - clock.now());
  assert.ok(reachesOf('127.0.0.81') >= 120, `${reachesOf('127.0.0.81')} checks within the hour`);
  assert.deepEqual(at('127.0.0.81'), [t0]);
  const b1 = at('127.0.0.82');
  assert.equal(b1.length, 1, 'one sync for the NVR, not one per channel');
  assert.ok(b1[0] >= tB && b1[0] <= tB + 30_000, `second device synced at its next check (${b1[0] - tB} ms after it drifted)`);

  // Past the hour: synced again at the next check; likewise over three hours for both devices.
  await clock.advance(30_000);
  assert.equal(at('127.0.0.81').length, 2, 'synced again once the hour is over');
  await clock.advance(t0 + 3 * HOUR - clock.now());
  for (const [host, first, count] of [
    ['127.0.0.81', t0, 3],
    ['127.0.0.82', b1[0], 3],
  ] as const) {
    const times = at(host);
    assert.equal(times.length, count, `${host}: ${count} syncs in 3 h`);
    assert.equal(times[0], first);
    for (let i = 1; i < times.length; i++) {
      const gap = times[i] - times[i - 1];
      assert.ok(gap > HOUR && gap <= HOUR + 30_000, `${host}: sync ${i + 1} came ${gap} ms after the previous one (more than an hour, within one check)`);
    }
  }

  // One clock-synced event per sync, when it happened: ok for the first device, the error for the second.
  const synced = rec.events.map((e, i) => ({ e, at: rec.eventTimes[i] })).filter(({ e }) => e.type === 'clock-synced');
  assert.equal(synced.length, syncs.length);
  assert.deepEqual(
    synced.map(({ at }) => at),
    syncs.map((s) => s.at),
  );
  for (const { e } of synced.filter(({ e }) => e.detail?.device === a.id)) {
    assert.deepEqual(e, {
      type: 'clock-synced',
      severity: 'info',
      camera: a.cameras[0],
      message: '127.0.0.81: clock set from the box (it was 60 s off)',
      detail: { device: a.id, offsetMs: 60_000, ok: true },
    });
  }
  const failed = synced.filter(({ e }) => e.detail?.device === b.id);
  assert.equal(failed.length, 3);
  for (const { e } of failed) {
    assert.deepEqual(e, {
      type: 'clock-synced',
      severity: 'warning',
      camera: b.cameras[0],
      message: '127.0.0.82: automatic clock sync failed: SetSystemDateAndTime: sender not authorized',
      detail: { device: b.id, offsetMs: -90_000, ok: false, error: 'SetSystemDateAndTime: sender not authorized' },
    });
  }
});

test('clock autoSync off (the default): a drifting device is reported but never synced', async (t) => {
  assert.equal(healthConfig().clock.autoSync, false);
  const { clock, rec, offsets, syncs, monitor } = autoSyncRig(t, false);
  offsets.set('127.0.0.82', -90_000);
  monitor.start();
  await clock.advance(3 * HOUR);
  assert.deepEqual(syncs, []);
  assert.ok(!rec.events.some((e) => e.type === 'clock-synced'));
  // The drift itself was seen (three cameras, two devices), so nothing above holds for want of it.
  assert.equal(rec.events.filter((e) => e.type === 'clock-drift').length, 3);
});

test('clock autoSync: a drifting device that does not answer now is not synced; it is at its first answer', async (t) => {
  const { clock, syncs, down, monitor } = autoSyncRig(t, true);
  monitor.start();
  await clock.advance(60_000);
  assert.deepEqual(
    syncs.map((s) => s.host),
    ['127.0.0.81'],
    'synced at its first check',
  );
  // Down from 30 min to 2 h: its hour passes while it does not answer.
  await clock.advance(29 * 60_000);
  down.add('127.0.0.81');
  await clock.advance(90 * 60_000);
  assert.equal(syncs.length, 1, 'no sync of a device that does not answer');
  down.delete('127.0.0.81');
  const back = clock.now();
  await clock.advance(60_000);
  assert.equal(syncs.length, 2, 'synced again once it answers');
  assert.ok(syncs[1].at >= back && syncs[1].at <= back + 60_000);
});

/** Picture probes that hold (an ffmpeg running) until the test releases them; counts how many run at once. */
function heldPictures(base: HealthProbes) {
  const held: Array<() => void> = [];
  const probed: string[] = [];
  const state = { running: 0, peak: 0 };
  const probes: HealthProbes = {
    ...base,
    async picture(req) {
      probed.push(req.camera);
      state.running++;
      state.peak = Math.max(state.peak, state.running);
      try {
        // Like the real probe: it ends when released, or rejects when its run is cut.
        await new Promise<void>((resolve, reject) => {
          held.push(resolve);
          req.signal.addEventListener('abort', () => reject(req.signal.reason as Error));
        });
      } finally {
        state.running--;
      }
      return base.picture(req);
    },
  };
  return { probes, held, probed, state };
}

test('picture probes (ffmpeg) run at most health.picture.concurrency at once, and use all of it', async (t) => {
  assert.equal(healthConfig().picture.concurrency, 2, 'the documented default');
  for (const limit of [2, 3]) {
    // Six cameras and an NVR of four channels: ten pictures due at once after start.
    const { db } = inventory(t, [...Array.from({ length: 6 }, (_, i) => ({ host: `127.0.0.${91 + i}` })), { host: '127.0.0.99', channels: 4 }]);
    const cameras = listCameras(db).map((c) => c.id);
    const clock = new FakeClock();
    const rec = new Recorder(clock);
    const { probes, held, probed, state } = heldPictures(scriptedProbes(new Set(), {}));
    const base = healthConfig();
    const config = healthConfig({ streamIntervalSec: 0, picture: { ...base.picture, concurrency: limit } });
    const monitor = new HealthMonitor({ db, config, probes, sink: rec, clock });
    t.after(() => monitor.stop());
    monitor.start();
    await rec.waitFor(() => state.running === limit, `${limit} pictures running`);
    // Held for ten seconds (under the scheduler's guard): no other picture starts.
    for (let i = 0; i < 10; i++) {
      await clock.advance(1000);
      assert.equal(state.running, limit);
      assert.equal(monitor.load().ffmpegProcesses, limit);
    }
    // Released one at a time: the next one takes the free slot, never more than the limit.
    let steps = 0;
    while (!monitor.statuses().every((s) => s.picture !== null)) {
      assert.ok(++steps <= 100, `every camera pictured (${probed.length} probed)`);
      assert.ok(state.running <= limit && monitor.load().ffmpegProcesses <= limit, `${state.running} pictures at once (limit ${limit})`);
      held.shift()?.();
      await clock.advance(100);
    }
    assert.equal(state.peak, limit, `concurrency ${limit}: peak`);
    assert.deepEqual([...probed].sort(), [...cameras].sort(), 'each camera pictured once');
    monitor.stop();
  }
});

test('a probe-now sweep (streams and picture) leaves the regular stream and picture checks running', async (t) => {
  const { db } = inventory(t, [{ host: '127.0.0.101' }]);
  const clock = new FakeClock();
  const rec = new Recorder(clock);
  const calls: Record<string, string[]> = {};
  const config = healthConfig({ streamIntervalSec: 60, pictureIntervalSec: 60 });
  const monitor = new HealthMonitor({ db, config, probes: scriptedProbes(new Set(), calls, {}), sink: rec, clock });
  t.after(() => monitor.stop());
  monitor.start();
  await clock.advance(5 * 60_000);
  const count = () => ({ stream: calls.stream?.length ?? 0, picture: calls.picture?.length ?? 0 });
  const before = count();
  assert.ok(before.stream >= 8 && before.picture >= 4, `regular checks before the sweep: ${JSON.stringify(before)}`);
  await monitor.sweepNow(undefined, { streams: true, picture: true });
  const swept = count();
  assert.deepEqual(swept, { stream: before.stream + 2, picture: before.picture + 1 }, 'the sweep checked main, sub and the picture now');
  // Ten more minutes at one check a minute: the regular runs go on (one slot may be skipped as too close to the sweep).
  await clock.advance(10 * 60_000);
  const after = count();
  assert.ok(after.stream - swept.stream >= 2 * 9, `${after.stream - swept.stream} DESCRIBEs in the 10 minutes after the sweep`);
  assert.ok(after.picture - swept.picture >= 9, `${after.picture - swept.picture} pictures in the 10 minutes after the sweep`);
});

test('a picture fault is reported at the confirming probe, which runs health.picture.confirmSeconds after the first, not a whole interval', async (t) => {
  for (const confirmProbes of [2, 3]) {
    const { db } = inventory(t, [{ host: '127.0.0.111' }]);
    const clock = new FakeClock();
    const rec = new Recorder(clock);
    const probedAt: number[] = [];
    const frozen: PictureResult = {
      ok: true,
      source: 'stream',
      diagnosis: fakeDiagnosis(['frozen'], { frozen: 0.99 }),
      thumbnail: JPEG,
      frames: 6,
      latencyMs: 9,
    };
    const base = scriptedProbes(new Set(), {}, { picture: () => frozen });
    const probes: HealthProbes = {
      ...base,
      picture: (req) => {
        probedAt.push(clock.now());
        return base.picture(req);
      },
    };
    const defaults = healthConfig();
    assert.equal(defaults.picture.confirmProbes, 2, 'the documented default');
    assert.equal(defaults.picture.confirmSeconds, 30, 'the documented default');
    const config = healthConfig({ streamIntervalSec: 0, picture: { ...defaults.picture, confirmProbes } });
    const monitor = new HealthMonitor({ db, config, probes, sink: rec, clock });
    t.after(() => monitor.stop());
    monitor.start();
    await rec.waitFor(() => probedAt.length === 1, 'the first picture probe');
    const first = probedAt[0];
    // Unconfirmed: no alarm, no picture verdict, the camera online.
    assert.equal(rec.events.length, 0, 'no event');
    assert.equal(monitor.statuses()[0].picture, null);
    assert.equal(monitor.statuses()[0].state, 'online');
    await clock.advance(first + 30_000 - 1 - clock.now());
    assert.equal(probedAt.length, 1, 'not before confirmSeconds');
    for (let n = 2; n <= confirmProbes; n++) {
      await clock.advance(first + (n - 1) * 30_000 - clock.now());
      assert.equal(probedAt.length, n, `probe ${n} at ${(n - 1) * 30} s`);
      assert.equal(probedAt[n - 1], first + (n - 1) * 30_000);
      if (n < confirmProbes) assert.equal(rec.events.length, 0, `not reported after ${n} probes`);
    }
    assert.deepEqual(
      rec.events.map((e) => [e.type, (e.detail as { faults: string[] }).faults]),
      [['picture-fault', ['frozen']]],
      `reported at probe ${confirmProbes}`,
    );
    assert.deepEqual(monitor.statuses()[0].picture?.faults, ['frozen']);
    assert.equal(monitor.statuses()[0].state, 'degraded');
    // Confirmed: the next probe is the regular one (pictureIntervalSec 3600), not another 30 s later.
    await clock.advance(30 * 60_000);
    assert.equal(probedAt.length, confirmProbes);
    monitor.stop();
  }
});
