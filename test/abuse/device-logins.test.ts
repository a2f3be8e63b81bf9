// Abuse tests: the cameras' logins (docs/security.md). Each test plays the
// attacker with real peers: a rogue device on a loopback address, the real CLI and agent, real
// ffmpeg processes read through /proc like `ps` does, a real Mosquitto with a recording centre.
// This file owns 127.141.0.0/16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { startSimulator } from '../../scripts/sim/index';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { startSrtListener } from '../../scripts/peers/media-server';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { getCamera } from '../../agent/inventory/cameras';
import type { DeviceReport } from '../../drivers/types';
import { Authenticator, parseChallenge, pickChallenge } from '../../drivers/auth';
import { RtspFramer, serialize, type RtspMessage } from '../../drivers/rtsp/gate';
import type { LiveMessage } from '../../agent/video/live/types';
import { createLogger } from '../../lib/log';
import { scrubLogText } from '../../lib/redact';
import { startSite, SIM_LOGIN } from '../kit/site';
import { recorder } from '../kit/mqtt';
import { tempDir } from '../kit/temp';
import { waitFor } from '../kit/wait';
import { BIN, runCli } from '../agent/helpers';

/** This file's own site password: nothing else on the box carries it, so any process list is searched for it. */
const SITE_PASSWORD = `Dl-${process.pid}-s3cret/pw`;

function basicOf(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAMGATE_') && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

interface Seen {
  method: string;
  userAgent: string;
  authorization?: string;
}

/** A device that answers every RTSP DESCRIBE and every HTTP GET with 401 Basic, and keeps every Authorization it is sent. */
async function rogueBasicDevice(t: { after(fn: () => unknown): void }, host: string) {
  const rtsp: Seen[] = [];
  const http: Seen[] = [];
  const rtspServer = net.createServer((socket) => {
    let buf = '';
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const lines = buf.slice(0, end).split('\r\n');
        buf = buf.slice(end + 4);
        const h = (name: string) =>
          lines
            .find((l) => l.toLowerCase().startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim();
        const method = lines[0].split(' ')[0];
        rtsp.push({ method, userAgent: h('user-agent') ?? '', ...(h('authorization') ? { authorization: h('authorization') } : {}) });
        const cseq = h('cseq') ?? '0';
        socket.write(
          method === 'OPTIONS'
            ? `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n`
            : `RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="IP Camera"\r\n\r\n`,
        );
      }
    });
  });
  const httpServer = createServer((rq, rs) => {
    http.push({
      method: rq.method ?? '',
      userAgent: rq.headers['user-agent'] ?? '',
      ...(rq.headers.authorization ? { authorization: rq.headers.authorization } : {}),
    });
    rs.writeHead(401, { 'WWW-Authenticate': 'Basic realm="IP Camera"' });
    rs.end();
  });
  await new Promise<void>((r) => rtspServer.listen(0, host, r));
  await new Promise<void>((r) => httpServer.listen(0, host, r));
  t.after(() => {
    rtspServer.close();
    httpServer.closeAllConnections();
    httpServer.close();
  });
  return { rtsp, http, rtspPort: (rtspServer.address() as AddressInfo).port, httpPort: (httpServer.address() as AddressInfo).port };
}

interface RunningCli {
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<number | null>;
}

