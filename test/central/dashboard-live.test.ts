// The live view in the dashboard's camera panel, in Debian's Chromium against real peers: a
// simulated H.264 camera (ONVIF + GStreamer RTSP) at a site whose real agent relays with ffmpeg, a
// real Mosquitto, the central, and Debian's nginx with libnginx-mod-rtmp as the media server (RTMP
// in, HLS out, CORS open as docs/live-view.md configures it). A click on the camera's point, then
// Live: the <video> really plays (a picture, time moving) through hls.js from the media server's
// origin under the page's CSP; the lease is renewed while it plays; closing the panel, opening
// another camera and closing the tab each end the lease (DELETE with the CSRF header, the tab's
// with keepalive) — the audit says "requested", not "lease-expired", and the relay stops at the
// agent. A camera that no media server takes shows the API's 503 in the panel; a relay stopped at
// the site shows as the stream having stopped, and retry plays it again. Loopback subnet
// 127.176.0.0/16 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { applyLabelUpdates } from '../../agent/inventory/cameras';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { startRtmpServer } from '../../scripts/peers/media-server';
import { SimulatedSite } from '../../scripts/sim/telemetry';
import { startSite } from '../kit/site';
import type { CentralConfig } from '../../central/config/schema';
import { centralTestConfig, publisher, startTestCentral, type TestCentral } from '../kit/central';
import { launchChromium, logIn, newPage, shot } from '../kit/browser';
import { clickDrawn, mapDrawn } from '../kit/map-canvas';
import { waitFor } from '../kit/wait';

// Browser-side code below runs in the page (page.$eval); this project compiles without the DOM lib.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

const SITE = 'live-176';
const HOST = '127.176.0.10';
const NAME = '西湖文化广场东';
/** A site whose media server offers HTTP-FLV only (the player is then mpegts.js). */
const FLV_SITE = 'live-176-flv';
const FLV_HOST = '127.176.0.11';
const FLV_NAME = '柯桥古纤道';
/** A site the media servers do not take (telemetry only: the 503 comes before any command). */
const OTHER_SITE = 'nb-haishu';
const OTHER = { camera: 'cam-01', name: '海曙鼓楼', latitude: 29.873, longitude: 121.549 };
/** A site taken by a media server whose box never answers (telemetry only): the start times out. */
const MUTE_SITE = 'live-176-mute';
const MUTE = { camera: 'cam-01', name: '南浔古镇', latitude: 30.877, longitude: 120.425 };

interface AuditItem {
  action: string;
  actor: string;
  site: string | null;
  camera: string | null;
  detail: Record<string, unknown>;
}

async function liveAudit(central: TestCentral, action: 'live-view-start' | 'live-view-end'): Promise<AuditItem[]> {
  const res = await central.get<{ items: AuditItem[] }>(`/api/audit?site=${SITE}&action=${action}&limit=100`);
  assert.equal(res.status, 200);
  return res.body.items;
}

/** What the <video> shows now: its picture size and its time. */
function videoNow(page: Page): Promise<{ width: number; height: number; time: number; paused: boolean }> {
  return page.$eval('[data-test=live-video]', (v: any) => ({ width: v.videoWidth, height: v.videoHeight, time: v.currentTime, paused: v.paused }));
}

async function openCamera(page: Page, name: string): Promise<void> {
  await clickDrawn(page, `[data-test=point][title="${name}"]`);
  await page.waitForSelector(`[data-test=panel-name]:has-text("${name}")`);
}

/** Live clicked; resolves when the video plays (HLS starts after a few 1 s fragments: 3–6 s). */
async function playLive(page: Page): Promise<void> {
  await page.click('[data-test=live-start]');
  await page.waitForSelector('[data-test=live][data-state=playing]', { timeout: 60_000 }).catch(async (err: Error) => {
    throw new Error(`${err.message}; the panel says: ${await page.textContent('[data-test=camera-panel]')}`);
  });
}

