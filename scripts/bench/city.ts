// A month of a city's camera history, written into a fresh central database for the benchmarks
// that need one (bench:city for the figures, bench:dashboard for the pages). What it holds and why
// it is written straight into the tables is told in central-city.ts.
import { seededRandom } from '../../lib/random';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Insertable, Transaction } from 'kysely';
import { classify } from '../../central/ingest/classify';
import { IngestWriter, type Received } from '../../central/ingest/writer';
import { addDays, dayBounds, dayFinder } from '../../central/figures/days';
import type { CentralDb } from '../../central/store/open';
import type { CentralTables } from '../../central/store/schema';
import { SimulatedSite, type SimCameraLabel } from '../sim/telemetry';

export const ZONE = 'Asia/Shanghai';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const STALE_MS = 180_000;

export interface CityArgs {
  cameras: number;
  sites: number;
  days: number;
  seed: number;
}

const CITIES: Record<string, string[]> = {
  杭州市: ['西湖区', '余杭区', '萧山区', '临平区', '拱墅区', '滨江区'],
  宁波市: ['鄞州区', '海曙区', '北仑区'],
  温州市: ['鹿城区', '瓯海区'],
};
/** The region asked for in the API timings: one district. */
export const REGION = '浙江省/杭州市/西湖区';

type Behaviour = 'steady' | 'outages' | 'picture' | 'dies';

interface CityCamera {
  label: SimCameraLabel;
  behaviour: Behaviour;
}

interface CitySite {
  sim: SimulatedSite;
  cameras: CityCamera[];
  /** Periods without evidence of life [start, end). */
  silent: Array<{ start: number; end: number }>;
}

function regionOf(rand: () => number): string {
  const cities = Object.keys(CITIES);
  const city = cities[Math.floor(rand() * cities.length)];
  // A few sites hang directly under the city: regions of 2 levels beside those of 3.
  if (rand() < 0.05) return `浙江省/${city}`;
  const districts = CITIES[city];
  return `浙江省/${city}/${districts[Math.floor(rand() * districts.length)]}`;
}

function makeCity(args: CityArgs, monthStart: number, now: number): CitySite[] {
  const rand = seededRandom(args.seed);
  const sites: CitySite[] = [];
  const perSite = Math.floor(args.cameras / args.sites);
  let extra = args.cameras - perSite * args.sites;
  for (let s = 0; s < args.sites; s++) {
    const region = regionOf(rand);
    const n = perSite + (extra-- > 0 ? 1 : 0);
    const cameras: CityCamera[] = [];
    for (let c = 0; c < n; c++) {
      const r = rand();
      const behaviour: Behaviour = r < 0.08 ? 'outages' : r < 0.12 ? 'picture' : r < 0.13 ? 'dies' : 'steady';
      const k = rand();
      cameras.push({
        behaviour,
        label: {
          camera: `cam-${String(c).padStart(3, '0')}`,
          class: k < 0.2 ? 1 : k < 0.5 ? 2 : 3,
          region,
          latitude: rand() < 0.08 ? null : 30 + rand(),
          longitude: 120 + rand(),
          mainHeight: rand() < 0.1 ? 720 : 1080,
        },
      });
    }
    const silent: CitySite['silent'] = [];
    if (s === 17) {
      // The site that lost power: two days dark, from a quarter of the way in.
      const start = monthStart + Math.floor((now - monthStart) / 4);
      silent.push({ start, end: start + 48 * HOUR });
    } else if (rand() < 0.02) {
      const start = monthStart + Math.floor(rand() * (now - monthStart - 10 * HOUR));
      silent.push({ start, end: start + Math.floor((1 + rand() * 5) * HOUR) });
    }
    sites.push({
      sim: new SimulatedSite(
        `city-${String(s).padStart(4, '0')}`,
        cameras.map((c) => c.label),
      ),
      cameras,
      silent,
    });
  }
  return sites;
}

type StatusRow = CentralTables['status_points'];

/** One camera's status changes over the month, as the agent would have sent them. */
function cameraTimeline(site: CitySite, camera: CityCamera, days: string[], announcedAt: number, now: number, rand: () => number): StatusRow[] {
  const rows: StatusRow[] = [];
  let seq = 0;
  const point = (at: number, state: 'online' | 'offline', picture: 'ok' | 'fault' | 'none', faults: string[] | null, reason: string | null) => {
    if (at >= now || site.silent.some((p) => at >= p.start && at < p.end)) return;
    rows.push({
      site_id: site.sim.site,
      camera_id: camera.label.camera,
      at,
      message_id: `${site.sim.site}-${camera.label.camera}-${++seq}-${randomBytes(4).toString('hex')}`,
      seq,
      state,
      picture,
      faults: faults ? JSON.stringify(faults) : null,
      reason,
    });
  };
  point(announcedAt, 'online', 'ok', null, null);
  const dieDay = Math.floor(rand() * days.length);
  for (let d = 0; d < days.length; d++) {
    const { start } = dayBounds(days[d], ZONE);
    if (camera.behaviour === 'dies' && d === dieDay) {
      point(start + Math.floor(rand() * 20 * HOUR), 'offline', 'none', null, 'no answer');
      break;
    }
    // The daily picture check of a healthy camera: a status with the same verdict.
    point(start + Math.floor((2 + rand() * 20) * HOUR), 'online', 'ok', null, null);
    if (camera.behaviour === 'outages' && rand() < 0.35) {
      // Some start late in the evening and run across midnight.
      const from = start + (rand() < 0.3 ? Math.floor((22 + rand() * 2) * HOUR) : Math.floor(rand() * 22 * HOUR));
      point(from, 'offline', 'none', null, 'no answer');
      point(from + Math.floor((10 + rand() * 470) * MINUTE), 'online', 'ok', null, null);
    }
    if (camera.behaviour === 'picture' && rand() < 0.4) {
      const from = start + Math.floor(rand() * 20 * HOUR);
      const fault = ['black', 'frozen', 'blurred'][Math.floor(rand() * 3)];
      point(from, 'online', 'fault', [fault], null);
      point(from + Math.floor((30 + rand() * 300) * MINUTE), 'online', 'ok', null, null);
    }
  }
  rows.sort((a, b) => a.at - b.at);
  return rows;
}