function runAgent(env: Record<string, string>): RunningCli {
  const child = spawn(process.execPath, [BIN, 'run'], { env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

test('a rogue device answering 401 Basic never gets the site login from `camgate run` (DESCRIBE, picture probe through ffmpeg, snapshot), the status says why; --allow-basic-auth sends it', async (t) => {
  const host = '127.141.1.2';
  const rogue = await rogueBasicDevice(t, host);
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  const db = openDatabase(dataDir);
  const report: DeviceReport = {
    driver: 'rtsp',
    host,
    port: rogue.rtspPort,
    url: `rtsp://${host}:${rogue.rtspPort}/main`,
    identity: {},
    isNvr: false,
    channels: [
      {
        channel: 1,
        profiles: [
          { token: 'main', codec: 'H264', streamUri: `rtsp://${host}:${rogue.rtspPort}/main`, snapshotUri: `http://${host}:${rogue.httpPort}/snap.jpg` },
          { token: 'sub', codec: 'H264', streamUri: `rtsp://${host}:${rogue.rtspPort}/sub` },
        ],
      },
    ],
  };
  const camera = upsertDeviceReport(db, report, { now: new Date() }).cameras[0].id;
  db.close();
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const centre = await recorder(t, broker.url, 'camgate/v1/abuse-basic/#');
  const env = {
    CAMGATE_SITE_ID: 'abuse-basic',
    CAMGATE_DATA_DIR: dataDir,
    CAMGATE_BROKER_URLS: broker.url,
    CAMGATE_CAMERAS_USERNAME: 'admin',
    CAMGATE_PASSWORD: SITE_PASSWORD,
    CAMGATE_WEB_PORT: '0',
    CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0',
    CAMGATE_HEALTH_PICTURE_SECONDS: '1',
    CAMGATE_HEALTH_PICTURE_FRAMES: '2',
    // The picture result at its first probe: this test is about logins, not confirming faults.
    CAMGATE_HEALTH_PICTURE_CONFIRM_PROBES: '1',
  };

  const agent = runAgent(env);
  t.after(() => agent.stop());
  const harvested = () => [...rogue.rtsp, ...rogue.http].filter((s) => s.authorization);
  // The describe probe, ffmpeg's picture probe (through the agent's RTSP gate) and the snapshot fallback all asked.
  const status = await waitFor(
    () => {
      const reason = [...centre.messages].reverse().find((m) => m.topic.endsWith(`/cameras/${camera}/status`) && /picture/.test(String(m.json.reason)))?.json;
      return rogue.rtsp.some((s) => s.method === 'DESCRIBE' && s.userAgent === 'camgate') &&
        rogue.rtsp.some((s) => s.method === 'DESCRIBE' && /^Lavf/.test(s.userAgent)) &&
        rogue.http.length > 0
        ? reason
        : undefined;
    },
    'DESCRIBE from the health probe and from ffmpeg, a snapshot request, and a status with the picture result',
    30_000,
    () => `rtsp ${JSON.stringify(rogue.rtsp)} http ${JSON.stringify(rogue.http)} agent: ${agent.stderr().slice(-2000)}`,
  );
  assert.deepEqual(harvested(), [], 'no Authorization at all went to the device that asks for Basic');
  const reason = String(status.reason);
  assert.match(reason, /main stream: .*asks for Basic authentication \(the password in cleartext\): not sent/);
  assert.match(reason, new RegExp(`camgate cameras set ${camera} --allow-basic-auth`));
  assert.match(reason, /no picture: .*asks for Basic authentication/);
  const streams = status.streams as Array<{ error?: { code: string } }>;
  assert.deepEqual(
    streams.map((s) => s.error?.code),
    ['basic-auth-refused', 'basic-auth-refused'],
  );
  assert.equal((status.picture as { error?: { code: string } }).error?.code, 'basic-auth-refused');
  assert.equal(await agent.stop(), 0);
  const warnings = agent
    .stderr()
    .split('\n')
    .filter((l) => l.includes('"problem":"basic-auth-refused"'))
    .map((l) => JSON.parse(l) as { level: number; msg: string });
  assert.ok(warnings.length >= 1 && warnings.every((w) => w.level === 40), agent.stderr());
  assert.ok(!agent.stderr().includes(SITE_PASSWORD));

  // The installer's per-device setting: then (and only then) the login goes as Basic.
  const set = await runCli(['cameras', 'set', camera, '--allow-basic-auth', '--data-dir', dataDir]);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /Basic auth allowed/);
  const allowed = runAgent(env);
  t.after(() => allowed.stop());
  const sent = basicOf('admin', SITE_PASSWORD);
  await waitFor(
    () => rogue.rtsp.some((s) => s.authorization === sent) && rogue.http.some((s) => s.authorization === sent),
    'the login sent as Basic once allowed',
    30_000,
  );
  assert.equal(await allowed.stop(), 0);
});

/** Every process descendant of this one (the agent's ffmpeg included: setpriv execs ffmpeg in place). */
function descendants(): Array<{ pid: number; comm: string; cmdline: string[] }> {
  const all: Array<{ pid: number; ppid: number; comm: string }> = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      all.push({
        pid: Number(e),
        comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]),
      });
    } catch {
      // gone
    }
  }
  const out: Array<{ pid: number; comm: string; cmdline: string[] }> = [];
  const queue = [process.pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const p of all.filter((c) => c.ppid === parent)) {
      queue.push(p.pid);
      try {
        out.push({ pid: p.pid, comm: p.comm, cmdline: readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').filter(Boolean) });
      } catch {
        // gone
      }
    }
  }
  return out;
}

