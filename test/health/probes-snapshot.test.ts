// Snapshot fetch probe against the simulator (Digest, 50 MB "JPEG", not an image) and hand-made
// HTTP servers (127.72.4.0/24 belongs to this file). Real sockets and real deadlines: what is
// asserted never depends on how fast the machine is. A fetch meant to end on an answer gets a
// deadline it cannot reach; a hang is told apart by what the error says, not by how long it took.
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fetchSnapshot, imageKind, SnapshotError } from '../../agent/health/probes/snapshot';
import type { ProbeErrorCode } from '../../agent/health/types';
import { startSimulator } from '../../scripts/sim/index';
import type { RunningSimCamera, Simulator } from '../../scripts/sim/types';
import { cameraById } from '../sim/helpers';
import { waitFor } from '../kit/wait';

const CREDS = { username: 'admin', password: 'admin123' };
const MB = 1024 * 1024;
/** A deadline for fetches that end on the device's answer: only a safety net. */
const PATIENT_MS = 30_000;

async function expectCode(p: Promise<unknown>, code: ProbeErrorCode, message?: RegExp): Promise<SnapshotError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof SnapshotError, String(caught));
  assert.equal(caught.code, code, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

describe('health probe: snapshot fetch', () => {
  let sim: Simulator;
  const cam = (id: string): RunningSimCamera => cameraById(sim, id);
  const servers: Server[] = [];

  /** `bytes.closed`: the server saw the connection end (the client hung up, or it was done). */
  function serve(host: string, handler: (res: ServerResponse, bytes: { written: number }) => void): Promise<{ bytes: { written: number; closed: boolean } }> {
    const bytes = { written: 0, closed: false };
    const server = createServer((req, res) => {
      req.resume();
      res.on('close', () => (bytes.closed = true));
      handler(res, bytes);
    });
    servers.push(server);
    return new Promise((resolve) => server.listen(80, host, () => resolve({ bytes })));
  }

  before(async () => {
    sim = await startSimulator({
      rtsp: false,
      cameras: [
        { host: '127.72.4.1', id: 'ok' },
        { host: '127.72.4.2', id: 'huge', fault: 'snapshot-huge' },
        { host: '127.72.4.3', id: 'junk', fault: 'snapshot-not-image' },
        { host: '127.72.4.4', id: 'open', auth: 'wsse' }, // snapshots need no login on a WS-Security-only device
        { host: '127.72.4.5', id: 'hang', fault: 'hang' },
      ],
    });
  });
  after(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await sim?.stop();
  });

  it('a JPEG through HTTP Digest; without credentials or with the wrong ones: auth, password not shown', async () => {
    const jpeg = await fetchSnapshot({ url: cam('ok').snapshotUrl(1), credentials: CREDS, maxBytes: 2 * MB, timeoutMs: PATIENT_MS });
    assert.equal(imageKind(jpeg), 'jpeg');
    assert.ok(jpeg.length > 100);
    assert.equal(imageKind(await fetchSnapshot({ url: cam('open').snapshotUrl(1), maxBytes: 2 * MB, timeoutMs: PATIENT_MS })), 'jpeg');
    await expectCode(fetchSnapshot({ url: cam('ok').snapshotUrl(1), maxBytes: 2 * MB, timeoutMs: PATIENT_MS }), 'auth');
    const wrong = await expectCode(
      fetchSnapshot({ url: cam('ok').snapshotUrl(1), credentials: { username: 'admin', password: 'Wr0ng-S3cret' }, maxBytes: 2 * MB, timeoutMs: PATIENT_MS }),
      'auth',
    );
    assert.doesNotMatch(wrong.message, /Wr0ng-S3cret/);
    assert.match(wrong.message, /127\.72\.4\.1/);
  });

  it('a 50 MB "JPEG": too-large, reading stops at the cap (no 50 MB in memory)', async () => {
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    await expectCode(
      fetchSnapshot({ url: cam('huge').snapshotUrl(1), credentials: CREDS, maxBytes: 2 * MB, timeoutMs: PATIENT_MS }),
      'too-large',
      /2097152-byte cap/,
    );
    const grown = process.memoryUsage().rss - rss0;
    assert.ok(grown < 30 * MB, `RSS grew by ${Math.round(grown / MB)} MB`);

    // The same, counted on the sending side: the sender is stopped long before 50 MB.
    const sender = await serve('127.72.4.20', (res, bytes) => {
      res.writeHead(200, { 'Content-Type': 'image/jpeg' });
      const chunk = Buffer.alloc(64 * 1024, 0x11);
      chunk[0] = 0xff;
      chunk[1] = 0xd8;
      chunk[2] = 0xff;
      const pump = (): void => {
        while (bytes.written < 50 * MB) {
          bytes.written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await expectCode(fetchSnapshot({ url: 'http://127.72.4.20/snap.jpg', maxBytes: 1 * MB, timeoutMs: PATIENT_MS }), 'too-large');
    await waitFor(() => sender.bytes.closed, 'the fetch hanging up on the sender');
    assert.ok(sender.bytes.written < 20 * MB, `sender wrote ${Math.round(sender.bytes.written / MB)} MB`);

    // A declared Content-Length over the cap is refused before reading the body.
    await serve('127.72.4.21', (res) => {
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': String(50 * MB) });
      res.write(Buffer.from([0xff, 0xd8, 0xff]));
    });
    await expectCode(fetchSnapshot({ url: 'http://127.72.4.21/snap.jpg', maxBytes: 1 * MB, timeoutMs: PATIENT_MS }), 'too-large', /52428800 bytes/);
  });

  it('bytes that are not an image (even labelled image/jpeg): not-an-image; a PNG is fine', async () => {
    const err = await expectCode(
      fetchSnapshot({ url: cam('junk').snapshotUrl(1), credentials: CREDS, maxBytes: 2 * MB, timeoutMs: PATIENT_MS }),
      'not-an-image',
    );
    assert.match(err.message, /image\/jpeg/);
    await serve('127.72.4.22', (res) => {
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': 0 });
      res.end();
    });
    await expectCode(fetchSnapshot({ url: 'http://127.72.4.22/snap.jpg', maxBytes: MB, timeoutMs: PATIENT_MS }), 'not-an-image', /empty/);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100)]);
    await serve('127.72.4.23', (res) => {
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length });
      res.end(png);
    });
    assert.equal(imageKind(await fetchSnapshot({ url: 'http://127.72.4.23/snap.png', maxBytes: MB, timeoutMs: PATIENT_MS })), 'png');
  });

  it('refused, hang (cut off by the deadline, the error says so), HTTP errors', async () => {
    await expectCode(fetchSnapshot({ url: 'http://127.72.4.99:8080/snap.jpg', maxBytes: MB, timeoutMs: PATIENT_MS }), 'refused', /127\.72\.4\.99:8080/);
    // Our deadline, named with its length (not a socket error, not the device closing).
    await expectCode(
      fetchSnapshot({ url: cam('hang').snapshotUrl(1), maxBytes: MB, timeoutMs: 500 }),
      'timeout',
      /^snapshot: no answer from http:\/\/127\.72\.4\.5(:80)?\/\S* within 500 ms$/,
    );
    await expectCode(
      fetchSnapshot({ url: cam('ok').snapshotUrl(1).replace('/snapshot/1', '/snapshot/7'), credentials: CREDS, maxBytes: MB, timeoutMs: PATIENT_MS }),
      'failed',
      /HTTP 404/,
    );
  });
});
