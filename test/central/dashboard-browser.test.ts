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
import { createUser } from '../../central/auth/users';
import { systemClock } from '../../lib/clock';
import { replyPayload } from '../../contract/payloads/reply';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { SimulatedSite, type SimCameraLabel, type TelemetryMessage } from '../../scripts/sim/telemetry';
import { publisher, startTestCentral, type TestCentral } from '../kit/central';
import type { ApiClient } from '../kit/api';
import { launchChromium, logIn, newPage, shot } from '../kit/browser';
import { tempDir } from '../kit/temp';
import { waitFor } from '../kit/wait';

// Browser-side code below runs in the page (page.evaluate); this project compiles without the DOM lib.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare function getComputedStyle(el: any): any;

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

/** Thirty days of one site: connected at the start, metrics twice a day (staleAfterSec is a day),
 * some cameras down or faulty for hours on some days, then connected again now. */
function history(sim: SimulatedSite, s: number, now: number): TelemetryMessage[] {
  const start = now - 29 * DAY - 6 * HOUR;
  const reporting = sim.cameras.filter((_, i) => current(s, i, sim.cameras.length) !== undefined);
  const out = [...sim.connect(start, Object.fromEntries(reporting.map((c) => [c.camera, { state: 'online' as const, picture: { ok: true } }])))];
  for (let at = start; at < now; at += 12 * HOUR) out.push(sim.metrics(at));
  for (let d = 0; d < 29; d++) {
    const morning = start + d * DAY + 2 * HOUR;
    sim.cameras.forEach((c, i) => {
      if (current(s, i, sim.cameras.length) === undefined) return;
      const r = noise(s, i, d);
      // Bad days for everyone now and then, so the trend has a shape.
      const badDay = d % 9 === 4 ? 0.25 : 0;
      if (r < 0.06 + badDay) {
        out.push(sim.status(c.camera, 'offline', morning));
        out.push(sim.status(c.camera, 'online', morning + 5 * HOUR, { ok: true }));
      } else if (r < 0.12 + badDay) {
        out.push(sim.status(c.camera, 'online', morning, { ok: false, faults: ['frozen'] }));
        out.push(sim.status(c.camera, 'online', morning + 7 * HOUR, { ok: true }));
      }
    });
  }
  return out;
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

/** What the map draws now: clusters with their counts, single points with their states, and the colour of each. */
function drawn(page: Page) {
  return page.evaluate(() => {
    const colour = (el: any) => getComputedStyle(el).backgroundColor as string;
    return {
      clusters: [...document.querySelectorAll('[data-test=cluster]')].map((el: any) => ({
        count: Number(el.dataset.count),
        worst: el.dataset.worst as string,
        counts: Object.fromEntries(
          String(el.dataset.counts)
            .split(',')
            .map((kv: string) => [kv.split(':')[0], Number(kv.split(':')[1])]),
        ),
        colour: colour(el),
      })),
      points: [...document.querySelectorAll('[data-test=point]')].map((el: any) => ({ state: el.dataset.state as string, colour: colour(el) })),
    };
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
      await page.waitForSelector('[data-test=cluster], [data-test=point]');

      const colours = new Map<string, string>();
      const sameColour = (state: string, colour: string) => {
        const known = colours.get(state);
        if (known) assert.equal(colour, known, `every ${state} marker has one colour`);
        else colours.set(state, colour);
      };
      const seen = await drawn(page);
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
      // Into the clusters holding a state until a camera of it stands alone, for each state: every
      // single point has its state's colour, the same as the clusters whose worst it is.
      // Fault last: the view it leaves is where a faulty camera is clicked.
      for (const state of ['offline', 'unknown', 'online', 'fault']) {
        await page.goto(`${central.url}/#/overview`);
        await page.goto(`${central.url}/#/map`);
        await page.waitForSelector('[data-test=cluster], [data-test=point]');
        for (let i = 0; ; i++) {
          const now = await drawn(page);
          for (const p of now.points) sameColour(p.state, p.colour);
          for (const c of now.clusters) sameColour(c.worst, c.colour);
          if (now.points.some((p) => p.state === state)) break;
          const into = now.clusters.findIndex((c) => c.counts[state] > 0);
          assert.ok(into >= 0 && i < 20, `a ${state} camera comes out of its cluster when zoomed in`);
          await page.click(`[data-test=cluster] >> nth=${into}`);
          await page.waitForFunction(() => !document.querySelector('.leaflet-zoom-anim'));
          await page.waitForTimeout(500);
        }
      }
      assert.equal(new Set(colours.values()).size, colours.size, `each state its own colour: ${JSON.stringify([...colours])}`);
      assert.equal(colours.get('offline'), 'rgb(217, 54, 62)');
      assert.equal(colours.get('online'), 'rgb(46, 157, 91)');

      // A camera of a connected site (the gone site's cameras answer 409: it cannot be asked).
      const point = await page.$(`[data-test=point][data-state=fault]:not([title^="${SITES.find((x) => x.site === GONE)!.name}"])`);
      assert.ok(point, 'a faulty camera is drawn on its own once zoomed in');
      const title = await point.getAttribute('title');
      await point.click();
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
      const { page: duty, complaints: dutyComplaints } = await newPage(browser);
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

    assert.deepEqual(complaints, [], 'no script error and no CSP refusal on any page');
  },
);
