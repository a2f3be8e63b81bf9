// ONVIF clock probe (GetSystemDateAndTime, no auth) against the simulator and hand-made servers
// (127.72.2.0/24 belongs to this file). Real sockets and real deadlines: what is asserted never
// depends on how fast the machine is. A check meant to end on an answer gets a deadline it cannot
// reach; a hang is told apart by what the result says, not by how long it took.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { checkClock } from '../../agent/health/probes/clock';
import type { ClockResult } from '../../agent/health/types';
import { startSimulator } from '../../scripts/sim/index';
import type { RunningSimCamera, Simulator } from '../../scripts/sim/types';
import { cameraById } from '../sim/helpers';
import { clockReading } from '../kit/clock';
import { waitFor } from '../kit/wait';

/** A deadline for checks that end on the device's answer: only a safety net. */
const PATIENT_MS = 30_000;

/**
 * The offset is exact but for what the probe cannot know: when, within the round trip, the device
 * read its clock (± half the round trip, which a loaded machine stretches) and the fraction of a
 * second its answer leaves out (± 500 ms around the half second added back).
 */
function assertOffset(r: ClockResult, expectedMs: number): void {
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.ok(r.latencyMs !== null && Number.isFinite(r.latencyMs) && r.latencyMs >= 0, `latency ${r.latencyMs}`);
  const slack = 500 + r.latencyMs / 2 + 2;
  assert.ok(Math.abs(r.offsetMs! - expectedMs) <= slack, `offset ${r.offsetMs}, expected ${expectedMs} ± ${slack}`);
}

const servers: Array<HttpServer | TcpServer> = [];
const sockets = new Set<Socket>();

function listen<T extends HttpServer | TcpServer>(server: T, host: string, port: number): Promise<T> {
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** An HTTP server that answers every request with `status`, `contentType` and `body`. */
function fixedHttp(host: string, status: number, contentType: string, body: string, headers: Record<string, string> = {}): Promise<HttpServer> {
  return listen(
    createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(body);
    }),
    host,
    80,
  );
}

const NOT_AUTHORIZED_FAULT =
  '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error">' +
  '<SOAP-ENV:Body><SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value><SOAP-ENV:Subcode><SOAP-ENV:Value>ter:NotAuthorized</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code>' +
  '<SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">Sender not Authorized</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>';

/** A reply in an unusual prefix style, with a UTCDateTime we control. */
function timeReply(d: Date): string {
  return (
    '<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:MC1="http://www.onvif.org/ver10/device/wsdl" xmlns:x="http://www.onvif.org/ver10/schema">' +
    '<env:Body><MC1:GetSystemDateAndTimeResponse><MC1:SystemDateAndTime><x:DateTimeType>NTP</x:DateTimeType><x:DaylightSavings>false</x:DaylightSavings>' +
    '<x:TimeZone><x:TZ>CST-8</x:TZ></x:TimeZone><x:UTCDateTime>' +
    `<x:Date><x:Year>${d.getUTCFullYear()}</x:Year><x:Month>${d.getUTCMonth() + 1}</x:Month><x:Day>${d.getUTCDate()}</x:Day></x:Date>` +
    `<x:Time><x:Hour>${d.getUTCHours()}</x:Hour><x:Minute>${d.getUTCMinutes()}</x:Minute><x:Second>${d.getUTCSeconds()}</x:Second></x:Time>` +
    '</x:UTCDateTime></MC1:SystemDateAndTime></MC1:GetSystemDateAndTimeResponse></env:Body></env:Envelope>'
  );
}

