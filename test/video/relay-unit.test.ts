// Relays to the centre, without sockets or processes: the ffmpeg args builder, the profiles and
// copy/transcode decision, the budget, and the RelayManager against a fake supervisor and fake
// timers (leases, idle timeout, limits, events), plus the command handlers through the real
// dispatcher (arg schemas, error codes, reply schema).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { agentConfig } from '../../agent/config/spec';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { FakeClock } from '../kit/clock';
import { CommandDispatcher } from '../../agent/uplink/commands';
import type { GateSource, StateChange, SupervisedProcess, SupervisedState, SupervisedStats, SuperviseOptions } from '../../agent/ffmpeg/types';
import { INPUT_PROTOCOL_WHITELIST, redactTarget, relayArgs, scrubSecrets, TARGETS, targetScheme } from '../../agent/video/relay/args';
import { checkBudget, expectedKbps, usedKbps } from '../../agent/video/relay/budget';
import { planRelay, relayProfile, RELAY_PROFILE_NAMES } from '../../agent/video/relay/profiles';
import { RelayManager } from '../../agent/video/relay/relays';
import { relayHandlers } from '../../agent/commands/relay';
import { validatePayload, type EventBody } from '../../contract';
import type { AgentConfig } from '../../agent/config/schema';
import { CommandError } from '../../contract';
import { channel, report } from '../kit/reports';

const CAM_URL = 'rtsp://admin:s%3Acret@127.81.1.2:554/ch1/main';

