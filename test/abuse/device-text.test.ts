// Hostile devices against the paths their text takes (docs/security.md): a
// camera answering megabytes of SOAP fault (redaction, and the onvif package's own namespace
// regex, were quadratic on it: the agent froze), terminal escape sequences in everything a device
// names, and stream URIs of other protocols. As an attacker meets it: the real CLI and the real
// agent (`camgate run`) as child processes, a real Mosquitto, fake devices on 127.117.0.0/16
// (this file's). Work is bounded by construction and checked by counting it, never by timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as fc from 'fast-check';
import Database from 'better-sqlite3';
import { BIN, runCli } from '../agent/helpers';
import { tempDir, type TestContext } from '../kit/temp';
import { report } from '../kit/reports';
import { recorder, command } from '../kit/mqtt';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { startResponder, probeMatchXml } from '../drivers/helpers/fake-discovery';
import { startFakeRtsp } from '../drivers/helpers/fake-rtsp';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { redactUrlsInText, type ScanMeter } from '../../lib/redact';
import { printableLine, terminalSafe, OUTSIDE_TEXT_MAX_CHARS } from '../../lib/text';
import { parseXml, soapBody, soapFault } from '../../drivers/xml';
import { FAULT_REASON_MAX_CHARS } from '../../drivers/xml/soap';
import { checkDeviceUri, DEVICE_URI_SCHEMES } from '../../drivers/uri';
import { DriverError, RtspDriver } from '../../drivers';
import { parseCsvLabels } from '../../agent/labels/files';
import { planImport } from '../../agent/labels/validate';
import type { CameraLabels } from '../../agent/inventory/types';

const NO_LABELS: CameraLabels = { name: null, class: null, latitude: null, longitude: null, region: null, owner: null, notes: null, installDate: null };

// ---- a hostile ONVIF device ---------------------------------------------------------------

const NS =
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema" ' +
  'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl"';
const envelope = (body: string) => `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${NS}><s:Body>${body}</s:Body></s:Envelope>`;
const fault = (code: string, reason: string) =>
  envelope(
    `<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>${code}</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">${reason}</s:Text></s:Reason></s:Fault>`,
  );

/** ~1.9 MB of fault reason: letters only, the shape that made the URL redaction regex quadratic. */
const HUGE_REASON = 'a'.repeat(1_900_000);
/** ~1.9 MB answer of "xmlns" without "=": the onvif package's /xmlns([^=]*?)=(".*?")/g scans it all from every one. */
const XMLNS_FLOOD = envelope(`<x>${'xmlns'.repeat(380_000)}</x>`);

const ESC = '\u001b';
const CSI = '\u009b';
/** What an attacker puts in a firmware string: colour, a window title, a screen clear, a forged line. */
const EVIL = `v1${ESC}[31mRED${ESC}]0;owned${'\u0007'}${CSI}2J\r\n✓ 10.66.6.6  Forged camera, firmware 0\n`;

interface Answer {
  status?: number;
  body: string;
}
type Answers = (op: string, request: string) => Answer | string | undefined;

interface FakeDevice {
  host: string;
  port: number;
  /** "host:port" as the CLI and messages name it. */
  address: string;
  operations: string[];
}

function operationOf(body: string): string {
  return /<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?(\w+)/.exec(body)?.[1] ?? '';
}

function profileToken(body: string): string {
  return /<(?:\w+:)?ProfileToken>([^<]*)</.exec(body)?.[1] ?? '';
}

