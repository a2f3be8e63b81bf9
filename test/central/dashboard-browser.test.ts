// The dashboard in headless Chromium (Debian's, driven by playwright-core) against a real central
// on a real Mosquitto, fed by simulated sites: five sites in three counties with thirty days of
// history, cameras online, offline, with picture faults and never heard of, one site gone (its
// Will), and a site that answers the thumbnail command with a real JPEG. Checked: login refusals
// show the API's message and success shows who is logged in; the language switch holds across a
// reload; the overview shows the API's numbers; the map shows every geo-labelled camera once, in
// the colour of its state (clusters in the worst of theirs), and a click opens the camera with its
// thumbnail; a county user sees only its county, also through crafted requests; an operator
// acknowledges an alarm with a note on the alarms page, the header badge counts open alarms and
// marks a new one, the admin's audit page shows the acknowledgement, a viewer gets neither the
// button nor the audit page, and the API's refusals are shown as they come; no page breaks its
// Content-Security-Policy. With CAMGATE_DASHBOARD_SCREENSHOTS=<dir> it also writes the screenshots
// the docs show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parse as parseCsv } from 'csv-parse/sync';
import { Workbook } from 'exceljs';
import { createUser } from '../../central/auth/users';
import { CAMERA_HEADINGS } from '../../central/ledger/camera-export';
import { systemClock } from '../../lib/clock';
import { replyPayload } from '../../contract/payloads/reply';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { siteHistory, type CameraEnd } from '../../scripts/sim/history';
import { SimulatedSite, type SimCameraLabel, type TelemetryMessage } from '../../scripts/sim/telemetry';
import { publisher, startTestCentral, type TestCentral } from '../kit/central';
import type { ApiClient } from '../kit/api';
import { launchChromium, logIn, newPage, shot } from '../kit/browser';
import { clickDrawn, drawnOnMap, hoverDrawn, mapDrawn } from '../kit/map-canvas';
import { tempDir } from '../kit/temp';
import { waitFor } from '../kit/wait';

// Browser-side code below runs in the page (page.evaluate); this project compiles without the DOM lib.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

const DAY = 86_400_000;
const HOUR = 3_600_000;
const CITY = '浙江省/杭州市';
const YUHANG = `${CITY}/余杭区`;

interface SiteSpec {
  site: string;
  name: string;
  region: string;
  lat: number;
  lng: number;
  cameras: number;
}

const SITES: SiteSpec[] = [
  { site: 'yh-cangqian', name: '仓前街道', region: `${YUHANG}/仓前街道`, lat: 30.292, lng: 119.985, cameras: 12 },
  { site: 'yh-wuchang', name: '五常街道', region: `${YUHANG}/五常街道`, lat: 30.281, lng: 120.052, cameras: 10 },
  { site: 'xh-liuxia', name: '留下街道', region: `${CITY}/西湖区/留下街道`, lat: 30.252, lng: 120.061, cameras: 10 },
  { site: 'xh-zhuantang', name: '转塘街道', region: `${CITY}/西湖区/转塘街道`, lat: 30.158, lng: 120.082, cameras: 8 },
  { site: 'lp-nanyuan', name: '南苑街道', region: `${CITY}/临平区/南苑街道`, lat: 30.421, lng: 120.301, cameras: 10 },
];
/** The site whose box goes away today (its Will). */
const GONE = 'xh-zhuantang';

/** A small deterministic pseudo-random number in [0, 1) from integers. */
function noise(...n: number[]): number {
  let h = 2166136261;
  for (const x of n) h = Math.imul(h ^ x, 16777619) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  return (h % 10_000) / 10_000;
}

function labels(spec: SiteSpec, s: number): SimCameraLabel[] {
  return Array.from({ length: spec.cameras }, (_, i) => ({
    camera: `cam-${String(i + 1).padStart(2, '0')}`,
    name: `${spec.name}${['路口', '广场', '校门', '菜场', '桥头', '小区'][i % 6]}${i + 1}号`,
    class: ((i % 3) + 1) as 1 | 2 | 3,
    region: spec.region,
    owner: i % 2 ? '公安' : '综治',
    // Two cameras a site are not geo-labelled yet.
    latitude: i >= spec.cameras - 2 ? null : spec.lat + (noise(s, i, 1) - 0.5) * 0.03,
    longitude: i >= spec.cameras - 2 ? null : spec.lng + (noise(s, i, 2) - 0.5) * 0.03,
    mainHeight: i % 4 === 3 ? 720 : 1080,
  }));
}

type Now = { state: 'online' | 'offline'; picture?: { ok: boolean; faults?: string[] } } | undefined;

/** Each camera's status now: most online, some offline, some with a picture fault, one per site never reported. */
function current(s: number, i: number, count: number): Now {
  if (i === count - 3) return undefined;
  const r = noise(s, i, 99);
  if (r < 0.15) return { state: 'offline' };
  if (r < 0.27) return { state: 'online', picture: { ok: false, faults: ['black'] } };
  return { state: 'online', picture: { ok: true } };
}

/** Thirty days of one site (scripts/sim/history.ts): its cameras counted from the start, some down
 * or faulty for hours on some days, each ending as it is now; metrics twice a day (staleAfterSec is a day). */
function history(sim: SimulatedSite, s: number, now: number): TelemetryMessage[] {
  const ends: Record<string, CameraEnd> = {};
  sim.cameras.forEach((c, i) => {
    const st = current(s, i, sim.cameras.length);
    if (st) ends[c.camera] = st;
  });
  return siteHistory(sim, { from: now - 29 * DAY - 6 * HOUR, to: now - 60_000, seed: 1, metricsEveryMs: 12 * HOUR, ends });
}

interface Camera {
  site: string;
  camera: string;
  name: string | null;
  class: number | null;
  latitude: number | null;
  longitude: number | null;
  state: 'online' | 'offline' | 'unknown';
  condition: 'offline' | 'fault' | 'unknown' | 'online';
  picture: string | null;
}

/** What each camera of a connected site was made to be now (site/camera → condition): the API's
 * condition must say the same, and the map draws the API's. */
function madeConditions(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [s, spec] of SITES.entries()) {
    if (spec.site === GONE) continue;
    const sim = new SimulatedSite(spec.site, labels(spec, s));
    sim.cameras.forEach((c, i) => {
      const st = current(s, i, sim.cameras.length);
      out.set(`${spec.site}/${c.camera}`, !st ? 'unknown' : st.state === 'offline' ? 'offline' : st.picture?.ok === false ? 'fault' : 'online');
    });
  }
  return out;
}
const WORST_FIRST = ['offline', 'fault', 'unknown', 'online'];

async function allCameras(client: ApiClient): Promise<Camera[]> {
  const res = await client.get<{ total: number; items: Camera[] }>('/api/cameras?limit=5000');
  assert.equal(res.status, 200);
  assert.equal(res.body.items.length, res.body.total);
  return res.body.items;
}

/** A site that answers the thumbnail command with this JPEG, as an agent would. */
async function answerThumbnails(t: { after(fn: () => unknown): void }, brokerUrl: string, jpeg: Buffer): Promise<void> {
  const { client } = await publisher(t, brokerUrl);
  await client.subscribeAsync('camgate/v1/+/cmd/thumbnail', { qos: 1 });
  client.on('message', (topic, payload) => {
    const site = topic.split('/')[2];
    const req = JSON.parse(payload.toString('utf8'));
    const reply = replyPayload(
      site,
      {
        command: 'thumbnail',
        requestId: req.messageId ?? null,
        correlationId: req.correlationId ?? null,
        ok: true,
        result: { camera: req.args.camera, takenAt: new Date().toISOString(), contentType: 'image/jpeg', bytes: jpeg.length, base64: jpeg.toString('base64') },
      },
      Date.now(),
    );
    void client.publishAsync(req.replyTo ?? `camgate/v1/${site}/reply`, JSON.stringify(reply), { qos: 1 });
  });
}

/** A site that answers the camera page's commands as an agent would: a snapshot with this JPEG, a
 * probe and a clock set with their results, and a reboot with the camera's refusal. */
async function answerCameraCommands(t: { after(fn: () => unknown): void }, brokerUrl: string, jpeg: Buffer): Promise<void> {
  const { client } = await publisher(t, brokerUrl);
  for (const name of ['snapshot', 'probe-now', 'camera-set-time', 'camera-reboot']) await client.subscribeAsync(`camgate/v1/+/cmd/${name}`, { qos: 1 });
  client.on('message', (topic, payload) => {
    const [, , site, , command] = topic.split('/');
    const req = JSON.parse(payload.toString('utf8'));
    const camera = req.args.camera as string;
    const results: Record<string, unknown> = {
      snapshot: { camera, device: `dev-${camera}`, profile: 'main', contentType: 'image/jpeg', bytes: jpeg.length, base64: jpeg.toString('base64') },
      'probe-now': {
        probed: 1,
        reachable: 1,
        cameras: [{ camera, device: `dev-${camera}`, reachable: true, latencyMs: 12, clockOffsetMs: 1500, state: 'online', reason: null, streams: {} }],
      },
      'camera-set-time': { camera, offsetBeforeMs: 1500, offsetAfterMs: 20 },
    };
    const reply = replyPayload(
      site,
      {
        command,
        requestId: req.messageId ?? null,
        correlationId: req.correlationId ?? null,
        ...(command === 'camera-reboot'
          ? { ok: false, error: { code: 'failed' as const, message: 'SystemReboot refused by the camera: not permitted' } }
          : { ok: true, result: results[command] as Record<string, unknown> }),
      },
      Date.now(),
    );
    void client.publishAsync(req.replyTo ?? `camgate/v1/${site}/reply`, JSON.stringify(reply), { qos: 1 });
  });
}

async function feed(central: TestCentral, brokerUrl: string, t: { after(fn: () => unknown): void }): Promise<void> {
  const pub = await publisher(t, brokerUrl);
  const now = Date.now();
  let sent = 0;
  for (const [s, spec] of SITES.entries()) {
    const sim = new SimulatedSite(spec.site, labels(spec, s));
    const messages = history(sim, s, now);
    const statuses: Record<string, { state: 'online' | 'offline'; picture?: { ok: boolean; faults?: string[] } }> = {};
    sim.cameras.forEach((c, i) => {
      const st = current(s, i, sim.cameras.length);
      if (st) statuses[c.camera] = st;
    });
    const connect = sim.connect(now - 60_000, statuses);
    // The camera never reported keeps no status at all: its meta only, from now.
    messages.push(...connect, sim.metrics(now - 30_000));
    if (spec.site === GONE) messages.push(sim.will(now - 60_000));
    await pub.send(messages);
    sent += messages.length;
  }
  await waitFor(
    () => {
      const st = central.ingest!.stats();
      return st.written + st.duplicates + st.refused >= sent && st.queued === 0;
    },
    `${sent} messages taken in`,
    60_000,
    () => JSON.stringify(central.ingest!.stats()),
  );
  assert.equal(central.ingest!.stats().refused, 0, 'every simulated message is valid');
  await central.figures.refresh();
}

