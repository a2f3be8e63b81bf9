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
//
//   npm run bench:dashboard   [--cameras 20000] [--sites 1000] [--runs 5] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { centralConfig } from '../../central/config/spec';
import { startCentral } from '../../central/central';
import { ensureFirstAdmin } from '../../central/auth/users';
import { dayOf } from '../../central/figures/days';
import { openCentralDb } from '../../central/store/open';
import { systemClock } from '../../lib/clock';
import { createLogger } from '../../lib/log';
import { writeCity, ZONE } from './city';

// Browser-side code below runs in the page; this project compiles without the DOM lib.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const PerformanceObserver: any;
declare function requestAnimationFrame(cb: (t: number) => void): number;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function readArgs() {
  const { values } = parseArgs({
    options: {
      cameras: { type: 'string', default: '20000' },
      sites: { type: 'string', default: '1000' },
      runs: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
    },
  });
  return { cameras: Number(values.cameras), sites: Number(values.sites), runs: Number(values.runs), json: values.json === true };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const max = (xs: number[]) => Math.max(...xs);

async function timed(page: Page, url: string, ready: string): Promise<number> {
  await page.goto('about:blank');
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForSelector(ready, { timeout: 60_000 });
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

async function main(): Promise<void> {
  const args = readArgs();
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'camgate-bench-dashboard-'));
  const file = join(dir, 'central.db');
  try {
    const now = Date.now();
    const today = dayOf(now, ZONE);
    const db = await openCentralDb(file);
    const written = await writeCity(db, { cameras: args.cameras, sites: args.sites, days: 30, seed: 7 }, today, now);
    const admin = (await ensureFirstAdmin(db.db, systemClock))!;
    await db.close();
    console.log(`city written: ${written.cameras} cameras, ${written.statusPoints} status points in ${(written.ms / 1000).toFixed(1)} s`);

    const config = centralConfig.load({ env: { CAMGATE_CENTRAL_DB: file, CAMGATE_CENTRAL_HTTP_PORT: '0', CAMGATE_CENTRAL_TIMEZONE: ZONE } }).config;
    const central = await startCentral({ config, logger: createLogger({ level: 'warn', format: 'json' }), ingest: false });
    try {
      const t0 = Date.now();
      await central.figures.refresh();
      console.log(`figures of the month measured in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 60_000 });
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
          map.push(await timed(page, `${central.url}/#/map`, '[data-test=cluster]'));
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
