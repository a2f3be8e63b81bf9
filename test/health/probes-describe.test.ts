// RTSP DESCRIBE probe against the simulator's real GStreamer server (RTSP Digest on) and the
// simulator's RTSP faults (127.72.3.0/24 belongs to this file). Real sockets and real deadlines:
// what is asserted never depends on how fast the machine is. A check meant to end on an answer
// gets a deadline it cannot reach; a hang is told apart by what the result says, not by how long
// it took.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { checkStream } from '../../agent/health/probes/describe';
import { startSimulator } from '../../scripts/sim/index';
import type { RunningSimCamera, Simulator } from '../../scripts/sim/types';
import { cameraById } from '../sim/helpers';

const CREDS = { username: 'admin', password: 'admin123' };
/** A deadline for checks that end on the device's answer: only a safety net. */
const PATIENT_MS = 30_000;

/** A minimal RTSP server answering every request with `answer(method, cseq)`. */
function fakeRtsp(host: string, port: number, answer: (method: string, cseq: string) => string): Promise<{ server: Server; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let end;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const method = head.split(' ')[0] ?? '';
        const cseq = /CSeq:\s*(\d+)/i.exec(head)?.[1] ?? '0';
        s.write(answer(method, cseq));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () =>
      resolve({
        server,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      }),
    );
  });
}

