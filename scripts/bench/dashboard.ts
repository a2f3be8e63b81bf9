// Benchmark: the dashboard with a city behind it. A month of a city's history (scripts/bench/city.ts:
// 20,000 cameras at 1,000 sites by default) is written into a fresh SQLite database, a central is
// started on it (no broker: the ledger and figures are all the pages need) and measures the month,
// then headless Chromium (Debian's, through playwright-core), logged in as the admin, measures:
//   - overview first render: from navigation until the rate cards, the ranking and the 30-day trend
//     are drawn (the trend is one /api/figures?groupBy=day request), and until the rate cards alone;
//   - map first paint: from navigation until the first clusters are drawn (all cameras fetched in
//     pages of 5,000, converted, clustered);
//   - pan and zoom: the mouse drags the map and turns the wheel for a while, and every animation
//     frame's interval is recorded in the page: the frames over 100 ms, the longest, and the long
//     tasks (PerformanceObserver) are reported.
// Each page load is repeated (--runs, fresh navigation each time); median and worst are printed.
// --profile records the pan and zoom and a map load a second time with Chromium's trace and a JS
// CPU profile and prints where the long tasks went (trace-summary.ts); the first, unprofiled
// figures stay the ones to compare, as tracing slows the page down.
//
// --db keeps the city's database in that file, and a later run with the same file starts from it
// (the set-up takes minutes; --cameras and --sites are then the file's).
//
//   npm run bench:dashboard   [--cameras 20000] [--sites 1000] [--runs 5] [--json] [--profile] [--trace file.json] [--db city.db]
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { startChromium } from '../peers/chromium';
import { centralConfig } from '../../central/config/spec';
import { startCentral } from '../../central/central';
import { createUser, ensureFirstAdmin } from '../../central/auth/users';
import { dayOf } from '../../central/figures/days';
import { openCentralDb } from '../../central/store/open';
import { EVERYWHERE } from '../../central/ledger/scope';
import { systemClock } from '../../lib/clock';
import { createLogger } from '../../lib/log';
import { writeCity, ZONE } from './city';
import { hotFunctions, longTaskBreakdown, type CpuProfileNode, type TraceEvent } from './trace-summary';

// Browser-side code below runs in the page; this project compiles without the DOM lib.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const PerformanceObserver: any;
declare function requestAnimationFrame(cb: (t: number) => void): number;

function readArgs() {
  const { values } = parseArgs({
    options: {
      cameras: { type: 'string', default: '20000' },
      sites: { type: 'string', default: '1000' },
      runs: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      trace: { type: 'string' },
      db: { type: 'string' },
    },
  });
  return {
    cameras: Number(values.cameras),
    sites: Number(values.sites),
    runs: Number(values.runs),
    json: values.json === true,
    profile: values.profile === true || values.trace !== undefined,
    trace: values.trace,
    db: values.db,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const max = (xs: number[]) => Math.max(...xs);

async function timed(page: Page, url: string, ready: string, drawnAfter: 'visible' | 'canvas' = 'visible'): Promise<number> {
  await page.goto('about:blank');
  const t0 = Date.now();
  await page.goto(url);
  if (drawnAfter === 'visible') await page.waitForSelector(ready, { timeout: 60_000 });
  else {
    // The map's markers are on a canvas, listed in a hidden record ([data-test=cluster] is then
    // never visible); the canvas is painted on the animation frame after the record is written.
    // (The DOM markers before the canvas matched 'attached' as soon as they were visible.)
    await page.waitForSelector(ready, { timeout: 60_000, state: 'attached' });
    await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => resolve())));
  }
  return Date.now() - t0;
}

/** Drags and zooms the map for a while, recording every frame interval in the page. */
async function panAndZoom(page: Page): Promise<{ frames: number; over100: number; longestMs: number; longTasks: number; longestTaskMs: number }> {
  await page.evaluate(() => {
    const w = window;
    w.__frames = [] as number[];
    w.__tasks = [] as number[];
    w.__recording = true;
    let last = 0;
    const tick = (t: number) => {
      if (last) w.__frames.push(t - last);
      last = t;
      if (w.__recording) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    new PerformanceObserver((list: any) => {
      for (const e of list.getEntries()) w.__tasks.push(e.duration);
    }).observe({ type: 'longtask' });
  });
  const box = (await page.locator('[data-test=map]').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  for (let round = 0; round < 6; round++) {
    // Drag: 20 mouse steps across a third of the map, there and back.
    for (const dir of [1, -1]) {
      await page.mouse.move(cx, cy);
      await page.mouse.down();
      await page.mouse.move(cx + (dir * box.width) / 3, cy + (dir * box.height) / 6, { steps: 20 });
      await page.mouse.up();
      await page.waitForTimeout(300);
    }
    // Zoom in twice and out twice with the wheel.
    for (const dy of [-120, -120, 120, 120]) {
      await page.mouse.move(cx, cy);
      await page.mouse.wheel(0, dy);
      await page.waitForTimeout(450);
    }
  }
  return page.evaluate(() => {
    const w = window;
    w.__recording = false;
    const frames: number[] = w.__frames;
    const tasks: number[] = w.__tasks;
    return {
      frames: frames.length,
      over100: frames.filter((f) => f > 100).length,
      longestMs: Math.round(Math.max(...frames)),
      longTasks: tasks.length,
      longestTaskMs: Math.round(tasks.length ? Math.max(...tasks) : 0),
    };
  });
}

const TRACE_CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'disabled-by-default-devtools.timeline.frame',
  'v8',
  'v8.execute',
  'blink.user_timing',
];

/** Runs `what` under Chromium's trace and a JS CPU profile and prints where its long tasks went. */
async function profiled(browser: Browser, page: Page, traceFile: string, label: string, what: () => Promise<string>): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await browser.startTracing(page, { path: traceFile, categories: TRACE_CATEGORIES });
  await cdp.send('Profiler.start');
  const outcome = await what();
  const { profile } = (await cdp.send('Profiler.stop')) as { profile: { nodes: CpuProfileNode[]; samples?: number[] } };
  await browser.stopTracing();
  await cdp.detach();
  const trace = JSON.parse(readFileSync(traceFile, 'utf8')) as { traceEvents: TraceEvent[] };
  const breakdown = longTaskBreakdown(trace.traceEvents, 50);
  console.log(
    `profiled ${label}: ${outcome}; main-thread tasks over 50 ms: ${breakdown.tasks}, ${breakdown.totalMs} ms in all, longest ${breakdown.longestMs} ms`,
  );
  console.log('  their self time by kind:');
  for (const k of breakdown.byKind.slice(0, 15)) console.log(`    ${k.ms.toFixed(1).padStart(8)} ms  ${k.name}`);
  console.log(`  JS self time, hottest functions (share of all samples during ${label}):`);
  for (const f of hotFunctions(profile, 20)) console.log(`    ${f.share.toFixed(1).padStart(5)} %  ${f.fn}`);
}

