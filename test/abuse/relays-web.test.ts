// Attacks on the relays to the centre and on the live page, made as an attacker would make them:
// stream-start commands over a real Mosquitto to a real agent relaying a simulated camera with
// real ffmpeg (a target carrying CR/LF headers to a loopback TCP recorder; SRT listener and
// rendezvous targets that would turn the box into a stream server; hosts outside the site's
// allow-list), DNS rebinding with raw HTTP requests and WebSocket handshakes carrying a forged
// Host and Origin, and password guessing against the agent's page (lockout, Retry-After, the
// audit event at the centre, the log line) and on the virtual clock. Seeded, bounded property
// tests hold the target parser to ffmpeg's own way of reading a URL. Loopback 127.91.1.0/24 and
// 127.91.2.0/24 belong to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { request as httpRequest } from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { startSite, type SiteRig } from '../kit/site';
import { command } from '../kit/mqtt';
import { captureLogger } from '../kit/logger';
import { FakeClock } from '../kit/clock';
import { tempDir } from '../kit/temp';
import { waitFor } from '../kit/wait';
import { channel, report } from '../kit/reports';
import { probeStream, startSrtListener } from '../../scripts/peers/media-server';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { startWebServer } from '../../agent/web/server';
import { WebAuth, type AuthVerdict } from '../../agent/web/auth';
import { clientOf, LoginGuard, type LoginLockout } from '../../lib/login-guard';
import { loginLockedEvent } from '../../agent/web/view-audit';
import { allowedHosts, checkTarget } from '../../agent/video/relay/args';
import { eventPayload, parseRelayTarget, RelayTargetError, validateCommandArgs, validatePayload } from '../../contract';
import { createLogger } from '../../lib/log';
import { WEB_DEFAULTS } from '../web/helpers';

const SEED = 9107;
const PASSWORD = 'Gu3ss-me-if-you-can';
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

// --- peers of this file --------------------------------------------------------------------------

/** A TCP server that keeps every byte each connection sends (and answers nothing). */
async function tcpRecorder(host: string): Promise<{ port: number; text(): string; connections(): number; close(): Promise<void> }> {
  const chunks: Buffer[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    text: () => Buffer.concat(chunks).toString('latin1'),
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A UDP port nobody uses on `host` now. */
async function freeUdpPort(host: string): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, host, () => resolve());
  });
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

/** Can this process bind host:port over UDP (i.e. nothing, an SRT listener included, holds it)? */
async function udpPortFree(host: string, port: number): Promise<boolean> {
  const sock = createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    sock.once('error', () => resolve(false));
    sock.bind(port, host, () => resolve(true));
  });
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return ok;
}

/** One raw HTTP/1.1 exchange (the request is written as given): status line, head and body. */
function rawHttp(host: string, port: number, head: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host, port }, () => s.write(head));
    s.on('data', (d) => {
      chunks.push(d);
      // A WebSocket that was let in stays open: its 101 head is all there is to read.
      if (/^HTTP\/1\.1 101 /.test(Buffer.concat(chunks).toString('latin1'))) s.destroy();
    });
    s.on('error', reject);
    s.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0),
        head: split < 0 ? text : text.slice(0, split),
        body: split < 0 ? '' : text.slice(split + 4),
      });
    });
  });
}

