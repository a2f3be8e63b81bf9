// The web server without ffmpeg: routes, HTTP Basic and the session cookie, security headers,
// what /api/cameras reveals (never URIs or credentials), the loopback-or-password rule, WebSocket
// refusals (auth, origin, unknown camera, too many viewers). Loopback 127.82.0.0/16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import WebSocket from 'ws';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { checkBasic, checkWebBinding, isLoopbackHost } from '../../agent/web/auth';
import { inventorySource } from '../../agent/web/cameras';
import { startWebServer } from '../../agent/web/server';
import { viewAuditEvent, type ViewAudit } from '../../agent/web/view-audit';
import { type LivePulls } from '../../agent/video/live/live-pull';
import { WEB_DEFAULTS } from './helpers';
import { validatePayload, eventPayload } from '../../contract';
import { createLogger } from '../../lib/log';
import { LiveError, type LiveViewer } from '../../agent/video/live/types';
import { closeReason } from '../../agent/web/viewer';
import { jsmpegPath, withoutJsmpegStylesheet } from '../../agent/web/assets';
import { tempDir } from '../kit/temp';
import { waitFor } from '../kit/wait';
import { channel, report } from '../kit/reports';

const PASSWORD = 'Pa55:word with 中文';
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function setup(
  t: { after(fn: () => unknown): void },
  web: Partial<typeof WEB_DEFAULTS> = {},
  joinImpl?: LivePulls['join'],
  audit?: (view: ViewAudit) => void,
) {
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'data'));
  t.after(() => db.close());
  const cam = upsertDeviceReport(
    db,
    report({
      host: '127.82.1.2',
      channels: [
        channel(1, '127.82.1.2', {
          profiles: [
            { token: 'm', codec: 'H265', width: 2560, height: 1440, fps: 25, streamUri: 'rtsp://127.82.1.2:554/main' },
            { token: 's', codec: 'H264', width: 640, height: 360, fps: 15, streamUri: 'rtsp://127.82.1.2:554/sub' },
          ],
        }),
      ],
    }),
    { now: new Date() },
  ).cameras[0].id;
  const joins: Array<{ cameraId: string; stream: string; mode?: string; viewer: LiveViewer }> = [];
  const pulls: Pick<LivePulls, 'join'> = {
    join:
      joinImpl ??
      (async (cameraId, request, viewer) => {
        joins.push({ cameraId, stream: request.stream, ...(request.mode ? { mode: request.mode } : {}), viewer });
        if (cameraId !== cam) throw new LiveError('not-found', `no camera "${cameraId}"`);
        return { cameraId, stream: request.stream, mode: 'mse', leave: () => undefined };
      }),
  };
  const server = await startWebServer({
    config: { ...WEB_DEFAULTS, host: '127.82.1.1', ...web },
    db,
    pulls,
    logger: createLogger({ level: 'silent' }),
    healthOf: () => 'online',
    ...(audit ? { audit } : {}),
  });
  t.after(() => server.close());
  return { db, cam, server, joins };
}

function wsOpen(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ws?: WebSocket; status?: number; closed?: Promise<{ code: number; reason: string }> }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
    ws.once('open', () => resolve({ ws, closed }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.once('error', () => resolve({}));
  });
}

test('web: loopback-or-password rule names the keys and the fix; loopback detection; Basic check', () => {
  assert.throws(
    () => checkWebBinding({ host: '0.0.0.0' }),
    (err: Error) => {
      assert.match(err.message, /web\.host is 0\.0\.0\.0/);
      assert.match(err.message, /web\.password/);
      assert.match(err.message, /CAMGATE_WEB_PASSWORD/);
      assert.match(err.message, /web\.host 127\.0\.0\.1/);
      return true;
    },
  );
  assert.throws(() => checkWebBinding({ host: '192.168.1.10' }));
  assert.throws(() => checkWebBinding({ host: '::' }));
  checkWebBinding({ host: '0.0.0.0', password: 'x' });
  for (const h of ['127.0.0.1', '127.82.0.1', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'camgate.local', '']) assert.equal(isLoopbackHost(h), false, h);
  assert.equal(checkBasic(basic('admin', 'pw'), 'admin', 'pw'), true);
  assert.equal(checkBasic(basic('admin', 'pw2'), 'admin', 'pw'), false);
  assert.equal(checkBasic(basic('root', 'pw'), 'admin', 'pw'), false);
  assert.equal(checkBasic('Bearer x', 'admin', 'pw'), false);
  assert.equal(checkBasic(undefined, 'admin', 'pw'), false);
});

