// Attacks on what the agent reads: MQTT commands from whoever can publish on the site's command
// topics, the YAML configuration, and the camera files an installer exports, edits and imports.
// Real peers throughout: `camgate run` spawned with the V8 flags of bin/camgate.js against a real
// Mosquitto, a hostile device on a loopback address that accepts connections and never answers,
// the ONVIF simulator supplying a hostile model string, the spawned CLI. The properties at the end
// fuzz the command dispatcher and the config loader with a fixed seed and a bounded run count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, openSync, closeSync, writeSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { startMosquitto, type Mosquitto } from '../../scripts/peers/mosquitto';
import { startSimulator } from '../../scripts/sim/index';
import { recorder, type Recorder, type Received } from '../kit/mqtt';
import { startSite, identifyInto } from '../kit/site';
import { tempDir, type TestContext } from '../kit/temp';
import { waitFor } from '../kit/wait';
import { FakeClock, flush } from '../kit/clock';
import { channel, report } from '../kit/reports';
import { BIN } from '../agent/helpers';
import { CommandDispatcher, type IncomingCommand } from '../../agent/uplink/commands';
import { agentHandlers } from '../../agent/commands/site';
import { agentConfig } from '../../agent/config/spec';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { HealthMonitor, type HealthProbes } from '../../agent/health/monitor';
import type { StreamCheck } from '../../agent/health/types';
import { ConfigError } from '../../lib/errors';
import { parseTopic, validatePayload } from '../../contract';
import type { DeviceReport } from '../../drivers/types';

/** The V8 flags `camgate run` gets from bin/camgate.js's first line (a 256 MB heap). */
function launcherFlags(): string[] {
  const shebang = readFileSync(BIN, 'utf8').split('\n')[0];
  const flags = shebang.split(/\s+/).filter((w) => w.startsWith('--'));
  assert.ok(
    flags.some((f) => f.startsWith('--max-old-space-size=')),
    `bin/camgate.js sets the heap size: ${shebang}`,
  );
  return flags;
}

/** Every CAMGATE_* variable of this process removed, these set. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAMGATE_') && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

interface SpawnedAgent {
  child: ChildProcess;
  /** stderr so far (JSON log lines). */
  log(): string;
}

