// Relays to the centre with real peers: the camera simulator's real RTSP streams (GStreamer,
// H.264 and H.265, RTSP Digest auth), real ffmpeg under the real FfmpegSupervisor, a real nginx
// RTMP server and an ffmpeg SRT listener as the centre, and a TCP proxy in front of one camera's
// RTSP port to kill the camera mid-stream and bring it back. What arrived is checked with
// ffprobe (codec, size, frames with moving timestamps). Loopback subnet 127.81.0.0/16 belongs to
// this file (and relay-unit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../scripts/sim/index';
import { agentConfig } from '../../agent/config/spec';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { getCamera } from '../../agent/inventory/cameras';
import { FfmpegSupervisor } from '../../agent/ffmpeg/supervisor';
import { locateFfmpeg } from '../../agent/ffmpeg/locate';
import { RelayManager } from '../../agent/video/relay/relays';
import { openDriver } from '../../drivers/index';
import { RtspGate, type GateSource } from '../../drivers/rtsp/gate';
import { probeRtmp, probeStream, startRtmpServer, startSrtListener } from '../../scripts/peers/media-server';
import { startTcpProxy } from '../../scripts/peers/tcp-proxy';
import { pidGone } from './support/procs';
import type { EventBody } from '../../contract';
import type { AgentConfig } from '../../agent/config/schema';
import { createLogger } from '../../lib/log';
import { CommandError } from '../../contract';
import { tempDir } from '../kit/temp';
import { channel, report } from '../kit/reports';

const USER = 'admin';
const PASS = 'admin123';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `cond` is truthy; fails with `what` after `limitMs` (a bound on a hung peer, not a timing assertion). */
async function waitFor<T>(what: string, cond: () => T | Promise<T>, limitMs = 30_000): Promise<NonNullable<T>> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await sleep(100);
  }
}

/** CPU time (user + system) of a process in clock ticks, from /proc. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** % of one core a relay's ffmpeg used over `ms` (for the report, never asserted). */
async function cpuPercent(pid: number | undefined, ms: number): Promise<string> {
  if (!pid) return 'n/a';
  try {
    const t0 = cpuTicks(pid);
    await sleep(ms);
    return (((cpuTicks(pid) - t0) / 100 / (ms / 1000)) * 100).toFixed(1);
  } catch {
    return 'n/a';
  }
}

