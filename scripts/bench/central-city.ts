// Benchmark: a city's figures. A month of a city's history is written into a fresh database, then a
// central (its own process, startCentral without a broker) measures the days and serves the API.
//
//   npm run bench:city        (= npx tsc -p tsconfig.json && node dist/scripts/bench/central-city.js)
//     --cameras 20000        cameras in the city
//     --sites 1000           sites (boxes) they hang on
//     --days 30              whole days of history before today (today so far comes on top)
//     --requests 50          API requests per figure timed (median, p95)
//     --db sqlite            sqlite, postgres, or both (one after the other)
//     --pg-server URL        PostgreSQL server to create the benchmark's database on
//                            (default postgres://postgres@127.0.0.1:5432/postgres)
//     --seed 7               the city's PRNG seed
//     --json                 also print the results as one JSON line
//
// The history. Every camera is announced through the central's own writer (IngestWriter: state,
// birth and meta of every site, as ingest writes them) a little before the month starts, so the
// ledger, lifetimes and meta history are the ones ingest makes. The month itself — status changes
// and the sites' evidence of life — is written straight into the same tables (status_points,
// site_evidence, cameras' current state), batched: sending a month over MQTT would be ~45 million
// metrics messages (1,000 sites x one a minute) and take hours through the writer. What the
// tables then hold is what ingest would have made of it: status points at the changes, the
// evidence as merged intervals.
//   Regions in 2–3 levels (浙江省/<city>/<district>, some sites directly under a city), classes
//   1–3, 8% of the cameras without coordinates, 10% 720-line. Most cameras stay online with a
//   picture check a day; 8% have outages (some across midnight), 4% picture faults (black, frozen,
//   blurred) that come and go, 1% go offline for good on some day; one site lost power for two
//   days (no evidence, no statuses: its cameras are unknown then), 2% of the sites had uplink
//   outages of a few hours.
//
// Measured, with the central's memory (RSS, heap; sampled every 20 ms in its process):
//   - the whole month: the refresher's first round at start (every day has no figures yet);
//   - one day of all cameras: a round after that day's figures were forgotten (three days);
//   - through the real HTTP API, logged in as an admin (session cookie): one region's figures for
//     a day and for the month, the region tree for a day and for the month; median and p95;
//   - baselines in the same run: GET /api/health (the HTTP path alone) and a bare
//     `select count(*) from camera_days` through Kysely on the same database (the driver alone).
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { createScratchDatabase, type ScratchDatabase } from '../peers/postgres';
import { addDays, dayOf } from '../../central/figures/days';
import { openCentralDb } from '../../central/store/open';
import { REGION, writeCity, ZONE, type Written } from './city';
import { centralProcess, type Memory } from './central-process';

interface Args {
  cameras: number;
  sites: number;
  days: number;
  requests: number;
  dbs: Array<'sqlite' | 'postgres'>;
  pgServer: string;
  seed: number;
  json: boolean;
}

function readArgs(): Args {
  const { values } = parseArgs({
    options: {
      cameras: { type: 'string', default: '20000' },
      sites: { type: 'string', default: '1000' },
      days: { type: 'string', default: '30' },
      requests: { type: 'string', default: '50' },
      db: { type: 'string', default: 'sqlite' },
      'pg-server': { type: 'string', default: process.env.CAMGATE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      seed: { type: 'string', default: '7' },
      json: { type: 'boolean', default: false },
    },
  });
  const db = String(values.db);
  if (!['sqlite', 'postgres', 'both'].includes(db)) throw new Error(`--db: "${db}" is not sqlite, postgres or both`);
  return {
    cameras: Number(values.cameras),
    sites: Number(values.sites),
    days: Number(values.days),
    requests: Number(values.requests),
    dbs: db === 'both' ? ['sqlite', 'postgres'] : [db as 'sqlite' | 'postgres'],
    pgServer: String(values['pg-server']),
    seed: Number(values.seed),
    json: values.json === true,
  };
}

// ---------------------------------------------------------------------------------------------
// Timing

const percentile = (xs: number[], p: number) => {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)];
};
const round1 = (x: number) => Math.round(x * 10) / 10;

interface Timing {
  what: string;
  median: number;
  p95: number;
  min: number;
  max: number;
  bytes: number;
}