test('web: a LAN address without a password is refused at start', async (t) => {
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'data'));
  t.after(() => db.close());
  await assert.rejects(
    startWebServer({
      config: { ...WEB_DEFAULTS, host: '0.0.0.0' },
      db,
      pulls: { join: async () => assert.fail('no join') },
      logger: createLogger({ level: 'silent' }),
    }),
    /web\.password.*CAMGATE_WEB_PASSWORD/s,
  );
});

test("web: Basic auth (401 without or with wrong credentials), security headers, session cookie for the page's WebSockets", async (t) => {
  // The throttle of wrong passwords has its own tests (test/abuse/relays-web.test.ts): off here.
  const { server, cam, joins } = await setup(t, { password: PASSWORD, login: { maxFailures: 1000, freeFailures: 1000, lockoutSec: 1 } });
  const attempts: Array<Record<string, string>> = [{}, { authorization: basic('admin', 'wrong') }, { authorization: basic('Admin', PASSWORD) }];
  for (const headers of attempts) {
    for (const path of ['', 'api/cameras', 'static/live.js', 'vendor/jsmpeg.min.js']) {
      const r = await fetch(server.url + path, { headers });
      assert.equal(r.status, 401, `${path} with ${JSON.stringify(headers)}`);
      if (path === '') assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    }
  }
  const page = await fetch(server.url, { headers: { authorization: basic('admin', PASSWORD) } });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<video id="video"/);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /connect-src 'self' ws:\/\/127\.82\.1\.1:\d+/);
  assert.doesNotMatch(csp, /unsafe-inline|'unsafe-eval'/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0];
  assert.match(cookie, /^camgate_live=[A-Za-z0-9_-]{43}$/);
  assert.match(page.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Strict/);
  // the cookie opens the page's script and API, not the page itself (that needs Basic)
  assert.equal((await fetch(server.url + 'api/cameras', { headers: { cookie } })).status, 200);
  assert.equal((await fetch(server.url, { headers: { cookie } })).status, 401);
  assert.equal((await fetch(server.url + 'api/cameras', { headers: { cookie: 'camgate_live=' + 'A'.repeat(43) } })).status, 401);

  const wsUrl = `${server.url.replace('http:', 'ws:')}live/${cam}?stream=sub&mode=mse`;
  assert.equal((await wsOpen(wsUrl)).status, 401, 'WebSocket without credentials');
  assert.equal((await wsOpen(wsUrl, { authorization: basic('admin', 'nope') })).status, 401);
  const viaCookie = await wsOpen(wsUrl, { cookie, origin: server.url.replace(/\/$/, '') });
  assert.ok(viaCookie.ws, 'WebSocket with the session cookie');
  viaCookie.ws.close();
  const viaBasic = await wsOpen(wsUrl, { authorization: basic('admin', PASSWORD) });
  assert.ok(viaBasic.ws);
  viaBasic.ws.close();
  // cross-site WebSocket hijacking: another origin is refused even with the cookie
  assert.equal((await wsOpen(wsUrl, { cookie, origin: 'http://evil.example' })).status, 403);
  assert.equal(joins.length, 2);
});