async function main(): Promise<void> {
  const args = readArgs();
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'camgate-bench-dashboard-'));
  const file = args.db ?? join(dir, 'central.db');
  try {
    const now = Date.now();
    const today = dayOf(now, ZONE);
    const reused = args.db !== undefined && existsSync(args.db);
    const db = await openCentralDb(file);
    let admin: { username: string; password: string };
    if (reused) {
      admin = { username: `bench-${now}`, password: randomBytes(12).toString('base64url') };
      await createUser(db.db, systemClock, { ...admin, role: 'admin', scope: EVERYWHERE });
      console.log(`city reused from ${file}`);
    } else {
      const written = await writeCity(db, { cameras: args.cameras, sites: args.sites, days: 30, seed: 7 }, today, now);
      admin = (await ensureFirstAdmin(db.db, systemClock))!;
      console.log(`city written: ${written.cameras} cameras, ${written.statusPoints} status points in ${(written.ms / 1000).toFixed(1)} s`);
    }
    await db.close();

    const config = centralConfig.load({ env: { CAMGATE_CENTRAL_DB: file, CAMGATE_CENTRAL_HTTP_PORT: '0', CAMGATE_CENTRAL_TIMEZONE: ZONE } }).config;
    const central = await startCentral({ config, logger: createLogger({ level: 'warn', format: 'json' }), ingest: false });
    try {
      const t0 = Date.now();
      await central.figures.refresh();
      console.log(`figures of the month measured in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      const browser = await startChromium();
      try {
        const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
        const page = await context.newPage();
        await page.goto(`${central.url}/#/login`);
        await page.fill('[data-test=username]', admin.username);
        await page.fill('[data-test=password]', admin.password);
        await page.click('[data-test=login-submit]');
        await page.waitForSelector('[data-test=whoami]');

        const cards: number[] = [];
        const overview: number[] = [];
        const map: number[] = [];
        for (let i = 0; i < args.runs; i++) {
          cards.push(await timed(page, `${central.url}/#/overview`, '[data-test=rate-online] [data-test=rate-total]'));
          overview.push(await timed(page, `${central.url}/#/overview`, '[data-test=trend-chart] canvas'));
          await page.waitForSelector('[data-test=ranking] tbody tr');
          map.push(await timed(page, `${central.url}/#/map`, '[data-test=cluster]', 'canvas'));
        }
        const points = await page.getAttribute('[data-test=map-summary]', 'data-points');
        const motion = await panAndZoom(page);
        const results = {
          cameras: args.cameras,
          sites: args.sites,
          points: Number(points),
          overviewCardsMs: { median: median(cards), worst: max(cards) },
          overviewFullMs: { median: median(overview), worst: max(overview) },
          mapFirstPaintMs: { median: median(map), worst: max(map) },
          panZoom: motion,
        };
        console.log(
          `overview, rate cards drawn:      median ${results.overviewCardsMs.median} ms, worst ${results.overviewCardsMs.worst} ms (${args.runs} loads)`,
        );
        console.log(`overview, with 30-day trend:     median ${results.overviewFullMs.median} ms, worst ${results.overviewFullMs.worst} ms`);
        console.log(`map, first clusters (${points} points): median ${results.mapFirstPaintMs.median} ms, worst ${results.mapFirstPaintMs.worst} ms`);
        console.log(
          `pan and zoom: ${motion.frames} frames, ${motion.over100} over 100 ms, longest ${motion.longestMs} ms; ${motion.longTasks} long tasks, longest ${motion.longestTaskMs} ms`,
        );
        if (args.json) console.log(JSON.stringify(results));
        if (args.profile) {
          const traceFile = args.trace ?? join(dir, 'trace.json');
          await profiled(browser, page, traceFile, 'pan and zoom', async () => {
            const m = await panAndZoom(page);
            return `${m.frames} frames, ${m.over100} over 100 ms, longest ${m.longestMs} ms`;
          });
          await profiled(browser, page, traceFile.replace(/(\.json)?$/, '-map-load.json'), 'map load', async () => {
            return `first clusters in ${await timed(page, `${central.url}/#/map`, '[data-test=cluster]', 'canvas')} ms`;
          });
        }
      } finally {
        await browser.close();
      }
    } finally {
      await central.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
