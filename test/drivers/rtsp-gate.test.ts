// The RTSP gate against a scripted camera and a raw RTSP client: URL rewriting both ways (the
// camera names an address it believes it has), Digest on the client's behalf, Basic refused,
// interleaved frames untouched, one connection per link, expiry. ffmpeg through it: the relay
// e2e and the abuse tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { BASIC_REFUSED_REASON } from '../../drivers/auth';
import { RtspGate, type GateRefusal } from '../../drivers/rtsp/gate';

const HOST = '127.34.0.2';
const LOGIN = { username: 'admin', password: 'pw:with/odd&chars' };

interface CameraRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** A camera answering by script; `frames` are written after a SETUP is answered. */
async function camera(t: { after(fn: () => unknown): void }, auth: 'digest' | 'basic', frames: Buffer[] = []) {
  const seen: CameraRequest[] = [];
  const nonce = 'n0nce';
  const server = net.createServer((socket) => {
    let buf = '';
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const lines = buf.slice(0, end).split('\r\n');
        buf = buf.slice(end + 4);
        const [method, url] = lines[0].split(' ');
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        seen.push({ method, url, headers });
        const cseq = headers.cseq;
        const authorized =
          auth === 'digest'
            ? (() => {
                const m = /response="([0-9a-f]+)"/.exec(headers.authorization ?? '');
                const uri = /uri="([^"]+)"/.exec(headers.authorization ?? '')?.[1];
                const h = (s: string) => createHash('md5').update(s).digest('hex');
                return !!m && uri === url && m[1] === h(`${h(`${LOGIN.username}:cam:${LOGIN.password}`)}:${nonce}:${h(`${method}:${url}`)}`);
              })()
            : false;
        if (method !== 'OPTIONS' && !authorized) {
          const challenge = auth === 'digest' ? `Digest realm="cam", nonce="${nonce}"` : 'Basic realm="cam"';
          socket.write(`RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: ${challenge}\r\n\r\n`);
          continue;
        }
        if (method === 'DESCRIBE') {
          // The camera believes it is 192.168.1.64 (behind NAT): every URL it sends names that address.
          const sdp =
            'v=0\r\ns=cam\r\na=control:rtsp://192.168.1.64/live/\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:rtsp://192.168.1.64/live/trackID=1\r\n';
          socket.write(
            `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Base: rtsp://192.168.1.64/live/\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
          );
        } else if (method === 'SETUP') {
          socket.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nTransport: ${headers.transport}\r\nSession: 1234\r\n\r\n`);
          for (const f of frames) socket.write(f);
        } else socket.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  t.after(() => server.close());
  return { seen, url: `rtsp://${HOST}:${(server.address() as AddressInfo).port}/live` };
}