/** GET with Basic credentials from a chosen local address (one client of the page). */
function getAs(url: string, from: string, authorization?: string): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { localAddress: from, headers: authorization ? { authorization } : {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, ...(res.headers['retry-after'] ? { retryAfter: String(res.headers['retry-after']) } : {}), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Pings until the agent answers: a command published before it subscribed would be lost. */
async function untilCommandsHeard(rig: SiteRig): Promise<void> {
  let n = 0;
  await waitFor(
    async () => (await command(rig.centre!, rig.site, 'ping', {}, `ping-${n++}`, 1000).catch(() => undefined))?.ok === true,
    'the agent answering commands',
    30_000,
  );
}

// --- the relays: real agent, real Mosquitto, real ffmpeg ------------------------------------------

test('relay targets as an attacker sends them: CR/LF header injection, SRT listener and rendezvous, hosts off the allow-list — refused before any ffmpeg; honest targets still relay', async (t) => {
  const recorder = await tcpRecorder('127.91.1.20');
  t.after(() => recorder.close());
  const srt = await startSrtListener({ host: '127.91.1.31' });
  t.after(() => srt.stop());
  const log = captureLogger('info');
  const rig = await startSite(t, {
    site: 'abuse-relayweb',
    cameras: [{ host: '127.91.1.2', codec: 'H264' }],
    logger: log.logger,
    env: {
      CAMGATE_VIDEO_RELAY_ALLOWED_HOSTS: '127.91.1.20,127.91.1.30,127.91.1.31',
      CAMGATE_VIDEO_RELAY_IDLE_TIMEOUT_SEC: '0',
      CAMGATE_HEALTH_ENABLED: 'false',
      CAMGATE_WEB_ENABLED: 'false',
    },
  });
  const camera = rig.ids['127.91.1.2'];
  await untilCommandsHeard(rig);
  const start = (target: string) => rig.command('stream-start', { camera, stream: 'sub', target });
  const refused = async (target: string, why: RegExp) => {
    const reply = await start(target);
    assert.equal(reply.ok, false, `accepted ${JSON.stringify(target)}: ${JSON.stringify(reply.result)}`);
    const error = reply.error as { code: string; message: string };
    assert.equal(error.code, 'invalid-args', JSON.stringify(error));
    assert.match(error.message, why, JSON.stringify(target));
  };
  const P = recorder.port;

  await t.test('CR/LF in a target never reaches the wire: the injected header and command are refused, the honest request arrives clean', async () => {
    await refused(`rtsp://127.91.1.20:${P}/b\r\nX-Injected: yes\r\n\r\nSET pwn 1`, /line break|printable ASCII/);
    for (const evil of [
      `rtsp://127.91.1.20:${P}/b\nX-Injected: yes`,
      `rtsp://127.91.1.20:${P}/b\rX-Injected: yes`,
      `rtsp://127.91.1.20:${P}/b X-Injected: yes`,
      `rtsp://127.91.1.20:${P}/b\tX`,
      `rtsp://127.91.1.20:${P}/b\u0000x`,
      `rtsp://127.91.1.20:${P}/b\u2028X-Injected: yes`,
      `rtsp://127.91.1.20:${P}/b\u0085X-Injected: yes`,
      `rtmp://127.91.1.20:${P}/live/k\r\nX-Injected: yes`,
      `srt://127.91.1.30:${P}?streamid=a\r\nX-Injected: yes`,
      `rtsp://127.91.1.20:${P}/b `,
      ` rtsp://127.91.1.20:${P}/b`,
    ]) {
      await refused(evil, /target|printable|pattern|must be/);
    }
    // ffmpeg's RTSP code reads bare words after the last '?' as its own transport switches.
    await refused(`rtsp://127.91.1.20:${P}/b?udp`, /not key=value/);
    await refused(`rtsp://127.91.1.20:${P}/b?x=1?multicast`, /more than one '\?'/);

    const honest = `rtsp://127.91.1.20:${P}/live/cam?token=abc123`;
    const ok = await start(honest);
    assert.equal(ok.ok, true, JSON.stringify(ok.error));
    await waitFor(
      () => recorder.text().includes(`rtsp://127.91.1.20:${P}/live/cam?token=abc123 RTSP/1.0\r\n`),
      'the honest relay request at the recorder',
      30_000,
      () => JSON.stringify(recorder.text().slice(0, 300)),
    );
    const text = recorder.text();
    assert.doesNotMatch(text, /X-Injected|SET pwn/, 'the injected header and command never arrived');
    for (const line of text.split('\r\n').filter((l) => / RTSP\/1\.0$/.test(l)))
      assert.match(line, /^[A-Z_]+ rtsp:\/\/127\.91\.1\.20:\d+\/live\/cam\?token=abc123 RTSP\/1\.0$/);
    const stopped = await rig.command('stream-stop', { camera });
    assert.equal(stopped.ok, true);
  });

  await t.test(
    'SRT listener and rendezvous targets are refused: nothing listens, a caller gets nothing; caller mode with a raw #!:: streamid relays',
    async () => {
      const port = await freeUdpPort('127.91.1.30');
      await refused(`srt://127.91.1.30:${port}?mode=listener`, /mode "listener" is refused.*caller/);
      await refused(`srt://0.0.0.0:${port}?mode=listener`, /listener|any address/);
      await refused(`srt://127.91.1.30:${port}?mode=rendezvous`, /mode "rendezvous" is refused/);
      await refused(`srt://127.91.1.30:${port}?listen_timeout=5000`, /"listen_timeout" is not accepted/);
      await refused(`srt://127.91.1.30:${port}?mode=caller&mode=listener`, /appears twice/);
      await refused(`srt://127.91.1.30:${port}?mode=listener#x`, /refused/);
      await refused(`srt://0.0.0.0:${port}?mode=caller`, /any address/);
      await refused(`srt://[::]:${port}`, /any address/);
      const list = await rig.command('stream-list', {});
      assert.equal((list.result as { count: number }).count, 0, 'no relay runs');
      assert.equal(rig.agent.video?.supervisor.count().total ?? 0, 0, 'no ffmpeg was started');
      assert.equal(await udpPortFree('127.91.1.30', port), true, 'nothing listens on the SRT port');
      await assert.rejects(probeStream(`srt://127.91.1.30:${port}?mode=caller&connect_timeout=1500`, { packets: 5, timeoutMs: 15_000 }), /nothing read/);

      // The honest form: caller mode with SRT options, the streamid's '#' written as centres write it.
      const target = `${srt.url}&latency=120000&streamid=#!::r=live/abuse,m=publish`;
      const ok = await start(target);
      assert.equal(ok.ok, true, JSON.stringify(ok.error));
      await waitFor(
        () => srt.bytes() > 10_000,
        'MPEG-TS at the SRT listener',
        30_000,
        () => srt.stderr(),
      );
      assert.equal((await rig.command('stream-stop', { camera })).ok, true);
    },
  );

  await t.test('hosts off video.relay.allowedHosts, numeric host spellings and fragments are refused with the key named', async () => {
    await refused('rtmp://127.91.1.40/live/x', /127\.91\.1\.40 is not a centre.*video\.relay\.allowedHosts/);
    await refused('rtmp://media.elsewhere.example/live/x', /not a centre.*video\.relay\.allowedHosts/);
    await refused(`rtmp://127.91.1.20.nip.example/live/x`, /not a centre/);
    await refused('rtmp://2136473876/live/x', /dotted decimal/);
    await refused('rtmp://127.91.276/live/x', /dotted decimal/);
    await refused('rtmp://127.91.1.20/live/x#frag', /fragment/);
    await refused('http://127.91.1.20/live/x', /must be a push URL rtsp:\/\/, rtmp:\/\/, rtmps:\/\/ or srt:\/\//);
    await rig.centre!.waitUntil((all) => all.filter((m) => m.json.type === 'stream-stopped').length === 2, 15_000, 'both honest relays stopped');
    assert.equal(rig.events('stream-started').length, 2, 'only the two honest relays started');
  });
  assert.ok(!log.lines.some((l) => /X-Injected/.test(JSON.stringify(l)) && l.msg === 'relay started'));
});

// --- the target parser against ffmpeg's own reading ------------------------------------------------

/** ffmpeg's av_find_info_tag(): the first `tag` in a query (after '?'), '+' read as a space. */
function ffmpegInfoTag(query: string, tag: string): string | undefined {
  let p = query.startsWith('?') ? 1 : 0;
  for (;;) {
    let key = '';
    while (p < query.length && query[p] !== '=' && query[p] !== '&') key += query[p++];
    let value = '';
    if (query[p] === '=') {
      p++;
      for (; p < query.length && query[p] !== '&'; p++) value += query[p] === '+' ? ' ' : query[p];
    }
    if (key.slice(0, 127) === tag) return value;
    if (query[p] !== '&') return undefined;
    p++;
  }
}

/** The host ffmpeg's av_url_split() takes from a URL. */
function ffmpegHost(url: string): string {
  let p = url.indexOf(':');
  p = url.startsWith('//', p + 1) ? p + 3 : p + 1;
  const rest = url.slice(p);
  const ls = rest.search(/[/?#]/);
  let auth = ls < 0 ? rest : rest.slice(0, ls);
  auth = auth.slice(auth.lastIndexOf('@') + 1);
  if (auth.startsWith('[') && auth.includes(']')) return auth.slice(1, auth.indexOf(']'));
  const col = auth.indexOf(':');
  return col < 0 ? auth : auth.slice(0, col);
}

/** The transport words ffmpeg's RTSP code reads from the options after the last '?'. */
function ffmpegRtspWords(url: string): string[] {
  const q = url.lastIndexOf('?');
  if (q < 0) return [];
  return url
    .slice(q + 1)
    .split('&')
    .filter((o) => ['udp', 'tcp', 'multicast', 'http', 'https', 'filter_src'].includes(o));
}

test('target parser (seeded property test): whatever it accepts is printable ASCII, ffmpeg finds the same host, SRT only as a caller, no RTSP transport switch; the schema agrees', (t) => {
  // Mostly URL characters, some of them with a meaning to a parser, now and then one that must never pass.
  const char = fc.oneof(
    { arbitrary: fc.constantFrom(..."aZ09-._~!$'()*,;:@/=+%".split('')), weight: 12 },
    { arbitrary: fc.constantFrom(...'?#&[]'.split('')), weight: 2 },
    { arbitrary: fc.constantFrom(...' \r\n\t\u0000\u007f\u0085\u2028\u00e9'.split('')), weight: 1 },
  );
  const text = (max: number) => fc.array(char, { maxLength: max }).map((a) => a.join(''));
  const some = <T>(good: readonly T[], bad: readonly T[]) =>
    fc.oneof({ arbitrary: fc.constantFrom(...good), weight: 5 }, { arbitrary: fc.constantFrom(...bad), weight: 1 });
  const hostArb = some(
    ['127.91.1.20', 'centre.example', 'CENTRE.example', '[::1]', '[0:0::1]', '10.20.0.5'],
    ['0.0.0.0', '[::]', '127.1', '0x7f.0.0.1', '2130706433', '', 'a b', 'h\r\nX: y', '[::1', 'a@b'],
  );
  const keyArb = some(['mode', 'passphrase', 'streamid', 'latency', 'token', 'vhost'], ['listen_timeout', 'udp', 'multicast', 'mo%64e', 'MODE', 'x', '']);
  const valueArb = fc.oneof(
    { arbitrary: fc.constantFrom('caller', 'listener', 'rendezvous', '#!::r=a,m=publish', '1'), weight: 2 },
    { arbitrary: text(6), weight: 1 },
  );
  const queryArb = fc.array(fc.oneof({ arbitrary: fc.tuple(keyArb, valueArb).map(([k, v]) => `${k}=${v}`), weight: 5 }, { arbitrary: keyArb, weight: 1 }), {
    maxLength: 4,
  });
  const targetArb = fc
    .record({
      scheme: some(['rtsp', 'RTSP', 'rtmp', 'rtmps', 'srt', 'SRT'], ['http', 'file', 'rtp']),
      user: fc.option(text(8), { nil: undefined }),
      host: hostArb,
      port: fc.option(fc.oneof({ arbitrary: fc.integer({ min: 1, max: 65535 }), weight: 5 }, { arbitrary: fc.integer({ min: 0, max: 99999 }), weight: 1 }), {
        nil: undefined,
        freq: 4,
      }),
      path: text(12),
      query: fc.option(queryArb, { nil: undefined }),
      tail: fc.option(text(6), { nil: undefined }),
    })
    .map(({ scheme, user, host, port, path, query, tail }) => {
      const auth = user !== undefined ? `${user}@` : '';
      const q = query !== undefined ? `?${query.join('&')}` : '';
      return `${scheme}://${auth}${host}${port !== undefined ? `:${port}` : ''}${path.startsWith('/') || path === '' ? path : `/${path}`}${q}${tail ?? ''}`;
    });

  let accepted = 0;
  fc.assert(
    fc.property(targetArb, (target) => {
      let parsed;
      try {
        parsed = parseRelayTarget(target);
      } catch (err) {
        assert.ok(err instanceof RelayTargetError, String(err));
        assert.ok(err.message.length > 20);
        return;
      }
      accepted++;
      assert.match(target, /^[!-~]+$/, 'only printable ASCII passes');
      assert.equal(
        ffmpegHost(target)
          .toLowerCase()
          .replace(/^0:0::1$/, '::1'),
        parsed.host,
        'ffmpeg connects to the host that was checked',
      );
      assert.ok(!['0.0.0.0', '::'].includes(parsed.host));
      const q = target.indexOf('?') < 0 ? '' : target.slice(target.indexOf('?'));
      if (parsed.scheme === 'srt') {
        assert.ok([undefined, 'caller'].includes(ffmpegInfoTag(q, 'mode')), `ffmpeg's SRT mode: ${ffmpegInfoTag(q, 'mode')}`);
        assert.equal(ffmpegInfoTag(q, 'listen_timeout'), undefined);
      }
      if (parsed.scheme === 'rtsp') assert.deepEqual(ffmpegRtspWords(target), []);
      const schema = validateCommandArgs('stream-start', { camera: 'cam-1', target });
      assert.equal(schema?.ok, true, JSON.stringify(schema?.errors));
    }),
    { numRuns: 3000, seed: SEED },
  );
  assert.ok(accepted > 100, `the generator reaches accepted targets too (${accepted})`);
  t.diagnostic(`${accepted} of 3000 generated targets accepted`);

  // Targets the schema refuses get words, not a regular expression.
  const check = validateCommandArgs('stream-start', { camera: 'cam-1', target: 'rtsp://h/b\r\nX: y' });
  assert.equal(check?.ok, false);
  assert.match(check.errors.join('; '), /\/target: must be a push URL .*printable ASCII only/);
  // Honest targets of docs/video.md keep working.
  for (const ok of [
    'rtmp://centre.example/live/cam1?vhost=v&token=abc',
    'rtmps://user:p%40ss@centre.example:443/live/k',
    'srt://10.20.0.5:9000?mode=caller&passphrase=0123456789ab&latency=200000&streamid=#!::r=live/c1,m=publish',
    'rtsp://[2001:db8::5]:8554/live/x',
    'RTMPS://centre/live/x',
  ])
    assert.doesNotThrow(() => parseRelayTarget(ok), ok);
  // The allow-list: names exactly, addresses and CIDR blocks; bad entries named.
  const allow = allowedHosts(['media.county.example', '10.20.0.0/24', '2001:db8::/32']);
  assert.equal(checkTarget('rtmp://MEDIA.county.example/live/x', allow).host, 'media.county.example');
  assert.equal(checkTarget('srt://10.20.0.77:9000', allow).host, '10.20.0.77');
  assert.equal(checkTarget('rtsp://[2001:db8::5]:8554/x', allow).host, '2001:db8::5');
  assert.throws(() => checkTarget('rtmp://media.county.example.evil.example/live/x', allow), /video\.relay\.allowedHosts/);
  assert.throws(() => checkTarget('rtmp://10.20.1.1/live/x', allow), /not a centre/);
  assert.throws(() => allowedHosts(['ok.example', 'not a host']), /video\.relay\.allowedHosts\[1\] "not a host"/);
  assert.throws(() => allowedHosts(['10.0.0.0/99']), /video\.relay\.allowedHosts\[0\]/);
});

// --- DNS rebinding: raw requests with a forged Host and Origin ---------------------------------------

test('DNS rebinding: a loopback page without a password answers no request (HTTP or WebSocket) whose Host is a foreign name; its own addresses, localhost and web.hostnames work', async (t) => {
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'data'));
  t.after(() => db.close());
  const cam = upsertDeviceReport(db, report({ host: '127.91.2.2', channels: [channel(1, '127.91.2.2')] }), { now: new Date() }).cameras[0].id;
  const joins: string[] = [];
  const log = captureLogger('warn');
  const server = await startWebServer({
    config: { ...WEB_DEFAULTS, host: '127.91.2.1', hostnames: ['camgate-v012.test'] },
    db,
    pulls: {
      join: async (cameraId, request) => {
        joins.push(cameraId);
        return { cameraId, stream: request.stream, mode: 'mse', leave: () => undefined };
      },
    },
    logger: log.logger,
  });
  t.after(() => server.close());
  const port = server.port;
  const get = (path: string, host: string | undefined, origin?: string) =>
    rawHttp(
      '127.91.2.1',
      port,
      `GET ${path} HTTP/1.1\r\n${host !== undefined ? `Host: ${host}\r\n` : ''}${origin ? `Origin: ${origin}\r\n` : ''}Connection: close\r\n\r\n`,
    );
  const upgrade = (host: string, origin: string) =>
    rawHttp(
      '127.91.2.1',
      port,
      `GET /live/${cam}?stream=sub HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );

  const attacker = `attacker.example:${port}`;
  for (const path of ['/api/cameras', '/', '/static/live.js']) {
    const r = await get(path, attacker, `http://${attacker}`);
    assert.equal(r.status, 421, `${path} for ${attacker}: ${r.head}`);
    assert.ok(!r.body.includes(cam), 'no camera listed to the rebinding page');
    assert.match(r.body, /web\.hostnames/);
  }
  const ws = await upgrade(attacker, `http://${attacker}`);
  assert.equal(ws.status, 421, ws.head);
  assert.deepEqual(joins, [], 'no live view joined for the rebinding page');
  for (const host of [
    `127.91.2.1.attacker.example:${port}`,
    `localhost.attacker.example:${port}`,
    `127.91.2.9:${port}`,
    `[::1]:${port}`,
    'attacker.example',
    'a b',
  ]) {
    assert.equal((await get('/api/cameras', host)).status, 421, host);
  }
  assert.ok([400, 421].includes((await get('/api/cameras', undefined)).status), 'no Host at all');
  assert.equal(log.messages().filter((m) => m.includes('host "attacker.example"')).length, 1, 'one log line per refused name, not one per request');

  // Honest: the address it listens on, localhost, a configured name (any port: a port forward).
  for (const host of [`127.91.2.1:${port}`, `localhost:${port}`, `camgate-v012.test:${port}`, 'CAMGATE-V012.test.:8080']) {
    const r = await get('/api/cameras', host);
    assert.equal(r.status, 200, `${host}: ${r.head}`);
    assert.ok(r.body.includes(cam));
  }
  const own = await upgrade(`127.91.2.1:${port}`, `http://127.91.2.1:${port}`);
  assert.equal(own.status, 101, own.head);
  await waitFor(() => joins.length === 1, 'the honest viewer joined');
});

// --- password guessing -----------------------------------------------------------------------------

type FakeReq = Parameters<WebAuth['check']>[0];
const fakeReq = (remote: string, authorization?: string, cookie?: string): FakeReq =>
  ({ headers: { ...(authorization ? { authorization } : {}), ...(cookie ? { cookie } : {}) }, socket: { remoteAddress: remote } }) as unknown as FakeReq;

test('password guessing on the virtual clock: free tries, doubling waits, lockout with one audit, per client (IPv4 address, IPv6 /64), sessions untouched, a bounded rate over a day', async (t) => {
  const clock = new FakeClock();
  const locks: LoginLockout[] = [];
  const log = captureLogger('info');
  const auth = new WebAuth({
    config: { username: 'admin', password: PASSWORD, login: { maxFailures: 10, freeFailures: 3, lockoutSec: 900 } },
    clock,
    logger: log.logger,
    onLockout: (l) => locks.push(l),
  });
  const wrong = basic('admin', 'wrong');
  const right = basic('admin', PASSWORD);
  const try1 = (remote: string, authorization = wrong): AuthVerdict => auth.check(fakeReq(remote, authorization), { cookie: false });

  // A session cookie from an honest login on the same address as the attacker.
  assert.deepEqual(try1('10.0.0.5', right), { ok: true });
  const cookie = auth.issueCookie().split(';')[0];

  assert.deepEqual(try1('10.0.0.5'), { ok: false, status: 401 });
  assert.deepEqual(try1('10.0.0.5'), { ok: false, status: 401 });
  assert.deepEqual(try1('10.0.0.5'), { ok: false, status: 401, retryAfterSec: 1 }, 'the third wrong try starts the waits');
  assert.deepEqual(try1('10.0.0.5', right), { ok: false, status: 429, retryAfterSec: 1 }, 'too early: refused without looking at the password');
  await clock.advance(1000);
  assert.deepEqual(try1('10.0.0.5'), { ok: false, status: 401, retryAfterSec: 2 });
  const waits: number[] = [];
  for (let n = 5; n <= 10; n++) {
    const gate = try1('10.0.0.5');
    assert.equal(gate.ok, false);
    await clock.advance((gate as { retryAfterSec: number }).retryAfterSec * 1000);
    const v = try1('10.0.0.5');
    waits.push((v as { retryAfterSec: number }).retryAfterSec);
  }
  assert.deepEqual(waits, [4, 8, 16, 30, 30, 900], 'doubling waits up to 30 s, then the lockout');
  assert.equal(locks.length, 1);
  assert.deepEqual({ ...locks[0], until: 0 }, { client: '10.0.0.5', remote: '10.0.0.5', failures: 10, lockoutSec: 900, until: 0 });
  assert.equal(locks[0].until, clock.now() + 900_000);
  assert.ok(
    log.lines.some((l) => l.level === 40 && /login locked for 10\.0\.0\.5 after 10 wrong passwords.*web\.login\.maxFailures/.test(String(l.msg))),
    'a warn line',
  );
  assert.equal(log.lines.filter((l) => /wrong login from 10\.0\.0\.5/.test(String(l.msg))).length, 9, 'each looked-at wrong try logged once');

  // Locked: even the right password is refused; the session cookie still works; other clients are untouched.
  assert.deepEqual(try1('10.0.0.5', right), { ok: false, status: 429, retryAfterSec: 900 });
  assert.deepEqual(auth.check(fakeReq('10.0.0.5', undefined, cookie), { cookie: true }), { ok: true });
  assert.deepEqual(try1('10.0.0.6', right), { ok: true });
  assert.deepEqual(try1('::ffff:10.0.0.5', right).ok, false, 'an IPv4-mapped address is the same client');
  await clock.advance(899_000);
  assert.equal(try1('10.0.0.5', right).ok, false);
  await clock.advance(1000);
  assert.deepEqual(try1('10.0.0.5', right), { ok: true }, 'the lockout is served');
  assert.equal(locks.length, 1, 'one audit per lockout');

  // IPv6: the /64 is one client (a host picks any address in it); another /64 is another client.
  assert.equal(clientOf('2001:db8:1:2::aa'), '2001:db8:1:2::/64');
  for (let i = 0; i < 3; i++) try1(`2001:db8:1:2::${i + 1}`);
  assert.equal(try1('2001:db8:1:2::99', right).ok, false, 'the same /64 waits');
  assert.deepEqual(try1('2001:db8:1:3::1', right), { ok: true });
  // The right password starts the count over; a quiet spell as long as the lockout forgets it.
  const fresh = '10.0.0.7';
  try1(fresh);
  try1(fresh);
  assert.deepEqual(try1(fresh, right), { ok: true });
  assert.deepEqual(try1(fresh), { ok: false, status: 401 }, 'counting from one again');
  try1(fresh);
  await clock.advance(900_000);
  assert.deepEqual(try1(fresh), { ok: false, status: 401 }, 'forgotten after a quiet spell');
  // No Authorization header is no guess (a browser's first request before its login prompt).
  for (let i = 0; i < 50; i++) assert.deepEqual(auth.check(fakeReq('10.0.0.8'), { cookie: true }), { ok: false, status: 401 });
  assert.deepEqual(try1('10.0.0.8', right), { ok: true });

  // The guessing rate: an attacker retrying as soon as allowed, for one virtual day.
  const attacker = new WebAuth({ config: { username: 'admin', password: PASSWORD, login: { maxFailures: 10, freeFailures: 3, lockoutSec: 900 } }, clock });
  const dayEnd = clock.now() + 86_400_000;
  let looked = 0;
  while (clock.now() < dayEnd) {
    const v = attacker.check(fakeReq('10.9.9.9', wrong), { cookie: false });
    assert.equal(v.ok, false);
    if (v.ok) break;
    if (v.status === 401) looked++;
    await clock.advance((v.retryAfterSec ?? 0) * 1000);
  }
  t.diagnostic(`passwords looked at in one day from one client: ${looked} (was unbounded: 20,000 in 2.9 s)`);
  assert.ok(looked <= 900, `${looked} guesses a day`);

  // The memory of clients is bounded.
  const guard = new LoginGuard({ maxFailures: 10, freeFailures: 3, lockoutSec: 900, clock, maxClients: 100 });
  for (let i = 0; i < 1000; i++) guard.failed(`10.1.${i >> 8}.${i & 255}`);
  assert.ok(guard.size() <= 100, `${guard.size()} clients kept`);
  // The audit event's shape (docs/mqtt.md) is a valid contract event.
  const event = loginLockedEvent(locks[0]);
  assert.deepEqual(event.detail, {
    action: 'web-login-locked',
    client: '10.0.0.5',
    remote: '10.0.0.5',
    failures: 10,
    lockoutSec: 900,
    until: new Date(locks[0].until).toISOString(),
  });
  assert.equal(validatePayload('event', { ...eventPayload('site-1', event, new Date(clock.now())), seq: 1 }).ok, true);
});

test('password guessing over real HTTP against the agent: wrong tries get 401 then 429 with Retry-After, the lockout is logged and its audit event reaches the centre; another client still logs in', async (t) => {
  const log = captureLogger('info');
  const rig = await startSite(t, {
    site: 'abuse-relayweb-login',
    logger: log.logger,
    env: {
      CAMGATE_WEB_HOST: '127.91.2.10',
      CAMGATE_WEB_PASSWORD: PASSWORD,
      CAMGATE_WEB_LOGIN_MAX_FAILURES: '3',
      CAMGATE_HEALTH_ENABLED: 'false',
    },
  });
  const web = await waitFor(() => rig.agent.web, 'the live page', 30_000);
  const url = `${web.url}api/cameras`;
  const answers: Array<{ status: number; retryAfter?: string }> = [];
  // As fast as the attacker can send them, one after another (the review's 20,000 took 2.9 s).
  for (let i = 0; i < 200; i++) answers.push(await getAs(url, '127.91.2.20', basic('admin', `guess-${i}`)));
  const counts = answers.reduce<Record<number, number>>((acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }), {});
  assert.deepEqual(counts, { 401: 2, 429: 198 }, JSON.stringify(answers.slice(0, 5)));
  assert.ok(
    answers.filter((a) => a.status === 429).every((a) => Number(a.retryAfter) > 0 && Number(a.retryAfter) <= 900),
    'every 429 says when to come back',
  );
  assert.equal(answers[2].retryAfter, '900', 'the lockout');
  const locked = await getAs(url, '127.91.2.20', basic('admin', PASSWORD));
  assert.equal(locked.status, 429, 'the right password does not open a lockout');
  assert.equal((await getAs(url, '127.91.2.21', basic('admin', PASSWORD))).status, 200, 'another client logs in');

  const audit = await rig.centre!.waitFor(
    (m) => m.topic.endsWith('/events') && m.json.type === 'audit' && (m.json.detail as { action?: string })?.action === 'web-login-locked',
    15_000,
    'the lockout audit event',
  );
  assert.equal(audit.json.severity, 'warning');
  assert.deepEqual(
    { ...(audit.json.detail as Record<string, unknown>), until: 'x' },
    {
      action: 'web-login-locked',
      client: '127.91.2.20',
      remote: '127.91.2.20',
      failures: 3,
      lockoutSec: 900,
      until: 'x',
    },
  );
  assert.equal(rig.events('audit').filter((m) => (m.json.detail as { action?: string }).action === 'web-login-locked').length, 1, 'one event per lockout');
  assert.ok(log.lines.some((l) => /web: login locked for 127\.91\.2\.20 after 3 wrong passwords/.test(String(l.msg))));
  assert.equal(log.lines.filter((l) => /wrong login from 127\.91\.2\.20/.test(String(l.msg))).length, 2);
});

test('the live page keeps working for an honest browser session while its address is locked out (the session cookie is not a guess)', async (t) => {
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'data'));
  t.after(() => db.close());
  const server = await startWebServer({
    config: { ...WEB_DEFAULTS, host: '127.91.2.30', password: PASSWORD, login: { maxFailures: 3, freeFailures: 3, lockoutSec: 900 } },
    db,
    pulls: { join: async () => assert.fail('no join') },
    logger: createLogger({ level: 'silent' }),
  });
  t.after(() => server.close());
  const page = await fetch(server.url, { headers: { authorization: basic('admin', PASSWORD) } });
  assert.equal(page.status, 200);
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0];
  for (let i = 0; i < 5; i++) await fetch(server.url + 'api/cameras', { headers: { authorization: basic('admin', 'x') } });
  const blocked = await fetch(server.url + 'api/cameras', { headers: { authorization: basic('admin', PASSWORD) } });
  assert.equal(blocked.status, 429);
  assert.equal((await fetch(server.url + 'api/cameras', { headers: { cookie } })).status, 200);
});
