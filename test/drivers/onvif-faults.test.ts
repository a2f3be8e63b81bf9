// OnvifDriver against misbehaving HTTP peers on loopback (127.32.0.0/16 belongs to this file).
// Every failure must be a DriverError with the right code and a message naming the device.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { openDriver, DriverError, type DriverErrorCode } from '../../drivers';
import { startRaw, httpHead, type RawServer } from './helpers/raw-http';

// Spy on xml2js (used by the onvif package): a DTD must never reach it.
const xml2js = require('xml2js') as { parseString: (...a: unknown[]) => unknown };
const seenByXml2js: string[] = [];
const originalParse = xml2js.parseString;
xml2js.parseString = (...args: unknown[]) => {
  seenByXml2js.push(String(args[0]));
  return originalParse(...args);
};

const servers: RawServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function raw(host: string, handler: Parameters<typeof startRaw>[2]): Promise<RawServer> {
  const s = await startRaw(host, 80, handler);
  servers.push(s);
  return s;
}

const creds = { username: 'admin', password: 'admin123' };

async function expectDriverError(p: Promise<unknown>, code: DriverErrorCode, message?: RegExp): Promise<DriverError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DriverError, `expected DriverError, got ${(err as Error)?.stack ?? err}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    assert.ok(!/\n\s+at /.test(err.message), 'no stack trace in the message');
    return err;
  }
  assert.fail(`expected DriverError ${code}, it resolved`);
}

test('hang: accepts TCP, never answers → timeout after timeoutMs, not 120 s', async () => {
  await raw('127.32.0.1', () => undefined);
  const d = openDriver({ kind: 'onvif', host: '127.32.0.1' }, creds, { timeoutMs: 300 });
  const t0 = Date.now();
  await expectDriverError(d.identify(), 'timeout', /^no answer from 127\.32\.0\.1:80 within 300 ms/);
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
  d.close();
});

test('trickle: a byte every 50 ms defeats idle timeouts but not our deadline', async () => {
  await raw('127.32.0.2', (socket) => {
    socket.write(httpHead('200 OK', { 'Content-Type': 'application/soap+xml', 'Content-Length': 100000 }));
    const t = setInterval(() => (socket.destroyed ? clearInterval(t) : socket.write(' ')), 50);
    socket.on('close', () => clearInterval(t));
  });
  const d = openDriver({ kind: 'onvif', host: '127.32.0.2' }, creds, { timeoutMs: 400 });
  const t0 = Date.now();
  await expectDriverError(d.identify(), 'timeout', /127\.32\.0\.2:80 within 400 ms/);
  assert.ok(Date.now() - t0 < 1500);
  d.close();
});

test('huge: a 20 MB answer is cut off at the cap', async () => {
  const s = await raw('127.32.0.3', (socket) => {
    socket.write(httpHead('200 OK', { 'Content-Type': 'application/soap+xml', 'Content-Length': 20 * 1024 * 1024 }));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < 20 * 1024 * 1024 && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) return socket.once('drain', pump);
      }
    };
    pump();
  });
  const d = openDriver({ kind: 'onvif', host: '127.32.0.3' }, creds, { timeoutMs: 3000, maxResponseBytes: 1024 * 1024 });
  await expectDriverError(d.identify(), 'too-large', /127\.32\.0\.3:80 is larger than 1048576 bytes/);
  assert.ok(s.written() < 20 * 1024 * 1024, 'the transfer was aborted');
  d.close();
});

const LAUGHS =
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
  '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x>&lol3;</x></s:Body></s:Envelope>';

test('DOCTYPE/ENTITY in one chunk: unsafe-xml, never parsed by xml2js', async () => {
  await raw('127.32.0.4', (socket) => {
    socket.end(httpHead('200 OK', { 'Content-Type': 'application/soap+xml', 'Content-Length': Buffer.byteLength(LAUGHS) }) + LAUGHS);
  });
  const d = openDriver({ kind: 'onvif', host: '127.32.0.4' }, creds, { timeoutMs: 2000 });
  await expectDriverError(d.identify(), 'unsafe-xml', /127\.32\.0\.4:80 declares a DOCTYPE/);
  assert.ok(!seenByXml2js.some((x) => /<!DOCTYPE|<!ENTITY/.test(x)));
  d.close();
});

test('DOCTYPE split across TCP segments at awkward places is still caught', async () => {
  await raw('127.32.0.5', (socket) => {
    const body = '<?xml version="1.0"?><!DOC' + 'TYPE x [ <!ENT' + 'ITY a "b"> ]><s:Envelope><s:Body>&a;</s:Body></s:Envelope>';
    const parts = [
      httpHead('200 OK', { 'Content-Type': 'application/soap+xml', 'Content-Length': Buffer.byteLength(body) }) + '<?xml version="1.0"?><!DOC',
      'TYPE x [ <!ENT',
      'ITY a "b"> ]><s:Envelope><s:Body>&a;</s:Body></s:Envelope>',
    ];
    socket.setNoDelay(true);
    parts.forEach((p, i) => setTimeout(() => !socket.destroyed && socket.write(p), i * 30));
  });
  const d = openDriver({ kind: 'onvif', host: '127.32.0.5' }, creds, { timeoutMs: 2000 });
  await expectDriverError(d.identify(), 'unsafe-xml');
  assert.ok(!seenByXml2js.some((x) => /<!DOC|<!ENT/.test(x)));
  d.close();
});

test('garbage bytes with a binary content type → not-onvif; with a SOAP content type → malformed', async () => {
  await raw('127.32.0.6', (socket) => {
    const junk = Buffer.from([0x00, 0xff, 0x13, 0x37, 0x42, 0x99, 0x10]);
    socket.end(Buffer.concat([Buffer.from(httpHead('200 OK', { 'Content-Type': 'application/octet-stream', 'Content-Length': junk.length })), junk]));
  });
  await raw('127.32.0.7', (socket) => {
    const junk = 'this is not xml {"at": "all"}';
    socket.end(httpHead('200 OK', { 'Content-Type': 'application/soap+xml', 'Content-Length': junk.length }) + junk);
  });
  const a = openDriver({ kind: 'onvif', host: '127.32.0.6' }, creds, { timeoutMs: 2000 });
  await expectDriverError(a.identify(), 'not-onvif', /127\.32\.0\.6:80 is not an ONVIF device \(HTTP 200 application\/octet-stream\)/);
  const b = openDriver({ kind: 'onvif', host: '127.32.0.7' }, creds, { timeoutMs: 2000 });
  await expectDriverError(b.identify(), 'malformed', /127\.32\.0\.7:80/);
  a.close();
  b.close();
});

test('an ordinary web server → not-onvif (HTTP 200 text/html)', async () => {
  await raw('127.32.0.8', (socket) => {
    const page = '<!DOCTYPE html><html><head><title>Router</title></head><body>Welcome</body></html>';
    socket.end(httpHead('200 OK', { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': page.length }) + page);
  });
  const d = openDriver({ kind: 'onvif', host: '127.32.0.8' }, creds, { timeoutMs: 2000 });
  await expectDriverError(d.identify(), 'not-onvif', /^127\.32\.0\.8:80 is not an ONVIF device \(HTTP 200 text\/html\)$/);
  d.close();
});

test('truncated SOAP and a connection closed mid-answer → malformed', async () => {
  await raw('127.32.0.9', (socket) => {
    const xml = '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><tds:GetSystemDateAndTimeResp';
    socket.end(httpHead('200 OK', { 'Content-Type': 'application/soap+xml', 'Content-Length': xml.length }) + xml);
  });
  await raw('127.32.0.10', (socket) => {
    socket.write(httpHead('200 OK', { 'Content-Type': 'application/soap+xml', 'Content-Length': 5000 }) + '<s:Envelope>');
    setTimeout(() => socket.destroy(), 20);
  });
  const a = openDriver({ kind: 'onvif', host: '127.32.0.9' }, creds, { timeoutMs: 2000 });
  await expectDriverError(a.identify(), 'malformed', /127\.32\.0\.9:80/);
  const b = openDriver({ kind: 'onvif', host: '127.32.0.10' }, creds, { timeoutMs: 2000 });
  await expectDriverError(b.identify(), 'malformed', /127\.32\.0\.10:80 closed the connection/);
  a.close();
  b.close();
});

test('nothing listening → unreachable', async () => {
  const d = openDriver({ kind: 'onvif', host: '127.32.0.99', port: 8081 }, creds, { timeoutMs: 2000 });
  await expectDriverError(d.identify(), 'unreachable', /^127\.32\.0\.99:8081 refused the connection/);
  d.close();
});

test('Hikvision-style 401 HTML page (no challenge) → auth, naming device and user', async () => {
  await raw('127.32.0.11', (socket) => {
    const page = '<!DOCTYPE html><html><head><title>Document Error: Unauthorized</title></head><body><h2>Access Error: 401 -- Unauthorized</h2></body></html>';
    socket.end(httpHead('401 Unauthorized', { 'Content-Type': 'text/html', 'Content-Length': page.length }) + page);
  });
  const d = openDriver({ kind: 'onvif', host: '127.32.0.11' }, creds, { timeoutMs: 2000 });
  await expectDriverError(d.identify(), 'auth', /^authentication failed for 127\.32\.0\.11:80 \(admin\): check the camera's username\/password$/);
  d.close();
  const anon = openDriver({ kind: 'onvif', host: '127.32.0.11' }, undefined, { timeoutMs: 2000 });
  await expectDriverError(anon.identify(), 'auth', /^127\.32\.0\.11:80 requires a username and password$/);
  anon.close();
});

test('SOAP faults: unsupported vs device-fault', async () => {
  const faultXml = (sub: string, reason: string) =>
    `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>${sub}</s:Value></s:Subcode></s:Code><s:Reason><s:Text>${reason}</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`;
  await raw('127.32.0.12', (socket, req) => {
    const xml = req.includes('GetSystemDateAndTime')
      ? faultXml('ter:ActionNotSupported', 'Optional Action Not Implemented')
      : faultXml('ter:HardwareFailure', 'Sensor on fire');
    socket.end(httpHead('500 Internal Server Error', { 'Content-Type': 'application/soap+xml', 'Content-Length': xml.length }) + xml);
  });
  const d = openDriver({ kind: 'onvif', host: '127.32.0.12' }, creds, { timeoutMs: 2000 });
  // No clock is tolerated; GetServices/GetCapabilities fail with the device's own reason.
  await expectDriverError(d.identify(), 'device-fault', /127\.32\.0\.12:80 answered GetCapabilities with a SOAP fault: Sensor on fire/);
  d.close();
});