async function timeRequests(what: string, n: number, once: () => Promise<number>): Promise<Timing> {
  await once(); // the first one warms the route up (schema compilation, caches)
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    bytes = await once();
    ms.push(performance.now() - t);
  }
  return { what, median: round1(percentile(ms, 50)), p95: round1(percentile(ms, 95)), min: round1(Math.min(...ms)), max: round1(Math.max(...ms)), bytes };
}

async function login(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('camgate_session='));
  if (res.status !== 200 || !cookie) throw new Error(`login as ${username} failed: ${res.status} ${await res.text()}`);
  return cookie;
}

async function getJson(url: string, cookie: string | undefined): Promise<number> {
  const res = await fetch(url, { headers: cookie ? { cookie } : {} });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
  return text.length;
}

interface DbResult {
  db: 'sqlite' | 'postgres';
  written: Written & { dbMb?: number };
  month: { ms: number; days: number; peak: Memory };
  day: Array<{ day: string; ms: number; peak: Memory }>;
  api: Timing[];
  apiPeak: Memory;
  idle: Memory;
  baseline: Timing[];
  check: { cameraDaysOfOneDay: number; regionCameras: number; onlineRate: number | null };
}

async function runCity(kind: 'sqlite' | 'postgres', args: Args, dir: string): Promise<DbResult> {
  let pg: ScratchDatabase | undefined;
  const target = kind === 'sqlite' ? join(dir, 'city.db') : (pg = await createScratchDatabase(args.pgServer, 'camgate_bench')).url;
  try {
    const now = Date.now();
    const today = dayOf(now, ZONE);
    const db = await openCentralDb(target);
    let written: DbResult['written'];
    try {
      written = await writeCity(db, args, today, now);
    } finally {
      await db.close();
    }
    if (kind === 'sqlite')
      written.dbMb = round1(['', '-wal'].map((s) => (existsSync(target + s) ? statSync(target + s).size : 0)).reduce((a, b) => a + b, 0) / 1048576);
    console.log(
      `${kind}: wrote ${written.cameras} cameras (announced through the writer in ${written.announceMs} ms), ${written.statusPoints} status points, ${written.evidence} evidence intervals in ${written.ms} ms` +
        (written.dbMb !== undefined ? `; file ${written.dbMb} MB` : ''),
    );

    const central = await centralProcess(
      {
        CAMGATE_CENTRAL_DB: target,
        CAMGATE_CENTRAL_HTTP_PORT: '0',
        CAMGATE_CENTRAL_TIMEZONE: ZONE,
        // Rounds only when the bench asks (the first one starts with the central); today is not measured again meanwhile.
        CAMGATE_CENTRAL_FIGURES_REFRESH_SEC: '3600',
        CAMGATE_CENTRAL_FIGURES_TODAY_REFRESH_SEC: '86400',
      },
      { ingest: false },
    );
    try {
      // The first round started with the central: every day of the month has no figures yet.
      const first = await central.call<{ round: { days: string[]; ms: number }; peak: Memory }>({ type: 'refresh' });
      const month = { ms: first.round.ms, days: first.round.days.length, peak: first.peak };
      console.log(
        `  whole month: ${month.days} days measured in ${month.ms} ms (${Math.round(month.ms / month.days)} ms a day); peak RSS ${month.peak.rssMb} MB, heap ${month.peak.heapUsedMb} MB`,
      );
      const day: DbResult['day'] = [];
      for (const d of [addDays(today, -1), addDays(today, -10), addDays(today, -args.days)]) {
        const r = await central.call<{ round: { days: string[]; ms: number }; peak: Memory }>({ type: 'refresh', forget: [d] });
        if (r.round.days.length !== 1 || r.round.days[0] !== d) throw new Error(`the round measured ${r.round.days.join(', ')} instead of ${d}`);
        day.push({ day: d, ms: r.round.ms, peak: r.peak });
        console.log(`  one day (${d}), all cameras: ${r.round.ms} ms; peak RSS ${r.peak.rssMb} MB, heap ${r.peak.heapUsedMb} MB`);
      }

      const { admin } = await central.call<{ admin: { username: string; password: string } }>({ type: 'admin' });
      const cookie = await login(central.url, admin.username, admin.password);
      await central.call({ type: 'memory-peak' });
      const yesterday = addDays(today, -1);
      const monthFrom = addDays(today, -args.days);
      const region = encodeURIComponent(REGION);
      const routes: Array<[string, string, boolean]> = [
        ['GET /api/health (no database, no login: the HTTP path alone)', '/api/health', false],
        [`GET /api/figures region=${REGION}, one day`, `/api/figures?from=${yesterday}&to=${yesterday}&region=${region}`, true],
        [`GET /api/figures region=${REGION}, one day, groupBy=site`, `/api/figures?from=${yesterday}&to=${yesterday}&region=${region}&groupBy=site`, true],
        [`GET /api/figures region=${REGION}, ${args.days} days`, `/api/figures?from=${monthFrom}&to=${yesterday}&region=${region}`, true],
        ['GET /api/figures, the whole city, one day', `/api/figures?from=${yesterday}&to=${yesterday}`, true],
        [`GET /api/figures, the whole city, ${args.days} days`, `/api/figures?from=${monthFrom}&to=${yesterday}`, true],
        [
          `GET /api/figures, the whole city, ${args.days} days, groupBy=day (the overview's trend)`,
          `/api/figures?from=${monthFrom}&to=${yesterday}&groupBy=day`,
          true,
        ],
        ['GET /api/regions (the region tree), one day', `/api/regions?from=${yesterday}&to=${yesterday}`, true],
        [`GET /api/regions (the region tree), ${args.days} days`, `/api/regions?from=${monthFrom}&to=${yesterday}`, true],
      ];
      const api: Timing[] = [];
      for (const [what, path, withLogin] of routes) {
        const t = await timeRequests(what, args.requests, () => getJson(`${central.url}${path}`, withLogin ? cookie : undefined));
        api.push(t);
        console.log(`  ${what}: median ${t.median} ms, p95 ${t.p95} ms (min ${t.min}, max ${t.max}; ${t.bytes} B)`);
      }
      const apiPeak = (await central.call<{ peak: Memory }>({ type: 'memory-peak' })).peak;
      console.log(`  during the API requests: peak RSS ${apiPeak.rssMb} MB, heap ${apiPeak.heapUsedMb} MB`);
      const idle = (await central.call<{ memory: Memory }>({ type: 'stats' })).memory;

      // Baseline: the driver alone, on the same database, from this process.
      const open = await openCentralDb(target);
      let baseline: Timing[];
      let check: DbResult['check'];
      try {
        baseline = [
          await timeRequests('select count(*) from camera_days (Kysely, same database)', args.requests, async () => {
            const r = await sql<{ n: number }>`select count(*) as n from camera_days`.execute(open.db);
            return Number(r.rows[0].n);
          }),
          await timeRequests(`select count(*) from camera_days where day = ${yesterday}`, args.requests, async () => {
            const r = await sql<{ n: number }>`select count(*) as n from camera_days where day = ${yesterday}`.execute(open.db);
            return Number(r.rows[0].n);
          }),
        ];
        for (const b of baseline) console.log(`  baseline ${b.what}: median ${b.median} ms, p95 ${b.p95} ms (${b.bytes} rows)`);
        const oneDay = baseline[1].bytes;
        const res = await fetch(`${central.url}/api/figures?from=${yesterday}&to=${yesterday}&region=${region}`, { headers: { cookie } });
        const body = (await res.json()) as { total: { cameras: number; onlineRate: number | null } };
        check = { cameraDaysOfOneDay: oneDay, regionCameras: body.total.cameras, onlineRate: body.total.onlineRate };
        console.log(
          `  check: ${oneDay} camera days for ${yesterday} (of ${args.cameras} cameras); ${REGION}: ${body.total.cameras} cameras, online rate ${body.total.onlineRate}`,
        );
      } finally {
        await open.close();
      }
      return { db: kind, written, month, day, api, apiPeak, idle, baseline, check };
    } finally {
      await central.stop();
    }
  } finally {
    await pg?.drop().catch((err: unknown) => console.error(`could not drop the benchmark database: ${String(err)}`));
  }
}

async function main(): Promise<void> {
  const args = readArgs();
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`a city of ${args.cameras} cameras at ${args.sites} sites, ${args.days} days of history and today so far; ${args.requests} requests a figure`);
  const dir = mkdtempSync(join(tmpdir(), 'camgate-bench-city-'));
  const results: DbResult[] = [];
  try {
    for (const kind of args.dbs) results.push(await runCity(kind, args, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (args.json) console.log(JSON.stringify({ args, machine: { cpus: cpus().length, node: process.version, loadavg: loadavg() }, results }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
