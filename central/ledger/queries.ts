// Reading the ledger as stored: sites and cameras with their current state. A camera's current
// state follows the figures' rule (docs/metrics.md): unknown when its site has given no sign of
// life within central.staleAfterSec, or before its first status; degraded counts as online.
// Every query takes the caller's region scope (scope.ts): what lies outside it is not there.
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { CentralTables } from '../store/schema';
import { likeLiteral, regionInScope, regionUnder, siteInScope, type RegionScope } from './scope';

export { likeLiteral } from './scope';

export type CurrentState = 'online' | 'offline' | 'unknown';

/** What a camera needs now: its state, with online split by its latest picture (a fault is online
 * but not intact, docs/metrics.md). */
export type Condition = 'offline' | 'fault' | 'unknown' | 'online';

export interface SiteView {
  site: string;
  name: string | null;
  version: string | null;
  connection: string;
  connectionSince: string | null;
  lastObserved: string;
  alive: boolean;
  /** Offline now: its connection is offline, or it sent nothing within staleAfterSec. */
  offlineNow: boolean;
  cameras: number;
}

export interface CameraView {
  site: string;
  camera: string;
  name: string | null;
  class: number | null;
  region: string | null;
  owner: string | null;
  latitude: number | null;
  longitude: number | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  mainHeight: number | null;
  /** online | offline | unknown (the figures' state now). */
  state: CurrentState;
  condition: Condition;
  /** The latest status as the agent sent it (online, degraded, offline, unknown), null before the first. */
  status: string | null;
  statusAt: string | null;
  /** ok | fault | none (no picture check in the latest status), null before the first status. */
  picture: string | null;
  faults: string[];
  reason: string | null;
  firstSeen: string;
  removedAt: string | null;
}

/** The columns a camera list is sorted by (every sort ends with site and camera id, so the order is total). */
export const CAMERA_SORTS = ['site', 'camera', 'name', 'class', 'region', 'owner', 'model', 'status', 'statusAt', 'firstSeen'] as const;
export type CameraSort = (typeof CAMERA_SORTS)[number];

const SORT_COLUMNS: Record<Exclude<CameraSort, 'site'>, `cameras.${keyof CentralTables['cameras']}`> = {
  camera: 'cameras.camera_id',
  name: 'cameras.name',
  class: 'cameras.class',
  region: 'cameras.region',
  owner: 'cameras.owner',
  model: 'cameras.model',
  status: 'cameras.state',
  statusAt: 'cameras.status_at',
  firstSeen: 'cameras.first_meta_at',
};

export const CONDITIONS = ['offline', 'fault', 'unknown', 'online'] as const satisfies readonly Condition[];