test(
  'dashboard in Chromium: login, overview = API, map points and colours = API, camera panel with thumbnail, county scope, CSP kept',
  { timeout: 300_000 },
  async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const central = await startTestCentral(t, {
      brokerUrl: broker.url,
      deps: { clock: systemClock },
      env: {
        CAMGATE_CENTRAL_STALE_AFTER_SEC: '86400',
        // Today is measured when the test says (figures.refresh), not in the middle of a comparison.
        CAMGATE_CENTRAL_FIGURES_TODAY_REFRESH_SEC: '86400',
        CAMGATE_CENTRAL_COMMANDS_TIMEOUT_MS: '10000',
      },
    });
    await waitFor(() => central.ingest!.stats().connected, 'central connected');
    await feed(central, broker.url, t);
    const jpeg = join(tempDir(t, 'camgate-thumb-'), 'thumb.jpg');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=1', '-frames:v', '1', '-y', jpeg]);
    await answerThumbnails(t, broker.url, readFileSync(jpeg));

    const admin = central.admin!;
    const browser = await launchChromium(t);
    const { page, complaints } = await newPage(browser);

    await t.test('login: refusals show the API message; success shows who; the language switch holds across a reload', async () => {
      await page.goto(`${central.url}/`);
      await page.waitForSelector('[data-test=login-form]');
      assert.match(page.url(), /#\/login/, 'a page behind the login sends there first');
      assert.equal(await page.textContent('[data-test=login-submit]'), '登录', 'Chinese first');
      await shot(page, 'login');
      await page.click('[data-test=login-submit]');
      assert.equal(await page.textContent('[data-test=login-error]'), '请输入用户名和密码');
      await page.fill('[data-test=username]', admin.username);
      await page.fill('[data-test=password]', 'not-the-password');
      await page.click('[data-test=login-submit]');
      await page.waitForSelector('[data-test=login-error]:has-text("wrong")');
      const api = await central.client().request<{ message: string }>('POST', '/api/login', { username: admin.username, password: 'not-the-password-2' });
      assert.equal(await page.textContent('[data-test=login-error]'), api.body.message, "the API's own message");

      await page.fill('[data-test=password]', admin.password);
      await page.click('[data-test=login-submit]');
      await page.waitForURL(/#\/overview$/);
      await page.waitForSelector('[data-test=whoami]');
      assert.match(String(await page.textContent('[data-test=whoami]')), new RegExp(`${admin.username} · 管理员 · 全部辖区`));

      await page.click('[data-test=language]');
      assert.equal(await page.textContent('[data-test=nav-overview]'), 'Overview');
      await page.reload();
      await page.waitForSelector('[data-test=whoami]');
      assert.equal(await page.textContent('[data-test=nav-overview]'), 'Overview', 'the choice is kept');
      await page.click('[data-test=language]');
      assert.equal(await page.textContent('[data-test=nav-overview]'), '驾驶舱');
    });

    await t.test("overview: the API's figures, regions ranked, open alarms and offline sites", async () => {
      const asked: string[] = [];
      const ask = (r: { url(): string }) => {
        const url = new URL(r.url());
        if (url.pathname.startsWith('/api/')) asked.push(`${url.pathname}${url.search}`);
      };
      await page.goto(`${central.url}/#/overview`);
      // Loaded afresh: the requests of one whole load of the page.
      page.on('request', ask);
      await page.reload();
      await page.waitForSelector('[data-test=rate-online] [data-test=rate-total]');
      await page.waitForSelector('[data-test=trend-chart] canvas');
      await page.waitForSelector('[data-test=offline-sites] tbody tr');
      page.off('request', ask);
      const figures = await central.get<any>('/api/figures');
      const total = figures.body.total;
      assert.ok(total.cameras > 40, `the fed cameras are counted: ${total.cameras}`);
      const value = (sel: string) => page.getAttribute(sel, 'data-value');
      assert.equal(await value('[data-test=camera-count]'), String(total.cameras));
      const cards: Array<[string, number | null, any]> = [
        ['online', total.onlineRate, total.targets.online],
        ['intact', total.intactRate, total.targets.intact],
        ['geo', total.atEnd.geoLabelledRate, total.targets.geoLabelled],
        ['hd', total.atEnd.hdRate, undefined],
      ];
      for (const [name, rate, check] of cards) {
        assert.notEqual(rate, null, `${name}: the fed day has a rate`);
        assert.equal(Number(await value(`[data-test=rate-${name}] [data-test=rate-total]`)), rate, `${name} rate`);
        assert.equal(await page.textContent(`[data-test=rate-${name}] [data-test=rate-total]`), `${(rate! * 100).toFixed(1)}%`);
        for (const c of check?.byClass ?? []) {
          const sel = `[data-test=rate-${name}] [data-test=rate-class-${c.class}]`;
          assert.equal(await value(sel), c.rate === null ? '' : String(c.rate), `${name} class ${c.class}`);
          assert.equal(await page.getAttribute(sel, 'data-target'), String(c.target));
        }
      }
      const verdicts = await page.$$eval('[data-test=rate-online] [data-test^=rate-class] .badge', (els: any[]) => els.map((el) => el.textContent));
      assert.deepEqual(
        verdicts,
        total.targets.online.byClass.map((c: any) => (c.met === null ? '无法判定' : c.met ? '达标' : '未达标')),
      );

      const regions = await central.get<any>('/api/regions');
      const counties = regions.body.regions.filter((r: any) => r.depth === 3);
      assert.equal(counties.length, 3);
      const rows = await page.$$eval('[data-test=ranking] tbody tr', (trs: any[]) =>
        trs.map((tr) => ({ region: tr.dataset.region, online: tr.querySelector('[data-test=ranking-online]').dataset.value })),
      );
      const expected = [...counties].sort((a: any, b: any) => (b.figure.onlineRate ?? -1) - (a.figure.onlineRate ?? -1) || a.region.localeCompare(b.region));
      assert.deepEqual(
        rows,
        expected.map((r: any) => ({ region: r.region, online: String(r.figure.onlineRate) })),
        'the counties (the first level with more than one region), best first',
      );

      const alarms = await central.get<any>('/api/alarms?state=open&limit=100');
      assert.ok(alarms.body.items.length > 0, 'offline cameras opened alarms');
      assert.equal(await page.textContent('[data-test=alarm-count]'), String(alarms.body.items.length));
      const shownAlarms = await page.$$eval('[data-test=alarms] li', (lis: any[]) => lis.map((li) => li.dataset.alarm));
      assert.deepEqual(
        shownAlarms,
        alarms.body.items.slice(0, 10).map((a: any) => a.id),
      );

      const sites = await central.get<any>('/api/sites');
      assert.deepEqual(
        sites.body.filter((s: any) => s.offlineNow).map((s: any) => s.site),
        [GONE],
        'the site whose Will came is offline now, the others not',
      );
      const offlineNow = await central.get<any>('/api/sites?offlineNow=true');
      const offline = offlineNow.body.map((s: any) => s.site);
      assert.deepEqual(offline, [GONE]);
      assert.equal((await central.get<any>('/api/sites?offlineNow=false')).body.length, SITES.length - 1);
      const refused = await central.get<any>('/api/sites?offline=yes');
      assert.equal(refused.status, 400);
      assert.match(refused.body.message, /offline/);
      assert.deepEqual(await page.$$eval('[data-test=offline-sites] tbody tr', (trs: any[]) => trs.map((tr) => tr.dataset.site)), offline);
      // The trend is one request for the 30 days by day, ending today; nothing is asked twice.
      const today: string = figures.body.period.to;
      const figureRequests = asked.filter((a) => a.startsWith('/api/figures'));
      assert.equal(figureRequests.length, 2, JSON.stringify(asked));
      const trendAsked = new URLSearchParams(figureRequests.find((a) => a.includes('groupBy=day'))?.split('?')[1] ?? '');
      assert.equal(trendAsked.get('to'), today, JSON.stringify(asked));
      assert.equal(trendAsked.get('from'), new Date(Date.parse(`${today}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10));
      assert.equal(new Set(asked).size, asked.length, `no request twice: ${JSON.stringify(asked)}`);
      assert.ok(await page.$('[data-test=trend-chart] canvas'));
      await shot(page, 'overview');
    });

    await t.test('map: every geo-labelled camera once, coloured by state, clusters by their worst; a click opens the camera and its thumbnail', async () => {
      const cameras = await allCameras(central.as!);
      const geo = cameras.filter((c) => c.latitude !== null && c.longitude !== null);
      const made = madeConditions();
      for (const c of cameras) {
        const expected = made.get(`${c.site}/${c.camera}`);
        if (expected !== undefined) assert.equal(c.condition, expected, `${c.site}/${c.camera}: the condition it was made to have`);
      }
      assert.ok(made.size > 0 && cameras.filter((c) => made.has(`${c.site}/${c.camera}`)).length === made.size);
      const want: Record<string, number> = { offline: 0, fault: 0, unknown: 0, online: 0 };
      for (const c of geo) want[c.condition]++;
      for (const s of WORST_FIRST) assert.ok(want[s] > 0, `the data has ${s} cameras on the map`);

      await page.goto(`${central.url}/#/map`);
      await page.waitForSelector('[data-test=map-summary]');
      assert.equal(await page.getAttribute('[data-test=map-summary]', 'data-points'), String(geo.length));
      assert.equal(await page.getAttribute('[data-test=map-summary]', 'data-total'), String(cameras.length));
      assert.ok(await page.isVisible('[data-test=no-tiles]'), 'no tile URL configured: the grid');
      await mapDrawn(page);

      const colours = new Map<string, string>();
      const sameColour = (state: string, colour: string) => {
        const known = colours.get(state);
        if (known) assert.equal(colour, known, `every ${state} marker has one colour`);
        else colours.set(state, colour);
      };
      const seen = await drawnOnMap(page);
      const got: Record<string, number> = { offline: 0, fault: 0, unknown: 0, online: 0 };
      for (const c of seen.clusters) {
        assert.equal(
          WORST_FIRST.reduce((n, s) => n + c.counts[s], 0),
          c.count,
        );
        assert.equal(
          c.worst,
          WORST_FIRST.find((s) => c.counts[s] > 0),
        );
        sameColour(c.worst, c.colour);
        for (const s of WORST_FIRST) got[s] += c.counts[s];
      }
      for (const p of seen.points) {
        sameColour(p.state, p.colour);
        got[p.state]++;
      }
      assert.deepEqual(got, want, 'the whole view holds every geo-labelled camera once, per state as the API says');
      // A cluster's tooltip gives its count per state, by the legend's names.
      assert.ok(seen.clusters.length > 0, 'the first view has clusters');
      const stateName = async (s: string) =>
        String(await page.textContent(`.legend-item[data-state=${s}]`))
          .replace(/\s*\d+\s*$/, '')
          .trim();
      const tipped = seen.clusters[0];
      const expectedTip: string[] = [];
      for (const s of WORST_FIRST) if (tipped.counts[s] > 0) expectedTip.push(`${await stateName(s)} ${tipped.counts[s]}`);
      await hoverDrawn(page, '[data-test=cluster]', 0);
      await page.waitForSelector('.leaflet-tooltip');
      assert.equal(await page.textContent('.leaflet-tooltip'), expectedTip.join(' · '));
      await page.mouse.move(0, 0);
      // Into the clusters holding a state until a camera of it stands alone, for each state: every
      // single point has its state's colour, the same as the clusters whose worst it is.
      // Fault last: the view it leaves is where a faulty camera is clicked.
      for (const state of ['offline', 'unknown', 'online', 'fault']) {
        await page.goto(`${central.url}/#/overview`);
        await page.goto(`${central.url}/#/map`);
        await mapDrawn(page);
        for (let i = 0; ; i++) {
          const now = await drawnOnMap(page);
          for (const p of now.points) sameColour(p.state, p.colour);
          for (const c of now.clusters) sameColour(c.worst, c.colour);
          if (now.points.some((p) => p.state === state)) break;
          const into = now.clusters.findIndex((c) => c.counts[state] > 0);
          assert.ok(into >= 0 && i < 20, `a ${state} camera comes out of its cluster when zoomed in`);
          await clickDrawn(page, '[data-test=cluster]', into);
          await page.waitForFunction(() => !document.querySelector('.leaflet-zoom-anim'));
          await page.waitForTimeout(500);
        }
      }
      assert.equal(new Set(colours.values()).size, colours.size, `each state its own colour: ${JSON.stringify([...colours])}`);
      assert.equal(colours.get('offline'), 'rgb(217, 54, 62)');
      assert.equal(colours.get('online'), 'rgb(46, 157, 91)');

      // A camera of a connected site (the gone site's cameras answer 409: it cannot be asked).
      const faultPoint = `[data-test=point][data-state=fault]:not([title^="${SITES.find((x) => x.site === GONE)!.name}"])`;
      const point = await page.$(`[data-test=map-drawn] ${faultPoint}`);
      assert.ok(point, 'a faulty camera is drawn on its own once zoomed in');
      const title = await point.getAttribute('title');
      await clickDrawn(page, faultPoint);
      await page.waitForSelector('[data-test=camera-panel]');
      const cam = geo.find((c) => c.name === title && c.condition === 'fault')!;
      assert.ok(cam, `the clicked point is a camera of the API: ${title}`);
      assert.equal(await page.textContent('[data-test=panel-name]'), cam.name);
      assert.equal(await page.textContent('[data-test=panel-site]'), cam.site);
      assert.equal(await page.textContent('[data-test=panel-camera]'), cam.camera);
      assert.equal(await page.getAttribute('[data-test=panel-state]', 'data-state'), 'fault');
      // Its fault by the reports' name (the simulated faults are all black).
      assert.equal(await page.textContent('[data-test=panel-faults]'), '黑屏');
      assert.equal(await page.textContent('[data-test=panel-class]'), ['一类点', '二类点', '三类点'][cam.class! - 1]);
      await page.waitForSelector('[data-test=panel-thumbnail], [data-test=panel-thumbnail-error]', { timeout: 20_000 });
      assert.equal(await page.$('[data-test=panel-thumbnail-error]'), null, String(await page.textContent('[data-test=camera-panel]')));
      const size = await page.$eval('[data-test=panel-thumbnail]', (img: any) => img.decode().then(() => [img.naturalWidth, img.naturalHeight]));
      assert.deepEqual(size, [320, 180], "the site's JPEG, decoded");
      await shot(page, 'map');
      await page.click('[data-test=panel-close]');
      assert.equal(await page.$('[data-test=camera-panel]'), null);
    });

    await t.test('a county user sees only its county, on every page and through crafted requests', async () => {
      await createUser(central.db.db, systemClock, { username: 'yuhang-duty', role: 'operator', scope: YUHANG, password: 'yuhang-duty-pass-1' });
      const { page: county, complaints: countyComplaints } = await newPage(browser);
      await logIn(county, central.url, 'yuhang-duty', 'yuhang-duty-pass-1');
      assert.match(String(await county.textContent('[data-test=scope]')), /余杭区/);
      const mine = await central.login('yuhang-duty', 'yuhang-duty-pass-1');
      const figures = await mine.get<any>('/api/figures');
      await county.waitForSelector('[data-test=camera-count]');
      assert.equal(await county.getAttribute('[data-test=camera-count]', 'data-value'), String(figures.body.total.cameras));
      assert.equal(figures.body.total.cameras, 22, 'the two Yuhang sites');
      const ranked = await county.$$eval('[data-test=ranking] tbody tr', (trs: any[]) => trs.map((tr) => tr.dataset.region));
      assert.deepEqual(ranked.sort(), [`${YUHANG}/五常街道`, `${YUHANG}/仓前街道`].sort());

      await county.goto(`${central.url}/#/map`);
      await county.waitForSelector('[data-test=map-summary]');
      const own = (await allCameras(mine)).filter((c) => c.latitude !== null);
      assert.equal(await county.getAttribute('[data-test=map-summary]', 'data-points'), String(own.length));
      assert.ok(own.every((c) => c.site.startsWith('yh-')));

      // Crafted from the page itself, with its session and CSRF token: another county's camera and site do not exist for it.
      const crafted = await county.evaluate(async () => {
        const csrf = document.cookie.replace(/.*camgate_csrf=([^;]*).*/, '$1');
        const status = async (path: string, init?: any) => (await fetch(path, init)).status;
        return {
          camera: await status('/api/cameras/xh-liuxia/cam-01'),
          thumbnail: await status('/api/cameras/xh-liuxia/cam-01/thumbnail'),
          timeline: await status('/api/cameras/lp-nanyuan/cam-01/timeline'),
          filtered: ((await (await fetch('/api/cameras?site=xh-liuxia')).json()) as any).total,
          command: await status('/api/sites/xh-liuxia/commands/ping', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
            body: '{}',
          }),
          ownCamera: await status('/api/cameras/yh-wuchang/cam-01'),
        };
      });
      assert.deepEqual(crafted, { camera: 404, thumbnail: 404, timeline: 404, filtered: 0, command: 404, ownCamera: 200 });
      assert.deepEqual(countyComplaints, []);
    });

    await t.test('alarms: an operator acknowledges an open alarm with a note; the badge counts open alarms and marks a new one', async () => {
      await createUser(central.db.db, systemClock, { username: 'duty-op', role: 'operator', password: 'duty-op-pass-1' });
      const op = await central.login('duty-op', 'duty-op-pass-1');
      // A browser far from the central's zone: the page must still show the central's times.
      const { page: duty, complaints: dutyComplaints } = await newPage(browser, { timezoneId: 'America/New_York' });
      await logIn(duty, central.url, 'duty-op', 'duty-op-pass-1');
      await duty.click('[data-test=nav-alarms]');
      await duty.waitForSelector('[data-test=alarm-table][data-loading=false][data-state=open] tbody tr[data-alarm]');
      const open = await op.get<any>('/api/alarms?state=open&limit=50');
      assert.ok(open.body.items.length > 1, 'the fed data has open alarms');
      const rowIds = (p: Page) => p.$$eval('[data-test=alarm-table] tbody tr[data-alarm]', (trs: any[]) => trs.map((tr) => tr.dataset.alarm));
      assert.deepEqual(
        await rowIds(duty),
        open.body.items.map((a: any) => a.id),
        'the first page of open alarms, as the API orders it',
      );
      const openCount = (await op.get<any>('/api/alarms?state=open&limit=1000')).body.items.length;
      assert.equal(await duty.getAttribute('[data-test=alarm-badge]', 'data-count'), String(openCount));
      assert.equal(await duty.getAttribute('[data-test=alarm-badge]', 'data-fresh'), 'false');
      assert.equal(await duty.$('[data-test=nav-audit]'), null, 'an operator has no audit page');

      const target = open.body.items.find((a: any) => a.camera !== null) ?? open.body.items[0];
      const row = `tr[data-alarm="${target.id}"]`;
      assert.equal(
        await duty.textContent(`${row} [data-test=alarm-kind]`),
        { 'camera-offline': '摄像机离线', 'picture-fault': '画面故障', 'site-offline': '站点离线' }[target.kind as string],
      );
      assert.equal(await duty.textContent(`${row} [data-test=alarm-where]`), `${target.site}${target.camera ? ` / ${target.camera}` : ''}`);
      // Times in the central's zone (Asia/Shanghai), not the browser's (New York).
      assert.equal(
        await duty.textContent(`${row} [data-test=alarm-opened]`),
        new Date(target.openedAt).toLocaleString('zh-CN', { dateStyle: 'short', timeStyle: 'short', timeZone: 'Asia/Shanghai' }),
      );
      const note = '已派人检修 · crew sent';
      await duty.click(`${row} [data-test=alarm-ack]`);
      await duty.fill('[data-test=ack-note]', note);
      await duty.click('[data-test=ack-submit]');
      await duty.waitForSelector(row, { state: 'detached' });
      // At once, not at the badge's next 30 s look.
      await duty.waitForSelector(`[data-test=alarm-badge][data-count="${openCount - 1}"]`, { timeout: 5_000 });
      const acked = await op.get<any>(`/api/alarms/${target.id}`);
      assert.equal(acked.body.state, 'acknowledged');
      assert.equal(acked.body.acknowledgedBy, 'duty-op');
      assert.equal(acked.body.note, note);

      await duty.click('[data-test=tab-acknowledged]');
      await duty.waitForSelector(`[data-test=alarm-table][data-loading=false][data-state=acknowledged] ${row}`);
      assert.equal(await duty.textContent(`${row} [data-test=alarm-note]`), note);
      assert.equal(await duty.textContent(`${row} [data-test=alarm-acked-by]`), 'duty-op');
      assert.equal(await duty.$(`${row} [data-test=alarm-ack]`), null, 'nothing to acknowledge twice');
      await shot(duty, 'alarms');

      // A camera goes offline now: the badge counts it at the next look (a change of page) and
      // marks it as new until the alarms page is opened.
      const online = (await allCameras(op)).find((c) => c.site !== GONE && c.state === 'online' && c.picture !== 'fault')!;
      const s = SITES.findIndex((x) => x.site === online.site);
      const sim = new SimulatedSite(online.site, labels(SITES[s], s));
      const pub = await publisher(t, broker.url);
      await pub.send([sim.status(online.camera, 'offline', Date.now())]);
      await waitFor(
        async () => (await op.get<any>(`/api/alarms?state=open&site=${online.site}&camera=${online.camera}`)).body.items.length === 1,
        'the new camera-offline alarm',
        30_000,
      );
      await duty.click('[data-test=nav-map]');
      await duty.waitForSelector(`[data-test=alarm-badge][data-count="${openCount}"][data-fresh=true]`);
      await duty.click('[data-test=alarm-badge]');
      await duty.waitForSelector('[data-test=alarm-badge][data-fresh=false]');

      // Filters go to the API: camera-offline alarms of one county only.
      await duty.waitForSelector('[data-test=alarm-table][data-loading=false][data-state=open]');
      await duty.selectOption('[data-test=filter-kind]', 'camera-offline');
      await duty.fill('[data-test=filter-region]', YUHANG);
      await duty.click('[data-test=filter-apply]');
      const filtered = await op.get<any>(`/api/alarms?state=open&kind=camera-offline&region=${encodeURIComponent(YUHANG)}&limit=50`);
      assert.ok(filtered.body.items.length > 0);
      await duty.waitForFunction(
        (n: number) =>
          document.querySelector('[data-test=alarm-table][data-loading=false]') &&
          document.querySelectorAll('[data-test=alarm-table] tbody tr[data-alarm]').length === n,
        filtered.body.items.length,
      );
      assert.deepEqual(
        await rowIds(duty),
        filtered.body.items.map((a: any) => a.id),
      );

      // Someone else acknowledges it while the form is open: the API's refusal is shown as it is.
      const other = filtered.body.items[0];
      await duty.click(`tr[data-alarm="${other.id}"] [data-test=alarm-ack]`);
      const first = await central.as!.request<any>('POST', `/api/alarms/${other.id}/ack`, { note: 'admin on it' });
      assert.equal(first.status, 200);
      await duty.fill('[data-test=ack-note]', 'too late');
      await duty.click('[data-test=ack-submit]');
      await duty.waitForSelector('[data-test=ack-error]');
      const refused = await op.request<any>('POST', `/api/alarms/${other.id}/ack`, { note: 'too late' });
      assert.equal(refused.status, 409);
      assert.equal(await duty.textContent('[data-test=ack-error]'), refused.body.message, "the API's own refusal");
      assert.equal((await op.get<any>(`/api/alarms/${other.id}`)).body.note, 'admin on it');
      assert.deepEqual(dutyComplaints, []);
    });

    await t.test("audit: the admin's page shows the acknowledgement (who, what, when, from where); filters go to the API", async () => {
      await page.goto(`${central.url}/#/overview`);
      await page.click('[data-test=nav-audit]');
      await page.waitForSelector('[data-test=audit-table][data-loading=false] tbody tr');
      const log = await central.get<any>('/api/audit?limit=50');
      const ids = () => page.$$eval('[data-test=audit-table] tbody tr', (trs: any[]) => trs.map((tr) => tr.dataset.record));
      assert.deepEqual(
        await ids(),
        log.body.items.map((r: any) => r.id),
        'newest first, as the API answers',
      );
      const ack = log.body.items.find((r: any) => r.action === 'alarm-ack' && r.actor === 'duty-op');
      assert.ok(ack, 'the acknowledgement is audited');
      const row = `tr[data-record="${ack.id}"]`;
      assert.equal(await page.textContent(`${row} [data-test=audit-row-actor]`), 'duty-op');
      assert.equal(await page.textContent(`${row} [data-test=audit-row-action]`), '确认告警');
      assert.equal(await page.getAttribute(`${row} [data-test=audit-row-action]`, 'title'), 'alarm-ack');
      assert.equal(await page.textContent(`${row} [data-test=audit-row-where]`), `${ack.site}${ack.camera ? ` / ${ack.camera}` : ''}`);
      assert.equal(await page.textContent(`${row} [data-test=audit-row-address]`), ack.address ?? '—');
      assert.ok(ack.address, 'from where');
      const detail = String(await page.textContent(`${row} [data-test=audit-row-detail]`));
      assert.match(detail, new RegExp(`alarm: ${ack.detail.alarm}`));
      assert.match(detail, /已派人检修 · crew sent/);

      await page.fill('[data-test=audit-actor]', 'duty-op');
      await page.fill('[data-test=audit-action]', 'alarm-ack');
      await page.click('[data-test=audit-apply]');
      const mine = await central.get<any>('/api/audit?actor=duty-op&action=alarm-ack');
      assert.equal(mine.body.items.length, 1);
      await page.waitForFunction(() => document.querySelectorAll('[data-test=audit-table] tbody tr').length === 1);
      assert.deepEqual(await ids(), [ack.id]);
      await page.fill('[data-test=audit-actor]', '');
      await page.fill('[data-test=audit-action]', '');
      await page.click('[data-test=audit-apply]');
      await page.waitForFunction((n: number) => document.querySelectorAll('[data-test=audit-table] tbody tr').length === n, log.body.items.length);
      await shot(page, 'audit');
    });

    await t.test('a viewer sees the alarms but no acknowledge button, and no audit page', async () => {
      await createUser(central.db.db, systemClock, { username: 'watcher', role: 'viewer', password: 'watcher-pass-1' });
      const { page: viewer, complaints: viewerComplaints } = await newPage(browser);
      await logIn(viewer, central.url, 'watcher', 'watcher-pass-1');
      assert.equal(await viewer.$('[data-test=nav-audit]'), null);
      await viewer.click('[data-test=nav-alarms]');
      await viewer.waitForSelector('[data-test=alarm-table][data-loading=false][data-state=open] tbody tr[data-alarm]');
      assert.equal((await viewer.$$('[data-test=alarm-ack]')).length, 0);
      await viewer.goto(`${central.url}/#/audit`);
      await viewer.waitForURL(/#\/overview$/);
      assert.equal(await viewer.$('[data-test=audit-page]'), null);
      const crafted = await viewer.evaluate(async () => {
        const csrf = document.cookie.replace(/.*camgate_csrf=([^;]*).*/, '$1');
        const alarms = (await (await fetch('/api/alarms?state=open&limit=1')).json()) as any;
        const ack = await fetch(`/api/alarms/${alarms.items[0].id}/ack`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
          body: '{"note":"x"}',
        });
        return { ack: ack.status, audit: (await fetch('/api/audit')).status };
      });
      assert.deepEqual(crafted, { ack: 403, audit: 403 });
      assert.deepEqual(viewerComplaints, []);
    });

    // Regions, cameras table, camera page: every number and row is the API's; the camera page's
    // commands are answered by answerCameraCommands.
    await t.test("regions: the tree shows the API's figures at each level, expands and collapses, and drills down to sites and their cameras", async () => {
      await page.goto(`${central.url}/#/regions`);
      await page.waitForSelector('[data-test=region-table][data-loading=false] tr[data-region]');
      const tree = (await central.get<any>('/api/regions')).body.regions as any[];
      const byRegion = new Map(tree.map((r) => [r.region, r]));
      const pct = (rate: number | null) => (rate === null ? '—' : `${(rate * 100).toFixed(1)}%`);
      const shown = () => page.$$eval('[data-test=region-row]', (trs: any[]) => trs.map((tr) => tr.dataset.region as string));
      const checkRows = async () => {
        for (const region of await shown()) {
          const f = byRegion.get(region).figure;
          const row = `[data-test=region-row][data-region="${region}"]`;
          assert.equal(await page.getAttribute(`${row} [data-test=region-cameras]`, 'data-value'), String(f.cameras), `${region} cameras`);
          for (const [name, rate] of [
            ['online', f.onlineRate],
            ['intact', f.intactRate],
            ['geo', f.atEnd.geoLabelledRate],
            ['hd', f.atEnd.hdRate],
          ] as const) {
            assert.equal(await page.getAttribute(`${row} [data-test=region-${name}]`, 'data-value'), rate === null ? '' : String(rate), `${region} ${name}`);
            assert.equal(await page.textContent(`${row} [data-test=region-${name}]`), pct(rate));
          }
        }
      };
      // Opened down to the first level with a choice: the province, the city, its three counties.
      const counties = tree.filter((r) => r.depth <= 3).map((r) => r.region);
      assert.equal(counties.length, 5);
      assert.deepEqual(await shown(), counties);
      await checkRows();
      await page.click(`[data-test=region-row][data-region="${YUHANG}"] [data-test=region-toggle]`);
      assert.deepEqual(
        await shown(),
        tree.filter((r) => r.depth <= 3 || r.parent === YUHANG).map((r) => r.region),
      );
      assert.equal((await shown()).length, 7, 'its two townships below it');
      await checkRows();

      // A township without regions below: its sites with their figures for that region.
      const township = `${YUHANG}/仓前街道`;
      await page.click(`[data-test=region-row][data-region="${township}"] [data-test=region-toggle]`);
      await page.waitForSelector(`[data-test=site-row][data-region="${township}"]`);
      const bySite = (await central.get<any>(`/api/figures?region=${encodeURIComponent(township)}&groupBy=site`)).body.groups as any[];
      assert.deepEqual(
        await page.$$eval(`[data-test=site-row][data-region="${township}"]`, (trs: any[]) => trs.map((tr) => tr.dataset.site)),
        bySite.map((g) => g.key),
      );
      const siteRow = `[data-test=site-row][data-site=yh-cangqian]`;
      assert.equal(await page.getAttribute(`${siteRow} [data-test=site-cameras]`, 'data-value'), String(bySite[0].figure.cameras));
      assert.equal(await page.getAttribute(`${siteRow} [data-test=site-online]`, 'data-value'), String(bySite[0].figure.onlineRate));
      const listed = (await central.get<any>('/api/sites')).body.find((x: any) => x.site === 'yh-cangqian');
      assert.equal(await page.textContent(`${siteRow} [data-test=site-name]`), listed.name ?? 'yh-cangqian', 'its name, or its id when it has none');
      await shot(page, 'regions');
      await page.click('[data-test=language]');
      await page.waitForSelector('[data-test=nav-regions]:has-text("Regions")');
      await shot(page, 'regions-en');
      await page.click('[data-test=language]');

      // Collapsing the county hides everything below it.
      await page.click(`[data-test=region-row][data-region="${YUHANG}"] [data-test=region-toggle]`);
      assert.deepEqual(await shown(), counties);
      assert.equal(await page.$('[data-test=site-row]'), null);

      // A county's link: the cameras table filtered to it, exactly the API's cameras.
      await page.click(`[data-test=region-row][data-region="${CITY}/西湖区"] [data-test=region-cameras-link]`);
      await page.waitForURL(/#\/cameras\?region=/);
      await page.waitForSelector('[data-test=camera-table][data-loading=false]');
      const xihu = await central.get<any>(`/api/cameras?region=${encodeURIComponent(`${CITY}/西湖区`)}&limit=50`);
      assert.equal(await page.getAttribute('[data-test=cameras-total]', 'data-value'), String(xihu.body.total));
      assert.deepEqual(
        await page.$$eval('[data-test=camera-table] tbody tr', (trs: any[]) => trs.map((tr) => tr.dataset.camera)),
        xihu.body.items.map((c: any) => `${c.site}/${c.camera}`),
      );

      // A site's link: its cameras in that region.
      await page.goBack();
      await page.waitForSelector('[data-test=region-table][data-loading=false] tr[data-region]');
      await page.click(`[data-test=region-row][data-region="${YUHANG}"] [data-test=region-toggle]`);
      await page.click(`[data-test=region-row][data-region="${township}"] [data-test=region-toggle]`);
      await page.click(`${siteRow} [data-test=site-cameras-link]`);
      await page.waitForURL(/#\/cameras\?.*site=yh-cangqian/);
      await page.waitForSelector('[data-test=camera-table][data-loading=false] tbody tr');
      const cangqian = await central.get<any>(`/api/cameras?site=yh-cangqian&region=${encodeURIComponent(township)}&limit=50`);
      assert.equal(cangqian.body.total, 12);
      assert.deepEqual(
        await page.$$eval('[data-test=camera-table] tbody tr', (trs: any[]) => trs.map((tr) => tr.dataset.camera)),
        cangqian.body.items.map((c: any) => `${c.site}/${c.camera}`),
      );
    });

    await t.test('cameras: filters and sorting go to the API and live in the address; the CSV export holds every camera of the filter', async () => {
      const rowIds = () => page.$$eval('[data-test=camera-table] tbody tr', (trs: any[]) => trs.map((tr) => tr.dataset.camera as string));
      const settled = () => page.waitForSelector('[data-test=camera-table][data-loading=false]');
      const apiIds = async (q: string) => {
        const res = await central.get<any>(`/api/cameras?${q}&limit=50`);
        assert.equal(res.status, 200, q);
        return { total: res.body.total as number, ids: res.body.items.map((c: any) => `${c.site}/${c.camera}`) as string[] };
      };
      await page.goto(`${central.url}/#/cameras`);
      await settled();
      await page.selectOption('[data-test=filter-condition]', { label: '故障' });
      await page.fill('[data-test=filter-region]', CITY);
      await page.click('[data-test=filter-apply]');
      await page.waitForURL(/condition=fault/);
      await settled();
      const faulty = await apiIds(`condition=fault&region=${encodeURIComponent(CITY)}`);
      assert.ok(faulty.total > 2, `the fed data has faulty cameras: ${faulty.total}`);
      assert.equal(await page.getAttribute('[data-test=cameras-total]', 'data-value'), String(faulty.total));
      assert.deepEqual(await rowIds(), faulty.ids);
      assert.ok((await page.$$eval('[data-test=camera-condition]', (tds: any[]) => tds.map((td) => td.dataset.state))).every((s: string) => s === 'fault'));

      // Sorting: a click on a heading, then again the other way, as the API orders.
      await page.click('[data-test=sort-name]');
      await page.waitForURL(/sort=name/);
      await settled();
      const byName = await apiIds(`condition=fault&region=${encodeURIComponent(CITY)}&sort=name`);
      assert.deepEqual(await rowIds(), byName.ids);
      await page.click('[data-test=sort-name]');
      await page.waitForURL(/order=desc/);
      await settled();
      const byNameDesc = await apiIds(`condition=fault&region=${encodeURIComponent(CITY)}&sort=name&order=desc`);
      assert.deepEqual(await rowIds(), byNameDesc.ids);
      assert.notDeepEqual(byNameDesc.ids, byName.ids, 'the order changed');
      assert.equal(await page.getAttribute('[data-test=sort-name]', 'aria-sort'), 'descending');

      // A reload keeps the filters (they are the address); the form shows them.
      await page.reload();
      await settled();
      assert.deepEqual(await rowIds(), byNameDesc.ids);
      assert.equal(await page.inputValue('[data-test=filter-region]'), CITY);

      // Another filter from the form: class 1 offline cameras, any text.
      await page.goto(`${central.url}/#/cameras?condition=offline&class=1`);
      await settled();
      const offline1 = await apiIds('condition=offline&class=1');
      assert.deepEqual(await rowIds(), offline1.ids);
      await page.fill('[data-test=filter-text]', 'cangqian');
      await page.click('[data-test=filter-apply]');
      await page.waitForURL(/text=cangqian/);
      await settled();
      assert.deepEqual(await rowIds(), (await apiIds('condition=offline&class=1&text=cangqian')).ids);
      await page.click('[data-test=filter-clear]');
      await page.waitForFunction(() => !document.location.hash.includes('condition'));
      await settled();
      assert.deepEqual(await rowIds(), (await apiIds('sort=site')).ids);

      // The export: every camera of the filter, not the page; the headings and a byte-order mark.
      await page.goto(`${central.url}/#/cameras?region=${encodeURIComponent(CITY)}&sort=statusAt&order=desc`);
      await settled();
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export-csv]')]);
      assert.match(download.suggestedFilename(), /^摄像机-cameras_\d{4}-\d{2}-\d{2}\.csv$/);
      const file = readFileSync(await download.path());
      assert.deepEqual([...file.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
      const lines = file.toString('utf8').slice(1).trimEnd().split('\r\n');
      assert.equal(lines[0], CAMERA_HEADINGS.join(','));
      const all = (await central.get<any>(`/api/cameras?region=${encodeURIComponent(CITY)}&sort=statusAt&order=desc&limit=5000`)).body;
      assert.ok(all.total > 0);
      assert.deepEqual(
        lines.slice(1).map((l) => l.split(',').slice(0, 2).join('/')),
        all.items.map((c: any) => `${c.site}/${c.camera}`),
        'every camera of the filter, in its order',
      );
      await page.goto(`${central.url}/#/cameras?class=1`);
      await settled();
      await shot(page, 'cameras');
      await page.click('[data-test=language]');
      await page.waitForSelector('[data-test=nav-cameras]:has-text("Cameras")');
      await shot(page, 'cameras-en');
      await page.click('[data-test=language]');
    });

    await t.test("camera page: the ledger, a day's bands as the API cuts them, its alarms, and commands with the site's replies", async () => {
      await answerCameraCommands(t, broker.url, readFileSync(jpeg));
      // A camera and a past day with more than one state, from the API.
      let chosen: { site: string; camera: string; day: string; timeline: any } | undefined;
      const today = (await central.get<any>('/api/figures')).body.period.to as string;
      for (let back = 1; back <= 8 && !chosen; back++) {
        const day = new Date(Date.parse(`${today}T00:00:00Z`) - back * DAY).toISOString().slice(0, 10);
        for (const spec of SITES.filter((x) => x.site !== GONE)) {
          for (let i = 1; i <= spec.cameras && !chosen; i++) {
            const camera = `cam-${String(i).padStart(2, '0')}`;
            const tl = await central.get<any>(`/api/cameras/${spec.site}/${camera}/timeline?from=${day}&to=${day}`);
            if (tl.body.bands.some((b: any) => b.state === 'offline') && tl.body.bands.some((b: any) => b.state === 'online'))
              chosen = { site: spec.site, camera, day, timeline: tl.body };
          }
          if (chosen) break;
        }
      }
      assert.ok(chosen, 'the fed history has a camera offline for part of some day');
      const ledger = (await central.get<any>(`/api/cameras/${chosen.site}/${chosen.camera}`)).body;

      // From the cameras table to the camera's page.
      await page.goto(`${central.url}/#/cameras?site=${chosen.site}`);
      await page.waitForSelector('[data-test=camera-table][data-loading=false] tbody tr');
      const asked: string[] = [];
      const ask = (r: { url(): string }) => {
        const url = new URL(r.url());
        if (url.pathname.startsWith('/api/')) asked.push(`${url.pathname}${url.search}`);
      };
      page.on('request', ask);
      await page.click(`tr[data-camera="${chosen.site}/${chosen.camera}"] [data-test=camera-link]`);
      await page.waitForURL(new RegExp(`#/cameras/${chosen.site}/${chosen.camera}$`));
      await page.waitForSelector('[data-test=ledger]');
      await page.waitForSelector('[data-test=timeline-bar]');
      await page.waitForSelector('[data-test=camera-alarms][data-loaded=true]');
      page.off('request', ask);
      const own = `/api/cameras/${chosen.site}/${chosen.camera}`;
      const dayAsked = asked.find((a) => a.startsWith(`${own}/timeline?`)) ?? '';
      assert.equal(dayAsked, `${own}/timeline?from=today&to=today`, "no day chosen: the central's today");
      assert.ok(await page.isVisible('[data-test=timeline-today]'));
      assert.deepEqual(
        asked.filter((a) => !a.startsWith('/api/alarms?state=open')).sort(),
        [own, `${own}/alarms?limit=20`, dayAsked].sort(),
        `the camera, its alarms and its day: nothing else, nothing twice (${JSON.stringify(asked)})`,
      );
      assert.equal(await page.textContent('[data-test=ledger-name]'), ledger.name);
      assert.equal(await page.textContent('[data-test=ledger-camera]'), ledger.camera);
      assert.equal(await page.textContent('[data-test=ledger-site]'), ledger.site);
      assert.equal(await page.textContent('[data-test=ledger-class]'), ['一类点', '二类点', '三类点'][ledger.class - 1]);
      assert.equal(await page.textContent('[data-test=ledger-region]'), ledger.region);
      assert.equal(await page.textContent('[data-test=ledger-owner]'), ledger.owner);
      assert.equal(await page.textContent('[data-test=ledger-device]'), `${ledger.manufacturer} ${ledger.model}`);
      assert.equal(await page.textContent('[data-test=ledger-serial]'), ledger.serial);
      assert.equal(
        await page.textContent('[data-test=ledger-coordinates]'),
        ledger.latitude === null ? '未标注' : `${ledger.latitude.toFixed(6)}, ${ledger.longitude.toFixed(6)}`,
      );
      assert.deepEqual(
        await page.$$eval('[data-test=streams] tbody tr', (trs: any[]) => trs.map((tr) => tr.querySelector('[data-test=stream-resolution]').textContent)),
        ledger.meta.profiles.map((p: any) => `${p.width}×${p.height}`),
      );
      assert.equal(await page.getAttribute('[data-test=camera-condition]', 'data-state'), ledger.condition);

      // The day's bar: the API's bands for that day, each where its times put it.
      await page.fill('[data-test=timeline-day]', chosen.day);
      await page.click('[data-test=timeline-show]');
      await page.waitForSelector(`[data-test=timeline-bar][data-from="${chosen.timeline.from}"]`);
      const bands = await page.$$eval('[data-test=band]', (rects: any[]) =>
        rects.map((r) => ({ from: r.dataset.from, to: r.dataset.to, state: r.dataset.state, x: r.getAttribute('x'), width: r.getAttribute('width') })),
      );
      const span = Date.parse(chosen.timeline.to) - Date.parse(chosen.timeline.from);
      assert.deepEqual(
        bands.map((b) => [b.from, b.to, b.state]),
        chosen.timeline.bands.map((b: any) => [b.from, b.to, b.state]),
        "the API's bands, in order",
      );
      for (const b of bands) {
        assert.ok(Math.abs(parseFloat(b.x) - ((Date.parse(b.from) - Date.parse(chosen.timeline.from)) / span) * 100) < 1e-6);
        assert.ok(Math.abs(parseFloat(b.width) - ((Date.parse(b.to) - Date.parse(b.from)) / span) * 100) < 1e-6);
      }
      const offlineMs = chosen.timeline.bands
        .filter((b: any) => b.state === 'offline')
        .reduce((n: number, b: any) => n + Date.parse(b.to) - Date.parse(b.from), 0);
      assert.equal(await page.getAttribute('[data-test=band-total][data-state=offline]', 'data-ms'), String(offlineMs));
      assert.equal(await page.$$eval('.timeline-bar .tick', (ticks: any[]) => ticks.length), 25, 'a tick every hour, 00:00 to 24:00');

      // Its alarms, as the API lists them.
      const alarms = (await central.get<any>(`/api/cameras/${chosen.site}/${chosen.camera}/alarms?limit=20`)).body.items;
      await page.waitForSelector('[data-test=camera-alarms][data-loaded=true]');
      assert.deepEqual(
        await page.$$eval('[data-test=camera-alarms] tbody tr', (trs: any[]) => trs.map((tr) => tr.dataset.alarm)),
        alarms.map((a: any) => a.id),
      );

      // Commands: each reply as the site gave it; the snapshot as a picture; a reboot asks first, and the camera's refusal shows.
      const reply = (name: string) => `[data-test=command-reply][data-command=${name}]`;
      await page.click('[data-test=command-probe-now]');
      await page.waitForSelector(reply('probe-now'), { timeout: 20_000 });
      assert.equal(await page.getAttribute(reply('probe-now'), 'data-ok'), 'true');
      assert.equal(JSON.parse(String(await page.textContent(`${reply('probe-now')} [data-test=reply-text]`))).cameras[0].latencyMs, 12);
      await page.click('[data-test=command-snapshot]');
      await page.waitForSelector(`${reply('snapshot')} [data-test=snapshot-image]`, { timeout: 20_000 });
      const size = await page.$eval(`${reply('snapshot')} [data-test=snapshot-image]`, (img: any) =>
        img.decode().then(() => [img.naturalWidth, img.naturalHeight]),
      );
      assert.deepEqual(size, [320, 180], "the site's JPEG, decoded");
      await shot(page, 'camera');
      await page.click('[data-test=language]');
      await page.waitForSelector('[data-test=nav-cameras]:has-text("Cameras")');
      await shot(page, 'camera-en');
      await page.click('[data-test=language]');
      await page.click('[data-test=command-camera-set-time]');
      await page.waitForSelector(reply('camera-set-time'), { timeout: 20_000 });
      assert.equal(JSON.parse(String(await page.textContent(`${reply('camera-set-time')} [data-test=reply-text]`))).offsetAfterMs, 20);
      await page.click('[data-test=command-camera-reboot]');
      await page.waitForSelector('[data-test=reboot-confirm]');
      await page.click('[data-test=reboot-no]');
      assert.equal(await page.$('[data-test=reboot-confirm]'), null);
      assert.equal(await page.$(reply('camera-reboot')), null, 'nothing sent without the confirmation');
      await page.click('[data-test=command-camera-reboot]');
      await page.click('[data-test=reboot-yes]');
      await page.waitForSelector(reply('camera-reboot'), { timeout: 20_000 });
      assert.equal(await page.getAttribute(reply('camera-reboot'), 'data-ok'), 'false');
      const refusal = String(await page.textContent(`${reply('camera-reboot')} [data-test=reply-text]`));
      assert.match(refusal, /^502 agent-error: site .* answered camera-reboot with failed: SystemReboot refused by the camera: not permitted$/);
      const audited = (await central.get<any>(`/api/audit?action=command&site=${chosen.site}&camera=${chosen.camera}`)).body.items
        .map((r: any) => r.detail.command)
        .filter((c: string) => c !== 'thumbnail');
      assert.deepEqual(audited.sort(), ['camera-reboot', 'camera-set-time', 'probe-now', 'snapshot'].sort(), 'each command once');
      assert.deepEqual(complaints, []);
    });

    await t.test("camera page: another county's camera is the API's 404 for a county user; a viewer gets no command but the snapshot", async () => {
      const { page: county, complaints: countyComplaints } = await newPage(browser);
      await logIn(county, central.url, 'yuhang-duty', 'yuhang-duty-pass-1');
      await county.goto(`${central.url}/#/cameras/xh-liuxia/cam-01`);
      await county.waitForSelector('[data-test=camera-error]');
      const refused = await (await central.login('yuhang-duty', 'yuhang-duty-pass-1')).get<any>('/api/cameras/xh-liuxia/cam-01');
      assert.equal(refused.status, 404);
      assert.equal(await county.textContent('[data-test=camera-error]'), refused.body.message);
      assert.equal(await county.$('[data-test=ledger]'), null);
      assert.equal(await county.$('[data-test=timeline-bar]'), null);
      await county.goto(`${central.url}/#/cameras/yh-wuchang/cam-01`);
      await county.waitForSelector('[data-test=ledger]');
      assert.ok(await county.$('[data-test=command-probe-now]'), 'an operator of the county commands its cameras');
      await county.goto(`${central.url}/#/cameras`);
      await county.waitForSelector('[data-test=camera-table][data-loading=false] tbody tr');
      const sites = await county.$$eval('[data-test=camera-table] tbody tr', (trs: any[]) => [...new Set(trs.map((tr) => tr.dataset.camera.split('/')[0]))]);
      assert.deepEqual(sites.sort(), ['yh-cangqian', 'yh-wuchang']);
      // Its region tree starts at its county (the levels above would show its part as the whole), opened onto its townships.
      await county.goto(`${central.url}/#/regions`);
      await county.waitForSelector('[data-test=region-table][data-loading=false] tr[data-region]');
      const countyTree = (await (await central.login('yuhang-duty', 'yuhang-duty-pass-1')).get<any>('/api/regions')).body.regions as any[];
      assert.deepEqual(
        countyTree.map((r) => r.region),
        [YUHANG, `${YUHANG}/五常街道`, `${YUHANG}/仓前街道`].sort(),
      );
      assert.deepEqual(
        await county.$$eval('[data-test=region-row]', (trs: any[]) =>
          trs.map((tr) => [tr.dataset.region, tr.querySelector('[data-test=region-online]').dataset.value]),
        ),
        countyTree.map((r) => [r.region, String(r.figure.onlineRate)]),
      );
      assert.deepEqual(countyComplaints, []);

      const { page: viewer, complaints: viewerComplaints } = await newPage(browser);
      await logIn(viewer, central.url, 'watcher', 'watcher-pass-1');
      await viewer.goto(`${central.url}/#/cameras/yh-wuchang/cam-01`);
      await viewer.waitForSelector('[data-test=ledger]');
      for (const name of ['probe-now', 'camera-set-time', 'camera-reboot']) assert.equal(await viewer.$(`[data-test=command-${name}]`), null, name);
      assert.ok(await viewer.$('[data-test=command-snapshot]'), 'the API lets a viewer take a snapshot');
      const crafted = await viewer.evaluate(async () => {
        const csrf = document.cookie.replace(/.*camgate_csrf=([^;]*).*/, '$1');
        const res = await fetch('/api/sites/yh-wuchang/commands/probe-now', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
          body: '{"args":{"camera":"cam-01"}}',
        });
        return res.status;
      });
      assert.equal(crafted, 403);
      assert.deepEqual(viewerComplaints, []);
    });

    await t.test("the map panel's camera name and the alarms page's camera open the camera page; leaving a page asks nothing of it", async () => {
      await page.goto(`${central.url}/#/cameras/yh-wuchang/cam-01`);
      await page.waitForSelector('[data-test=timeline-bar]');
      const asked: string[] = [];
      const ask = (r: { url(): string }) => asked.push(new URL(r.url()).pathname);
      page.on('request', ask);
      await page.click('[data-test=back-to-cameras]');
      await page.waitForSelector('[data-test=camera-table][data-loading=false] tbody tr');
      await page.click('[data-test=nav-alarms]');
      await page.waitForSelector('[data-test=alarm-table][data-loading=false]');
      page.off('request', ask);
      assert.deepEqual(
        asked.filter((p) => p.startsWith('/api/cameras')),
        ['/api/cameras'],
        `only the table's list: ${JSON.stringify(asked)}`,
      );
      await page.goto(`${central.url}/#/alarms`);
      await page.waitForSelector('[data-test=alarm-table][data-loading=false] [data-test=alarm-camera-link]');
      const href = await page.getAttribute('[data-test=alarm-camera-link] >> nth=0', 'href');
      await page.click('[data-test=alarm-camera-link] >> nth=0');
      await page.waitForSelector('[data-test=ledger]');
      assert.equal(`#${new URL(page.url()).hash.slice(1)}`, href);
      await page.goto(`${central.url}/#/map`);
      await mapDrawn(page);
      for (let i = 0; i < 20 && !(await page.$('[data-test=map-drawn] [data-test=point]')); i++) {
        await clickDrawn(page, '[data-test=cluster]');
        await page.waitForFunction(() => !document.querySelector('.leaflet-zoom-anim'));
        await page.waitForTimeout(500);
      }
      const point = await page.$('[data-test=map-drawn] [data-test=point]');
      assert.ok(point);
      const title = await point.getAttribute('title');
      await clickDrawn(page, '[data-test=point]');
      await page.waitForSelector('[data-test=camera-panel]');
      await page.click('[data-test=panel-name]');
      await page.waitForSelector('[data-test=ledger]');
      assert.match(page.url(), /#\/cameras\/[^/]+\/cam-\d\d$/);
      assert.equal(await page.textContent('[data-test=camera-name]'), title);
    });

    await t.test("reports: a day's report is the API's; its CSV and XLSX say the same; the week and a county; no data and a refused day say so", async () => {
      await page.goto(`${central.url}/#/overview`);
      await page.click('[data-test=nav-reports]');
      await page.waitForSelector('[data-test=report][data-loading=false]');
      const yesterday = await central.get<any>('/api/reports/daily');
      assert.equal(yesterday.status, 200);
      assert.equal(await page.getAttribute('[data-test=report]', 'data-from'), yesterday.body.period.from, "the API's default day: yesterday");
      assert.equal(await page.inputValue('[data-test=report-period]'), yesterday.body.period.from);

      // A day of the fed month: the page's numbers are the API's.
      const day = await page.evaluate((d: string) => {
        const x = new Date(`${d}T00:00:00Z`);
        x.setUTCDate(x.getUTCDate() - 3);
        return x.toISOString().slice(0, 10);
      }, yesterday.body.period.from);
      await page.fill('[data-test=report-period]', day);
      await page.click('[data-test=report-apply]');
      await page.waitForSelector(`[data-test=report][data-from="${day}"][data-loading=false]`);
      const api = (await central.get<any>(`/api/reports/daily?day=${day}`)).body;
      assert.ok(api.summary.figure.cameras > 40, `the fed cameras are in the report: ${api.summary.figure.cameras}`);
      assert.equal(await page.textContent('[data-test=report-title]'), api.title.zh);
      for (const r of api.summary.rates) {
        const row = `[data-test=report-rates] tr[data-key=${r.key}]`;
        assert.equal(await page.getAttribute(`${row} [data-test=rate-value]`, 'data-value'), r.value === null ? '' : String(r.value), r.key);
        assert.equal(await page.textContent(`${row} [data-test=rate-value]`), r.value === null ? '—' : `${(r.value * 100).toFixed(2)}%`);
        assert.equal(await page.getAttribute(`${row} [data-test=rate-delta]`, 'data-value'), r.deltaPoints === null ? '' : String(r.deltaPoints));
        for (const c of r.targets) {
          assert.equal(await page.getAttribute(`${row} [data-test=rate-class-${c.class}]`, 'data-value'), c.rate === null ? '' : String(c.rate));
          assert.equal(await page.getAttribute(`${row} [data-test=rate-class-${c.class}]`, 'data-target'), String(c.target));
        }
        if (r.targets.length) assert.equal(await page.textContent(`${row} [data-test=rate-met]`), r.met === null ? '无法判定' : r.met ? '达标' : '未达标');
      }
      const counts = await page.$$eval('[data-test=report-counts] tbody tr', (trs: any[]) =>
        trs.map((tr) => [tr.dataset.key, Number(tr.querySelector('[data-test=count-value]').textContent)]),
      );
      assert.deepEqual(
        counts,
        api.summary.counts.map((c: any) => [c.key, c.value]),
      );
      const ranked = await page.$$eval('[data-test=report-ranking] tbody tr', (trs: any[]) =>
        trs.map((tr) => [tr.dataset.key, tr.querySelector('[data-test=ranking-online]').dataset.value]),
      );
      assert.deepEqual(
        ranked,
        api.ranking.rows.map((r: any) => [r.key, r.figure.onlineRate === null ? '' : String(r.figure.onlineRate)]),
        "the API's ranking, in its order",
      );
      assert.equal(ranked.length, 3, 'the three counties');
      const below = await page.$$eval('[data-test=report-below] tbody tr', (trs: any[]) =>
        trs.map((tr) => [
          tr.dataset.camera,
          tr.querySelector('[data-test=below-cause]').dataset.cause,
          tr.querySelector('[data-test=below-cause]').textContent,
        ]),
      );
      const causeZh: Record<string, string> = { offline: '离线', frozen: '画面冻结', black: '黑屏' };
      assert.ok(api.belowTarget.length > 0, 'the fed day has cameras below target');
      assert.deepEqual(
        below,
        api.belowTarget.map((c: any) => [`${c.site}/${c.camera}`, c.cause ?? '', c.cause === null ? '—' : causeZh[c.cause]]),
        'the cameras below target with their cause by its Chinese name',
      );
      assert.equal((await page.$$('[data-test=report-no-coordinates] tbody tr')).length, api.withoutCoordinates.length);
      await shot(page, 'reports');

      // The exports are the same report: the page's links, downloaded by the browser with its session.
      const onlineRate = api.summary.rates.find((r: any) => r.key === 'onlineRate').value as number;
      const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export-csv]')]);
      assert.match(csvDownload.suggestedFilename(), new RegExp(`^日统计-daily_全部辖区-all-regions_${day}\\.csv$`));
      const rows: string[][] = parseCsv(readFileSync(await csvDownload.path(), 'utf8'), { bom: true, relax_column_count: true, skip_empty_lines: true });
      assert.equal(rows[0][0], api.title.zh);
      const online = rows.find((r) => r[0] === '在线率 online rate');
      assert.equal(online?.[1], `${(onlineRate * 100).toFixed(2)}%`, 'the CSV online rate');
      const [xlsxDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export-xlsx]')]);
      assert.match(xlsxDownload.suggestedFilename(), /\.xlsx$/);
      const book = new Workbook();
      await book.xlsx.readFile(await xlsxDownload.path());
      const rates = book.getWorksheet('主要指标 Rates')!;
      const onlineCell = rates.getColumn(1).values.findIndex((v) => v === '在线率 online rate');
      assert.ok(onlineCell > 0);
      assert.equal(rates.getRow(onlineCell).getCell(2).value, onlineRate, 'the XLSX online rate, as a number');
      const ranking = book.getWorksheet('排名 Ranking')!;
      const xlsxCounties: string[] = [];
      ranking.eachRow((row, n) => {
        if (n > 4) xlsxCounties.push(row.getCell(2).text);
      });
      assert.deepEqual(
        xlsxCounties,
        api.ranking.rows.map((r: any) => r.name),
      );
      const [printable] = await Promise.all([page.context().waitForEvent('page'), page.click('[data-test=export-html]')]);
      await printable.waitForLoadState();
      assert.equal(await printable.textContent('h1'), api.title.zh, 'the printable page, opened with the session');
      await printable.close();

      // The week: last week by default; the API's own period.
      await page.click('[data-test=report-kind-weekly]');
      await page.waitForSelector('[data-test=report][data-kind=weekly][data-loading=false]');
      const from = await page.getAttribute('[data-test=report]', 'data-from');
      const week = (await central.get<any>(`/api/reports/weekly?day=${from}`)).body;
      assert.equal(week.period.from, from);
      assert.equal(await page.getAttribute('[data-test=report]', 'data-to'), week.period.to);
      assert.ok(week.period.to < yesterday.body.period.from || week.period.to === yesterday.body.period.from, 'a whole week, before today');
      assert.equal(
        await page.getAttribute('[data-test=report-rates] tr[data-key=onlineRate] [data-test=rate-value]', 'data-value'),
        String(week.summary.rates.find((r: any) => r.key === 'onlineRate').value),
      );

      // A county from the region picker: its report, its townships ranked.
      await page.selectOption('[data-test=report-region]', YUHANG);
      await page.waitForSelector(`[data-test=report][data-loading=false] [data-test=report-region-name]:has-text("${YUHANG}")`);
      const county = (await central.get<any>(`/api/reports/weekly?day=${from}&region=${encodeURIComponent(YUHANG)}`)).body;
      assert.equal(county.summary.figure.cameras, 22);
      assert.deepEqual(
        await page.$$eval('[data-test=report-ranking] tbody tr', (trs: any[]) => trs.map((tr) => tr.dataset.key)),
        county.ranking.rows.map((r: any) => r.key),
      );
      // The address holds the report: a reload shows the same one.
      assert.match(page.url(), new RegExp(`#/reports\\?kind=weekly&day=${from}&region=`));
      await page.reload();
      await page.waitForSelector(`[data-test=report][data-kind=weekly][data-from="${from}"][data-loading=false]`);
      assert.equal(await page.textContent('[data-test=report-region-name]'), YUHANG);
      await page.waitForSelector(`[data-test=report-region] option[value="${YUHANG}"]`, { state: 'attached' });
      assert.equal(await page.inputValue('[data-test=report-region]'), YUHANG);
      assert.equal(
        await page.inputValue('[data-test=report-period]'),
        week.period.label.en.replace(/^week (\d+) of (\d+).*$/, (_: string, w: string, y: string) => `${y}-W${w.padStart(2, '0')}`),
      );

      // Before the fed history: no figures, said plainly; after today: the API's refusal.
      await page.click('[data-test=report-kind-monthly]');
      await page.waitForSelector('[data-test=report][data-kind=monthly][data-loading=false]');
      await page.fill('[data-test=report-period]', '2020-01');
      await page.click('[data-test=report-apply]');
      await page.waitForSelector('[data-test=report][data-from="2020-01-01"][data-loading=false]');
      assert.equal(await page.textContent('[data-test=report-empty]'), '本期没有统计数据：所选区域在这段时间内没有点位（原因见下方说明）。');
      await page.click('[data-test=report-kind-daily]');
      await page.waitForSelector('[data-test=report][data-kind=daily][data-loading=false]');
      await page.fill('[data-test=report-period]', '2099-01-01');
      await page.click('[data-test=report-apply]');
      await page.waitForSelector('[data-test=report-error]');
      const refused = await central.get<any>(`/api/reports/daily?day=2099-01-01&region=${encodeURIComponent(YUHANG)}`);
      assert.equal(refused.status, 400);
      assert.equal(await page.textContent('[data-test=report-error]'), refused.body.message, "the API's own refusal");

      await page.click('[data-test=language]');
      await page.selectOption('[data-test=report-region]', '');
      await page.fill('[data-test=report-period]', day);
      await page.click('[data-test=report-apply]');
      await page.waitForSelector(`[data-test=report][data-from="${day}"][data-loading=false]`);
      assert.equal(await page.textContent('[data-test=report-title]'), api.title.en);
      await shot(page, 'reports-en');
      await page.click('[data-test=language]');
    });

    await t.test(
      'users: the admin makes a county user, who sees only its county; its wrong password is listed; a reset password; a viewer has no Users page',
      async () => {
        await page.goto(`${central.url}/#/overview`);
        await page.click('[data-test=nav-users]');
        await page.waitForSelector('[data-test=users-table][data-loading=false] tbody tr');
        const listed = await central.get<any>('/api/users');
        const names = () => page.$$eval('[data-test=users-table] tbody tr[data-user]', (trs: any[]) => trs.map((tr) => tr.dataset.user));
        assert.deepEqual(
          await names(),
          listed.body.map((u: any) => u.username),
        );

        // The API's password rule, as it words it.
        const XIHU = `${CITY}/西湖区`;
        await page.fill('[data-test=new-username]', 'xihu-duty');
        await page.selectOption('[data-test=new-role]', 'viewer');
        await page.fill('[data-test=new-scope]', XIHU);
        await page.fill('[data-test=new-password]', 'short');
        await page.click('[data-test=new-submit]');
        await page.waitForSelector('[data-test=create-error]');
        const short = await central.request<any>('POST', '/api/users', { username: 'xihu-duty', role: 'viewer', scope: XIHU, password: 'short' });
        assert.equal(short.status, 400);
        assert.equal(await page.textContent('[data-test=create-error]'), short.body.message);
        await page.fill('[data-test=new-password]', 'xihu-duty-pass-1');
        await page.click('[data-test=new-submit]');
        await page.waitForSelector('[data-test=users-table] tr[data-user=xihu-duty]');
        assert.equal(await page.getAttribute('tr[data-user=xihu-duty] [data-test=user-scope]', 'data-scope'), XIHU);
        assert.equal(await page.textContent('tr[data-user=xihu-duty] [data-test=user-role]'), '查看员');
        const made = (await central.get<any>('/api/users')).body.find((u: any) => u.username === 'xihu-duty');
        assert.deepEqual([made.role, made.scope, made.disabled, made.lastLoginAt], ['viewer', XIHU, false, null]);
        assert.equal(await page.textContent('tr[data-user=xihu-duty] [data-test=user-last-login]'), '从未登录');

        // The new user: its county only, no Users link, and the route sends it away.
        const { page: xihu, complaints: xihuComplaints } = await newPage(browser);
        await logIn(xihu, central.url, 'xihu-duty', 'xihu-duty-pass-1');
        assert.match(String(await xihu.textContent('[data-test=scope]')), /西湖区/);
        assert.equal(await xihu.$('[data-test=nav-users]'), null);
        await xihu.goto(`${central.url}/#/users`);
        await xihu.waitForURL(/#\/overview$/);
        assert.equal(await xihu.$('[data-test=users-page]'), null);
        const asXihu = await central.login('xihu-duty', 'xihu-duty-pass-1');
        assert.equal((await asXihu.get('/api/users')).status, 403);
        await xihu.click('[data-test=nav-reports]');
        await xihu.waitForSelector('[data-test=report][data-loading=false]');
        const own = (await asXihu.get<any>('/api/reports/daily')).body;
        assert.equal(own.region.path, XIHU);
        assert.equal(own.summary.figure.cameras, 18, 'the two Xihu sites');
        assert.equal(await xihu.textContent('[data-test=report-region-name]'), XIHU);
        assert.deepEqual(
          await xihu.$$eval('[data-test=report-ranking] tbody tr', (trs: any[]) => trs.map((tr) => tr.dataset.key)),
          own.ranking.rows.map((r: any) => r.key),
        );
        assert.ok(own.ranking.rows.every((r: any) => r.key.startsWith(XIHU) || r.key.startsWith('xh-')));
        const regionChoices = await xihu.$$eval('[data-test=report-region] option', (os: any[]) => os.map((o) => o.value));
        assert.ok(
          regionChoices.every((v: string) => v === '' || v.startsWith(`${XIHU}/`)),
          `only its county's regions to pick: ${regionChoices}`,
        );

        // A wrong password for it shows in the admin's failed logins.
        await xihu.click('[data-test=logout]');
        await xihu.waitForSelector('[data-test=login-form]');
        await xihu.fill('[data-test=username]', 'xihu-duty');
        await xihu.fill('[data-test=password]', 'not-its-password');
        await xihu.click('[data-test=login-submit]');
        await xihu.waitForSelector('[data-test=login-error]');
        await page.click('[data-test=failures-refresh]');
        await page.reload();
        await page.waitForSelector('[data-test=users-table][data-loading=false] tr[data-user=xihu-duty]');
        const loggedIn = (await central.get<any>('/api/users')).body.find((u: any) => u.username === 'xihu-duty').lastLoginAt;
        assert.ok(loggedIn, 'its login is noted');
        assert.equal(await page.getAttribute('tr[data-user=xihu-duty] [data-test=user-last-login]', 'data-value'), loggedIn);
        const failed = await central.get<any>('/api/audit?action=login&outcome=failed&limit=50');
        const latest = failed.body.items[0];
        assert.deepEqual([latest.actor, latest.detail.reason], ['xihu-duty', 'wrong-password']);
        await page.waitForSelector(`[data-test=failures] tr[data-record="${latest.id}"]`);
        assert.deepEqual(
          await page.$$eval('[data-test=failures] tbody tr', (trs: any[]) => trs.map((tr) => tr.dataset.record)),
          failed.body.items.map((r: any) => r.id),
          'the failures the API lists, newest first',
        );
        assert.equal(await page.textContent(`tr[data-record="${latest.id}"] [data-test=failure-reason]`), '密码错误');
        assert.equal(await page.textContent(`tr[data-record="${latest.id}"] [data-test=failure-address]`), latest.address);

        // The admin resets its password: the old one is refused, the new one taken.
        await page.click('tr[data-user=xihu-duty] [data-test=user-password]');
        await page.fill('[data-test=edit-password]', 'xihu-duty-pass-2');
        await page.click('[data-test=edit-submit]');
        await page.waitForSelector('[data-test=users-done]');
        assert.equal((await central.client().request('POST', '/api/login', { username: 'xihu-duty', password: 'xihu-duty-pass-1' })).status, 401);
        assert.equal((await asXihu.get('/api/me')).status, 401, 'its sessions ended');
        await logIn(xihu, central.url, 'xihu-duty', 'xihu-duty-pass-2');
        assert.match(String(await xihu.textContent('[data-test=scope]')), /西湖区/);

        // Role and scope changed on the page; the last admin of everything stays one, as the API says.
        await page.click('tr[data-user=xihu-duty] [data-test=user-edit]');
        await page.selectOption('[data-test=edit-role]', 'operator');
        await page.fill('[data-test=edit-scope]', `${XIHU}/留下街道`);
        await page.click('[data-test=edit-submit]');
        await page.waitForSelector(`tr[data-user=xihu-duty] [data-test=user-scope][data-scope="${XIHU}/留下街道"]`);
        assert.equal(await page.getAttribute('tr[data-user=xihu-duty] [data-test=user-role]', 'data-role'), 'operator');
        await page.click(`tr[data-user="${admin.username}"] [data-test=user-edit]`);
        await page.selectOption('[data-test=edit-role]', 'viewer');
        await page.click('[data-test=edit-submit]');
        await page.waitForSelector('[data-test=edit-error]');
        const demote = await central.request<any>('PATCH', `/api/users/${admin.username}`, { role: 'viewer' });
        assert.equal(demote.status, 409);
        assert.equal(await page.textContent('[data-test=edit-error]'), demote.body.message);
        await page.click('[data-test=edit-cancel]');
        await shot(page, 'users');
        await page.click('[data-test=language]');
        await shot(page, 'users-en');
        await page.click('[data-test=language]');

        // Deleted after a confirmation.
        await page.click('tr[data-user=xihu-duty] [data-test=user-remove]');
        assert.match(String(await page.textContent('[data-test=edit-confirm]')), /xihu-duty/);
        await page.click('[data-test=edit-submit]');
        await page.waitForSelector('[data-test=users-table] tr[data-user=xihu-duty]', { state: 'detached' });
        assert.equal(
          (await central.get<any>('/api/users')).body.some((u: any) => u.username === 'xihu-duty'),
          false,
        );
        assert.deepEqual(xihuComplaints, []);
      },
    );

    await t.test("a county admin's Users page: its county's users and regions only; a wider scope is refused as the API words it", async () => {
      await createUser(central.db.db, systemClock, { username: 'yuhang-admin', role: 'admin', scope: YUHANG, password: 'yuhang-admin-pass-1' });
      const asCounty = await central.login('yuhang-admin', 'yuhang-admin-pass-1');
      const { page: county, complaints: countyComplaints } = await newPage(browser);
      await logIn(county, central.url, 'yuhang-admin', 'yuhang-admin-pass-1');
      await county.click('[data-test=nav-users]');
      await county.waitForSelector('[data-test=users-table][data-loading=false] tbody tr');
      const theirs = (await asCounty.get<any>('/api/users')).body.map((u: any) => u.username);
      assert.deepEqual(theirs, ['yuhang-admin', 'yuhang-duty'], 'the users within 余杭区');
      assert.deepEqual(await county.$$eval('[data-test=users-table] tbody tr[data-user]', (trs: any[]) => trs.map((tr) => tr.dataset.user)), theirs);
      await county.waitForFunction(() => document.querySelectorAll('#user-scopes option').length > 0);
      const offered = await county.$$eval('#user-scopes option', (os: any[]) => os.map((o) => o.value));
      // In the page's (Chinese) collation; compared as a set here.
      assert.deepEqual([...offered].sort(), [YUHANG, `${YUHANG}/五常街道`, `${YUHANG}/仓前街道`].sort(), 'its county and its townships to choose from');
      await county.fill('[data-test=new-username]', 'xihu-spy');
      await county.fill('[data-test=new-scope]', `${CITY}/西湖区`);
      await county.fill('[data-test=new-password]', 'xihu-spy-pass-1');
      await county.click('[data-test=new-submit]');
      await county.waitForSelector('[data-test=create-error]');
      const refused = await asCounty.request<any>('POST', '/api/users', {
        username: 'xihu-spy',
        role: 'viewer',
        scope: `${CITY}/西湖区`,
        password: 'xihu-spy-pass-1',
      });
      assert.equal(refused.status, 403);
      assert.equal(await county.textContent('[data-test=create-error]'), refused.body.message);
      // Empty: the API gives the new user the admin's own scope.
      await county.fill('[data-test=new-username]', 'yuhang-night');
      await county.fill('[data-test=new-scope]', '');
      await county.fill('[data-test=new-password]', 'yuhang-night-pass-1');
      await county.click('[data-test=new-submit]');
      await county.waitForSelector('[data-test=users-table] tr[data-user=yuhang-night]');
      assert.equal(await county.getAttribute('tr[data-user=yuhang-night] [data-test=user-scope]', 'data-scope'), YUHANG);
      assert.deepEqual(countyComplaints, []);
    });

    assert.deepEqual(complaints, [], 'no script error and no CSP refusal on any page');
  },
);
