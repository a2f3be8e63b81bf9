// The monitor with scripted probes (no sockets) over a real SQLite inventory: scheduling,
// confirmation, fan-out to NVR channels, publication, persistence. The probes themselves are
// tested against the simulator in probes-*.test.ts; the whole chain in e2e-health.test.ts.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from 'better-sqlite3';
import { agentConfig } from '../../agent/config/spec';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { HealthMonitor, HealthProbes, HealthConfig } from '../../agent/health/monitor';
import type { PictureResult } from '../../agent/health/types';
import type { CameraStatus, EventBody } from '../../contract';
import { channel, report } from '../kit/reports';

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
  statuses: Array<{ status: CameraStatus; periodic: boolean }> = [];
  async event(body: EventBody) {
    this.events.push(body);
    return 1;
  }
  async status(status: CameraStatus, opts: { periodic?: boolean }) {
    this.statuses.push({ status, periodic: opts.periodic ?? false });
    return 1;
  }
  async waitFor(pred: () => boolean, what: string, ms = 5000) {
    const until = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > until) assert.fail(`timed out waiting for ${what}; events: ${this.events.map((e) => `${e.type}:${e.camera}`).join(' ')}`);
      await sleep(5);
    }
  }
}

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);

function scriptedProbes(
  down: Set<string>,
  calls: Record<string, string[]>,
  opts: { hang?: string; picture?: (url: string) => PictureResult } = {},
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
      return { ok: true, offsetMs: 1500, latencyMs: 2 };
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
          diagnosis: { faults: [], scores: { black: 0, frozen: 0, blurred: 0, occluded: 0, 'colour-cast': 0, 'no-video': 0 } },
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
  const rec = new Recorder();
  const calls: Record<string, string[]> = {};
  const latencies: string[] = [];
  const monitor = new HealthMonitor({
    db,
    config: healthConfig(),
    probes: scriptedProbes(new Set(), calls),
    sink: rec,
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
  const rec = new Recorder();
  const down = new Set<string>();
  const calls: Record<string, string[]> = {};
  const monitor = new HealthMonitor({
    db,
    config: healthConfig({ pictureIntervalSec: 0, streamIntervalSec: 0 }),
    probes: scriptedProbes(down, calls),
    sink: rec,
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
  const rec = new Recorder();
  const calls: Record<string, string[]> = {};
  const config = healthConfig({ concurrency: 1, connectTimeoutMs: 50, requestTimeoutMs: 100, pictureIntervalSec: 0, streamIntervalSec: 0 });
  const monitor = new HealthMonitor({ db, config, probes: scriptedProbes(new Set(), calls, { hang: '127.0.0.41' }), sink: rec });
  t.after(() => monitor.stop());
  monitor.start();
  // With one slot, the hung probe is cut at its guard (connect + request + 1 s) and the others run.
  await rec.waitFor(() => monitor.statuses().filter((s) => s.state === 'online').length === 3, 'the hung camera is cut and every camera checked');
});

test('offline cameras get no stream or picture probes; picture faults and no-picture are published', async (t) => {
  const { db } = inventory(t, [{ host: '127.0.0.51' }, { host: '127.0.0.52' }, { host: '127.0.0.53' }]);
  const rec = new Recorder();
  const calls: Record<string, string[]> = {};
  const picture = (url: string): PictureResult =>
    url.includes('127.0.0.52')
      ? {
          ok: true,
          source: 'stream',
          diagnosis: { faults: ['black'], scores: { black: 0.99, frozen: 0, blurred: 0, occluded: 0, 'colour-cast': 0, 'no-video': 0 } },
          thumbnail: JPEG,
          frames: 6,
          latencyMs: 9,
        }
      : {
          ok: true,
          source: 'stream',
          diagnosis: { faults: [], scores: { black: 0, frozen: 0, blurred: 0, occluded: 0, 'colour-cast': 0, 'no-video': 0 } },
          thumbnail: JPEG,
          frames: 6,
          latencyMs: 9,
        };
  const monitor = new HealthMonitor({
    db,
    config: healthConfig({ offlineAfterFailures: 1 }),
    probes: scriptedProbes(new Set(['127.0.0.53']), calls, { picture }),
    sink: rec,
  });
  t.after(() => monitor.stop());
  monitor.start();
  await rec.waitFor(
    () => rec.events.some((e) => e.type === 'picture-fault') && rec.events.some((e) => e.type === 'camera-offline'),
    'black picture and offline alarms',
  );
  await sleep(100);
  assert.ok(!(calls.stream ?? []).some((u) => u.includes('127.0.0.53')));
  assert.ok(!(calls.picture ?? []).some((u) => u.includes('127.0.0.53')));
  const black = monitor.statuses().find((s) => s.picture?.faults.includes('black'));
  assert.equal(black?.state, 'degraded');
  assert.equal(monitor.counts().pictureFaults.black, 1);
});

test('statuses survive a restart: an offline camera that is still offline raises no second alarm', async (t) => {
  const { db } = inventory(t, [{ host: '127.0.0.61' }]);
  const down = new Set(['127.0.0.61']);
  const rec1 = new Recorder();
  const m1 = new HealthMonitor({ db, config: healthConfig({ pictureIntervalSec: 0, streamIntervalSec: 0 }), probes: scriptedProbes(down, {}), sink: rec1 });
  m1.start();
  await rec1.waitFor(() => rec1.events.some((e) => e.type === 'camera-offline'), 'first alarm');
  m1.stop();
  const rec2 = new Recorder();
  const calls: Record<string, string[]> = {};
  const m2 = new HealthMonitor({ db, config: healthConfig({ pictureIntervalSec: 0, streamIntervalSec: 0 }), probes: scriptedProbes(down, calls), sink: rec2 });
  t.after(() => m2.stop());
  m2.start();
  assert.equal(m2.statuses()[0].state, 'offline');
  await rec2.waitFor(() => (calls.reach?.length ?? 0) >= 1, 'probed again');
  await sleep(50);
  assert.deepEqual(rec2.events, []);
});

test('periodic statuses are marked periodic; cameras added to the inventory while running are picked up', async (t) => {
  const { db } = inventory(t, [{ host: '127.0.0.71' }]);
  const rec = new Recorder();
  const monitor = new HealthMonitor({
    db,
    config: healthConfig({ pictureIntervalSec: 0, streamIntervalSec: 0, reachIntervalSec: 1, statusIntervalSec: 1 }),
    probes: scriptedProbes(new Set(), {}),
    sink: rec,
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