export interface CameraFilter {
  site?: string;
  state?: CurrentState;
  /** What the camera needs now (conditionOf): its state, with online split by a picture fault. */
  condition?: Condition;
  /** A picture fault name (black, frozen, no-picture …), or 'any'. */
  fault?: string;
  class?: number;
  /** A region path: that region and every region below it. */
  region?: string;
  owner?: string;
  /** Part of the camera id, name, site, model or serial. */
  text?: string;
  includeRemoved?: boolean;
  limit: number;
  offset: number;
  /** Default site (then camera id). */
  sort?: CameraSort;
  order?: 'asc' | 'desc';
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function currentState(status: string | null, siteLastObserved: number, now: number, staleAfterMs: number): CurrentState {
  if (now - siteLastObserved > staleAfterMs) return 'unknown';
  if (status === 'online' || status === 'degraded') return 'online';
  if (status === 'offline') return 'offline';
  return 'unknown';
}

export function conditionOf(state: CurrentState, picture: string | null): Condition {
  return state === 'online' && picture === 'fault' ? 'fault' : state;
}

/** Sites with at least one camera in `scope`; each counts its cameras in scope. With
 * `offlineNow`, only the sites that are (true) or are not (false) offline now. */
export async function listSites(db: Kysely<CentralTables>, now: number, staleAfterMs: number, scope: RegionScope, offlineNow?: boolean): Promise<SiteView[]> {
  const rows = await db
    .selectFrom('sites')
    .leftJoin('cameras', (j) =>
      j.onRef('cameras.site_id', '=', 'sites.site_id').on('cameras.removed_at', 'is', null).on(regionInScope('cameras.region', scope)),
    )
    .where(siteInScope('sites.site_id', scope))
    .select(['sites.site_id', 'sites.name', 'sites.version', 'sites.connection', 'sites.connection_since', 'sites.last_observed'])
    .select((eb) => eb.fn.count<number>('cameras.camera_id').as('cameras'))
    .groupBy(['sites.site_id', 'sites.name', 'sites.version', 'sites.connection', 'sites.connection_since', 'sites.last_observed'])
    .orderBy('sites.site_id')
    .execute();
  const sites = rows.map((r) => {
    const alive = now - r.last_observed <= staleAfterMs;
    return {
      site: r.site_id,
      name: r.name,
      version: r.version,
      connection: r.connection,
      connectionSince: iso(r.connection_since),
      lastObserved: iso(r.last_observed) ?? '',
      alive,
      offlineNow: r.connection === 'offline' || !alive,
      cameras: Number(r.cameras),
    };
  });
  return offlineNow === undefined ? sites : sites.filter((s) => s.offlineNow === offlineNow);
}

type CameraQuery = SelectQueryBuilder<CentralTables, 'cameras' | 'sites', object>;

function applyFilter(q: CameraQuery, f: CameraFilter, now: number, staleAfterMs: number, scope: RegionScope): CameraQuery {
  q = q.where(regionInScope('cameras.region', scope));
  if (!f.includeRemoved) q = q.where('cameras.removed_at', 'is', null);
  if (f.site !== undefined) q = q.where('cameras.site_id', '=', f.site);
  if (f.class !== undefined) q = q.where('cameras.class', '=', f.class);
  if (f.owner !== undefined) q = q.where('cameras.owner', '=', f.owner);
  if (f.region !== undefined) q = q.where(regionUnder('cameras.region', f.region));
  if (f.text !== undefined && f.text !== '') {
    const pattern = `%${likeLiteral(f.text.toLowerCase())}%`;
    const like = (column: 'cameras.camera_id' | 'cameras.name' | 'cameras.site_id' | 'cameras.model' | 'cameras.serial') =>
      sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
    q = q.where((eb) => eb.or([like('cameras.camera_id'), like('cameras.name'), like('cameras.site_id'), like('cameras.model'), like('cameras.serial')]));
  }
  if (f.fault !== undefined) {
    q =
      f.fault === 'any'
        ? q.where('cameras.picture', '=', 'fault')
        : q.where('cameras.faults', 'like', sql<string>`${`%${likeLiteral(JSON.stringify(f.fault))}%`} escape '\\'`);
  }
  if (f.state !== undefined) q = whereState(q, f.state, now - staleAfterMs);
  if (f.condition !== undefined) {
    // conditionOf in SQL: fault and online are both the online state, told apart by the picture.
    q = whereState(q, f.condition === 'fault' ? 'online' : f.condition, now - staleAfterMs);
    if (f.condition === 'fault') q = q.where('cameras.picture', '=', 'fault');
    if (f.condition === 'online') q = q.where((eb) => eb.or([eb('cameras.picture', 'is', null), eb('cameras.picture', '<>', 'fault')]));
  }
  return q;
}

/** currentState in SQL, as cameraView applies it (a removed camera's state is unknown): `fresh` is
 * the oldest last message of a site still alive. */
function whereState(q: CameraQuery, state: CurrentState, fresh: number): CameraQuery {
  if (state === 'unknown') {
    return q.where((eb) =>
      eb.or([
        eb('cameras.removed_at', 'is not', null),
        eb('sites.last_observed', '<', fresh),
        eb('cameras.state', 'is', null),
        eb('cameras.state', 'not in', ['online', 'degraded', 'offline']),
      ]),
    );
  }
  return q
    .where('cameras.removed_at', 'is', null)
    .where('sites.last_observed', '>=', fresh)
    .where('cameras.state', 'in', state === 'online' ? ['online', 'degraded'] : ['offline']);
}

/** The list's order: the sort column with its empty values last whatever the direction (SQLite
 * and PostgreSQL put NULL at opposite ends otherwise), then site and camera id. */
function applySort<O>(
  q: SelectQueryBuilder<CentralTables, 'cameras' | 'sites', O>,
  sort: CameraSort,
  order: 'asc' | 'desc',
): SelectQueryBuilder<CentralTables, 'cameras' | 'sites', O> {
  if (sort !== 'site') {
    const column = SORT_COLUMNS[sort];
    q = q.orderBy(sql`case when ${sql.ref(column)} is null then 1 else 0 end`).orderBy(sql.ref(column), order);
    return q.orderBy('cameras.site_id').orderBy('cameras.camera_id');
  }
  return q.orderBy('cameras.site_id', order).orderBy('cameras.camera_id', order);
}

export async function listCameras(
  db: Kysely<CentralTables>,
  filter: CameraFilter,
  now: number,
  staleAfterMs: number,
  scope: RegionScope,
): Promise<{ total: number; items: CameraView[] }> {
  const base = db.selectFrom('cameras').innerJoin('sites', 'sites.site_id', 'cameras.site_id') as unknown as CameraQuery;
  const filtered = applyFilter(base, filter, now, staleAfterMs, scope);
  const total = await filtered.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const page = filtered.selectAll('cameras').select('sites.last_observed as site_last_observed');
  const rows = await applySort(page, filter.sort ?? 'site', filter.order ?? 'asc')
    .limit(filter.limit)
    .offset(filter.offset)
    .execute();
  return { total: Number(total.n), items: rows.map((r) => cameraView(r as CameraRowWithSite, now, staleAfterMs)) };
}

type CameraRowWithSite = CentralTables['cameras'] & { site_last_observed: number };

function cameraView(r: CameraRowWithSite, now: number, staleAfterMs: number): CameraView {
  const state = r.removed_at !== null ? 'unknown' : currentState(r.state, r.site_last_observed, now, staleAfterMs);
  return {
    site: r.site_id,
    camera: r.camera_id,
    name: r.name,
    class: r.class,
    region: r.region,
    owner: r.owner,
    latitude: r.latitude,
    longitude: r.longitude,
    manufacturer: r.manufacturer,
    model: r.model,
    firmware: r.firmware,
    serial: r.serial,
    mainHeight: r.main_height,
    state,
    condition: conditionOf(state, r.picture),
    status: r.state,
    statusAt: iso(r.status_at),
    picture: r.picture,
    faults: r.faults ? (JSON.parse(r.faults) as string[]) : [],
    reason: r.reason,
    firstSeen: iso(r.first_meta_at) ?? '',
    removedAt: iso(r.removed_at),
  };
}

export async function getCamera(
  db: Kysely<CentralTables>,
  site: string,
  camera: string,
  now: number,
  staleAfterMs: number,
  scope: RegionScope,
): Promise<(CameraView & { meta: unknown }) | undefined> {
  const row = await db
    .selectFrom('cameras')
    .innerJoin('sites', 'sites.site_id', 'cameras.site_id')
    .selectAll('cameras')
    .select('sites.last_observed as site_last_observed')
    .where('cameras.site_id', '=', site)
    .where('cameras.camera_id', '=', camera)
    .where(regionInScope('cameras.region', scope))
    .executeTakeFirst();
  if (!row) return undefined;
  return { ...cameraView(row, now, staleAfterMs), meta: JSON.parse(row.meta) as unknown };
}

export interface RejectView {
  site: string;
  reason: string;
  count: number;
  firstAt: string;
  lastAt: string;
  example: string;
}

/** Refusals of sites in `scope` (a refusal of a site with no camera yet: only for EVERYWHERE). */
export async function listRejects(db: Kysely<CentralTables>, scope: RegionScope): Promise<RejectView[]> {
  const rows = await db
    .selectFrom('ingest_rejects')
    .selectAll()
    .where(siteInScope('ingest_rejects.site_id', scope))
    .orderBy('last_at', 'desc')
    .limit(1000)
    .execute();
  return rows.map((r) => ({
    site: r.site_id,
    reason: r.reason,
    count: r.count,
    firstAt: iso(r.first_at) ?? '',
    lastAt: iso(r.last_at) ?? '',
    example: r.example,
  }));
}

/** A site's connection as its state messages and Will left it (online, offline, unknown), or undefined for a site never heard of (or out of `scope`). */
export async function getSiteConnection(db: Kysely<CentralTables>, site: string, scope: RegionScope): Promise<{ connection: string } | undefined> {
  return db.selectFrom('sites').select('connection').where('site_id', '=', site).where(siteInScope('sites.site_id', scope)).executeTakeFirst();
}

export interface LedgerNames {
  /** Site id → its name (null when the site never gave one). */
  sites: Map<string, string | null>;
  /** `site/camera` → the camera's name. */
  cameras: Map<string, string | null>;
}

/** The names of these sites and of their cameras, as the ledger holds them now, for listings
 * that name what they count (reports); sites are looked up a few hundred at a time. */
export async function ledgerNames(db: Kysely<CentralTables>, sites: readonly string[]): Promise<LedgerNames> {
  const names: LedgerNames = { sites: new Map(), cameras: new Map() };
  const unique = [...new Set(sites)];
  for (let i = 0; i < unique.length; i += 500) {
    const chunk = unique.slice(i, i + 500);
    for (const s of await db.selectFrom('sites').select(['site_id', 'name']).where('site_id', 'in', chunk).execute()) names.sites.set(s.site_id, s.name);
    const cameras = await db.selectFrom('cameras').select(['site_id', 'camera_id', 'name']).where('site_id', 'in', chunk).execute();
    for (const c of cameras) names.cameras.set(`${c.site_id}/${c.camera_id}`, c.name);
  }
  return names;
}