test("web: JSMpeg is served with its <style> injection pointed at a detached <head> (style-src stays 'self'), and only when the injector is found exactly once", () => {
  const bundle = readFileSync(jsmpegPath(), 'utf8');
  const served = withoutJsmpegStylesheet(bundle);
  assert.ok(served !== undefined, `the injector of the installed JSMpeg (${jsmpegPath()}) was not found`);
  assert.doesNotMatch(served, /document\.head\b/);
  assert.match(served, /document\.createElement\("head"\),\w+=document\.createElement\("style"\)/);
  assert.equal(served.length, bundle.length - 'document.head||document.getElementsByTagName("head")[0]'.length + 'document.createElement("head")'.length);
  assert.doesNotThrow(() => new Script(served, { filename: 'jsmpeg.min.js' }), 'the served bundle still parses');
  const injector = 'var h=document.head||document.getElementsByTagName("head")[0],s=document.createElement("style");';
  assert.equal(withoutJsmpegStylesheet('var JSMpeg={};'), undefined, 'no injector');
  assert.equal(withoutJsmpegStylesheet(injector + injector), undefined, 'two injectors');
  assert.equal(withoutJsmpegStylesheet('var h=document.head||document.getElementsByTagName("head")[0];'), undefined, 'head used for something else');
});

test('web: routes; /api/cameras has streams with codec and size but no URI and no credentials; WebSocket refusals', async (t) => {
  const { server, cam, joins } = await setup(t);
  const api = await fetch(server.url + 'api/cameras');
  assert.equal(api.status, 200);
  const text = await api.text();
  assert.doesNotMatch(text, /rtsp:|streamUri|snapshot|password|admin123/i);
  const body = JSON.parse(text) as { cameras: Array<Record<string, unknown>> };
  assert.equal(body.cameras.length, 1);
  assert.equal(body.cameras[0].id, cam);
  assert.equal(body.cameras[0].host, '127.82.1.2');
  assert.equal(body.cameras[0].health, 'online');
  assert.deepEqual(body.cameras[0].streams, [
    { stream: 'main', codec: 'H265', width: 2560, height: 1440, fps: 25 },
    { stream: 'sub', codec: 'H264', width: 640, height: 360, fps: 15 },
  ]);
  const js = await fetch(server.url + 'vendor/jsmpeg.min.js');
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  const served = await js.text();
  assert.match(served, /JSMpeg/);
  assert.equal(served, withoutJsmpegStylesheet(readFileSync(jsmpegPath(), 'utf8')), 'JSMpeg is served without its stylesheet injection');
  const live = await fetch(server.url + 'static/live.js');
  assert.equal(live.status, 200);
  assert.match(await live.text(), /camgateLive/);
  assert.equal((await fetch(server.url + 'static/live.css')).status, 200);
  for (const bad of ['static/../server.js', 'static/%2e%2e%2fserver.js', 'static/nope.js', 'etc/passwd'])
    assert.equal((await fetch(server.url + bad)).status, 404, bad);
  assert.equal((await fetch(server.url, { method: 'POST' })).status, 405);

  const ws = server.url.replace('http:', 'ws:');
  assert.equal((await wsOpen(`${ws}live/${cam}?stream=fourth`)).status, 400);
  assert.equal((await wsOpen(`${ws}other/${cam}`)).status, 404);
  const unknown = await wsOpen(`${ws}live/cam-nope?stream=sub`);
  assert.equal((await unknown.closed!).code, 4004);
  const ok = await wsOpen(`${ws}live/${cam}?stream=main&mode=jsmpeg`);
  assert.ok(ok.ws);
  assert.deepEqual(
    joins.map((j) => [j.cameraId, j.stream, j.mode]),
    [
      ['cam-nope', 'sub', 'auto'],
      [cam, 'main', 'jsmpeg'],
    ],
  );
  ok.ws.close();
  await waitFor(() => server.connections() === 0, 'connections closed');

  // the resolver the agent uses: credentials only server side, sub falls back to main; the ledger's frame rate for the JSMpeg output rate
  const { db } = await setup(t);
  const resolve = inventorySource(db, () => ({ username: 'u', password: 'p@ss' }));
  const id = (db.prepare('SELECT id FROM cameras').get() as { id: string }).id;
  // The login travels beside the URL, for the RTSP gate: never inside the URL ffmpeg gets.
  assert.deepEqual(resolve(id, 'main'), {
    url: 'rtsp://127.82.1.2:554/main',
    credentials: { username: 'u', password: 'p@ss' },
    codec: 'H265',
    width: 2560,
    height: 1440,
    fps: 25,
  });
  assert.equal(resolve('nope', 'sub'), undefined);
});