describe('health probe: RTSP DESCRIBE', () => {
  let sim: Simulator;
  const cam = (id: string): RunningSimCamera => cameraById(sim, id);
  const closers: Array<() => Promise<void>> = [];

  before(async () => {
    sim = await startSimulator({
      rtspAuth: true,
      cameras: [
        { host: '127.72.3.1', id: 'gen', vendor: 'generic' },
        { host: '127.72.3.2', id: 'hik', vendor: 'hikvision' },
        { host: '127.72.3.3', id: 'nvr', vendor: 'nvr', channels: 2 },
        { host: '127.72.3.4', id: 'garbage', fault: 'rtsp-garbage' },
        { host: '127.72.3.5', id: 'hang', fault: 'rtsp-hang' },
      ],
    });
  });
  after(async () => {
    for (const c of closers) await c();
    await sim?.stop();
  });

  it('H.264 main 1920x1080 and sub 640x360 through RTSP Digest', async () => {
    const main = await checkStream({ url: cam('gen').rtspUrl(1, 'main'), stream: 'main', credentials: CREDS, timeoutMs: PATIENT_MS });
    assert.deepEqual({ ...main, latencyMs: 0 }, { ok: true, stream: 'main', codec: 'H264', width: 1920, height: 1080, latencyMs: 0 });
    assert.ok(main.latencyMs! > 0);
    const sub = await checkStream({ url: cam('gen').rtspUrl(1, 'sub'), stream: 'sub', credentials: CREDS, timeoutMs: PATIENT_MS });
    assert.deepEqual({ ...sub, latencyMs: 0 }, { ok: true, stream: 'sub', codec: 'H264', width: 640, height: 360, latencyMs: 0 });
  });

  it('Hikvision: H.265 main stream, H.264 sub stream', async () => {
    const main = await checkStream({ url: cam('hik').rtspUrl(1, 'main'), stream: 'main', credentials: CREDS, timeoutMs: PATIENT_MS });
    assert.equal(main.ok, true, JSON.stringify(main));
    assert.deepEqual([main.codec, main.width, main.height], ['H265', 1920, 1080]);
    const sub = await checkStream({ url: cam('hik').rtspUrl(1, 'sub'), stream: 'sub', credentials: CREDS, timeoutMs: PATIENT_MS });
    assert.deepEqual([sub.codec, sub.width, sub.height], ['H264', 640, 360]);
  });

  it('NVR: each channel has its own main and sub stream', async () => {
    for (const ch of [1, 2]) {
      for (const stream of ['main', 'sub'] as const) {
        const r = await checkStream({ url: cam('nvr').rtspUrl(ch, stream), stream, credentials: CREDS, timeoutMs: PATIENT_MS });
        assert.equal(r.ok, true, `ch${ch} ${stream}: ${JSON.stringify(r)}`);
        assert.equal(r.width, stream === 'main' ? 1920 : 640);
      }
    }
  });

  it('wrong password and no credentials: auth, and the password never shows', async () => {
    const wrong = await checkStream({
      url: cam('gen').rtspUrl(1, 'sub'),
      stream: 'sub',
      credentials: { username: 'admin', password: 'Wr0ng-S3cret' },
      timeoutMs: PATIENT_MS,
    });
    assert.equal(wrong.ok, false);
    assert.equal(wrong.error?.code, 'auth');
    assert.match(wrong.error.message, /^sub stream: authentication failed for 127\.72\.3\.1:\d+ \(admin\)/);
    assert.doesNotMatch(JSON.stringify(wrong), /Wr0ng-S3cret/);
    const none = await checkStream({ url: cam('gen').rtspUrl(1, 'sub'), stream: 'sub', timeoutMs: PATIENT_MS });
    assert.equal(none.error?.code, 'auth');
    // Credentials in the URL work too, and stay out of messages.
    const inUrl = await checkStream({
      url: cam('gen').rtspUrl(1, 'sub').replace('rtsp://', 'rtsp://admin:Wr0ng-S3cret@'),
      stream: 'sub',
      timeoutMs: PATIENT_MS,
    });
    assert.equal(inUrl.error?.code, 'auth');
    assert.doesNotMatch(JSON.stringify(inUrl), /Wr0ng-S3cret/);
  });

  it('garbage RTSP: bad-answer at once; a hanging RTSP port: cut off by the deadline, the result says so; a healthy stream meanwhile is not delayed', async () => {
    // The deadline is out of reach: a bad-answer means the junk itself ended the check.
    const garbage = await checkStream({ url: cam('garbage').rtspUrl(1, 'main'), stream: 'main', credentials: CREDS, timeoutMs: PATIENT_MS });
    assert.equal(garbage.error?.code, 'bad-answer', JSON.stringify(garbage));
    assert.match(garbage.error.message, /127\.72\.3\.4:\d+ did not answer with RTSP/);
    assert.ok(garbage.latencyMs !== null && garbage.latencyMs >= 0, String(garbage.latencyMs));
    const hung = await checkStream({ url: cam('hang').rtspUrl(1, 'main'), stream: 'main', credentials: CREDS, timeoutMs: 700 });
    assert.equal(hung.error?.code, 'timeout', JSON.stringify(hung));
    assert.match(hung.error.message, /127\.72\.3\.5:\d+/);
    // The deadline and the phase it ended in: connected, no answer to DESCRIBE.
    assert.match(hung.error.message, /^main stream: no answer from 127\.72\.3\.5:\d+ within 700 ms \(RTSP DESCRIBE\)$/);
    // The healthy check ends while the hung one still waits (on a deadline it cannot reach; then cancelled).
    const ac = new AbortController();
    let hungDone = false;
    const waiting = checkStream({ url: cam('hang').rtspUrl(1, 'main'), stream: 'main', credentials: CREDS, timeoutMs: PATIENT_MS, signal: ac.signal }).finally(
      () => (hungDone = true),
    );
    const healthy = await checkStream({ url: cam('gen').rtspUrl(1, 'sub'), stream: 'sub', credentials: CREDS, timeoutMs: PATIENT_MS });
    assert.equal(healthy.ok, true, JSON.stringify(healthy));
    assert.equal(hungDone, false, 'the healthy check did not wait for the hung one');
    ac.abort();
    assert.match((await waiting).error?.message ?? '', /cancelled/);
  });

  it('refused, no such stream, and an answer without an SDP', async () => {
    const refused = await checkStream({ url: 'rtsp://127.72.3.99:8554/live', stream: 'main', timeoutMs: PATIENT_MS });
    assert.equal(refused.error?.code, 'refused');
    assert.match(refused.error.message, /127\.72\.3\.99:8554/);
    const missing = await checkStream({
      url: cam('gen').rtspUrl(1, 'main').replace('/ch1/', '/ch9/'),
      stream: 'main',
      credentials: CREDS,
      timeoutMs: PATIENT_MS,
    });
    assert.equal(missing.error?.code, 'failed');
    assert.match(missing.error.message, /404/);
    const noSdp = await fakeRtsp('127.72.3.20', 554, (method, cseq) =>
      method === 'DESCRIBE'
        ? `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello`
        : `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n`,
    );
    closers.push(noSdp.close);
    const r = await checkStream({ url: 'rtsp://127.72.3.20/live', stream: 'sub', timeoutMs: PATIENT_MS });
    assert.equal(r.error?.code, 'bad-answer');
    assert.match(r.error.message, /without an SDP/);
    const huge = await fakeRtsp('127.72.3.21', 554, (_m, cseq) => `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Length: 50000000\r\n\r\n`);
    closers.push(huge.close);
    assert.equal((await checkStream({ url: 'rtsp://127.72.3.21/live', stream: 'main', timeoutMs: PATIENT_MS })).error?.code, 'too-large');
  });

  it('one DESCRIBE per check: no OPTIONS, and a login that worked is sent up front next time', async () => {
    const seen: string[] = [];
    const good = `Basic ${Buffer.from('admin:admin123').toString('base64')}`;
    const sdp = 'v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';
    let authorization = '';
    const fake = await fakeRtsp('127.72.3.22', 554, (method, cseq) => {
      seen.push(`${method} ${authorization ? (authorization === good ? 'good' : 'bad') : '-'}`);
      if (authorization !== good) return `RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n`;
      return `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
    });
    closers.push(fake.close);
    fake.server.prependListener('connection', (s: Socket) =>
      s.prependListener('data', (d: Buffer) => {
        authorization = /Authorization:\s*([^\r\n]+)/i.exec(d.toString('latin1'))?.[1] ?? '';
      }),
    );
    // A Basic camera, allowed Basic by its installer (the password goes in cleartext).
    const probe = (password: string) =>
      checkStream({ url: 'rtsp://127.72.3.22/live', stream: 'main', credentials: { username: 'admin', password, allowBasic: true }, timeoutMs: PATIENT_MS });
    assert.equal((await probe('admin123')).codec, 'H264');
    assert.deepEqual(seen.splice(0), ['DESCRIBE -', 'DESCRIBE good']);
    assert.equal((await probe('admin123')).ok, true);
    assert.deepEqual(seen.splice(0), ['DESCRIBE good']);
    // Another password: nothing cached is used; a wrong one fails and forgets the login.
    assert.equal((await probe('other-pw')).error?.code, 'auth');
    assert.deepEqual(seen.splice(0), ['DESCRIBE -', 'DESCRIBE bad']);
    assert.equal((await probe('admin123')).ok, true);
    assert.deepEqual(seen.splice(0), ['DESCRIBE -', 'DESCRIBE good']);
  });

  it('bad input: an invalid URL is a failed check that does not echo a password', async () => {
    const r = await checkStream({ url: 'rtsp://admin:Wr0ng-S3cret@[nope/x', stream: 'main', timeoutMs: 500 });
    assert.equal(r.error?.code, 'failed');
    assert.doesNotMatch(r.error.message, /Wr0ng-S3cret/);
  });
});
