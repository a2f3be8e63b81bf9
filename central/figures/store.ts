// The figures' database side: what one local day of some sites looks like to the timeline (every
// query bounded by the day, so a month of history costs nothing to a day), the measured days
// written back, and the marks ingest leaves on the site days it changed.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Interval } from '../../lib/intervals';
import { letEventLoopRun } from '../../lib/concurrency';
import type { CameraDaysTable, CentralTables } from '../store/schema';
import type { StatusPoint } from './timeline';
import { inChunks } from '../../lib/chunks';
import type { Dialect } from '../store/open';
import { ROWS_PER_JSON_TABLE, rowsTable, type ValueType } from '../store/sql';

type Db = Kysely<CentralTables> | Transaction<CentralTables>;

/** The groups a camera belongs to by a moment: its latest meta then. */
export interface CameraGroups {
  class: number | null;
  region: string | null;
  owner: string | null;
  hasCoordinates: boolean;
  mainHeight: number | null;
}

export interface CameraDayData {
  site: string;
  camera: string;
  lifetimes: Interval[];
  carryIn: StatusPoint | null;
  points: StatusPoint[];
  groups: CameraGroups | null;
}

export interface SiteDayData {
  site: string;
  evidence: Interval[];
  cameras: CameraDayData[];
}

/** Rows to write or read, without the database's types leaking. */
export type CameraDayRow = CameraDaysTable;

const CHUNK = 500;

function key(site: string, camera: string): string {
  return `${site}\u0000${camera}`;
}

function parseFaults(faults: string | null): string[] {
  if (!faults) return [];
  try {
    const list = JSON.parse(faults) as unknown;
    return Array.isArray(list) ? list.map(String) : [];
  } catch {
    return [];
  }
}

/** Everything the timeline needs for [bounds.start, bounds.end) of these sites (all sites when omitted). */
export async function loadDay(db: Db, bounds: Interval, sites?: readonly string[]): Promise<SiteDayData[]> {
  if (sites && sites.length === 0) return [];
  const siteLists = sites ? inChunks(sites, CHUNK) : [undefined];
  const out: SiteDayData[] = [];
  for (const list of siteLists) out.push(...(await loadSites(db, bounds, list)));
  return out;
}

async function loadSites(db: Db, bounds: Interval, sites: readonly string[] | undefined): Promise<SiteDayData[]> {
  const { start, end } = bounds;
  const lifetimeRows = await db
    .selectFrom('camera_lifetimes')
    .select(['site_id', 'camera_id', 'start_ms', 'end_ms'])
    .where('start_ms', '<', end)
    .where((eb) => eb.or([eb('end_ms', 'is', null), eb('end_ms', '>', start)]))
    .$if(sites !== undefined, (q) => q.where('site_id', 'in', sites as string[]))
    .orderBy('site_id')
    .orderBy('camera_id')
    .orderBy('start_ms')
    .execute();
  if (lifetimeRows.length === 0) return [];

  const bySite = new Map<string, SiteDayData>();
  const byCamera = new Map<string, CameraDayData>();
  for (const l of lifetimeRows) {
    let site = bySite.get(l.site_id);
    if (!site) bySite.set(l.site_id, (site = { site: l.site_id, evidence: [], cameras: [] }));
    const k = key(l.site_id, l.camera_id);
    let camera = byCamera.get(k);
    if (!camera) {
      camera = { site: l.site_id, camera: l.camera_id, lifetimes: [], carryIn: null, points: [], groups: null };
      byCamera.set(k, camera);
      site.cameras.push(camera);
    }
    camera.lifetimes.push({ start: l.start_ms, end: l.end_ms ?? Number.POSITIVE_INFINITY });
  }
  const siteIds = [...bySite.keys()];

  for (const list of inChunks(siteIds, CHUNK)) {
    // A day of a city's sites is seconds of synchronous queries on SQLite: others get turns between chunks.
    await letEventLoopRun();
    const evidence = await db
      .selectFrom('site_evidence')
      .select(['site_id', 'start_ms', 'end_ms'])
      .where('site_id', 'in', list)
      .where('start_ms', '<', end)
      .where('end_ms', '>', start)
      .orderBy('site_id')
      .orderBy('start_ms')
      .execute();
    for (const e of evidence) bySite.get(e.site_id)?.evidence.push({ start: e.start_ms, end: e.end_ms });

    const points = await db
      .selectFrom('status_points')
      .select(['site_id', 'camera_id', 'at', 'state', 'picture', 'faults'])
      .where('site_id', 'in', list)
      .where('at', '>=', start)
      .where('at', '<', end)
      .orderBy('site_id')
      .orderBy('camera_id')
      .orderBy('at')
      .orderBy(sql`coalesce(seq, -1)`)
      .orderBy('message_id')
      .execute();
    for (const p of points) {
      byCamera.get(key(p.site_id, p.camera_id))?.points.push({ at: p.at, state: p.state, picture: p.picture, faults: parseFaults(p.faults) });
    }

    for (const c of await latestStatusBefore(db, list, start)) {
      const camera = byCamera.get(key(c.site_id, c.camera_id));
      if (camera) camera.carryIn = { at: c.at, state: c.state, picture: c.picture, faults: parseFaults(c.faults) };
    }
    for (const m of await latestMetaBefore(db, list, end)) {
      const camera = byCamera.get(key(m.site_id, m.camera_id));
      if (camera) {
        camera.groups = { class: m.class, region: m.region, owner: m.owner, hasCoordinates: m.has_coordinates === 1, mainHeight: m.main_height };
      }
    }
  }
  return [...bySite.values()];
}