function after(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

// --- args --------------------------------------------------------------------------------------

test('args: RTSP input over TCP with a µs timeout and a protocol whitelist, video only, copy to RTMP as FLV', () => {
  const args = relayArgs({ inputUrl: CAM_URL, timeoutMs: 5000, target: 'rtmp://127.0.0.1:1935/live/cam1', video: { codec: 'copy' } });
  assert.equal(after(args, '-rtsp_transport'), 'tcp');
  assert.equal(after(args, '-timeout'), '5000000');
  assert.equal(after(args, '-protocol_whitelist'), INPUT_PROTOCOL_WHITELIST);
  assert.equal(after(args, '-i'), CAM_URL);
  // input options come before -i, output options after it
  assert.ok(args.indexOf('-rtsp_transport') < args.indexOf('-i'));
  assert.ok(args.indexOf('-an') > args.indexOf('-i'));
  assert.equal(after(args, '-map'), '0:v:0');
  assert.equal(after(args, '-c:v'), 'copy');
  assert.equal(after(args, '-f'), 'flv');
  assert.equal(args[args.length - 1], 'rtmp://127.0.0.1:1935/live/cam1');
  assert.ok(!args.includes('libx264'));
});

test('args: each target scheme gets its muxer; SRT URL passed as given; other schemes refused naming the accepted ones', () => {
  const srt = relayArgs({ inputUrl: CAM_URL, timeoutMs: 3000, target: 'srt://127.0.0.1:9000?mode=caller&passphrase=0123456789ab', video: { codec: 'copy' } });
  assert.equal(after(srt, '-f'), 'mpegts');
  assert.equal(srt[srt.length - 1], 'srt://127.0.0.1:9000?mode=caller&passphrase=0123456789ab');
  const rtsp = relayArgs({ inputUrl: CAM_URL, timeoutMs: 3000, target: 'rtsp://centre:8554/live/x', video: { codec: 'copy' } });
  const out = rtsp.slice(rtsp.indexOf('-i') + 2);
  assert.deepEqual(out.slice(out.indexOf('-f'), out.indexOf('-f') + 4), ['-f', 'rtsp', '-rtsp_transport', 'tcp']);
  assert.equal(targetScheme('RTMPS://centre/live/x'), 'rtmps');
  for (const bad of ['http://centre/x', 'file:///etc/passwd', 'udp://239.0.0.1:1234', 'centre:1935/live']) {
    assert.throws(
      () => relayArgs({ inputUrl: CAM_URL, timeoutMs: 3000, target: bad, video: { codec: 'copy' } }),
      (err: Error) => {
        assert.match(err.message, /rtsp:\/\/, rtmp:\/\/, rtmps:\/\/, srt:\/\//);
        return true;
      },
    );
  }
  assert.deepEqual(Object.keys(TARGETS).sort(), ['rtmp', 'rtmps', 'rtsp', 'srt']);
});

test('args: transcode = libx264 veryfast zerolatency, GOP, bitrate cap with maxrate/bufsize, scale keeping aspect and never upscaling', () => {
  const args = relayArgs({ inputUrl: CAM_URL, timeoutMs: 5000, target: 'rtmp://c/live/x', video: { codec: 'h264', height: 360, bitrateKbps: 600, gop: 50 } });
  assert.equal(after(args, '-c:v'), 'libx264');
  assert.equal(after(args, '-preset'), 'veryfast');
  assert.equal(after(args, '-tune'), 'zerolatency');
  assert.equal(after(args, '-g'), '50');
  assert.equal(after(args, '-b:v'), '600k');
  assert.equal(after(args, '-maxrate'), '600k');
  assert.equal(after(args, '-bufsize'), '1200k');
  assert.equal(after(args, '-vf'), 'scale=-2:min(360\\,ih)');
  const same = relayArgs({ inputUrl: CAM_URL, timeoutMs: 5000, target: 'rtmp://c/live/x', video: { codec: 'h264', bitrateKbps: 4096, gop: 50 } });
  assert.equal(after(same, '-vf'), undefined, 'source size: no scale filter');
});

test('redaction: targets and ffmpeg lines lose user:password and secret query parameters', () => {
  assert.equal(redactTarget('rtmp://user:pw@centre/live/k'), 'rtmp://centre/live/k');
  assert.equal(redactTarget('srt://c:9000?mode=caller&passphrase=verysecret123&streamid=x'), 'srt://c:9000?mode=caller&passphrase=********&streamid=x');
  const line = scrubSecrets('rtsp://admin:s%3Acret@127.81.1.2:554/ch1/main: Connection refused');
  assert.ok(!line.includes('s%3Acret'));
  assert.match(line, /Connection refused/);
});

// --- profiles ----------------------------------------------------------------------------------

test('profiles: copy when the target carries the codec; H.265 to RTMP transcodes with a reason; scaled profiles with caps; override', () => {
  assert.deepEqual([...RELAY_PROFILE_NAMES], ['copy', 'h264', 'h264-720p', 'h264-480p', 'h264-360p']);
  const h264 = { codec: 'H264', width: 1920, height: 1080, fps: 25, bitrateKbps: 4096 };
  const h265 = { ...h264, codec: 'H265' };
  assert.deepEqual(planRelay({ source: h264, scheme: 'rtmp' }), { profile: 'copy', mode: 'copy', video: { codec: 'copy' } });
  assert.equal(planRelay({ source: h265, scheme: 'srt' }).mode, 'copy');
  assert.equal(planRelay({ source: h265, scheme: 'rtsp' }).mode, 'copy');
  const t = planRelay({ source: h265, scheme: 'rtmp' });
  assert.equal(t.mode, 'transcode');
  assert.match(t.reason ?? '', /FLV \(RTMP\) cannot carry H\.265.*H\.264/);
  assert.deepEqual(t.video, { codec: 'h264', bitrateKbps: 4096, gop: 50 });
  // unknown codec: fine for targets that take both, transcode for FLV
  assert.equal(planRelay({ source: {}, scheme: 'srt' }).mode, 'copy');
  assert.match(planRelay({ source: {}, scheme: 'rtmp' }).reason ?? '', /does not know the camera's codec/);
  assert.equal(planRelay({ source: { codec: 'hevc' }, scheme: 'rtmp' }).mode, 'transcode');
  assert.equal(planRelay({ source: { codec: 'MJPEG' }, scheme: 'srt' }).mode, 'transcode');

  assert.deepEqual(planRelay({ profile: 'h264-720p', source: h264, scheme: 'srt' }).video, { codec: 'h264', height: 720, bitrateKbps: 2000, gop: 50 });
  assert.deepEqual(planRelay({ profile: 'h264-480p', source: { fps: 15 }, scheme: 'srt' }).video, { codec: 'h264', height: 480, bitrateKbps: 1000, gop: 30 });
  assert.deepEqual(planRelay({ profile: 'h264-360p', source: h264, scheme: 'rtmp', maxBitrateKbps: 300 }).video, {
    codec: 'h264',
    height: 360,
    bitrateKbps: 300,
    gop: 50,
  });
  assert.deepEqual(planRelay({ profile: 'h264', source: { ...h264, bitrateKbps: 2048 }, scheme: 'rtmp' }).video, { codec: 'h264', bitrateKbps: 2048, gop: 50 });
  assert.deepEqual(planRelay({ profile: 'h264', source: {}, scheme: 'rtmp' }).video, { codec: 'h264', bitrateKbps: 4096, gop: 50 });
  assert.equal(planRelay({ profile: 'h264', source: h264, scheme: 'rtmp' }).reason, undefined);
  assert.throws(
    () => relayProfile('1080p-h266'),
    (err: unknown) => {
      assert.ok(err instanceof CommandError);
      assert.equal(err.code, 'invalid-args');
      assert.match(err.message, /"1080p-h266".*copy, h264, h264-720p, h264-480p, h264-360p/);
      return true;
    },
  );
});

// --- budget ------------------------------------------------------------------------------------

test('budget: expected kbps per plan, Σ max(expected, measured), refusal message names the numbers and the key', () => {
  const cfg = { budgetKbps: 6000, assumedMainKbps: 4096, assumedSubKbps: 1024 };
  assert.equal(expectedKbps({ video: { codec: 'copy' } }, { bitrateKbps: 3000 }, 'main', cfg), 3000);
  assert.equal(expectedKbps({ video: { codec: 'copy' } }, {}, 'main', cfg), 4096);
  assert.equal(expectedKbps({ video: { codec: 'copy' } }, {}, 'sub', cfg), 1024);
  assert.equal(expectedKbps({ video: { codec: 'h264', bitrateKbps: 600, gop: 50 } }, { bitrateKbps: 4096 }, 'main', cfg), 600);
  assert.equal(
    usedKbps([
      { expectedKbps: 1000, measuredKbps: 1500 },
      { expectedKbps: 1000, measuredKbps: 200 },
      { expectedKbps: 500, measuredKbps: null },
    ]),
    3000,
  );
  assert.equal(checkBudget({ needKbps: 3000, relays: [{ expectedKbps: 3000, measuredKbps: null }], budgetKbps: 6000 }).ok, true);
  const refused = checkBudget({ needKbps: 4096, relays: [{ expectedKbps: 1024, measuredKbps: 2500 }], budgetKbps: 6000 });
  assert.equal(refused.ok, false);
  assert.equal(
    !refused.ok && refused.message,
    "relay refused: it needs ~4096 kbit/s and the relays already use 2500 of the site's budget 6000 kbit/s (video.relay.budgetKbps); stop one (cmd/stream-stop) or raise the budget",
  );
  assert.equal(checkBudget({ needKbps: 1e6, relays: [{ expectedKbps: 1e6, measuredKbps: null }], budgetKbps: 0 }).ok, true, '0 = no budget');
});

// --- RelayManager with a fake supervisor -----------------------------------------------------------

class FakeProcess implements SupervisedProcess {
  readonly id: string;
  readonly label: string;
  readonly kind: SuperviseOptions['kind'];
  state: SupervisedState = 'starting';
  restarts = 0;
  bitrate: number | null = null;
  lastError?: string;
  stopCalls = 0;
  builtArgs: readonly string[] = [];
  built: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(c: StateChange) => void>();
  constructor(
    id: number,
    readonly options: SuperviseOptions,
  ) {
    this.id = `ff${id}`;
    this.label = options.label;
    this.kind = options.kind;
  }
  stats(): SupervisedStats {
    return {
      state: this.state,
      fps: this.state === 'running' ? 25 : null,
      bitrateKbps: this.bitrate,
      bytes: 0,
      frames: 0,
      restarts: this.restarts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
  onState(l: (c: StateChange) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  go(to: SupervisedState, reason?: string): void {
    const from = this.state;
    this.state = to;
    if (to === 'retrying') this.restarts++;
    if (reason) this.lastError = reason;
    for (const l of [...this.listeners]) l({ from, to, stats: this.stats(), ...(reason ? { reason } : {}) });
  }
  async stop(): Promise<void> {
    this.stopCalls++;
    await Promise.resolve();
    if (this.state !== 'stopped') this.go('stopped');
  }
}

function videoConfig(relay: Partial<AgentConfig['video']['relay']> = {}): AgentConfig['video'] {
  const base = agentConfig.load({ env: {} }).config.video;
  return { ...base, relay: { ...base.relay, ...relay } };
}

function ledger(t: { after(fn: () => void): void }): { db: Database; ids: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'camgate-relay-'));
  const db = openDatabase(dir);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ids: string[] = [];
  // cam 0: H.264 main 4096 kbit/s + sub; cam 1: H.265 main, no bitrate; cam 2: main without a stream URI, no sub
  const reports = [
    report({ host: '127.81.1.2', endpointUuid: 'urn:uuid:00000000-0000-4000-8081-000000000002', identity: { serial: 'R2', mac: '44:19:b6:81:01:02' } }),
    report({
      host: '127.81.1.3',
      endpointUuid: 'urn:uuid:00000000-0000-4000-8081-000000000003',
      identity: { serial: 'R3', mac: '44:19:b6:81:01:03' },
      channels: [{ channel: 1, profiles: [{ token: 'm', codec: 'H265', width: 1920, height: 1080, fps: 25, streamUri: 'rtsp://127.81.1.3:554/ch1/main' }] }],
    }),
    report({
      host: '127.81.1.4',
      endpointUuid: 'urn:uuid:00000000-0000-4000-8081-000000000004',
      identity: { serial: 'R4', mac: '44:19:b6:81:01:04' },
      channels: [{ channel: 1, profiles: [{ token: 'm', codec: 'H264' }] }],
    }),
  ];
  reports[0].channels = [channel(1, '127.81.1.2')];
  reports[0].channels[0].profiles[0].bitrateKbps = 4096;
  for (const r of reports) ids.push(upsertDeviceReport(db, r, { now: new Date() }).cameras[0].id);
  return { db, ids };
}

function harness(t: { after(fn: () => void): void }, relay: Partial<AgentConfig['video']['relay']> = {}) {
  const { db, ids } = ledger(t);
  const clock = new FakeClock();
  const procs: FakeProcess[] = [];
  const events: EventBody[] = [];
  let n = 0;
  const inputs: GateSource[] = [];
  const manager = new RelayManager({
    db,
    config: videoConfig(relay),
    credentialsFor: () => ({ username: 'admin', password: 'pa:ss' }),
    // The agent's RTSP gate hands out a link per run; here a recognisable stand-in.
    input: async (source) => {
      inputs.push(source);
      return `rtsp://127.0.0.1:1/link${inputs.length}${new URL(source.url).pathname}`;
    },
    supervise: (options) => {
      const p = new FakeProcess(procs.length + 1, options);
      p.built = Promise.resolve(options.args()).then((a) => void (p.builtArgs = a));
      procs.push(p);
      return p;
    },
    sink: { event: async (body) => void events.push(body) },
    clock,
    newId: () => `r${++n}`,
  });
  const types = () => events.map((e) => e.type);
  return { db, ids, clock, procs, events, types, manager, inputs };
}

test('manager: start builds the args from the ledger, the login through the RTSP gate, replies with the plan, events follow the supervisor', async (t) => {
  const h = harness(t, { idleTimeoutSec: 600 });
  const r = await h.manager.start({ camera: h.ids[0], target: 'rtmp://user:pw@127.0.0.1:1935/live/a' });
  assert.deepEqual(
    { ...r, expiresAt: undefined },
    {
      streamId: 'r1',
      camera: h.ids[0],
      stream: 'main',
      target: 'rtmp://127.0.0.1:1935/live/a',
      profile: 'copy',
      mode: 'copy',
      expectedKbps: 4096,
      renewed: false,
      idleTimeoutSec: 600,
      expiresAt: undefined,
    },
  );
  assert.equal(r.expiresAt, '2026-01-01T00:10:00.000Z');
  const p = h.procs[0];
  assert.equal(p.options.kind, 'relay');
  assert.equal(p.options.progress, 'pipe');
  assert.ok(!p.label.includes('pw@'), p.label);
  await p.built;
  // The login goes to the gate, never into ffmpeg's arguments.
  assert.deepEqual(h.inputs, [
    { url: 'rtsp://127.81.1.2:554/ch1/main', credentials: { username: 'admin', password: 'pa:ss' }, label: `relay r1 ${h.ids[0]}/main` },
  ]);
  assert.equal(after([...p.builtArgs], '-i'), 'rtsp://127.0.0.1:1/link1/ch1/main');
  assert.ok(!p.builtArgs.some((a) => a.includes('pa:ss') || a.includes('pa%3Ass')), 'no password in the arguments');
  assert.equal(p.builtArgs[p.builtArgs.length - 1], 'rtmp://user:pw@127.0.0.1:1935/live/a', 'ffmpeg gets the target as given');
  assert.deepEqual(h.types(), ['stream-started']);

  p.go('running');
  p.go('retrying', 'Connection refused [ffmpeg exited with code 1]; restart 1 in 500 ms');
  p.go('starting');
  p.go('retrying', 'Connection refused; restart 2 in 1000 ms');
  p.go('starting');
  p.go('running');
  assert.deepEqual(h.types(), ['stream-started', 'stream-running', 'stream-retrying', 'stream-running'], 'one retrying per outage');
  const retry = h.events[2];
  assert.equal(retry.severity, 'warning');
  assert.equal(retry.camera, h.ids[0]);
  assert.match(String(retry.detail?.reason), /Connection refused/);
  assert.equal(retry.detail?.restarts, 1);
  assert.equal(h.events[3].detail?.again, true);
  const [info] = h.manager.list();
  assert.equal(info.state, 'running');
  assert.equal(info.restarts, 2);
  assert.equal(info.fps, 25);
  for (const e of h.events) {
    const v = validatePayload('event', {
      schemaVersion: 1,
      kind: 'event',
      messageId: '0698f136-6af2-4f5c-82ea-775c43464a1f',
      site: 'v081',
      seq: 1,
      observedAt: new Date().toISOString(),
      ...e,
      detail: e.detail ?? {},
    });
    assert.ok(v.ok, v.errors.join('; '));
    assert.ok(!JSON.stringify(e).includes('pw@'));
  }

  const stopped = await h.manager.stop({ streamId: 'r1' });
  assert.equal(stopped.length, 1);
  assert.equal(stopped[0].state, 'stopped');
  assert.equal(p.stopCalls, 1);
  assert.equal(h.manager.count(), 0);
  assert.equal(h.events.at(-1)?.type, 'stream-stopped');
  assert.equal(h.events.at(-1)?.detail?.reason, 'requested');
  assert.equal(h.clock.count, 0, 'idle timer cleared');
  assert.deepEqual(await h.manager.stop({ streamId: 'r1' }), [], 'stop is idempotent');
});

test('manager: the same camera+stream+target renews the lease (one process); the idle timeout stops it; renewing pushes it back', async (t) => {
  const h = harness(t, { idleTimeoutSec: 60 });
  const a = await h.manager.start({ camera: h.ids[0], target: 'srt://127.0.0.1:9000?mode=caller' });
  await h.clock.advance(50_000);
  const b = await h.manager.start({ camera: h.ids[0], stream: 'main', target: 'srt://127.0.0.1:9000?mode=caller', profile: 'copy' });
  assert.equal(b.streamId, a.streamId);
  assert.equal(b.renewed, true);
  assert.equal(h.procs.length, 1, 'one ffmpeg');
  await h.clock.advance(50_000); // 100 s after the start, 50 s after the renewal: still running
  assert.equal(h.manager.count(), 1);
  assert.equal(h.procs[0].stopCalls, 0);
  await h.clock.advance(10_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(h.procs[0].stopCalls, 1);
  assert.equal(h.manager.count(), 0);
  const stopped = h.events.find((e) => e.type === 'stream-stopped');
  assert.equal(stopped?.detail?.reason, 'idle-timeout');

  // idleTimeoutSec 0: no timer at all
  const h0 = harness(t, { idleTimeoutSec: 0 });
  const r0 = await h0.manager.start({ camera: h0.ids[0], target: 'srt://127.0.0.1:9001' });
  assert.equal(r0.expiresAt, undefined);
  assert.equal(h0.clock.count, 0);
});

test('manager: refusals — unknown camera, missing sub stream, missing URI, bad target, unknown profile, taken target, maxRelays, budget', async (t) => {
  const h = harness(t, { maxRelays: 2, budgetKbps: 6000 });
  const code = async (p: Promise<unknown>, c: string, re: RegExp) =>
    assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof CommandError, String(err));
      assert.equal(err.code, c, err.message);
      assert.match(err.message, re);
      return true;
    });
  await code(h.manager.start({ camera: 'cam-nope', target: 'srt://127.0.0.1:1' }), 'invalid-args', /unknown camera "cam-nope"/);
  await code(h.manager.start({ camera: h.ids[1], stream: 'sub', target: 'srt://127.0.0.1:1' }), 'invalid-args', /has no sub stream/);
  await code(h.manager.start({ camera: h.ids[2], target: 'srt://127.0.0.1:1' }), 'not-available', /no stream URI/);
  await code(h.manager.start({ camera: h.ids[0], target: 'http://centre/x' }), 'invalid-args', /accepted: rtsp:\/\//);
  await code(h.manager.start({ camera: h.ids[0], target: 'srt://127.0.0.1:1', profile: 'h266' }), 'invalid-args', /valid: copy, h264/);
  assert.equal(h.procs.length, 0);

  await h.manager.start({ camera: h.ids[0], target: 'rtmp://127.0.0.1/live/a' }); // 4096 (ledger bitrate)
  await code(h.manager.start({ camera: h.ids[1], target: 'rtmp://127.0.0.1/live/a' }), 'busy', /taken by relay r1/);
  await code(h.manager.start({ camera: h.ids[0], target: 'rtmp://127.0.0.1/live/a', profile: 'h264-360p' }), 'busy', /stop it first to change the profile/);
  // H.265 → RTMP: transcode at 4096 (no ledger bitrate) does not fit 6000 - 4096
  await code(
    h.manager.start({ camera: h.ids[1], target: 'rtmp://127.0.0.1/live/b' }),
    'over-budget',
    /^relay refused: it needs ~4096 kbit\/s and the relays already use 4096 of the site's budget 6000 kbit\/s \(video\.relay\.budgetKbps\); stop one \(cmd\/stream-stop\) or raise the budget$/,
  );
  // the measured bitrate counts when it is above the expected one
  h.procs[0].bitrate = 5800;
  await code(h.manager.start({ camera: h.ids[0], stream: 'sub', target: 'rtmp://127.0.0.1/live/c' }), 'over-budget', /already use 5800/);
  h.procs[0].bitrate = 3000;
  const sub = await h.manager.start({ camera: h.ids[0], stream: 'sub', target: 'rtmp://127.0.0.1/live/c' });
  assert.equal(sub.expectedKbps, 1024, 'assumedSubKbps');
  await code(
    h.manager.start({ camera: h.ids[1], target: 'srt://127.0.0.1:2', profile: 'h264-360p', maxBitrateKbps: 100 }),
    'busy',
    /2 relay\(s\) already run, the limit is 2 \(video\.relay\.maxRelays\)/,
  );
  assert.equal(h.procs.length, 2);
  assert.deepEqual(h.manager.usage(), { relays: 2, usedKbps: 5120, budgetKbps: 6000, maxRelays: 2 });

  await h.manager.stopAll();
  assert.equal(h.manager.count(), 0);
  assert.ok(h.events.filter((e) => e.type === 'stream-stopped').every((e) => e.detail?.reason === 'agent-stopping'));
  await code(h.manager.start({ camera: h.ids[0], target: 'rtmp://127.0.0.1/live/a' }), 'not-available', /shutting down/);
});

test('manager: a supervisor that gives up → stream-failed (alarm) and stream-stopped (failed); the relay leaves the list', async (t) => {
  const h = harness(t);
  await h.manager.start({ camera: h.ids[0], target: 'rtsp://127.0.0.1:8554/live/a' });
  h.procs[0].go('failed', 'cannot build the ffmpeg arguments: rtsp://admin:pa%3Ass@127.81.1.2 gone');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.types(), ['stream-started', 'stream-failed', 'stream-stopped']);
  assert.equal(h.events[1].severity, 'alarm');
  assert.ok(!JSON.stringify(h.events).includes('pa%3Ass'), 'no password in events');
  assert.equal(h.events[2].detail?.reason, 'failed');
  assert.equal(h.manager.count(), 0);
});

test('manager: stop by camera (and stream) stops exactly those relays', async (t) => {
  const h = harness(t);
  await h.manager.start({ camera: h.ids[0], target: 'srt://127.0.0.1:1' });
  await h.manager.start({ camera: h.ids[0], stream: 'sub', target: 'srt://127.0.0.1:2' });
  await h.manager.start({ camera: h.ids[1], target: 'srt://127.0.0.1:3' });
  const subOnly = await h.manager.stop({ camera: h.ids[0], stream: 'sub' });
  assert.deepEqual(
    subOnly.map((r) => r.streamId),
    ['r2'],
  );
  const rest = await h.manager.stop({ camera: h.ids[0] });
  assert.deepEqual(
    rest.map((r) => r.streamId),
    ['r1'],
  );
  assert.deepEqual(
    h.manager.list().map((r) => r.camera),
    [h.ids[1]],
  );
  assert.deepEqual(h.manager.list({ camera: h.ids[0] }), []);
});

// --- handlers through the dispatcher ------------------------------------------------------------

test('commands: stream-start/stop/list through the dispatcher: arg schemas, error codes, replies valid against reply.json', async (t) => {
  const h = harness(t, { budgetKbps: 5000 });
  const dispatcher = new CommandDispatcher({ site: 'v081', handlers: relayHandlers(h.manager) });
  let n = 0;
  const run = async (name: string, args: Record<string, unknown>) => {
    const reply = await dispatcher.handle({ topic: `camgate/v1/v081/cmd/${name}`, payload: JSON.stringify({ schemaVersion: 1, messageId: `m${++n}`, args }) });
    assert.ok(reply);
    const v = validatePayload('reply', JSON.parse(JSON.stringify(reply.payload)));
    assert.ok(v.ok, v.errors.join('; '));
    return reply.payload;
  };
  const ok = await run('stream-start', { camera: h.ids[1], stream: 'main', target: 'rtmp://127.0.0.1/live/h', profile: 'copy' });
  assert.equal(ok.ok, true);
  assert.equal(ok.result?.mode, 'transcode');
  assert.match(String(ok.result?.reason), /cannot carry H\.265/);
  assert.equal((await run('stream-start', { camera: h.ids[0], target: 'rtmp://127.0.0.1/live/x' })).error?.code, 'over-budget');
  assert.equal((await run('stream-start', { camera: h.ids[0] })).error?.code, 'invalid-args', 'target required');
  assert.equal((await run('stream-start', { camera: h.ids[0], target: 'srt://h:1', profile: 'fancy' })).error?.code, 'invalid-args');
  assert.equal((await run('stream-start', { camera: h.ids[0], target: 'srt://h:1', maxBitrateKbps: 'lots' })).error?.code, 'invalid-args');
  assert.equal((await run('stream-stop', {})).error?.code, 'invalid-args', 'streamId or camera');
  const list = await run('stream-list', {});
  assert.equal(list.result?.count, 1);
  assert.equal(list.result?.budgetKbps, 5000);
  const stop = await run('stream-stop', { streamId: String(ok.result?.streamId) });
  assert.equal(stop.result?.count, 1);
  assert.equal((await run('stream-stop', { camera: h.ids[0] })).result?.count, 0);
});