test('web: too many viewers closes the WebSocket with 4029 and the reason', async (t) => {
  const { server, cam } = await setup(t, {}, async () => {
    throw new LiveError('too-many-viewers', '32 live viewers already (web.maxViewers = 32)');
  });
  const r = await wsOpen(`${server.url.replace('http:', 'ws:')}live/${cam}?stream=sub`);
  const closed = await r.closed!;
  assert.equal(closed.code, 4029);
  assert.match(closed.reason, /web\.maxViewers/);
  // close reasons are cut to 123 bytes on a character boundary (ws throws on longer ones)
  const long = closeReason('摄像机'.repeat(100));
  assert.equal(long, '摄像机'.repeat(100).slice(0, 41));
  assert.ok(Buffer.byteLength(long) <= 123);
});

test('web: every watch is audited at its start and end (who, from where, which camera, how long); refused joins are not', async (t) => {
  const views: ViewAudit[] = [];
  const { server, cam } = await setup(t, { password: PASSWORD }, undefined, (v) => views.push(v));
  const ws = server.url.replace('http:', 'ws:');
  const auth = { authorization: basic('admin', PASSWORD) };
  assert.equal((await wsOpen(`${ws}live/cam-nope?stream=sub`, auth)).closed !== undefined, true);
  await waitFor(() => server.connections() === 0, 'the refused viewer gone');
  const ok = await wsOpen(`${ws}live/${cam}?stream=sub`, auth);
  assert.ok(ok.ws);
  await waitFor(() => views.length === 1, 'the start audit');
  assert.deepEqual(
    { ...views[0], startedAt: 'x' },
    { phase: 'start', camera: cam, stream: 'sub', mode: 'mse', user: 'admin', remote: '127.0.0.1', startedAt: 'x' },
  );
  await new Promise((r) => setTimeout(r, 1100));
  ok.ws.close();
  await waitFor(() => views.length === 2, 'the end audit');
  assert.equal(views[1].phase, 'end');
  assert.equal(views[1].startedAt, views[0].startedAt);
  assert.ok(views[1].durationSec! >= 1, `durationSec ${views[1].durationSec}`);
  for (const v of views) {
    const event = viewAuditEvent(v);
    assert.equal(event.type, 'audit');
    assert.equal(event.camera, cam);
    assert.match(event.message, /admin from 127\.0\.0\.1/);
    const checked = validatePayload('event', { ...eventPayload('site-1', event, new Date()), seq: 1 });
    assert.equal(checked.ok, true, JSON.stringify(checked));
  }
  assert.deepEqual(viewAuditEvent(views[1]).detail, {
    action: 'live-view',
    phase: 'end',
    stream: 'sub',
    mode: 'mse',
    user: 'admin',
    remote: '127.0.0.1',
    startedAt: views[0].startedAt,
    durationSec: views[1].durationSec,
  });

  // A loopback page without a password: no user to name.
  const anon: ViewAudit[] = [];
  const local = await setup(t, {}, undefined, (v) => anon.push(v));
  const w2 = await wsOpen(`${local.server.url.replace('http:', 'ws:')}live/${local.cam}?stream=main`);
  await waitFor(() => anon.length === 1, 'the start audit');
  assert.equal(anon[0].user, null);
  assert.match(viewAuditEvent(anon[0]).message, /local user \(no web\.password\) from 127\.0\.0\.1/);
  w2.ws!.close();
  await waitFor(() => anon.length === 2, 'the end audit');
});