test('relays to the centre: copy and transcode to RTMP and SRT, leases, limits, a camera killed mid-stream, clean stop', async (t) => {
  const sim = await startSimulator({
    cameras: [
      { host: '127.81.0.2', codec: 'H264' },
      { host: '127.81.0.3', codec: 'H265' },
    ],
    rtspAuth: true,
  });
  t.after(() => sim.stop());
  const [h264Cam] = sim.cameras;

  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'data'));
  t.after(() => db.close());
  const ids: Record<string, string> = {};
  for (const cam of sim.cameras) {
    const d = openDriver({ kind: 'onvif', host: cam.spec.host, port: 80 }, { username: USER, password: PASS }, { timeoutMs: 5000 });
    ids[cam.spec.host] = upsertDeviceReport(db, await d.report(), { now: new Date() }).cameras[0].id;
    d.close();
  }
  assert.equal(getCamera(db, ids['127.81.0.3'])?.profiles[0]?.codec, 'H265', 'the ledger knows the H.265 camera');

  // "The camera" behind a proxy: a device whose stream URI points at 127.81.0.12, forwarded to
  // the simulator's RTSP server on the H.264 camera's address.
  const proxy = await startTcpProxy({ host: '127.81.0.12', targetHost: h264Cam.spec.host, targetPort: sim.rtspPort });
  t.after(() => proxy.stop());
  const proxied = channel(1, '127.81.0.12');
  proxied.profiles[0].streamUri = h264Cam.rtspUrl(1, 'main').replace(`${h264Cam.spec.host}:${sim.rtspPort}`, `127.81.0.12:${proxy.port}`);
  proxied.profiles[1].streamUri = h264Cam.rtspUrl(1, 'sub').replace(`${h264Cam.spec.host}:${sim.rtspPort}`, `127.81.0.12:${proxy.port}`);
  ids.proxy = upsertDeviceReport(
    db,
    report({
      host: '127.81.0.12',
      endpointUuid: 'urn:uuid:00000000-0000-4000-8081-000000000012',
      identity: { serial: 'SN8112', mac: '44:19:b6:81:00:12' },
      channels: [proxied],
    }),
    { now: new Date() },
  ).cameras[0].id;

  const rtmp = await startRtmpServer({ host: '127.81.0.20' });
  t.after(() => rtmp.stop());

  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => logLines.push(l) } });
  const binary = locateFfmpeg({ env: process.env });
  const base = agentConfig.load({ env: {} }).config.video;
  const video: AgentConfig['video'] = { ...base, connectTimeoutMs: 5000, relay: { ...base.relay, idleTimeoutSec: 0, budgetKbps: 20000, maxRelays: 16 } };
  const supervisor = new FfmpegSupervisor({ binary, defaults: { stallTimeoutMs: 10_000, restartMinMs: 300, restartMaxMs: 1500 }, logger });
  t.after(() => supervisor.stopAll());
  // The agent's RTSP gate: ffmpeg reaches the cameras (RTSP Digest) through it.
  const gate = new RtspGate({ connectTimeoutMs: 5000 });
  await gate.listen();
  t.after(() => gate.close());
  const input = async (source: GateSource) => gate.input(source);
  const events: EventBody[] = [];
  const manager = new RelayManager({
    db,
    config: video,
    credentialsFor: () => ({ username: USER, password: PASS }),
    input,
    supervise: (o) => supervisor.supervise(o),
    sink: { event: async (body) => void events.push(body) },
    logger,
  });
  t.after(() => manager.stopAll());
  const eventsOf = (streamId: string, type: string) => events.filter((e) => e.detail?.streamId === streamId && e.type === type);
  const relayPid = (streamId: string) =>
    supervisor
      .list()
      .find((p) => p.label.includes(` ${streamId} `))
      ?.stats().pid;

  await t.test('H.264 main → RTMP as a copy: h264 1920x1080 frames arrive and move; CPU of the copy relay', async () => {
    const r = await manager.start({ camera: ids['127.81.0.2'], target: rtmp.url('h264') });
    assert.equal(r.mode, 'copy');
    assert.equal(r.renewed, false);
    await waitFor('stream-running', () => eventsOf(r.streamId, 'stream-running').length > 0);
    const got = await probeRtmp(rtmp.url('h264'), { packets: 30 });
    assert.equal(got.codec, 'h264');
    assert.equal(got.width, 1920);
    assert.equal(got.height, 1080);
    assert.ok(got.frames >= 30, JSON.stringify(got));
    assert.ok((got.lastPts ?? 0) > (got.firstPts ?? 0), `timestamps move: ${JSON.stringify(got)}`);
    const info = manager.list().find((x) => x.streamId === r.streamId);
    assert.equal(info?.state, 'running');
    // Figures for the report (not asserted): CPU of the copy relay over 3 s.
    const pct = await cpuPercent(relayPid(r.streamId), 3000);
    const now = manager.list().find((x) => x.streamId === r.streamId);
    t.diagnostic(`copy relay 1080p25 H.264: ${pct} % of a core, ${now?.fps} fps, ${now?.bitrateKbps} kbit/s out`);
  });

  await t.test('the same camera, stream and target again renews the lease: same streamId, one ffmpeg', async () => {
    const before = supervisor.count().byKind.relay;
    const a = manager.list().find((x) => x.target === rtmp.url('h264'));
    assert.ok(a);
    const again = await manager.start({ camera: ids['127.81.0.2'], stream: 'main', target: rtmp.url('h264'), profile: 'copy' });
    assert.equal(again.renewed, true);
    assert.equal(again.streamId, a.streamId);
    assert.equal(supervisor.count().byKind.relay, before);
    assert.equal(manager.count(), 1);
  });

  await t.test('stream-stop ends it: the stopped relay is reported, its ffmpeg is reaped (pid gone)', async () => {
    const a = manager.list()[0];
    const pid = relayPid(a.streamId);
    assert.ok(pid, 'a running relay has a pid');
    const stopped = await manager.stop({ streamId: a.streamId });
    assert.equal(stopped.length, 1);
    assert.equal(stopped[0].state, 'stopped');
    assert.ok(pidGone(pid), 'ffmpeg is gone');
    assert.equal(supervisor.count().total, 0);
    assert.equal(eventsOf(a.streamId, 'stream-stopped')[0]?.detail?.reason, 'requested');
  });

  await t.test('H.265 main → SRT as a copy: hevc arrives', async () => {
    const srt = await startSrtListener({ host: '127.81.0.21' });
    try {
      const r = await manager.start({ camera: ids['127.81.0.3'], target: srt.url });
      assert.equal(r.mode, 'copy');
      await waitFor('200 kB at the SRT listener', () => srt.bytes() > 200_000, 60_000);
      const got = await probeStream(srt.file, { packets: 25 });
      assert.equal(got.codec, 'hevc');
      assert.equal(got.height, 1080);
      assert.ok(got.frames >= 10, JSON.stringify(got));
      await manager.stop({ streamId: r.streamId });
    } finally {
      await srt.stop();
    }
  });

  await t.test('H.265 main → RTMP with profile copy: transcoded to H.264, and the reply says why', async () => {
    const r = await manager.start({ camera: ids['127.81.0.3'], target: rtmp.url('h265'), profile: 'copy' });
    assert.equal(r.mode, 'transcode');
    assert.match(r.reason ?? '', /FLV \(RTMP\) cannot carry H\.265/);
    const got = await probeRtmp(rtmp.url('h265'), { packets: 20, timeoutMs: 60_000 });
    assert.equal(got.codec, 'h264');
    assert.equal(got.height, 1080);
    assert.ok(got.frames >= 20, JSON.stringify(got));
    t.diagnostic(`transcode H.265 1080p → H.264 1080p (veryfast): ${await cpuPercent(relayPid(r.streamId), 3000)} % of a core`);
    await manager.stop({ streamId: r.streamId });
  });

  await t.test('profile h264-360p: 640x360 H.264 arrives', async () => {
    const r = await manager.start({ camera: ids['127.81.0.2'], target: rtmp.url('small'), profile: 'h264-360p' });
    assert.equal(r.mode, 'transcode');
    assert.equal(r.expectedKbps, 600);
    const got = await probeRtmp(rtmp.url('small'), { packets: 20, timeoutMs: 60_000 });
    assert.equal(got.codec, 'h264');
    assert.equal(got.width, 640);
    assert.equal(got.height, 360);
    t.diagnostic(`transcode H.264 1080p → 640x360 (veryfast, 600 kbit/s): ${await cpuPercent(relayPid(r.streamId), 3000)} % of a core`);
    await manager.stop({ streamId: r.streamId });
  });

  await t.test('budget and maxRelays refusals say what to do and start no ffmpeg', async () => {
    const small = new RelayManager({
      db,
      config: { ...video, relay: { ...video.relay, budgetKbps: 3000, maxRelays: 1 } },
      credentialsFor: () => ({ username: USER, password: PASS }),
      input,
      supervise: (o) => supervisor.supervise(o),
      logger,
    });
    await assert.rejects(small.start({ camera: ids['127.81.0.2'], target: rtmp.url('big') }), (err: unknown) => {
      assert.ok(err instanceof CommandError);
      assert.equal(err.code, 'over-budget');
      assert.match(
        err.message,
        /relay refused: it needs ~4096 kbit\/s and the relays already use 0 of the site's budget 3000 kbit\/s \(video\.relay\.budgetKbps\); stop one \(cmd\/stream-stop\) or raise the budget/,
      );
      return true;
    });
    assert.equal(supervisor.count().total, 0);
    const ok = await small.start({ camera: ids['127.81.0.2'], stream: 'sub', target: rtmp.url('sub') });
    await assert.rejects(small.start({ camera: ids['127.81.0.3'], stream: 'sub', target: rtmp.url('sub2') }), (err: unknown) => {
      assert.ok(err instanceof CommandError);
      assert.equal(err.code, 'busy');
      assert.match(err.message, /limit is 1 \(video\.relay\.maxRelays\)/);
      return true;
    });
    assert.equal(supervisor.count().byKind.relay, 1);
    await small.stop({ streamId: ok.streamId });
  });

  await t.test('the camera killed mid-stream and brought back: retrying with a reason, running again, frames arrive again', async () => {
    const r = await manager.start({ camera: ids.proxy, target: rtmp.url('px') });
    await waitFor('stream-running', () => eventsOf(r.streamId, 'stream-running').length > 0);
    const first = await probeRtmp(rtmp.url('px'), { packets: 10 });
    assert.equal(first.codec, 'h264');
    assert.ok(proxy.connections() >= 1, 'the relay goes through the proxy');
    // The RTSP server answered DESCRIBE with the request URL as Content-Base, so the whole session
    // (SETUP, PLAY) names the proxy's address: nothing bypasses it.
    assert.match(proxy.clientText(), new RegExp(`SETUP rtsp://127\\.81\\.0\\.12:${proxy.port}/`));
    assert.match(proxy.clientText(), new RegExp(`PLAY rtsp://127\\.81\\.0\\.12:${proxy.port}/`));

    await proxy.setOnline(false);
    assert.equal(proxy.connections(), 0);
    const retrying = await waitFor('stream-retrying', () => eventsOf(r.streamId, 'stream-retrying')[0]);
    assert.equal(retrying.severity, 'warning');
    assert.ok(typeof retrying.detail?.reason === 'string' && retrying.detail.reason.length > 0, `a reason: ${JSON.stringify(retrying)}`);
    t.diagnostic(`retrying reason: ${retrying.detail?.reason}`);
    assert.ok(Number(retrying.detail?.restarts) >= 1);
    // While the camera is away the relay keeps retrying (connection refused) and stays listed.
    await waitFor('a refused restart', () => (manager.list().find((x) => x.streamId === r.streamId)?.restarts ?? 0) >= 2);
    assert.notEqual(manager.list().find((x) => x.streamId === r.streamId)?.state, 'running');

    await proxy.setOnline(true);
    await waitFor('stream-running again', () => eventsOf(r.streamId, 'stream-running').some((e) => e.detail?.again === true));
    const info = manager.list().find((x) => x.streamId === r.streamId);
    assert.equal(info?.state, 'running');
    assert.ok((info?.restarts ?? 0) >= 1);
    assert.ok(info?.lastError, 'the last error stays visible');
    const again = await probeRtmp(rtmp.url('px'), { packets: 10 });
    assert.equal(again.codec, 'h264');
    assert.ok(again.frames >= 10);
    t.diagnostic(`after the outage: restarts ${info?.restarts}, last error "${info?.lastError}", retrying reason "${retrying.detail?.reason}"`);
  });

  await t.test('stopAll: no ffmpeg left, every relay reported stopped (agent-stopping); no password in logs or events', async () => {
    const pids = supervisor
      .list()
      .map((p) => p.stats().pid)
      .filter((p): p is number => p !== undefined);
    assert.ok(pids.length >= 1);
    await manager.stopAll();
    assert.equal(manager.count(), 0);
    assert.equal(supervisor.count().total, 0);
    for (const pid of pids) assert.ok(pidGone(pid), `pid ${pid} gone`);
    assert.ok(events.some((e) => e.type === 'stream-stopped' && e.detail?.reason === 'agent-stopping'));
    const text = logLines.join('') + JSON.stringify(events);
    assert.ok(!text.includes(PASS), 'the camera password never shows');
  });
});