/** Each camera's latest status before `before` (ties as in the timeline: seq, then message id):
 * two index seeks per camera, whatever the length of its history. */
function latestStatusBefore(db: Db, sites: readonly string[], before: number) {
  const latest = db
    .selectFrom('cameras as c')
    .select(['c.site_id', 'c.camera_id'])
    .select((eb) => [
      eb
        .selectFrom('status_points as p')
        .select('p.message_id')
        .whereRef('p.site_id', '=', 'c.site_id')
        .whereRef('p.camera_id', '=', 'c.camera_id')
        .where('p.at', '<', before)
        .orderBy('p.at', 'desc')
        .orderBy(sql`coalesce(p.seq, -1)`, 'desc')
        .orderBy('p.message_id', 'desc')
        .limit(1)
        .as('message_id'),
      eb
        .selectFrom('status_points as p')
        .select('p.at')
        .whereRef('p.site_id', '=', 'c.site_id')
        .whereRef('p.camera_id', '=', 'c.camera_id')
        .where('p.at', '<', before)
        .orderBy('p.at', 'desc')
        .limit(1)
        .as('at'),
    ])
    .where('c.site_id', 'in', sites)
    .as('l');
  return db
    .selectFrom(latest)
    .innerJoin('status_points as s', (j) =>
      j.onRef('s.site_id', '=', 'l.site_id').onRef('s.camera_id', '=', 'l.camera_id').onRef('s.at', '=', 'l.at').onRef('s.message_id', '=', 'l.message_id'),
    )
    .select(['s.site_id', 's.camera_id', 's.at', 's.state', 's.picture', 's.faults'])
    .execute();
}

/** Each camera's latest meta before `before`: the groups it belongs to then. */
function latestMetaBefore(db: Db, sites: readonly string[], before: number) {
  const latest = db
    .selectFrom('cameras as c')
    .select(['c.site_id', 'c.camera_id'])
    .select((eb) => [
      eb
        .selectFrom('meta_history as m')
        .select('m.message_id')
        .whereRef('m.site_id', '=', 'c.site_id')
        .whereRef('m.camera_id', '=', 'c.camera_id')
        .where('m.at', '<', before)
        .orderBy('m.at', 'desc')
        .orderBy('m.message_id', 'desc')
        .limit(1)
        .as('message_id'),
      eb
        .selectFrom('meta_history as m')
        .select('m.at')
        .whereRef('m.site_id', '=', 'c.site_id')
        .whereRef('m.camera_id', '=', 'c.camera_id')
        .where('m.at', '<', before)
        .orderBy('m.at', 'desc')
        .limit(1)
        .as('at'),
    ])
    .where('c.site_id', 'in', sites)
    .as('l');
  return db
    .selectFrom(latest)
    .innerJoin('meta_history as h', (j) =>
      j.onRef('h.site_id', '=', 'l.site_id').onRef('h.camera_id', '=', 'l.camera_id').onRef('h.at', '=', 'l.at').onRef('h.message_id', '=', 'l.message_id'),
    )
    .select(['h.site_id', 'h.camera_id', 'h.class', 'h.region', 'h.owner', 'h.has_coordinates', 'h.main_height'])
    .execute();
}

/** The stored rows of one day for these sites (all when omitted). */
export async function readDayRows(db: Db, day: string, sites?: readonly string[]): Promise<CameraDayRow[]> {
  if (sites && sites.length === 0) return [];
  const out: CameraDayRow[] = [];
  for (const list of sites ? inChunks(sites, CHUNK) : [undefined]) {
    out.push(
      ...(await db
        .selectFrom('camera_days')
        .selectAll()
        .where('day', '=', day)
        .$if(list !== undefined, (q) => q.where('site_id', 'in', list as string[]))
        .execute()),
    );
  }
  return out;
}