/** An ONVIF device that answers what `answers` returns, else like an honest camera (no login). */
async function startDevice(t: TestContext, host: string, answers: Answers, skewMs = 0): Promise<FakeDevice> {
  const operations: string[] = [];
  let port = 0;
  const honest = (op: string, request: string): string => {
    const now = new Date(Date.now() + skewMs);
    const at = `http://${host}:${port}`;
    switch (op) {
      case 'GetSystemDateAndTime':
        return envelope(
          '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:UTCDateTime>' +
            `<tt:Time><tt:Hour>${now.getUTCHours()}</tt:Hour><tt:Minute>${now.getUTCMinutes()}</tt:Minute><tt:Second>${now.getUTCSeconds()}</tt:Second></tt:Time>` +
            `<tt:Date><tt:Year>${now.getUTCFullYear()}</tt:Year><tt:Month>${now.getUTCMonth() + 1}</tt:Month><tt:Day>${now.getUTCDate()}</tt:Day></tt:Date>` +
            '</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>',
        );
      case 'GetServices':
        return envelope(
          '<tds:GetServicesResponse>' +
            `<tds:Service><tds:Namespace>http://www.onvif.org/ver10/device/wsdl</tds:Namespace><tds:XAddr>${at}/onvif/device_service</tds:XAddr></tds:Service>` +
            `<tds:Service><tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace><tds:XAddr>${at}/onvif/media</tds:XAddr></tds:Service>` +
            '</tds:GetServicesResponse>',
        );
      case 'GetDeviceInformation':
        return envelope(
          '<tds:GetDeviceInformationResponse><tds:Manufacturer>Acme</tds:Manufacturer><tds:Model>IPC</tds:Model>' +
            `<tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>SN-${host}</tds:SerialNumber></tds:GetDeviceInformationResponse>`,
        );
      case 'GetProfiles':
        return envelope(
          '<trt:GetProfilesResponse><trt:Profiles token="main"><tt:Name>main</tt:Name><tt:VideoSourceConfiguration><tt:SourceToken>VS1</tt:SourceToken></tt:VideoSourceConfiguration>' +
            '<tt:VideoEncoderConfiguration><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles></trt:GetProfilesResponse>',
        );
      case 'GetStreamUri':
        return envelope(
          `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://${host}:554/${profileToken(request)}</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>`,
        );
      case 'GetSnapshotUri':
        return envelope(
          `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>http://${host}/snap/${profileToken(request)}</tt:Uri></trt:MediaUri></trt:GetSnapshotUriResponse>`,
        );
      case 'SetSystemDateAndTime':
        return envelope('<tds:SetSystemDateAndTimeResponse/>');
      case 'SystemReboot':
        return envelope('<tds:SystemRebootResponse><tds:Message>Rebooting</tds:Message></tds:SystemRebootResponse>');
      default:
        return fault('ter:ActionNotSupported', 'Optional Action Not Implemented');
    }
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = Buffer.concat(chunks).toString('utf8');
      const op = operationOf(request);
      operations.push(op);
      const a = answers(op, request) ?? honest(op, request);
      const { status, body } = typeof a === 'string' ? { status: 200, body: a } : { status: a.status ?? 200, body: a.body };
      res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  port = (server.address() as { port: number }).port;
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.on('connection', (s) => t.after(() => s.destroy()));
  return { host, port, address: `${host}:${port}`, operations };
}

/** True when the text holds a character a terminal acts on: C0 other than line feed and tab, DEL, C1. */
function hasRawControl(text: string): boolean {
  return /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(text);
}

// ---- item: a camera freezes the agent (huge SOAP fault) -------------------------------------

test('cameras add onvif against a camera answering a 1.9 MB SOAP fault: an error naming the device, a bounded message', async (t) => {
  const dir = tempDir(t);
  const device = await startDevice(t, '127.117.0.2', () => ({ status: 500, body: fault('ter:Action', HUGE_REASON) }));
  // runCli kills the CLI after its limit: before the fix it was still redacting after 150 s.
  const r = await runCli(['cameras', 'add', 'onvif', device.address, '--data-dir', dir], { timeoutMs: 50_000 });
  assert.equal(r.code, 1, `exit ${r.code}; stderr: ${r.stderr.slice(0, 300)}`);
  assert.ok(r.stderr.length < 2 * FAULT_REASON_MAX_CHARS, `stderr is ${r.stderr.length} characters`);
  assert.match(r.stderr, new RegExp(`${device.address.replace(/\./g, '\\.')}.*SOAP fault: a{100}a*…; nothing was saved`));
});

test('cameras add onvif against a camera answering 1.9 MB of "xmlns": the onvif package never runs its quadratic regex on it', async (t) => {
  const dir = tempDir(t);
  const device = await startDevice(t, '127.117.0.3', () => XMLNS_FLOOD);
  const r = await runCli(['cameras', 'add', 'onvif', device.address, '--data-dir', dir], { timeoutMs: 50_000 });
  assert.equal(r.code, 1, `exit ${r.code}; stderr: ${r.stderr.slice(0, 300)}`);
  assert.ok(r.stderr.length < 1024, `stderr is ${r.stderr.length} characters`);
  assert.match(r.stderr, new RegExp(`${device.address.replace(/\./g, '\\.')} answered Get\\w+ with x; nothing was saved`));
  assert.ok(device.operations.length >= 3, `the device was asked ${device.operations.join(', ')}`);
});

test('camgate run: a camera answering a 1.9 MB SOAP fault to a command and to the clock sync of the health probes; the agent answers, reports, stops', async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  const site = 'abuse-text';
  // The camera's clock is an hour off (the health probe sees drift, auto-sync sets it); setting
  // the clock and rebooting both answer the huge fault.
  const device = await startDevice(
    t,
    '127.117.0.4',
    (op) => (op === 'SetSystemDateAndTime' || op === 'SystemReboot' ? { status: 500, body: fault('ter:Action', HUGE_REASON) } : undefined),
    3_600_000,
  );
  const db = openDatabase(dataDir);
  const cameraId = upsertDeviceReport(db, report({ host: device.host, port: device.port, url: `http://${device.address}/onvif/device_service` }), {
    now: new Date(),
  }).cameras[0].id;
  db.close();
  const broker = await startMosquitto({});
  t.after(() => broker.stop());
  const centre = await recorder(t, broker.url, `camgate/v1/${site}/#`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAMGATE_') && v !== undefined) env[k] = v;
  Object.assign(env, {
    CAMGATE_SITE_ID: site,
    CAMGATE_BROKER_URLS: broker.url,
    CAMGATE_DATA_DIR: dataDir,
    CAMGATE_WEB_PORT: '0',
    CAMGATE_HEALTH_REACH_INTERVAL_SEC: '1',
    CAMGATE_HEALTH_STREAM_INTERVAL_SEC: '0',
    CAMGATE_HEALTH_PICTURE_INTERVAL_SEC: '0',
    CAMGATE_HEALTH_CLOCK_AUTO_SYNC: 'true',
    CAMGATE_LOG_LEVEL: 'info',
  });
  const agent = spawn(process.execPath, [BIN, 'run'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  agent.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => agent.on('close', (code) => resolve(code)));
  t.after(() => agent.kill('SIGKILL'));

  // The health probes: drift seen, auto-sync tried, its failure reported with a bounded message.
  const synced = await centre.waitFor(
    (m) => m.topic.endsWith('/events') && m.json.type === 'clock-synced',
    40_000,
    `a clock-synced event (agent stderr: ${stderr.slice(-400)})`,
  );
  // Sizes first: a failing match on megabytes would have the test runner print them all.
  assert.ok(synced.text.length < 4 * OUTSIDE_TEXT_MAX_CHARS, `the event is ${synced.text.length} bytes`);
  const event = synced.json as { severity: string; message: string };
  assert.equal(event.severity, 'warning');
  assert.match(event.message, new RegExp(`${device.address.replace(/\./g, '\\.')} answered SetSystemDateAndTime with a SOAP fault: a{100}`));

  // A command that meets the fault: an error reply naming the device, then the agent still answers.
  const reply = await command(centre, site, 'camera-reboot', { camera: cameraId }, 'reboot-1', 40_000);
  const error = reply.error as { code: string; message: string };
  assert.equal(reply.ok, false);
  assert.ok(error.message.length < 2 * FAULT_REASON_MAX_CHARS, `the reply's message is ${error.message.length} characters`);
  assert.match(error.message, new RegExp(`${device.address.replace(/\./g, '\\.')} answered SystemReboot with a SOAP fault`));
  const pong = await command(centre, site, 'ping', {}, 'ping-1', 20_000);
  assert.equal(pong.ok, true);
  // Its log lines stay bounded too (the error was logged with the redacting serializer).
  for (const line of stderr.split('\n')) assert.ok(line.length < 4 * OUTSIDE_TEXT_MAX_CHARS, `a log line of ${line.length} characters`);
  agent.kill('SIGTERM');
  assert.equal(await exited, 0, stderr.slice(-600));
});

test('redaction is linear: work counted on hostile shapes grows with the length, 10k against 100k characters', () => {
  const shapes: Record<string, (n: number) => string> = {
    letters: (n) => 'a'.repeat(n),
    'scheme runs': (n) => 'a1+.-'.repeat(n / 5),
    'empty URLs': (n) => 'a:// '.repeat(n / 5),
    'no-scheme URLs': (n) => '1://x'.repeat(n / 5),
    'nested URLs': (n) => 'a://'.repeat(n / 4),
    'at signs': (n) => 'a://' + '@'.repeat(n - 4),
    'long userinfo': (n) => 'rtsp://' + 'u:p'.repeat(n / 3) + '@h/x',
    'secret params': (n) => 'http://h/?password=' + '?password='.repeat(n / 10),
    'colon slashes': (n) => ':/'.repeat(n / 2),
  };
  const work = (text: string) => {
    const meter: ScanMeter = { chars: 0 };
    redactUrlsInText(text, meter);
    return meter.chars;
  };
  for (const [name, make] of Object.entries(shapes)) {
    // Every character is read at least once (the scan is what is counted)...
    const small = work(make(10_000));
    assert.ok(small >= 10_000, `${name}: ${small} characters looked at for 10k of text`);
    // ...and ten times the text is about ten times the work (a quadratic scan would be a hundred).
    const large = work(make(100_000));
    assert.ok(large <= 11 * small, `${name}: ${small} → ${large} characters looked at`);
    assert.ok(large <= 8 * 100_000, `${name}: ${large} characters looked at for 100k of text`);
  }
});

test('redaction of a 2 MB hostile string finishes (in a worker, so a regression fails instead of hanging)', async () => {
  const worker = new Worker(
    `const { redactUrlsInText } = require(${JSON.stringify(require.resolve('../../lib/redact'))});
     const { parentPort } = require('node:worker_threads');
     const out = redactUrlsInText('a'.repeat(2 * 1024 * 1024) + ' rtsp://admin:secret@10.0.0.5/x');
     parentPort.postMessage(out.slice(-40));`,
    { eval: true },
  );
  try {
    const tail = await new Promise<string>((resolve, reject) => {
      // A safety net, not a measurement: the linear scan takes milliseconds, the old regex hours.
      const limit = setTimeout(() => reject(new Error('redaction of 2 MB did not finish within 60 s')), 60_000);
      worker.once('message', (m: string) => {
        clearTimeout(limit);
        resolve(m);
      });
      worker.once('error', reject);
    });
    assert.equal(tail, 'aaaaaaaaaaaaaaaaaa rtsp://***@10.0.0.5/x');
  } finally {
    await worker.terminate();
  }
});

test('what a device says is cut before anything reads it: fault reasons, parser messages, RTSP reasons, CSV cells', async (t) => {
  const body = soapBody(parseXml(fault('ter:Action', HUGE_REASON), { maxBytes: 4 * 1024 * 1024 }))!;
  const f = soapFault(body)!;
  assert.ok(f.reason.length <= FAULT_REASON_MAX_CHARS, `fault reason of ${f.reason.length}`);
  assert.match(f.reason, /^a+…$/);
  // The parser quotes the document in its messages: a megabyte tag name stays out of them.
  assert.throws(
    () => parseXml(`<${'a'.repeat(1_000_000)}>`, { source: 'dev' }),
    (e: unknown) => e instanceof DriverError && e.code === 'malformed' && e.message.length < 400,
  );
  // RTSP: a 16 KB reason phrase.
  const rtsp = await startFakeRtsp({ host: '127.117.0.5', raw: Buffer.from(`RTSP/1.0 500 ${'b'.repeat(15_000)}\r\nCSeq: 1\r\n\r\n`) });
  t.after(() => rtsp.close());
  const driver = new RtspDriver({ url: 'rtsp://127.117.0.5:554/x', timeoutMs: 5000 });
  await assert.rejects(driver.report(), (e: unknown) => e instanceof DriverError && e.message.length < 400 && /b{100}/.test(e.message));
  // A CSV cell of 200k characters: the problem quotes its start.
  const parsed = parseCsvLabels(`id,name\ncam-1,${'x'.repeat(200_000)}\n`);
  const plan = planImport(parsed.rows, [{ id: 'cam-1', labels: NO_LABELS }]);
  assert.equal(plan.problems.length, 1);
  assert.ok(plan.problems[0].length < 400, plan.problems[0].slice(0, 200));
  assert.match(plan.problems[0], /is 200000 characters long; at most 100/);
});

test('cameras import of a CSV with a 200k-character cell: every problem line is bounded', async (t) => {
  const dir = tempDir(t);
  const db = openDatabase(dir);
  const id = upsertDeviceReport(db, report({ host: '127.117.0.6' }), { now: new Date() }).cameras[0].id;
  db.close();
  const file = join(dir, 'labels.csv');
  writeFileSync(file, `id,name,notes\n${id},${'n'.repeat(200_000)},${'https://'.repeat(25_000)}\n`);
  const r = await runCli(['cameras', 'import', file, '--data-dir', dir], { timeoutMs: 50_000 });
  assert.equal(r.code, 2, r.stderr.slice(0, 300));
  for (const line of r.stderr.split('\n')) assert.ok(line.length < 600, `a line of ${line.length} characters`);
  assert.match(r.stderr, /name = "n{50}.*characters cut\)": is 200000 characters long; at most 100/);
});

test('property: redactUrlsInText leaves no user:password@ of any URL, whatever the text around it', () => {
  const piece = fc.oneof(
    fc.constantFrom(
      'rtsp',
      'http',
      'a1',
      '://',
      ':/',
      '//',
      '@',
      ':',
      '/',
      '?',
      '#',
      ' ',
      '"',
      "'",
      '<',
      '>',
      '\n',
      '%40',
      'p@ss',
      'admin:',
      'password=',
      '&',
      '1',
    ),
    fc.string({ maxLength: 6 }),
  );
  const text = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(''));
  const login = fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ minLength: 1, maxLength: 8 }));
  fc.assert(
    fc.property(text, text, login, fc.boolean(), (before, after, [user, password], encoded) => {
      // Raw or as a client writes it (percent-encoded): the characters that end an authority cannot
      // be in a raw one, or it is no longer one URL.
      const [u, p] = encoded
        ? [encodeURIComponent(user), encodeURIComponent(password)]
        : [user.replace(/[/?#\s"'<>]/g, ''), password.replace(/[/?#\s"'<>]/g, '')];
      const input = `${before} rtsp://${u}:${p}@10.0.0.5/x ${after}`;
      const out = redactUrlsInText(input);
      // Every "://" in the output: its authority (up to / ? # or the end of the URL) carries no
      // user information but ***.
      for (let i = out.indexOf('://'); i >= 0; i = out.indexOf('://', i + 1)) {
        const authority = /^[^/?#\s"'<>]*/.exec(out.slice(i + 3))![0];
        const at = authority.lastIndexOf('@');
        if (at >= 0) assert.equal(authority.slice(0, at), '***', `${JSON.stringify(input)} → ${JSON.stringify(out)}`);
      }
    }),
    { numRuns: 2000, seed: 20250117 },
  );
});

// ---- item: terminal escape sequences in device text ------------------------------------------

test('escape sequences in what a camera says (identity, profile names, scopes): add, list, show and discover print none of them raw', async (t) => {
  const dir = tempDir(t);
  const host = '127.117.0.7';
  const device = await startDevice(t, host, (op) => {
    if (op === 'GetDeviceInformation') {
      return envelope(
        `<tds:GetDeviceInformationResponse><tds:Manufacturer>Acme${ESC}[2J</tds:Manufacturer><tds:Model>IPC${CSI}31m</tds:Model>` +
          `<tds:FirmwareVersion>${EVIL}</tds:FirmwareVersion><tds:SerialNumber>SN${ESC}[8m</tds:SerialNumber></tds:GetDeviceInformationResponse>`,
      );
    }
    if (op === 'GetProfiles') {
      return envelope(
        `<trt:GetProfilesResponse><trt:Profiles token="main"><tt:Name>main${ESC}]0;title${'\u0007'}</tt:Name><tt:VideoSourceConfiguration><tt:SourceToken>VS1</tt:SourceToken></tt:VideoSourceConfiguration>` +
          `<tt:VideoEncoderConfiguration><tt:Encoding>H264${ESC}[5m</tt:Encoding></tt:VideoEncoderConfiguration></trt:Profiles></trt:GetProfilesResponse>`,
      );
    }
    if (op === 'GetScopes')
      return envelope(
        `<tds:GetScopesResponse><tds:Scopes><tt:ScopeItem>onvif://www.onvif.org/name/x${ESC}[31m</tt:ScopeItem></tds:Scopes></tds:GetScopesResponse>`,
      );
    return undefined;
  });
  const responder = await startResponder(host, () =>
    probeMatchXml(`urn:uuid:${'1'.repeat(8)}-1111-1111-1111-${'1'.repeat(12)}`, `http://${device.address}/onvif/device_service`),
  );
  t.after(() => responder.close());

  const added = await runCli(['cameras', 'add', 'onvif', device.address, '--data-dir', dir]);
  assert.equal(added.code, 0, added.stderr);
  const list = await runCli(['cameras', 'list', '--data-dir', dir]);
  const id = /cam-[0-9a-f]{10}/.exec(list.stdout)?.[0];
  assert.ok(id, list.stdout);
  const show = await runCli(['cameras', 'show', id, '--data-dir', dir]);
  const showJson = await runCli(['cameras', 'show', id, '--json', '--data-dir', dir]);
  const discover = await runCli(['discover', '--range', host, '--no-multicast', '--timeout', '3000', '--data-dir', dir]);
  const discoverJson = await runCli(['discover', '--range', host, '--no-multicast', '--timeout', '3000', '--json', '--no-save', '--data-dir', dir]);
  for (const [name, r] of Object.entries({ added, list, show, showJson, discover, discoverJson })) {
    assert.ok(
      !hasRawControl(r.stdout) && !hasRawControl(r.stderr),
      `${name} printed a raw control character: ${JSON.stringify(r.stdout + r.stderr).slice(0, 600)}`,
    );
    // The firmware's line break does not forge a line of output.
    assert.ok(!/^\s*✓ 10\.66\.6\.6/m.test(r.stdout), `${name} printed the forged line:\n${r.stdout}`);
  }
  assert.match(show.stdout, /v1\\x1b\[31mRED/);
  // The forged line is folded into the firmware, in plain sight.
  assert.match(discover.stdout, /firmware v1\\x1b\[31mRED\\x1b\]0;owned\\x07\\x9b2J ✓ 10\.66\.6\.6 Forged camera/);
  // Scripts still get the values exactly as the device sent them.
  // (XML turns the CR LF into LF: that much is the parser's, as for any device.)
  assert.equal((JSON.parse(showJson.stdout) as { device: { firmware: string } }).device.firmware, EVIL.trim().replace(/\r\n/g, '\n'));
  const found = JSON.parse(discoverJson.stdout) as { devices: Array<{ model: string; scopes: string[] }> };
  assert.equal(found.devices[0].model, `IPC${CSI}31m`);
});

test('property: printable lines and terminal text never carry a control character a terminal acts on', () => {
  const anyText = fc.string({ unit: 'binary', maxLength: 200 });
  fc.assert(
    fc.property(anyText, fc.integer({ min: 1, max: 300 }), (s, max) => {
      const line = printableLine(s, max);
      assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(line), JSON.stringify(line));
      assert.ok(line.length <= max, `${line.length} > ${max}`);
      assert.ok(!hasRawControl(terminalSafe(s)));
    }),
    { numRuns: 2000, seed: 20250118 },
  );
});

// ---- item: stream URIs of other protocols --------------------------------------------------

test('a camera reporting file:///etc/passwd as its stream URI: refused, and cameras show says why, naming the profile', async (t) => {
  const dir = tempDir(t);
  const device = await startDevice(t, '127.117.0.8', (op, request) => {
    if (op === 'GetProfiles') {
      return envelope(
        '<trt:GetProfilesResponse>' +
          '<trt:Profiles token="main"><tt:Name>Main</tt:Name><tt:VideoEncoderConfiguration><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>' +
          '<trt:Profiles token="sub"><tt:Name>Sub</tt:Name><tt:VideoEncoderConfiguration><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width><tt:Height>360</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>' +
          '</trt:GetProfilesResponse>',
      );
    }
    if (op === 'GetStreamUri' && profileToken(request) === 'main') {
      return envelope('<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>file:///etc/passwd</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>');
    }
    if (op === 'GetSnapshotUri' && profileToken(request) === 'main') {
      return envelope(
        '<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>ftp://admin:pw@10.0.0.5/snap.jpg</tt:Uri></trt:MediaUri></trt:GetSnapshotUriResponse>',
      );
    }
    return undefined;
  });
  const added = await runCli(['cameras', 'add', 'onvif', device.address, '--data-dir', dir]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /note: profile "Main" \(token main\) has no stream URI: the device reported stream URI "file:\/\/\/etc\/passwd": refused/);
  const db = new Database(join(dir, 'camgate.db'), { readonly: true });
  const rows = db.prepare('SELECT profiles FROM cameras').all() as Array<{ profiles: string }>;
  db.close();
  const storedUris = rows.flatMap((r) =>
    (JSON.parse(r.profiles) as Array<{ streamUri?: string; snapshotUri?: string }>).flatMap((p) => [p.streamUri, p.snapshotUri]),
  );
  assert.deepEqual(
    storedUris.filter((u) => u !== undefined),
    [`rtsp://${device.host}:554/sub`, `http://${device.host}/snap/sub`],
  );
  const id = /added (cam-[0-9a-f]{10})/.exec(added.stdout)?.[1];
  assert.ok(id, added.stdout);
  const show = await runCli(['cameras', 'show', id, '--data-dir', dir]);
  assert.match(show.stdout, /only rtsp:\/\/ and rtsps:\/\/ stream URIs are used/);
  assert.match(
    show.stdout,
    /profile "Main" \(token main\) has no snapshot URI: the device reported snapshot URI "ftp:\/\/10\.0\.0\.5\/snap\.jpg": refused, only http:\/\/ and https:\/\//,
  );
  const json = JSON.parse((await runCli(['cameras', 'show', id, '--json', '--data-dir', dir])).stdout) as {
    profiles: Array<{ token: string; streamUri?: string; notes?: string[] }>;
  };
  const main = json.profiles.find((p) => p.token === 'main')!;
  const sub = json.profiles.find((p) => p.token === 'sub')!;
  assert.equal(main.streamUri, undefined);
  assert.equal(main.notes?.length, 2);
  assert.equal(sub.streamUri, `rtsp://${device.host}:554/sub`);
  assert.equal(sub.notes, undefined);
});

test('property: a device URI is used only with the schemes of its kind, and never keeps user information', () => {
  const scheme = fc.constantFrom('rtsp', 'rtsps', 'http', 'https', 'file', 'ftp', 'RTSP', 'javascript', 'data', 'tcp', 'udp', 'x');
  const uri = fc.tuple(scheme, fc.constantFrom('://', ':', ':/', ':///'), fc.string({ maxLength: 30 })).map(([s, sep, rest]) => s + sep + rest);
  fc.assert(
    fc.property(fc.oneof(uri, fc.string({ maxLength: 40 })), fc.constantFrom('stream' as const, 'snapshot' as const), (raw, kind) => {
      const checked = checkDeviceUri(raw, '127.117.0.9', kind);
      if (checked.uri === undefined) {
        assert.ok(checked.problem.length > 0 && !hasRawControl(checked.problem));
        return;
      }
      const schemeOf = /^([a-z][a-z0-9+.-]*):\/\//.exec(checked.uri)?.[1];
      assert.ok(schemeOf && DEVICE_URI_SCHEMES[kind].includes(schemeOf), `${JSON.stringify(raw)} → ${checked.uri}`);
      assert.ok(checked.uri.startsWith(`${schemeOf}://127.117.0.9`), checked.uri);
    }),
    { numRuns: 2000, seed: 20250119 },
  );
});