/** The site's evidence of life: the whole month but its silent periods (merged intervals). */
function siteEvidence(site: CitySite, from: number, now: number): Array<CentralTables['site_evidence']> {
  const out: Array<CentralTables['site_evidence']> = [];
  let start = from;
  for (const p of [...site.silent].sort((a, b) => a.start - b.start)) {
    if (p.start > start) out.push({ site_id: site.sim.site, start_ms: start, end_ms: p.start });
    start = p.end;
  }
  if (start < now) out.push({ site_id: site.sim.site, start_ms: start, end_ms: now + STALE_MS });
  return out;
}

async function insertChunked<T extends 'status_points' | 'site_evidence'>(
  db: Transaction<CentralTables>,
  table: T,
  rows: ReadonlyArray<CentralTables[T]>,
  size: number,
): Promise<void> {
  for (let i = 0; i < rows.length; i += size) {
    await db
      .insertInto(table)
      .values(rows.slice(i, i + size) as Array<Insertable<CentralTables[T]>>)
      .execute();
  }
}

export interface Written {
  cameras: number;
  statusPoints: number;
  evidence: number;
  ms: number;
  announceMs: number;
}

/** Writes the city's month into a migrated, empty database. */
export async function writeCity(db: CentralDb, args: CityArgs, today: string, now: number): Promise<Written> {
  const t0 = performance.now();
  const days = Array.from({ length: args.days }, (_, i) => addDays(today, i - args.days)).concat(today);
  const monthStart = dayBounds(days[0], ZONE).start;
  const announcedAt = monthStart - HOUR;
  const sites = makeCity(args, monthStart, now);

  // 1. Every site and camera announced through the writer, as ingest takes them in.
  const writer = new IngestWriter(db, { staleAfterMs: STALE_MS, dayOf: dayFinder(ZONE) });
  const announce: Received[] = [];
  for (const site of sites) {
    for (const m of site.sim.connect(announcedAt)) {
      const c = classify(m.topic, Buffer.from(m.payload), 1 << 20);
      if (!c.ok || !c.message) throw new Error(`the simulator made a message the central refuses: ${m.topic}`);
      announce.push({ message: c.message, receivedAt: announcedAt, retained: m.retain });
    }
  }
  for (let i = 0; i < announce.length; i += 500) await writer.write(announce.slice(i, i + 500));
  const announceMs = performance.now() - t0;

  // 2. The month: status changes and evidence, straight into the tables.
  const rand = seededRandom(args.seed + 1);
  let statusPoints = 0;
  let evidence = 0;
  await db.db.deleteFrom('site_evidence').execute();
  await db.db.deleteFrom('figures_dirty').execute();
  for (let s = 0; s < sites.length; s += 20) {
    const group = sites.slice(s, s + 20);
    await db.db.transaction().execute(async (tx) => {
      const rows = group.flatMap((site) => site.cameras.flatMap((camera) => cameraTimeline(site, camera, days, announcedAt, now, rand)));
      await insertChunked(tx, 'status_points', rows, 500);
      statusPoints += rows.length;
      const ev = group.flatMap((site) => siteEvidence(site, announcedAt, now));
      await insertChunked(tx, 'site_evidence', ev, 500);
      evidence += ev.length;
      // Each camera's current state: its latest status.
      const latest = new Map<string, StatusRow>();
      for (const r of rows) {
        const k = `${r.site_id}/${r.camera_id}`;
        const known = latest.get(k);
        if (!known || known.at <= r.at) latest.set(k, r);
      }
      {
        for (const last of latest.values()) {
          await tx
            .updateTable('cameras')
            .set({ state: last.state, status_at: last.at, picture: last.picture, faults: last.faults, reason: last.reason })
            .where('site_id', '=', last.site_id)
            .where('camera_id', '=', last.camera_id)
            .execute();
        }
      }
    });
  }
  return { cameras: args.cameras, statusPoints, evidence, ms: Math.round(performance.now() - t0), announceMs: Math.round(announceMs) };
}