test('no ffmpeg of the agent (relay, MSE and JSMpeg live pulls, picture probe) has a camera login in its arguments (/proc/<pid>/cmdline); a link read from ps is useless', async (t) => {
  const site = await startSite(t, {
    site: 'abuse-ps',
    cameras: [{ host: '127.141.2.2' }],
    env: { CAMGATE_HEALTH_PICTURE_INTERVAL_SEC: '0', CAMGATE_HEALTH_PICTURE_SECONDS: '2', CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0' },
  });
  // The cameras require RTSP Digest: every stream below is proof the gate logged in for ffmpeg.
  assert.ok(site.sim);
  const camera = site.ids['127.141.2.2'];
  const secrets = [SIM_LOGIN.password, encodeURIComponent(SIM_LOGIN.password)];
  const seen = new Map<number, string[]>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      for (const p of descendants()) if (p.comm === 'ffmpeg' && !seen.has(p.pid)) seen.set(p.pid, p.cmdline);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  t.after(async () => {
    watching = false;
    await watch;
  });

  await waitFor(() => site.centre!.messages.some((m) => m.topic.endsWith('/birth')), 'the agent online (it takes commands)');
  const srt = await startSrtListener({ host: '127.141.2.9' });
  t.after(() => srt.stop());
  const started = await site.command('stream-start', { camera, stream: 'sub', target: srt.url });
  assert.equal(started.ok, true, JSON.stringify(started));
  const got: Record<string, number> = { mse: 0, jsmpeg: 0 };
  const viewer = (mode: string) => ({
    bufferedAmount: 0,
    send: (m: LiveMessage) => void (m.type === 'fragment' || m.type === 'ts' ? got[mode]++ : undefined),
  });
  const video = site.agent.video!;
  const mse = await video.pulls.join(camera, { stream: 'main', mode: 'mse' }, viewer('mse'));
  const jsmpeg = await video.pulls.join(camera, { stream: 'sub', mode: 'jsmpeg' }, viewer('jsmpeg'));
  t.after(() => {
    mse.leave();
    jsmpeg.leave();
  });
  const [status] = await site.agent.health!.sweepNow([camera], { picture: true });
  assert.equal(status.picture?.ok, true, JSON.stringify(status.picture));
  await waitFor(
    () => got.mse > 0 && got.jsmpeg > 0 && srt.bytes() > 0,
    'pictures through every kind of ffmpeg',
    30_000,
    () => JSON.stringify({ got, srt: srt.bytes() }),
  );
  watching = false;
  await watch;

  const agentFfmpegs = [...seen.values()].filter((args) => args.includes('-i') && /^rtsp:/.test(args[args.indexOf('-i') + 1]));
  const kinds = {
    relay: agentFfmpegs.filter((a) => a.some((x) => x.startsWith('srt://'))).length,
    mse: agentFfmpegs.filter((a) => a.includes('mp4')).length,
    jsmpeg: agentFfmpegs.filter((a) => a.includes('mpeg1video')).length,
    picture: agentFfmpegs.filter((a) => a.includes('rawvideo')).length,
  };
  assert.ok(
    Object.values(kinds).every((n) => n >= 1),
    `every kind of ffmpeg seen: ${JSON.stringify(kinds)}`,
  );
  for (const args of seen.values()) {
    const line = args.join(' ');
    for (const s of secrets) assert.ok(!line.includes(s), `a camera password in an ffmpeg command line: ${line}`);
    assert.doesNotMatch(line, /rtsp:\/\/[^/\s]*@/, 'no user:password@ in any URL');
  }
  const inputs = agentFfmpegs.map((a) => a[a.indexOf('-i') + 1]);
  assert.ok(
    inputs.every((u) => /^rtsp:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{24}\//.test(u)),
    inputs.join('\n'),
  );

  // What another local user does with a link read from ps: the gate refuses it (one connection per link).
  const stolen = inputs[0];
  const { port } = new URL(stolen);
  const answer = await new Promise<string>((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1', () => s.write(`DESCRIBE ${stolen} RTSP/1.0\r\nCSeq: 1\r\n\r\n`));
    let text = '';
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('close', () => resolve(text));
    s.on('error', reject);
  });
  assert.match(answer, /^RTSP\/1\.0 404 /);
});

test('a relay to srt://…?passphrase=… that fails logs no passphrase or streamid in any field; events and replies stay redacted', async (t) => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', format: 'json', destination: { write: (l: string) => lines.push(l) } });
  const site = await startSite(t, {
    site: 'abuse-logs',
    cameras: [{ host: '127.141.3.2' }],
    env: { CAMGATE_HEALTH_ENABLED: 'false', CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0', CAMGATE_VIDEO_RESTART_MIN_MS: '200' },
    logger,
  });
  const camera = site.ids['127.141.3.2'];
  await waitFor(() => site.centre!.messages.some((m) => m.topic.endsWith('/birth')), 'the agent online (it takes commands)');
  const passphrase = `Pp-${process.pid}-x/y+z`;
  const session = `sess${process.pid}tok`;
  // Nothing listens there: the SRT handshake fails and ffmpeg quotes the URL in its error.
  const target = `srt://127.141.3.9:9?mode=caller&passphrase=${passphrase}&streamid=#!::r=live/cam,m=publish,s=${session}`;
  const reply = await site.command('stream-start', { camera, stream: 'sub', target });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  await waitFor(
    () => site.events('stream-retrying', camera).length > 0 && lines.some((l) => /"level":40/.test(l) && /retrying/.test(l)),
    'the relay fails and retries',
    30_000,
  );
  await site.command('stream-stop', { camera });
  const warn = lines.filter((l) => /"level":40/.test(l));
  assert.ok(
    warn.some((l) => /srt:\/\/127\.141\.3\.9:9\?mode=caller&passphrase=\*\*\*/.test(l)),
    `the warning names the target, redacted: ${warn.join('')}`,
  );
  for (const l of lines) {
    assert.ok(!l.includes(passphrase) && !l.includes(encodeURIComponent(passphrase)), `passphrase in a log line: ${l}`);
    assert.ok(!l.includes(session), `streamid session in a log line: ${l}`);
  }
  // What the agent published (the centre's own command carries the target as it was given).
  const published = JSON.stringify(site.centre!.messages.filter((m) => !m.topic.includes('/cmd/')).map((m) => m.json));
  assert.ok(published.includes('stream-retrying') && !published.includes(passphrase), 'passphrase in what the agent published');
});

test("a device at another address claiming a camera's serial/UUID/MAC takes nothing over (`cameras add`, `discover`): a pending move, the stored login not sent, until confirm-move", async (t) => {
  const real = '127.141.4.2';
  const impostor = '127.141.4.3';
  const identity = { uuid: '5e0e7a11-0000-4000-8141-000000000402', serial: 'DS-2CD-4141-0402', mac: '44:19:b6:41:04:02' };
  // The impostor accepts the real camera's password: if that login were sent to it, it would identify fine.
  const sim = await startSimulator({
    cameras: [
      { host: real, password: SITE_PASSWORD, ...identity },
      { host: impostor, password: SITE_PASSWORD, ...identity },
    ],
    rtsp: false,
  });
  t.after(() => sim.stop());
  const dir = tempDir(t);
  const cli = (args: string[], input?: string, env: Record<string, string> = {}) =>
    runCli([...args, '--data-dir', dir], { ...(input !== undefined ? { input } : {}), env, timeoutMs: 20_000 });
  // The camera is found by discovery (which records its endpoint UUID), then gets its own login.
  const first = await cli(['discover', '--no-multicast', '--range', real, '--json'], undefined, {
    CAMGATE_CAMERAS_USERNAME: 'admin',
    CAMGATE_PASSWORD: SITE_PASSWORD,
  });
  assert.equal(first.code, 0, first.stderr);
  const camera = (JSON.parse(first.stdout) as { devices: Array<{ deviceId: string }> }).devices[0].deviceId;
  const own = await cli(['cameras', 'set', camera, '--username', 'admin', '--password', '-'], `${SITE_PASSWORD}\n`);
  assert.equal(own.code, 0, own.stderr);
  const before = JSON.parse((await cli(['cameras', 'show', camera, '--json'])).stdout) as { device: { host: string }; profiles: Array<{ streamUri: string }> };
  assert.equal(before.device.host, real);

  // Discovery again, no site default configured: the impostor answers with the camera's UUID and
  // could identify only with the camera's stored login. Refused means that login was not sent.
  const discovered = await cli(['discover', '--no-multicast', '--range', impostor, '--json']);
  const found = (JSON.parse(discovered.stdout) as { devices: Array<{ address: string; ok: boolean; error?: { code: string } }> }).devices;
  assert.deepEqual(
    found.map((d) => [d.address, d.ok, d.error?.code]),
    [[`${impostor}:80`, false, 'auth']],
    `the impostor was not given the stored login: ${discovered.stdout}`,
  );
  assert.equal(JSON.parse((await cli(['cameras', 'show', camera, '--json'])).stdout).device.host, real);

  // An installer adds the impostor's address by hand (with the site's usual password).
  const claim = await cli(['cameras', 'add', 'onvif', impostor, '--username', 'admin', '--password', '-'], `${SITE_PASSWORD}\n`);
  assert.equal(claim.code, 0, claim.stderr);
  assert.match(claim.stdout, new RegExp(`claims to be ${camera} .*recorded at ${real}:80: saved as a pending move`));
  const during = JSON.parse((await cli(['cameras', 'show', camera, '--json'])).stdout) as typeof before & { pendingMove: { to: string; matched: string[] } };
  assert.equal(during.device.host, real, 'the record stays at the real camera');
  assert.deepEqual(
    during.profiles.map((p) => p.streamUri),
    before.profiles.map((p) => p.streamUri),
    'the stream URIs still point at the real camera',
  );
  assert.equal(during.pendingMove.to, `${impostor}:80`);
  // `cameras add` asks no probe, so no UUID: the serial and the MAC are what it claims.
  assert.deepEqual(during.pendingMove.matched, ['serial', 'mac']);
  const list = await cli(['cameras', 'list']);
  assert.match(list.stdout, new RegExp(`pending moves \\(1\\).*\\n.*${camera}.*${impostor}:80 .*confirm-move ${camera}`));
  // The agent's login for the camera goes to the recorded address only.
  const db = openDatabase(dir);
  assert.equal(getCamera(db, camera)?.device.host, real);
  db.close();

  // Confirmed by the installer: only now does the record (and its login) move.
  const confirmed = await cli(['cameras', 'confirm-move', camera, '--yes']);
  assert.equal(confirmed.code, 0, confirmed.stderr);
  const after = JSON.parse((await cli(['cameras', 'show', camera, '--json'])).stdout) as typeof during;
  assert.equal(after.device.host, impostor);
  assert.equal(after.pendingMove, null);
  assert.ok(after.profiles.every((p) => p.streamUri.includes(impostor)));
});

// --- properties -----------------------------------------------------------------------------

test('property: Basic is never answered unless allowed, whatever the challenges', () => {
  const scheme = fc.constantFrom('Basic', 'basic', 'BASIC', 'Digest', 'digest', 'Negotiate', 'Bearer', 'NTLM');
  const param = fc.tuple(fc.constantFrom('realm', 'nonce', 'qop', 'algorithm', 'opaque', 'stale'), fc.string({ maxLength: 12 }));
  const challenge = fc
    .tuple(scheme, fc.array(param, { maxLength: 4 }))
    .map(([s, ps]) => `${s} ${ps.map(([k, v]) => `${k}="${v.replace(/["\\]/g, '')}"`).join(', ')}`);
  fc.assert(
    fc.property(fc.array(fc.oneof(challenge, fc.string({ maxLength: 40 })), { maxLength: 5 }), (values) => {
      const choice = pickChallenge(values, { allowBasic: false });
      if (typeof choice !== 'string') {
        assert.equal(choice.scheme, 'digest');
        assert.doesNotMatch(new Authenticator({ username: 'u', password: 'p' }, choice).header('DESCRIBE', 'rtsp://h/x'), /^Basic/);
      }
      const allowed = pickChallenge(values, { allowBasic: true });
      // Digest still wins when offered.
      if (typeof choice !== 'string') assert.equal(typeof allowed !== 'string' && allowed.scheme, 'digest');
    }),
    { numRuns: 400, seed: 141 },
  );
  assert.throws(() => new Authenticator({ username: 'u', password: 'p' }, parseChallenge('Basic realm="x"')!).header('GET', '/'), /not allowed/);
});