/** `camgate run` as installed: a child process with the launcher's heap limit. */
function spawnAgent(t: TestContext, broker: Mosquitto, site: string, env: Record<string, string>): SpawnedAgent {
  const dir = tempDir(t, 'camgate-abuse-');
  const child = spawn(process.execPath, [...launcherFlags(), BIN, 'run'], {
    env: cleanEnv({
      CAMGATE_SITE_ID: site,
      CAMGATE_BROKER_URLS: broker.url,
      CAMGATE_DATA_DIR: join(dir, 'data'),
      CAMGATE_WEB_PORT: '0',
      CAMGATE_LOG_FORMAT: 'json',
      ...env,
    }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    // Keep the head of a runaway log only: the test checks line lengths, not the whole text.
    if (log.length < 64 * 1024 * 1024) log += d.toString('utf8');
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
  return { child, log: () => log };
}

/** A command request of about `bytes` bytes whose args hold that many distinct unknown keys. */
function manyKeys(messageId: string, bytes: number): string {
  const head = `{"schemaVersion":1,"messageId":${JSON.stringify(messageId)},"args":{`;
  const parts: string[] = [];
  let size = head.length + 2;
  for (let i = 0; size < bytes; i++) {
    const part = `"k${i}":1`;
    parts.push(part);
    size += part.length + 1;
  }
  return head + parts.join(',') + '}}';
}

function replyTo(centre: Recorder, messageId: string): Promise<Received> {
  return centre.waitFor((m) => m.json.kind === 'reply' && m.json.requestId === messageId, 60_000, `the reply to ${messageId}`);
}

function agentAlive(agent: SpawnedAgent): void {
  assert.equal(agent.child.exitCode, null, `the agent exited (${agent.child.exitCode}); log tail: ${agent.log().slice(-2000)}`);
  assert.equal(agent.child.signalCode, null, `the agent was killed (${agent.child.signalCode}); log tail: ${agent.log().slice(-2000)}`);
}

const LOG_LINE_MAX = 8 * 1024;
const REPLY_MAX = 4 * 1024;

function longestLogLine(agent: SpawnedAgent): number {
  return Math.max(
    0,
    ...agent
      .log()
      .split('\n')
      .map((l) => l.length),
  );
}

test('MQTT 3.1.1 (nothing bounds the packet): 60 KB of unknown args keys, 5 MB and 20 MB commands are refused with short replies; the 256 MB agent lives on', async (t) => {
  const site = 'abuse-big4';
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const centre = await recorder(t, broker.url, `camgate/v1/${site}/#`, { protocolVersion: 4 });
  const agent = spawnAgent(t, broker, site, { CAMGATE_BROKER_PROTOCOL_VERSION: '4' });
  await centre.waitFor((m) => m.topic === `camgate/v1/${site}/birth`, 30_000, 'the birth');
  const cmd = `camgate/v1/${site}/cmd/ping`;

  // Under any sane cap: thousands of unknown keys, each one an error when every error is built.
  await centre.client.publishAsync(cmd, manyKeys('keys-60k', 60 * 1024), { qos: 1 });
  const keys = await replyTo(centre, 'keys-60k');
  assert.equal((keys.json.error as { code?: string })?.code, 'invalid-args');
  assert.ok(keys.text.length <= REPLY_MAX, `the reply to 60 KB of unknown keys is ${keys.text.length} bytes`);

  for (const [id, size] of [
    ['keys-5m', 5 * 1024 * 1024],
    ['keys-20m', 20 * 1024 * 1024],
  ] as const) {
    await centre.client.publishAsync(cmd, manyKeys(id, size), { qos: 1 });
    const r = await replyTo(centre, id);
    agentAlive(agent);
    assert.ok(r.text.length <= REPLY_MAX, `the reply to a ${size} byte command is ${r.text.length} bytes`);
    assert.equal(r.json.ok, false);
    assert.equal((r.json.error as { code?: string }).code, 'too-large', r.text);
    assert.match(String((r.json.error as { message?: string }).message), /uplink\.commandMaxBytes/);
  }
  const pong = await replyTo(centre, (await sendPing(centre, site)).messageId);
  assert.equal(pong.json.ok, true);
  agentAlive(agent);
  assert.ok(longestLogLine(agent) <= LOG_LINE_MAX, `a log line of ${longestLogLine(agent)} characters`);
});

async function sendPing(centre: Recorder, site: string): Promise<{ messageId: string }> {
  const messageId = `ping-${Math.random().toString(16).slice(2)}`;
  await centre.client.publishAsync(`camgate/v1/${site}/cmd/ping`, JSON.stringify({ schemaVersion: 1, messageId }), { qos: 1 });
  return { messageId };
}

test('MQTT 5: the agent announces a maximum packet size, so Mosquitto never delivers a 20 MB command; one over the command cap but under it is refused as too-large', async (t) => {
  const site = 'abuse-big5';
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const centre = await recorder(t, broker.url, `camgate/v1/${site}/#`);
  const agent = spawnAgent(t, broker, site, { CAMGATE_BROKER_PROTOCOL_VERSION: '5' });
  await centre.waitFor((m) => m.topic === `camgate/v1/${site}/birth`, 30_000, 'the birth');
  const cmd = `camgate/v1/${site}/cmd/ping`;

  await centre.client.publishAsync(cmd, manyKeys('over-cap', 200 * 1024), { qos: 1 });
  const over = await replyTo(centre, 'over-cap');
  assert.equal((over.json.error as { code?: string }).code, 'too-large', over.text);

  await centre.client.publishAsync(cmd, manyKeys('huge', 20 * 1024 * 1024), { qos: 1 });
  // The broker forwards the agent's messages in order, and the agent answers a command that is
  // too large before it awaits anything: had "huge" reached it, its reply would come first.
  const { messageId } = await sendPing(centre, site);
  assert.equal((await replyTo(centre, messageId)).json.ok, true);
  assert.equal(centre.messages.filter((m) => m.json.requestId === 'huge').length, 0, 'the broker delivered the 20 MB command');
  assert.equal(centre.messages.filter((m) => m.topic === `camgate/v1/${site}/birth`).length, 1, 'the agent reconnected');
  agentAlive(agent);
});

test('replies never go to a command topic: ping with replyTo / responseTopic camgate/v1/<site>/cmd/rebirth does not make the agent command itself', async (t) => {
  const site = 'abuse-loop';
  const rig = await startSite(t, { site });
  const centre = rig.centre!;
  await centre.waitFor((m) => m.topic === `camgate/v1/${site}/birth`, 30_000, 'the birth');
  const loop = `camgate/v1/${site}/cmd/rebirth`;
  // 3.1.1 style: the reply topic in the payload.
  await centre.client.publishAsync(`camgate/v1/${site}/cmd/ping`, JSON.stringify({ schemaVersion: 1, messageId: 'loop-payload', replyTo: loop }), {
    qos: 1,
  });
  // MQTT 5: the responseTopic property; other topics the agent owns are no better.
  for (const [id, topic] of [
    ['loop-props', loop],
    ['loop-state', `camgate/v1/${site}/state`],
    ['loop-status', `camgate/v1/${site}/cameras/x/status`],
  ]) {
    await centre.client.publishAsync(`camgate/v1/${site}/cmd/ping`, JSON.stringify({ schemaVersion: 1, messageId: id }), {
      qos: 1,
      properties: { responseTopic: topic },
    });
  }
  for (const id of ['loop-payload', 'loop-props', 'loop-state', 'loop-status']) {
    const r = await replyTo(centre, id);
    assert.equal(r.topic, `camgate/v1/${site}/reply`, `${id} answered on ${r.topic}`);
    assert.equal((r.json.error as { code?: string }).code, 'bad-reply-topic');
  }
  const { messageId } = await sendPing(centre, site);
  await replyTo(centre, messageId);
  const agentOnCmd = centre.messages.filter((m) => parseTopic(m.topic)?.kind === 'cmd' && m.json.kind !== undefined);
  assert.deepEqual(
    agentOnCmd.map((m) => m.topic),
    [],
    'the agent published on a command topic',
  );
  assert.equal(centre.messages.filter((m) => m.json.command === 'rebirth').length, 0, 'a rebirth ran');
});

// --- floods of work ------------------------------------------------------------------------

interface HangingDevice {
  /** Connections open now, the most open at once, and every one ever accepted. */
  open(): number;
  maxOpen(): number;
  accepted(): number;
}

/** A hostile device: accepts TCP on `ports` of `host` and never answers a byte. */
async function hangingDevice(t: TestContext, host: string, ports: number[]): Promise<HangingDevice> {
  let open = 0;
  let maxOpen = 0;
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  for (const port of ports) {
    const server = net.createServer((socket) => {
      accepted++;
      open++;
      maxOpen = Math.max(maxOpen, open);
      sockets.add(socket);
      // Reading (and ignoring) what arrives is what lets the end of the connection be seen.
      socket.resume();
      socket.on('error', () => undefined);
      socket.on('close', () => {
        open--;
        sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    t.after(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    );
  }
  return { open: () => open, maxOpen: () => maxOpen, accepted: () => accepted };
}

const FLOOD_CONCURRENCY = 2;

/** probe-now at 100 per second for `seconds`; resolves with the reply of each, in order sent. */
async function flood(centre: Recorder, site: string, seconds: number): Promise<Received[]> {
  const ids: string[] = [];
  const started = Date.now();
  for (let i = 0; i < seconds * 100; i++) {
    const messageId = `flood-${i}`;
    ids.push(messageId);
    centre.client.publish(`camgate/v1/${site}/cmd/probe-now`, JSON.stringify({ schemaVersion: 1, messageId, args: {} }), { qos: 1 });
    const wait = started + (i + 1) * 10 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await centre.waitUntil((all) => ids.every((id) => all.some((m) => m.json.kind === 'reply' && m.json.requestId === id)), 60_000, 'a reply to every probe-now');
  return ids.map((id) => centre.messages.find((m) => m.json.kind === 'reply' && m.json.requestId === id)!);
}

function codes(replies: Received[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) {
    const code = r.json.ok ? 'ok' : String((r.json.error as { code?: string }).code);
    out[code] = (out[code] ?? 0) + 1;
  }
  return out;
}

for (const healthEnabled of [false, true]) {
  test(`probe-now at 100/s against hanging devices (health ${healthEnabled ? 'on' : 'off'}): at most ${FLOOD_CONCURRENCY} run, the rest are busy, and a timed-out probe's connections close at once`, async (t) => {
    const site = `abuse-flood-${healthEnabled ? 'h' : 'n'}`;
    const rtspHost = healthEnabled ? '127.66.1.2' : '127.66.0.2';
    const onvifHost = '127.66.0.1';
    // With health on, an ONVIF device's own scheduled clock check would also hang here: the RTSP
    // device's reachability is a bare TCP connect, so every connection left open is a command's.
    const devices = [await hangingDevice(t, rtspHost, [554])];
    if (!healthEnabled) devices.push(await hangingDevice(t, onvifHost, [80]));
    const planted: DeviceReport[] = [
      {
        ...report({ host: rtspHost, endpointUuid: 'urn:uuid:6e000000-0000-4000-8000-000000000002' }),
        driver: 'rtsp' as const,
        port: 554,
        url: `rtsp://${rtspHost}:554/main`,
      },
    ];
    if (!healthEnabled)
      planted.push({
        ...report({ host: onvifHost, endpointUuid: 'urn:uuid:6e000000-0000-4000-8000-000000000001' }),
        driver: 'onvif' as const,
        port: 80,
        url: `http://${onvifHost}/onvif/device_service`,
      });
    const rig = await startSite(t, {
      site,
      planted,
      env: {
        CAMGATE_HEALTH_ENABLED: String(healthEnabled),
        CAMGATE_UPLINK_COMMAND_TIMEOUT_MS: '1000',
        CAMGATE_UPLINK_COMMAND_CONCURRENCY: String(FLOOD_CONCURRENCY),
        // The probes' own timeouts are far away: only cancellation closes a connection soon.
        CAMGATE_ONVIF_TIMEOUT_MS: '120000',
        CAMGATE_HEALTH_CONNECT_TIMEOUT_MS: '60000',
        CAMGATE_HEALTH_REQUEST_TIMEOUT_MS: '60000',
        CAMGATE_HEALTH_REACH_INTERVAL_SEC: '3600',
        CAMGATE_HEALTH_STREAM_INTERVAL_SEC: '0',
        CAMGATE_HEALTH_PICTURE_INTERVAL_SEC: '0',
      },
    });
    const centre = rig.centre!;
    await centre.waitFor((m) => m.topic === `camgate/v1/${site}/birth`, 30_000, 'the birth');
    const replies = await flood(centre, site, 3);
    const seen = codes(replies);
    assert.deepEqual(
      Object.keys(seen).filter((c) => c !== 'busy' && c !== 'timeout'),
      [],
      `replies: ${JSON.stringify(seen)}`,
    );
    assert.ok((seen.busy ?? 0) > 0, `no command was refused as busy: ${JSON.stringify(seen)}`);
    const busy = replies.find((r) => (r.json.error as { code?: string }).code === 'busy')!;
    assert.match(String((busy.json.error as { message?: string }).message), /uplink\.commandConcurrency/);
    // Each running probe-now holds at most one connection per device (health on: main and sub DESCRIBE).
    const perCommand = healthEnabled ? 2 : 1;
    for (const d of devices)
      assert.ok(d.maxOpen() <= FLOOD_CONCURRENCY * perCommand, `${d.maxOpen()} connections open at once to one device (accepted ${d.accepted()})`);
    await waitFor(
      () => devices.every((d) => d.open() === 0),
      'the timed-out probes to close their connections',
      15_000,
      () => `open: ${devices.map((d) => d.open()).join(', ')}`,
    );
  });
}

test('virtual clock: probe-now beyond the concurrency bound is busy at once; at the timeout the DESCRIBEs are aborted and their cut results never reach the state machine', async (t) => {
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'inv'));
  t.after(() => db.close());
  upsertDeviceReport(db, report({ host: '127.0.9.50', channels: [channel(1, '127.0.9.50')] }), { now: new Date() });
  const clock = new FakeClock();
  const config = agentConfig.load({
    env: {
      CAMGATE_SITE_ID: 'vclock',
      CAMGATE_HEALTH_STREAM_INTERVAL_SEC: '0',
      CAMGATE_HEALTH_PICTURE_INTERVAL_SEC: '0',
      CAMGATE_HEALTH_REACH_INTERVAL_SEC: '3600',
    },
  }).config;
  let describing = 0;
  let aborted = 0;
  let answer = false;
  const ok = (stream: 'main' | 'sub'): StreamCheck => ({ ok: true, stream, codec: 'H264', width: 1920, height: 1080, latencyMs: 5 });
  const probes: HealthProbes = {
    reach: async () => ({ ok: true, latencyMs: 1 }),
    clock: async () => ({ ok: true, offsetMs: 0, latencyMs: 1, deviceUtc: new Date(clock.now()).toISOString() }),
    stream: ({ stream, signal }) =>
      answer
        ? Promise.resolve(ok(stream))
        : new Promise<StreamCheck>((resolve) => {
            describing++;
            signal.addEventListener('abort', () => {
              aborted++;
              resolve({ ok: false, stream, codec: null, width: null, height: null, latencyMs: null, error: { code: 'timeout', message: 'cut' } });
            });
          }),
    picture: async () => {
      throw new Error('no pictures here');
    },
  };
  const monitor = new HealthMonitor({ db, config: config.health, probes, sink: { event: async () => 1, status: async () => 1 }, clock });
  monitor.start();
  t.after(() => monitor.stop());
  await clock.until(() => monitor.status(monitor.statuses()[0].camera)?.reach?.ok === true, { stepMs: 10, maxMs: 5000, what: 'the first reachability check' });
  const camera = monitor.statuses()[0].camera;
  const before = JSON.stringify(monitor.status(camera)?.streams ?? null);
  const handlers = agentHandlers({
    site: 'vclock',
    version: 'test',
    bootId: 'b',
    config,
    db,
    startedAt: clock.now(),
    clock,
    credentialsFor: () => undefined,
    openDriver: () => {
      throw new Error('no drivers in this test');
    },
    rebirth: async () => 0,
    session: () => ({ bdSeq: 1, connected: true }),
    health: monitor,
  });
  const dispatcher = new CommandDispatcher({ site: 'vclock', handlers, timeoutMs: 1000, clock, concurrency: FLOOD_CONCURRENCY });
  const send = (i: number) =>
    dispatcher.handle({ topic: 'camgate/v1/vclock/cmd/probe-now', payload: Buffer.from(JSON.stringify({ schemaVersion: 1, messageId: `v${i}` })) });
  const pending = Array.from({ length: 20 }, (_, i) => send(i));
  const settled: Array<string | undefined> = Array(20).fill(undefined);
  pending.forEach((p, i) => void p.then((r) => (settled[i] = r?.payload.ok ? 'ok' : r?.payload.error?.code)));
  await flush();
  await flush();
  assert.equal(settled.filter((c) => c === 'busy').length, 20 - FLOOD_CONCURRENCY, `answered before any time passed: ${settled.join(',')}`);
  assert.equal(describing, 2, 'the sweeps of the running commands share one DESCRIBE of each stream');
  await clock.advance(1000);
  await Promise.all(pending);
  assert.equal(settled.filter((c) => c === 'timeout').length, FLOOD_CONCURRENCY);
  await flush();
  assert.equal(aborted, describing, 'the DESCRIBEs of the timed-out commands were aborted');
  assert.equal(JSON.stringify(monitor.status(camera)?.streams ?? null), before, 'a cut DESCRIBE was taken as the stream failing');
  // Nothing is left queued: a later probe-now runs at once and answers.
  answer = true;
  const later = await send(99);
  assert.equal(later?.payload.ok, true, JSON.stringify(later?.payload));
  assert.equal(((later?.payload.result as { cameras: Array<{ streams: unknown[] }> }).cameras[0].streams ?? []).length, 2);
});

// --- the configuration file ----------------------------------------------------------------

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The CLI as installed (the launcher's V8 flags), with a clean CAMGATE_* environment. */
function camgate(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...launcherFlags(), BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function configProblem(r: CliRun, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code} (${r.signal ?? 'no signal'}); stderr: ${r.stderr.slice(0, 2000)}`);
  assert.match(r.stderr, pattern, what);
  assert.doesNotMatch(r.stderr, /NOT SUPPORTED|DEPRECATED|is not a function|Maximum call stack|heap out of memory/, `${what}: ${r.stderr.slice(0, 2000)}`);
}

test('config: __proto__ / constructor keys are refused with the key and line, before anything is merged', async (t) => {
  const dir = tempDir(t);
  const cases: Array<[string, string, RegExp]> = [
    ['top.yaml', 'site:\n  id: s1\n__proto__:\n  polluted: yes\n', /top\.yaml:3: .*"__proto__"/],
    ['nested.yaml', 'site:\n  id: s1\n  __proto__:\n    id: x\n', /nested\.yaml:3: .*"site\.__proto__"/],
    ['ctor.yaml', 'log:\n  constructor:\n    prototype:\n      level: debug\n', /ctor\.yaml:2: .*"log\.constructor"/],
  ];
  for (const [name, text, pattern] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text);
    configProblem(await camgate(['config', 'check', '--config', file, '--data-dir', join(dir, 'data')]), pattern, name);
  }
});

test('config: a YAML alias that contains itself, and an alias bomb, are refused with the line; a 100 MB file is refused by its size, before it is read', async (t) => {
  const dir = tempDir(t);
  const self = join(dir, 'self.yaml');
  writeFileSync(self, 'site:\n  id: s1\nbroker: &b\n  loop: *b\n');
  configProblem(await camgate(['config', 'check', '--config', self, '--data-dir', join(dir, 'data')]), /self\.yaml:4: .*alias/i, 'a recursive alias');

  const bomb = join(dir, 'bomb.yaml');
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++)
    levels.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  writeFileSync(bomb, levels.join('\n') + '\n');
  configProblem(await camgate(['config', 'check', '--config', bomb, '--data-dir', join(dir, 'data')]), /bomb\.yaml.*alias/i, 'an alias bomb');

  const huge = join(dir, 'huge.yaml');
  const fd = openSync(huge, 'w');
  try {
    writeSync(fd, 'site:\n  id: s1\ndiscovery:\n  ranges:\n');
    const chunk = '    - 127.0.0.1\n'.repeat(65536);
    for (let written = 0; written < 100 * 1024 * 1024; written += chunk.length) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  configProblem(
    await camgate(['config', 'check', '--config', huge, '--data-dir', join(dir, 'data')]),
    /huge\.yaml: is 100 MiB; a config file is at most 1 MiB/,
    'a 100 MB config',
  );
});

test('config and camera files: invalid UTF-8 is refused with the line and a hint to save as UTF-8', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'latin1.yaml');
  writeFileSync(file, Buffer.concat([Buffer.from('site:\n  id: s1\n  name: '), Buffer.from([0x43, 0x61, 0x66, 0xe9]), Buffer.from('\n')]));
  configProblem(await camgate(['config', 'check', '--config', file, '--data-dir', join(dir, 'data')]), /latin1\.yaml:3: .*UTF-8/, 'a Latin-1 config');

  const dataDir = join(dir, 'data');
  const db = openDatabase(dataDir);
  const id = upsertDeviceReport(db, report({ host: '127.0.9.60' }), { now: new Date() }).cameras[0].id;
  db.close();
  const csv = join(dir, 'gbk.csv');
  // "长坞村" in GBK, as Excel saves a CSV on Chinese Windows.
  writeFileSync(csv, Buffer.concat([Buffer.from(`id,name\n${id},`), Buffer.from([0xb3, 0xa4, 0xce, 0xeb, 0xb4, 0xe5]), Buffer.from('\n')]));
  const r = await camgate(['cameras', 'import', csv, '--data-dir', dataDir]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /line 2\b.*UTF-8/);
  assert.match(r.stderr, /nothing was imported/);
  const after = await camgate(['cameras', 'export', '--format', 'yaml', '--data-dir', dataDir]);
  assert.doesNotMatch(after.stdout, /\uFFFD/, 'a replacement character reached the ledger');
});

// --- camera files in spreadsheets ----------------------------------------------------------

const FORMULAS = {
  name: "=cmd|' /C calc'!A0",
  owner: "@SUM(1+1)*cmd|' /C calc'!A0",
  notes: '+HYPERLINK("http://127.0.0.1/x","click")',
  region: "-2+3+cmd|' /C calc'!A0",
};

test('camera export: formulas from labels and from a camera-supplied model are escaped for spreadsheets, and the edited export imports back to the same text', async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  const model = '=HYPERLINK("http://127.0.0.1/pwn","Update firmware")';
  const sim = await startSimulator({ rtsp: false, cameras: [{ host: '127.66.2.1', model, firmware: '\t=1+1' }] });
  t.after(() => sim.stop());
  const db = openDatabase(dataDir);
  const ids = await identifyInto(db, ['127.66.2.1']);
  db.close();
  const id = ids['127.66.2.1'];
  const set = await camgate([
    'cameras',
    'set',
    id,
    '--name',
    FORMULAS.name,
    '--owner',
    FORMULAS.owner,
    '--notes',
    FORMULAS.notes,
    '--lat',
    '-30.5',
    '--lon',
    '120.1',
    '--data-dir',
    dataDir,
  ]);
  assert.equal(set.code, 0, set.stderr);
  const out = join(dir, 'cameras.csv');
  const exported = await camgate(['cameras', 'export', '-o', out, '--data-dir', dataDir]);
  assert.equal(exported.code, 0, exported.stderr);
  const { parse } = await import('csv-parse/sync');
  const rows: string[][] = parse(readFileSync(out, 'utf8'), { bom: true });
  const header = rows[0];
  const row = rows[1];
  const cell = (column: string) => row[header.indexOf(column)];
  for (const [i, value] of row.entries()) {
    const dangerous = /^[=+\-@\t\r]/.test(value) && !/^[+-]?\d+(\.\d+)?$/.test(value);
    assert.ok(!dangerous, `column ${header[i]} starts a formula: ${JSON.stringify(value)}`);
  }
  assert.equal(cell('name'), `'${FORMULAS.name}`);
  assert.equal(cell('model'), `'${model}`);
  assert.equal(cell('latitude'), '-30.5', 'a negative number stays a number');
  // The installer edits the file (here: nothing) and imports it: the labels come back unchanged.
  const imported = await camgate(['cameras', 'import', out, '--data-dir', dataDir]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /0 cameras changed/);
  const yaml = (await camgate(['cameras', 'export', '--format', 'yaml', '--data-dir', dataDir])).stdout;
  const { parse: parseYaml } = await import('yaml');
  const back = (parseYaml(yaml) as { cameras: Array<Record<string, unknown>> }).cameras[0];
  assert.equal(back.name, FORMULAS.name);
  assert.equal(back.owner, FORMULAS.owner);
  assert.equal(back.notes, FORMULAS.notes);
  assert.equal(back.latitude, -30.5);
  // A text that begins with the escape itself survives the round trip too.
  const quoted = await camgate(['cameras', 'set', id, '--name', "'=already quoted", '--data-dir', dataDir]);
  assert.equal(quoted.code, 0, quoted.stderr);
  assert.equal((await camgate(['cameras', 'export', '-o', out, '--data-dir', dataDir])).code, 0);
  assert.match((await camgate(['cameras', 'import', out, '--data-dir', dataDir])).stdout, /0 cameras changed/);
  assert.equal(
    (parseYaml((await camgate(['cameras', 'export', '--format', 'yaml', '--data-dir', dataDir])).stdout) as { cameras: Array<Record<string, unknown>> })
      .cameras[0].name,
    "'=already quoted",
  );
});

// --- properties ----------------------------------------------------------------------------

const FUZZ_SITE = 'fz1';

test('property: whatever topic, payload and properties arrive, the dispatcher never throws, and its reply is bounded, valid, and never on a command topic', async () => {
  const clock = new FakeClock();
  const dispatcher = new CommandDispatcher({
    site: FUZZ_SITE,
    clock,
    timeoutMs: 1000,
    handlers: {
      ping: async () => ({ pong: true }),
      rebirth: async () => ({ bdSeq: 1 }),
      'probe-now': async (args) => {
        throw new Error(`device said: ${'x'.repeat(100_000)} ${JSON.stringify(args)}`);
      },
    },
  });
  const prefix = `camgate/v1/${FUZZ_SITE}/`;
  const topic = fc.oneof(
    fc.constantFrom('ping', 'rebirth', 'probe-now', 'snapshot', '__proto__', 'constructor', 'x'.repeat(70_000)).map((n) => `${prefix}cmd/${n}`),
    fc.string({ maxLength: 40 }).map((n) => `${prefix}cmd/${n}`),
    fc.string({ maxLength: 60 }),
  );
  const replyTopic = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(
      `${prefix}reply`,
      `${prefix}reply/x`,
      `${prefix}cmd/rebirth`,
      `${prefix}state`,
      `${prefix}reply/#`,
      `${prefix}reply/+`,
      'elsewhere',
      `${prefix}reply/${'y'.repeat(70_000)}`,
    ),
    fc.string({ maxLength: 80 }).map((s) => prefix + s),
  );
  const request = fc.record(
    {
      schemaVersion: fc.oneof(fc.constant(1), fc.anything()),
      messageId: fc.oneof(fc.string({ maxLength: 40 }), fc.anything(), fc.constant('z'.repeat(100_000))),
      site: fc.oneof(fc.constant(FUZZ_SITE), fc.string(), fc.constant('s'.repeat(100_000))),
      replyTo: replyTopic,
      correlationId: fc.oneof(fc.string({ maxLength: 300 }), fc.constant('c'.repeat(100_000))),
      args: fc.oneof(fc.object(), fc.dictionary(fc.string({ maxLength: 30 }), fc.anything(), { maxKeys: 200 }), fc.anything()),
    },
    { requiredKeys: [] },
  );
  const payload = fc.oneof(
    request.map((r) => Buffer.from(JSON.stringify(r) ?? '')),
    fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
    fc.string({ maxLength: 2048 }).map((s) => Buffer.from(s)),
    fc.integer({ min: 60_000, max: 300_000 }).map((n) => Buffer.from(manyKeys('fz', n))),
  );
  const props = fc.record(
    { responseTopic: replyTopic, correlationData: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constant(new Uint8Array(70_000))).map((b) => Buffer.from(b)) },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(topic, payload, props, async (t, p, extra) => {
      const input: IncomingCommand = { topic: t, payload: p };
      if (extra.responseTopic !== undefined) input.responseTopic = extra.responseTopic;
      if (extra.correlationData !== undefined) input.correlationData = extra.correlationData;
      const r = await dispatcher.handle(input);
      if (!r) return;
      const text = JSON.stringify(r.payload);
      assert.ok(text.length <= REPLY_MAX, `a reply of ${text.length} bytes`);
      assert.equal(parseTopic(r.topic)?.kind, 'reply', `replied on ${r.topic}`);
      const v = validatePayload('reply', JSON.parse(text));
      assert.ok(v.ok, v.errors.join('; '));
      assert.ok((r.correlationData?.length ?? 0) <= 256, 'echoed correlation data is bounded');
    }),
    { numRuns: 400, seed: 0x5eed0c4d },
  );
});

test('property: any YAML text (and any bytes) up to 8 KB loads as a config or fails as a ConfigError, and never pollutes Object.prototype', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'fuzz.yaml');
  // Lines of `key: value` at some indentation: mostly well-formed YAML, so the loader gets past
  // the parser and the keys and aliases reach the layers.
  const key = fc.constantFrom(
    'site',
    'id',
    'name',
    'log',
    'level',
    'discovery',
    'ranges',
    'broker',
    '__proto__',
    'constructor',
    'prototype',
    'polluted',
    '<<',
    'x',
  );
  const value = fc.constantFrom(
    '',
    'v',
    '1',
    '&a',
    '*a',
    '&a v',
    '&b',
    '*b',
    '[*a]',
    '{}',
    '[]',
    '{ p: 1 }',
    '"\\u0000"',
    '!!binary AAAA',
    '!!js/function x',
    "'q'",
  );
  const line = fc.tuple(fc.integer({ min: 0, max: 3 }), key, value).map(([indent, k, v]) => `${'  '.repeat(indent)}${k}: ${v}\n`);
  const piece = fc.constantFrom('- ', '[', ']', '{', '}', ': ', '\t', '\n', '  ', '%YAML 1.1\n---\n', '---\n', '...\n', '\u00e9', '\ufeff');
  const text = fc.oneof(
    fc.array(line, { maxLength: 40 }).map((a) => Buffer.from(a.join(''))),
    fc.array(fc.oneof(line, piece), { maxLength: 60 }).map((a) => Buffer.from(a.join(''))),
    fc.string({ maxLength: 2048 }).map((s) => Buffer.from(s)),
    fc.uint8Array({ maxLength: 8192 }).map((b) => Buffer.from(b)),
  );
  fc.assert(
    fc.property(text, (bytes) => {
      writeFileSync(file, bytes);
      try {
        agentConfig.load({ file, env: {} });
      } catch (err) {
        assert.ok(
          err instanceof ConfigError,
          `${(err as Error)?.constructor?.name}: ${(err as Error)?.message} for ${JSON.stringify(bytes.toString('latin1'))}`,
        );
      }
      const polluted = Object.getOwnPropertyNames(Object.prototype).filter((k) => !ORIGINAL_PROTOTYPE.has(k));
      // Undone at once, so the next run (and the shrinking) starts clean.
      for (const k of polluted) delete (Object.prototype as Record<string, unknown>)[k];
      assert.deepEqual(polluted, [], 'Object.prototype polluted');
    }),
    { numRuns: 500, seed: 0x0c0ff1e },
  );
});

const ORIGINAL_PROTOTYPE = new Set(Object.getOwnPropertyNames(Object.prototype));