/** A live HTTP-FLV source open to any origin, as an HTTP-FLV media server is: each request gets
 * ffmpeg's H.264 test picture encoded as it is sent, at its own pace (-re), until the viewer goes.
 * Debian has no HTTP-FLV server (nginx-rtmp serves RTMP and HLS), so the flv play URL of the
 * test's second server is this: it exercises mpegts.js in the page, not the relay. */
async function serveLiveFlv(t: { after(fn: () => unknown): void }): Promise<string> {
  const encoders = new Set<ChildProcess>();
  const server = createServer((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    if (!req.url?.startsWith('/flv/live.flv')) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'video/x-flv' });
    const ffmpeg = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=640x360:rate=25',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-tune',
        'zerolatency',
        '-pix_fmt',
        'yuv420p',
        '-g',
        '25',
        '-f',
        'flv',
        'pipe:1',
      ],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    encoders.add(ffmpeg);
    ffmpeg.on('exit', () => encoders.delete(ffmpeg));
    ffmpeg.stdout.pipe(res);
    res.on('close', () => ffmpeg.kill('SIGKILL'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const encoder of encoders) encoder.kill('SIGKILL');
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test(
  'live view in the camera panel: hls.js plays the relay from nginx-rtmp under the CSP; every way of closing ends the lease; 503 shown',
  { timeout: 300_000 },
  async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const media = await startRtmpServer({ hls: true });
    t.after(() => media.stop());

    const flvOrigin = await serveLiveFlv(t);
    // A stream-start nobody answers is a 504 after this; the real sites answer within a second.
    const options = { brokerUrl: broker.url, env: { CAMGATE_CENTRAL_COMMANDS_TIMEOUT_MS: '8000' } };
    const base = centralTestConfig(options, t);
    const config = {
      ...base,
      media: {
        ...base.media,
        // Short leases: renewals happen while the test watches, and a DELETE that never came would
        // show as lease-expired within seconds.
        leaseSec: 6,
        servers: <CentralConfig['media']['servers']>[
          {
            name: 'nginx-rtmp',
            sites: [SITE],
            push: `rtmp://127.0.0.1:${media.port}/live/{key}`,
            play: { hls: `http://127.0.0.1:${media.httpPort}/hls/{key}.m3u8`, rtmp: `rtmp://127.0.0.1:${media.port}/live/{key}` },
          },
          { name: 'flv', sites: [FLV_SITE], push: `rtmp://127.0.0.1:${media.port}/live/{key}`, play: { flv: `${flvOrigin}/flv/live.flv?relay={key}` } },
          {
            name: 'mute',
            sites: [MUTE_SITE],
            push: `rtmp://127.0.0.1:${media.port}/live/{key}`,
            play: { hls: `http://127.0.0.1:${media.httpPort}/hls/{key}.m3u8` },
          },
        ],
      },
    };
    const central = await startTestCentral(t, options, config);
    const rig = await startSite(t, {
      site: SITE,
      sharedBroker: broker,
      cameras: [{ host: HOST, codec: 'H264' }],
      env: { CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0', CAMGATE_WEB_ENABLED: 'false' },
      startAgent: false,
    });
    const camera = rig.ids[HOST];
    applyLabelUpdates(
      rig.db,
      [{ id: camera, patch: { name: NAME, class: 1, latitude: 30.275, longitude: 120.165, region: '浙江省/杭州市/西湖区' } }],
      new Date(),
    );
    rig.startAgent();
    const flvRig = await startSite(t, {
      site: FLV_SITE,
      sharedBroker: broker,
      cameras: [{ host: FLV_HOST, codec: 'H264' }],
      env: { CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0', CAMGATE_WEB_ENABLED: 'false' },
      startAgent: false,
    });
    const flvCamera = flvRig.ids[FLV_HOST];
    const flvLabels = { name: FLV_NAME, class: 2 as const, latitude: 30.012, longitude: 120.481, region: '浙江省/绍兴市/柯桥区' };
    applyLabelUpdates(flvRig.db, [{ id: flvCamera, patch: flvLabels }], new Date());
    flvRig.startAgent();
    const other = new SimulatedSite(OTHER_SITE, [{ ...OTHER, class: 2, region: '浙江省/宁波市/海曙区' }]);
    const pub = await publisher(t, broker.url);
    const otherConnectedAt = Date.now();
    await pub.send(other.connect(otherConnectedAt, { [OTHER.camera]: { state: 'online', picture: { ok: true } } }));
    const mute = new SimulatedSite(MUTE_SITE, [{ ...MUTE, class: 3, region: '浙江省/湖州市/南浔区' }]);
    await pub.send(mute.connect(Date.now(), { [MUTE.camera]: { state: 'online', picture: { ok: true } } }));
    await waitFor(async () => (await central.get(`/api/cameras/${SITE}/${camera}`)).status === 200, 'the camera in the central', 30_000);
    await waitFor(async () => (await central.get(`/api/cameras/${FLV_SITE}/${flvCamera}`)).status === 200, 'the flv camera in the central', 30_000);
    await waitFor(async () => (await central.get(`/api/cameras/${OTHER_SITE}/${OTHER.camera}`)).status === 200, 'the other camera in the central');
    await waitFor(async () => (await central.get(`/api/cameras/${MUTE_SITE}/${MUTE.camera}`)).status === 200, 'the mute camera in the central');
    await waitFor(
      async () => (await central.get<Array<{ site: string; connection: string }>>('/api/sites')).body.filter((s) => s.connection === 'online').length === 4,
      'the four sites online in the central',
    );

    const csp = (await fetch(`${central.url}/`)).headers.get('content-security-policy') ?? '';
    const mediaOrigin = `http://127.0.0.1:${media.httpPort}`;
    assert.ok(csp.includes(`connect-src 'self' ${mediaOrigin} ${flvOrigin};`), csp);
    assert.ok(csp.includes(`media-src 'self' blob: ${mediaOrigin} ${flvOrigin};`), csp);

    const admin = central.admin!;
    const browser = await launchChromium(t);
    const { page, complaints } = await newPage(browser);
    const asked: string[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname.includes('/live')) asked.push(`${r.method()} ${url.pathname.replace(/\/live\/[^/]+/, '/live/:lease')}`);
    });
    let libraries: string[] = [];
    page.on('response', (r) => {
      const name = /\/assets\/(hls|mpegts)[^/]*\.js$/.exec(new URL(r.url()).pathname)?.[1];
      if (name) libraries.push(name);
    });
    await logIn(page, central.url, admin.username, admin.password);

    await t.test('Live plays the camera: a picture with time moving, renewals while it plays, the audit has the start', async () => {
      await page.goto(`${central.url}/#/map`);
      await mapDrawn(page, '[data-test=point]');
      libraries = [];
      await openCamera(page, NAME);
      assert.equal(await page.textContent('[data-test=live-start]'), '▶ 实时视频');
      assert.deepEqual(libraries, [], 'the players are not loaded before Live is clicked');
      await playLive(page);
      assert.deepEqual(libraries, ['hls'], 'hls.js, loaded on demand; mpegts.js not at all');
      const first = await videoNow(page);
      assert.ok(first.width > 0 && first.height > 0, `a decoded picture: ${JSON.stringify(first)}`);
      await page.waitForTimeout(4000);
      const later = await videoNow(page);
      assert.ok(later.time > first.time + 2, `the video's time moves: ${first.time} → ${later.time}`);
      assert.equal(later.paused, false);
      assert.match(String(await page.textContent('[data-test=live-status]')), /正在播放（1 人在看 · nginx-rtmp）/);
      assert.ok(asked.filter((a) => a.endsWith('/renew')).length >= 1, `renewed every leaseSec/3 (2 s): ${JSON.stringify(asked)}`);
      const starts = await liveAudit(central, 'live-view-start');
      assert.deepEqual(
        starts.map((a) => [a.actor, a.camera, a.detail.server]),
        [[admin.username, camera, 'nginx-rtmp']],
      );
      await shot(page, 'live');
      await page.click('[data-test=live-fullscreen]');
      await page.waitForFunction(() => document.fullscreenElement?.dataset.test === 'live-video');
      await page.evaluate(() => document.exitFullscreen());
      await page.waitForFunction(() => document.fullscreenElement === null);
      await page.click('[data-test=language]');
      await page.waitForSelector('[data-test=live-status]:has-text("Playing")');
      await shot(page, 'live-en');
      await page.click('[data-test=language]');
    });

    /** The lease ends as asked (DELETE), and the relay stops at the agent: the nth end of this test. */
    const endedAsRequested = async (n: number, what: string) => {
      const ends = await waitFor(
        async () => {
          const items = await liveAudit(central, 'live-view-end');
          return items.length >= n ? items : false;
        },
        `${what}: the lease ended`,
        15_000,
      );
      assert.equal(ends.length, n, `${what}: one end`);
      assert.equal(ends[0].detail.reason, 'requested', `${what}: ended by the dashboard, not run out (${JSON.stringify(ends[0].detail)})`);
      assert.equal(ends[0].detail.relayStopped, true);
      await waitFor(
        () => rig.events('stream-stopped', camera).filter((e) => (e.json.detail as { reason?: string }).reason === 'requested').length >= n,
        `${what}: the relay stopped at the agent`,
      );
    };

    await t.test('closing the panel ends the lease and stops the relay', async () => {
      await page.click('[data-test=panel-close]');
      assert.equal(await page.$('[data-test=camera-panel]'), null);
      await endedAsRequested(1, 'panel closed');
      assert.ok(asked.includes(`DELETE /api/cameras/${SITE}/${camera}/live/:lease`), JSON.stringify(asked));
    });

    await t.test("opening another camera ends the first one's lease; a camera no media server takes shows the API's 503", async () => {
      await openCamera(page, NAME);
      await playLive(page);
      await openCamera(page, OTHER.name);
      await endedAsRequested(2, 'another camera opened');
      assert.equal(await page.$('[data-test=live-video]:visible'), null, 'no video of the first camera left');
      await page.click('[data-test=live-start]');
      await page.waitForSelector('[data-test=live][data-state=refused]', { timeout: 20_000 });
      const api = await central.request<{ error: string; message: string }>('POST', `/api/cameras/${OTHER_SITE}/${OTHER.camera}/live`, {});
      assert.equal(api.status, 503);
      assert.equal(api.body.error, 'no-media-server');
      assert.equal(await page.textContent('[data-test=live-headline]'), '没有为这路摄像机配置流媒体服务器，请联系管理员。');
      assert.equal(String(await page.textContent('[data-test=live-detail]')).trim(), `服务端说明：${api.body.message}`);
      assert.ok(await page.isVisible('[data-test=live-retry]'));
      await shot(page, 'live-refused');
      await page.click('[data-test=live-retry]');
      await page.waitForSelector('[data-test=live][data-state=refused]');
      assert.equal(asked.filter((a) => a === `POST /api/cameras/${OTHER_SITE}/${OTHER.camera}/live`).length, 2, 'retry asks again');
    });

    await t.test('leaving the page ends the lease', async () => {
      await openCamera(page, NAME);
      await playLive(page);
      await page.click('[data-test=nav-overview]');
      await endedAsRequested(3, 'page left');
    });

    await t.test('closing the tab ends the lease (keepalive DELETE on pagehide)', async () => {
      const { page: tab, complaints: tabComplaints } = await newPage(browser);
      await logIn(tab, central.url, admin.username, admin.password);
      await tab.goto(`${central.url}/#/map`);
      await mapDrawn(tab, '[data-test=point]');
      await openCamera(tab, NAME);
      await playLive(tab);
      assert.deepEqual(tabComplaints, []);
      await tab.close();
      await endedAsRequested(4, 'tab closed');
    });

    await t.test('the relay stopped at the site: the panel says the stream stopped, and retry plays it again', async () => {
      await page.goto(`${central.url}/#/map`);
      await mapDrawn(page, '[data-test=point]');
      await openCamera(page, NAME);
      await playLive(page);
      const stopped = await central.request<{ ok: boolean }>('POST', `/api/sites/${SITE}/commands/stream-stop`, { args: { camera } });
      assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
      await page.waitForSelector('[data-test=live][data-state=failed]', { timeout: 60_000 });
      assert.equal(await page.textContent('[data-test=live-headline]'), '视频流已中断。');
      assert.match(String(await page.textContent('[data-test=live-detail]')), /^\s*播放器报告：/);
      await shot(page, 'live-ended');
      await page.click('[data-test=live-retry]');
      await page.waitForSelector('[data-test=live][data-state=playing]', { timeout: 60_000 });
      const first = await videoNow(page);
      await page.waitForTimeout(3000);
      assert.ok((await videoNow(page)).time > first.time + 1, 'playing again');
      await page.click('[data-test=panel-close]');
    });

    await t.test('a media server with HTTP-FLV only: mpegts.js plays it', async () => {
      libraries = [];
      await openCamera(page, FLV_NAME);
      await playLive(page);
      assert.deepEqual(libraries, ['mpegts'], 'mpegts.js, loaded on demand');
      const first = await videoNow(page);
      assert.deepEqual([first.width, first.height], [640, 360], 'the live FLV decoded');
      await page.waitForTimeout(3000);
      const later = await videoNow(page);
      assert.ok(later.time > first.time + 1, `the time moves: ${first.time} → ${later.time}`);
      await page.click('[data-test=panel-close]');
      await waitFor(async () => {
        const ends = await central.get<{ items: AuditItem[] }>(`/api/audit?site=${FLV_SITE}&action=live-view-end`);
        return ends.body.items.some((a) => a.detail.reason === 'requested');
      }, 'the flv lease ended');
    });

    await t.test("a site that does not answer (504) and a site gone offline (409) are told in words, with the API's message", async () => {
      await openCamera(page, MUTE.name);
      await page.click('[data-test=live-start]');
      assert.equal(String(await page.textContent('[data-test=live-status]')).trim(), '正在请求视频…');
      await page.waitForSelector('[data-test=live][data-state=refused]', { timeout: 30_000 });
      assert.equal(await page.textContent('[data-test=live-headline]'), '站点没有应答，请稍后重试。');
      assert.match(String(await page.textContent('[data-test=live-detail]')), /服务端说明：site live-176-mute did not answer stream-start within 8000 ms/);

      await pub.send(other.will(otherConnectedAt));
      await waitFor(
        async () =>
          (await central.get<Array<{ site: string; connection: string }>>('/api/sites')).body.some((s) => s.site === OTHER_SITE && s.connection === 'offline'),
        'the other site offline (its Will)',
      );
      await openCamera(page, OTHER.name);
      await page.click('[data-test=live-start]');
      await page.waitForSelector('[data-test=live][data-state=refused]', { timeout: 20_000 });
      assert.equal(await page.textContent('[data-test=live-headline]'), '站点未连接，暂时无法调取视频。');
      assert.match(String(await page.textContent('[data-test=live-detail]')), /服务端说明：site nb-haishu is offline: its agent would not receive the command/);
      await page.click('[data-test=language]');
      assert.equal(await page.textContent('[data-test=live-headline]'), 'The site is not connected: the video cannot be fetched now.');
      await shot(page, 'live-refused-en');
      await page.click('[data-test=language]');
      await page.click('[data-test=panel-close]');
    });

    assert.deepEqual(complaints, [], 'no CSP refusal or script error');
  },
);