/** A raw RTSP client on one connection: sends requests, collects everything that comes back. */
async function client(link: string) {
  const u = new URL(link);
  const socket = net.connect(Number(u.port), u.hostname);
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  let received = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  let cseq = 10;
  const waitFor = async (pred: () => boolean) => {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(pred(), `no answer; got ${JSON.stringify(received.toString('latin1'))}`);
  };
  return {
    socket,
    closed,
    received: () => received,
    /** Sends a request and returns its answer's text (head and body). */
    async request(method: string, url: string, headers: Record<string, string> = {}): Promise<string> {
      const mine = ++cseq;
      const before = received.length;
      socket.write(
        `${method} ${url} RTSP/1.0\r\nCSeq: ${mine}\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
      );
      await waitFor(() => received.subarray(before).includes(`CSeq: ${mine}\r\n`));
      return received.subarray(before).toString('latin1');
    },
  };
}

test('gate: Digest for ffmpeg, URLs rewritten both ways (SDP and Content-Base naming another address), frames untouched, one connection per link', async (t) => {
  const frames = [Buffer.from([0x24, 0, 0, 5, 1, 2, 3, 4, 5]), Buffer.from([0x24, 1, 0, 2, 0x24, 0x0d])];
  const cam = await camera(t, 'digest', frames);
  const gate = new RtspGate();
  await gate.listen();
  t.after(() => gate.close());
  const link = gate.pass({ url: cam.url, credentials: LOGIN, label: 'test' });
  const prefix = link.slice(0, link.length - '/live'.length);
  assert.match(link, /^rtsp:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{24}\/live$/);
  assert.ok(!link.includes(LOGIN.password) && !link.includes(encodeURIComponent(LOGIN.password)));

  const c = await client(link);
  assert.match(await c.request('OPTIONS', link, { Authorization: 'Basic bm90LWZvcndhcmRlZA==' }), /^RTSP\/1\.0 200 OK\r\nCSeq: 11\r\n/);
  const describe = await c.request('DESCRIBE', link, { Accept: 'application/sdp' });
  assert.match(describe, /^RTSP\/1\.0 200 OK\r\n/);
  assert.match(describe, new RegExp(`Content-Base: ${prefix}/live/\\r\\n`));
  assert.ok(describe.includes(`a=control:${prefix}/live/trackID=1\r\n`), describe);
  assert.ok(!describe.includes('192.168.1.64'), 'no camera address reaches ffmpeg');
  const body = describe.slice(describe.indexOf('\r\n\r\n') + 4);
  assert.equal(Number(/Content-Length: (\d+)/.exec(describe)![1]), Buffer.byteLength(body), 'Content-Length follows the rewritten SDP');
  // The camera saw its own URLs, the client's Authorization never, and a Digest answer for its URI.
  assert.deepEqual(
    cam.seen.map((r) => [r.method, r.url, r.headers.authorization?.split(' ')[0] ?? null]),
    [
      ['OPTIONS', cam.url, null],
      ['DESCRIBE', cam.url, null],
      ['DESCRIBE', cam.url, 'Digest'],
    ],
  );

  assert.match(await c.request('SETUP', `${prefix}/live/trackID=1`, { Transport: 'RTP/AVP;unicast;client_port=5000-5001' }), /^RTSP\/1\.0 461 /);
  const setup = await c.request('SETUP', `${prefix}/live/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  assert.match(setup, /^RTSP\/1\.0 200 OK/);
  assert.equal(cam.seen[cam.seen.length - 1].url, `${cam.url}/trackID=1`);
  const all = Buffer.concat(frames);
  for (let i = 0; i < 200 && !c.received().includes(all); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(c.received().includes(all), 'interleaved frames arrive byte for byte');
  c.socket.destroy();

  // The link served its connection: a second one (someone who read it in ps) is refused.
  const again = await client(link);
  assert.match(await again.request('DESCRIBE', link), /^RTSP\/1\.0 404 /);
  await again.closed;
  assert.equal(gate.stats().links, 0);
});

test('gate: a camera asking for Basic gets nothing unless the login allows it; the refusal is reported and ffmpeg told why', async (t) => {
  const cam = await camera(t, 'basic');
  const refusals: GateRefusal[] = [];
  const gate = new RtspGate({ onRefused: (r) => refusals.push(r) });
  await gate.listen();
  t.after(() => gate.close());
  const link = gate.pass({ url: cam.url, credentials: LOGIN, label: 'relay r1 cam-x/main' });
  const c = await client(link);
  const answer = await c.request('DESCRIBE', link);
  assert.ok(answer.startsWith(`RTSP/1.0 401 ${BASIC_REFUSED_REASON}\r\n`), answer);
  assert.ok(
    cam.seen.every((r) => r.headers.authorization === undefined),
    'no Authorization sent',
  );
  assert.equal(refusals.length, 1);
  assert.equal(refusals[0].label, 'relay r1 cam-x/main');
  assert.match(refusals[0].message, /asks for Basic authentication/);

  // Allowed for this device: then Basic goes (and this camera accepts nothing, so 401 Unauthorized).
  const allowed = gate.pass({ url: cam.url, credentials: { ...LOGIN, allowBasic: true }, label: 'x' });
  const c2 = await client(allowed);
  assert.match(await c2.request('DESCRIBE', allowed), /^RTSP\/1\.0 401 Unauthorized\r\n/);
  assert.equal(cam.seen[cam.seen.length - 1].headers.authorization, `Basic ${Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString('base64')}`);
});

test('gate: unknown, expired and foreign links are refused; an unreachable camera is said the way ffmpeg would say it', async (t) => {
  let now = 1_000_000;
  const gate = new RtspGate({ passTtlMs: 1000, now: () => now, connectTimeoutMs: 2000 });
  await gate.listen();
  t.after(() => gate.close());
  const c = await client(`rtsp://127.0.0.1:${gate.port}/nope`);
  assert.match(await c.request('OPTIONS', `rtsp://127.0.0.1:${gate.port}/AAAAAAAAAAAAAAAAAAAAAAAA/x`), /^RTSP\/1\.0 404 /);
  const expired = gate.pass({ url: `rtsp://${HOST}:1/x`, credentials: LOGIN, label: 'x' });
  now += 1001;
  const c2 = await client(expired);
  assert.match(await c2.request('OPTIONS', expired), /^RTSP\/1\.0 404 /);

  // Port 1 on the camera's address: nothing listens.
  const refused = gate.pass({ url: `rtsp://${HOST}:1/x`, credentials: LOGIN, label: 'x' });
  const c3 = await client(refused);
  assert.match(await c3.request('OPTIONS', refused), /^RTSP\/1\.0 503 Connection refused/);
  await c3.closed;
  // A URL under another link on this connection is refused too.
  const other = gate.pass({ url: `rtsp://${HOST}:1/x`, credentials: LOGIN, label: 'x' });
  const cam = await camera(t, 'digest');
  const good = gate.pass({ url: cam.url, credentials: LOGIN, label: 'x' });
  const c4 = await client(good);
  await c4.request('OPTIONS', good);
  assert.match(await c4.request('DESCRIBE', other), /^RTSP\/1\.0 400 /);
  assert.throws(() => gate.pass({ url: 'http://h/x', credentials: LOGIN, label: 'x' }), /rtsp:\/\//);
  assert.equal(gate.input({ url: cam.url, label: 'no login' }), cam.url, 'a camera without a login is opened directly');
});