test('property: the gate framer passes interleaved frames through byte for byte and finds every message, however the stream is cut', () => {
  const frame = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 })).map(([ch, data]) => {
    const b = Buffer.alloc(4 + data.length);
    b[0] = 0x24;
    b[1] = ch;
    b.writeUInt16BE(data.length, 2);
    Buffer.from(data).copy(b, 4);
    return { kind: 'frame' as const, bytes: b };
  });
  const message = fc.tuple(fc.integer({ min: 100, max: 599 }), fc.string({ maxLength: 60 })).map(([status, body]) => {
    const m: RtspMessage = {
      start: `RTSP/1.0 ${status} OK`,
      headers: [['CSeq', String(status)]],
      body: Buffer.from(body.replace(/[^\x20-\x7e]/g, ''), 'latin1'),
    };
    return { kind: 'message' as const, bytes: serialize(m), m };
  });
  fc.assert(
    fc.property(
      fc.array(fc.oneof(frame, message), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }),
      (parts, cuts) => {
        const wire = Buffer.concat(parts.map((p) => p.bytes));
        const data: Buffer[] = [];
        const messages: RtspMessage[] = [];
        const framer = new RtspFramer({ data: (b) => data.push(Buffer.from(b)), message: (m) => messages.push(m) }, 1 << 16);
        let off = 0;
        for (let i = 0; off < wire.length; i++) {
          const n = cuts[i % cuts.length];
          framer.push(wire.subarray(off, off + n));
          off += n;
        }
        const frames = Buffer.concat(parts.filter((p) => p.kind === 'frame').map((p) => p.bytes));
        assert.deepEqual(Buffer.concat(data), frames);
        const expected = parts.flatMap((p) => (p.kind === 'message' ? [p.m] : []));
        assert.deepEqual(
          messages.map((m) => [m.start, m.body.toString('latin1')]),
          expected.map((m) => [m.start, m.body.toString('latin1')]),
        );
      },
    ),
    { numRuns: 300, seed: 1410 },
  );
});

test('property: a secret URL parameter never survives a log line, in any field or message', () => {
  // Starts with what no surrounding text has, then anything a passphrase may hold but & and spaces.
  const secret = fc.tuple(fc.stringMatching(/^[A-Z0-9]{6,12}$/), fc.stringMatching(/^[A-Z0-9/#+!:,=;]{0,18}$/)).map(([a, b]) => a + b);
  const name = fc.constantFrom('passphrase', 'password', 'token', 'key', 'streamid', 'secret', 'sig', 'PassPhrase');
  const context = fc.stringMatching(/^[a-z .:-]{0,30}$/);
  fc.assert(
    fc.property(secret, name, context, context, fc.boolean(), (value, param, before, after, json) => {
      const url = `srt://127.0.0.1:9000?mode=caller&${param}=${value}&latency=200`;
      const text = `${before} ${url} ${after}`;
      const line = json ? `${JSON.stringify({ level: 40, reason: text, msg: `ffmpeg: ${text}` })}\n` : `${text}\n`;
      const out = scrubLogText(line);
      assert.ok(!out.includes(value), out);
      assert.match(out, /latency=200/);
    }),
    { numRuns: 500, seed: 1411 },
  );
});