/** Types of camera_days' columns as rowsTable sends them (integers travel as bigint: PostgreSQL casts them on insert). */
const DAY_ROW_TYPES: { [K in keyof CameraDayRow]: ValueType } = {
  day: 'text',
  site_id: 'text',
  camera_id: 'text',
  counted_ms: 'bigint',
  known_ms: 'bigint',
  online_ms: 'bigint',
  offline_ms: 'bigint',
  intact_known_ms: 'bigint',
  intact_ms: 'bigint',
  fault_ms: 'bigint',
  causes: 'text',
  class: 'bigint',
  region: 'text',
  owner: 'text',
  has_coordinates: 'bigint',
  main_height: 'bigint',
  present_at_end: 'bigint',
  carry: 'text',
};
const DAY_ROW_COLUMNS = Object.keys(DAY_ROW_TYPES) as Array<keyof CameraDayRow>;
/** Columns a re-measured day replaces (all but the key). */
const DAY_ROW_VALUES = DAY_ROW_COLUMNS.filter((c) => c !== 'day' && c !== 'site_id' && c !== 'camera_id');

/** Replaces a day's rows of these sites (of every site when omitted) and records how far the day is computed. */
export async function replaceDayRows(
  db: Kysely<CentralTables>,
  dialect: Dialect,
  day: string,
  rows: readonly CameraDayRow[],
  sites: readonly string[] | undefined,
  computed: { through: number; at: number },
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    if (sites === undefined) await tx.deleteFrom('camera_days').where('day', '=', day).execute();
    else for (const list of inChunks(sites, CHUNK)) await tx.deleteFrom('camera_days').where('day', '=', day).where('site_id', 'in', list).execute();
    // Two central instances may measure the same day at once (PostgreSQL): the second's delete does
    // not see the rows the first inserted meanwhile, so its insert replaces them rather than failing.
    // The rows go as one JSON table per chunk: a city's day as multi-row VALUES was a hundred
    // statements of 3,400 parameters each, most of a PostgreSQL round's time.
    for (const chunk of inChunks(rows as ReadonlyArray<CameraDayRow & Record<string, string | number | null>>, ROWS_PER_JSON_TABLE)) {
      await tx
        .insertInto('camera_days')
        .columns(DAY_ROW_COLUMNS)
        .expression(
          tx
            .selectFrom(rowsTable(dialect, chunk, DAY_ROW_TYPES, 'r'))
            .select(DAY_ROW_COLUMNS)
            // SQLite would read the upsert's ON after a bare SELECT as a join's.
            .where(sql<boolean>`true`),
        )
        .onConflict((oc) =>
          oc.columns(['day', 'site_id', 'camera_id']).doUpdateSet((eb) => Object.fromEntries(DAY_ROW_VALUES.map((c) => [c, eb.ref(`excluded.${c}`)]))),
        )
        .execute();
    }
    if (sites === undefined) {
      await tx
        .insertInto('figures_days')
        .values({ day, computed_through: computed.through, computed_at: computed.at, revision: 1 })
        .onConflict((oc) =>
          oc
            .column('day')
            .doUpdateSet((eb) => ({ computed_through: computed.through, computed_at: computed.at, revision: eb('figures_days.revision', '+', 1) })),
        )
        .execute();
    } else {
      await tx
        .updateTable('figures_days')
        .set((eb) => ({ revision: eb('revision', '+', 1) }))
        .where('day', '=', day)
        .execute();
    }
  });
}

/** Leaves marks on site days that something written has changed (in the writer's transaction). */
export async function markDirty(db: Db, marks: ReadonlyArray<{ site: string; day: string }>): Promise<void> {
  for (const chunk of inChunks(marks, CHUNK)) {
    await db
      .insertInto('figures_dirty')
      .values(chunk.map((m) => ({ site_id: m.site, day: m.day })))
      .onConflict((oc) => oc.columns(['site_id', 'day']).doNothing())
      .execute();
  }
}

/** Takes the marks: the rows are deleted as they are read, so a mark left meanwhile stays for the next round. */
export async function takeDirty(db: Kysely<CentralTables>): Promise<Array<{ site: string; day: string }>> {
  const rows = await db.deleteFrom('figures_dirty').returning(['site_id', 'day']).execute();
  return rows.map((r) => ({ site: r.site_id, day: r.day }));
}

export async function computedDays(db: Db): Promise<Array<{ day: string; through: number; at: number }>> {
  const rows = await db.selectFrom('figures_days').selectAll().orderBy('day').execute();
  return rows.map((r) => ({ day: r.day, through: r.computed_through, at: r.computed_at }));
}

/** The earliest moment anything was counted: where the figures begin. */
export async function firstCountedAt(db: Db): Promise<number | null> {
  const row = await db
    .selectFrom('camera_lifetimes')
    .select((eb) => eb.fn.min('start_ms').as('first'))
    .executeTakeFirst();
  return row?.first === null || row?.first === undefined ? null : Number(row.first);
}