describe('health probe: ONVIF clock (GetSystemDateAndTime)', () => {
  let sim: Simulator;
  const cam = (id: string): RunningSimCamera => cameraById(sim, id);

  before(async () => {
    sim = await startSimulator({
      rtsp: false,
      cameras: [
        { host: '127.72.2.1', id: 'ahead', clockSkewMs: 60_000 },
        { host: '127.72.2.2', id: 'behind', vendor: 'hikvision', clockSkewMs: -3_600_000 }, // Digest-only device: still open
        { host: '127.72.2.3', id: 'tapo', vendor: 'tapo' },
        { host: '127.72.2.10', id: 'hang', fault: 'hang' },
        { host: '127.72.2.11', id: 'garbage', fault: 'garbage' },
        { host: '127.72.2.12', id: 'truncated', fault: 'truncated' },
        { host: '127.72.2.13', id: 'huge', fault: 'huge' },
        { host: '127.72.2.14', id: 'doctype', fault: 'doctype' },
        { host: '127.72.2.15', id: 'notonvif', fault: 'not-onvif' },
      ],
    });
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await sim?.stop();
  });

  it('offset of a device 60 s ahead is 60 s (± the measurement); one an hour behind, -1 h; prefixes do not matter', async () => {
    const ahead = await checkClock({ deviceUrl: cam('ahead').deviceUrl, timeoutMs: PATIENT_MS });
    assertOffset(ahead, 60_000);
    const behind = await checkClock({ deviceUrl: cam('behind').deviceUrl, timeoutMs: PATIENT_MS });
    assertOffset(behind, -3_600_000);
    const tapo = await checkClock({ deviceUrl: cam('tapo').deviceUrl, timeoutMs: PATIENT_MS });
    assertOffset(tapo, 0);
  });

  it('the box clock comes from `now` (midpoint of request and answer)', async () => {
    const r = await checkClock({ deviceUrl: cam('ahead').deviceUrl, timeoutMs: PATIENT_MS, clock: clockReading(() => Date.now() + 10_000) });
    assertOffset(r, 50_000);
    // A device that stamps a known time: the offset is that time minus the midpoint, plus half
    // a second for the truncated seconds.
    const fixed = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    await fixedHttp('127.72.2.30', 200, 'application/soap+xml; charset=utf-8', timeReply(fixed));
    const stamped = await checkClock({
      deviceUrl: 'http://127.72.2.30/onvif/device_service',
      timeoutMs: PATIENT_MS,
      clock: clockReading(() => fixed.getTime() - 2000),
    });
    assert.equal(stamped.offsetMs, 2500);
  });

  it('accepts TCP and never answers: cut off by the deadline, the result says so; a healthy device probed meanwhile is not delayed', async () => {
    const hung = await checkClock({ deviceUrl: cam('hang').deviceUrl, timeoutMs: 600 });
    assert.equal(hung.ok, false);
    assert.equal(hung.error?.code, 'timeout');
    assert.match(hung.error.message, /127\.72\.2\.10:80.*600 ms.*accepts TCP/);
    // The deadline and the phase it ended in: connected, no answer.
    assert.equal(hung.error.message, 'no answer from 127.72.2.10:80 within 600 ms (ONVIF GetSystemDateAndTime): it accepts TCP but does not answer');
    // The healthy check ends while the hung one still waits (on a deadline it cannot reach; then cancelled).
    const ac = new AbortController();
    let hungDone = false;
    const waiting = checkClock({ deviceUrl: cam('hang').deviceUrl, timeoutMs: PATIENT_MS, signal: ac.signal }).finally(() => (hungDone = true));
    const healthy = await checkClock({ deviceUrl: cam('ahead').deviceUrl, timeoutMs: PATIENT_MS });
    assert.equal(healthy.ok, true, JSON.stringify(healthy));
    assert.equal(hungDone, false, 'the healthy check did not wait for the hung one');
    ac.abort();
    assert.match((await waiting).error?.message ?? '', /cancelled/);
  });

  it('garbage, truncated, DOCTYPE and a web page are bad answers; 20 MB is too large; the sweep goes on', async () => {
    const expected: Record<string, string> = {
      garbage: 'bad-answer',
      truncated: 'bad-answer',
      doctype: 'bad-answer',
      notonvif: 'bad-answer',
      huge: 'too-large',
    };
    const results = await Promise.all(
      Object.keys(expected).map(async (id) => ({ id, r: await checkClock({ deviceUrl: cam(id).deviceUrl, timeoutMs: PATIENT_MS }) })),
    );
    for (const { id, r } of results) {
      assert.equal(r.ok, false, id);
      assert.equal(r.error?.code, expected[id], `${id}: ${r.error?.message}`);
      assert.match(r.error.message, new RegExp(cam(id).spec.host.replace(/\./g, '\\.')), id);
      assert.doesNotMatch(r.error.message, /\n/);
    }
    assert.match(results.find((x) => x.id === 'doctype')!.r.error!.message, /DOCTYPE/);
    assert.equal((await checkClock({ deviceUrl: cam('ahead').deviceUrl, timeoutMs: PATIENT_MS })).ok, true);

    // The huge answer is cut off at the cap, not read to the end: counted on the sending side, a
    // sender of 50 MB (no Content-Length, back-pressure) is stopped long before its end.
    const sender = { written: 0, closed: false };
    await listen(
      createHttpServer((req, res) => {
        req.resume();
        res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
        const chunk = Buffer.alloc(64 * 1024, 'A');
        res.write('<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>');
        const pump = (): void => {
          while (!sender.closed && sender.written < 50 * 1024 * 1024) {
            sender.written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (!sender.closed) res.end('</s:Body></s:Envelope>');
        };
        res.on('close', () => (sender.closed = true));
        pump();
      }),
      '127.72.2.38',
      80,
    );
    const huge = await checkClock({ deviceUrl: 'http://127.72.2.38/onvif/device_service', timeoutMs: PATIENT_MS });
    assert.equal(huge.error?.code, 'too-large', JSON.stringify(huge));
    assert.match(huge.error.message, /more than 65536 bytes/);
    await waitFor(() => sender.closed, 'the probe hanging up on the sender');
    assert.ok(sender.written < 20 * 1024 * 1024, `sender wrote ${Math.round(sender.written / 1024 / 1024)} MB`);
  });

  it('a device that wants credentials even here: auth (SOAP NotAuthorized, or HTTP 401)', async () => {
    await fixedHttp('127.72.2.31', 400, 'application/soap+xml; charset=utf-8', NOT_AUTHORIZED_FAULT);
    await fixedHttp('127.72.2.32', 401, 'text/html', '<!DOCTYPE html><html><body>401 Unauthorized</body></html>', {
      'WWW-Authenticate': 'Digest realm="x", nonce="1"',
    });
    for (const host of ['127.72.2.31', '127.72.2.32']) {
      const r = await checkClock({ deviceUrl: `http://${host}/onvif/device_service`, timeoutMs: PATIENT_MS });
      assert.equal(r.error?.code, 'auth', `${host}: ${JSON.stringify(r)}`);
    }
  });

  it('other bad answers: another SOAP fault, the wrong response, no UTCDateTime, not HTTP at all, a hang-up', async () => {
    const otherFault = NOT_AUTHORIZED_FAULT.replace('ter:NotAuthorized', 'ter:ActionNotSupported').replace(
      'Sender not Authorized',
      'Optional Action Not Implemented',
    );
    await fixedHttp('127.72.2.33', 500, 'application/soap+xml', otherFault);
    await fixedHttp('127.72.2.34', 200, 'application/soap+xml', timeReply(new Date()).replace(/GetSystemDateAndTimeResponse/g, 'GetDeviceInformationResponse'));
    await fixedHttp('127.72.2.35', 200, 'application/soap+xml', timeReply(new Date()).replace(/<x:Year>\d+<\/x:Year>/, '<x:Year>soon</x:Year>'));
    await listen(
      createTcpServer((s) => s.once('data', () => s.end('SSH-2.0-OpenSSH_8.4\r\n'))),
      '127.72.2.36',
      80,
    );
    await listen(
      createTcpServer((s) => s.once('data', () => s.destroy())),
      '127.72.2.37',
      80,
    );
    const expected: Record<string, RegExp> = {
      '127.72.2.33': /SOAP fault: Optional Action Not Implemented/,
      '127.72.2.34': /expected GetSystemDateAndTimeResponse/,
      '127.72.2.35': /UTCDateTime/,
      '127.72.2.36': /HTTP/,
      '127.72.2.37': /closed the connection/,
    };
    for (const [host, message] of Object.entries(expected)) {
      const r = await checkClock({ deviceUrl: `http://${host}/onvif/device_service`, timeoutMs: PATIENT_MS });
      assert.equal(r.error?.code, 'bad-answer', `${host}: ${JSON.stringify(r)}`);
      assert.match(r.error.message, message, host);
    }
  });

  it('refused, and a URL that is not http://', async () => {
    const refused = await checkClock({ deviceUrl: 'http://127.72.2.99:8080/onvif/device_service', timeoutMs: PATIENT_MS });
    assert.equal(refused.error?.code, 'refused');
    assert.match(refused.error.message, /127\.72\.2\.99:8080/);
    const bad = await checkClock({ deviceUrl: 'ftp://admin:secret-pw@127.72.2.1/x', timeoutMs: 1000 });
    assert.equal(bad.error?.code, 'failed');
    assert.doesNotMatch(bad.error.message, /secret-pw/);
  });

  it('an abort signal ends the check at once', async () => {
    const ac = new AbortController();
    // A device that takes the request and never answers; the abort comes once it has the request.
    await listen(
      createTcpServer((s) => s.once('data', () => ac.abort())),
      '127.72.2.39',
      80,
    );
    // The deadline is out of reach: a result at all means the abort ended the check.
    const r = await checkClock({ deviceUrl: 'http://127.72.2.39/onvif/device_service', timeoutMs: PATIENT_MS, signal: ac.signal });
    assert.equal(r.error?.code, 'timeout');
    assert.match(r.error.message, /cancelled/);
    assert.equal(r.error.message, 'ONVIF GetSystemDateAndTime on 127.72.2.39:80 was cancelled');
  });
});
