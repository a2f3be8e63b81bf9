// Figures for any range of local days, from the measured days: each camera's durations summed
// over the range and its groups taken from its last measured day in it, then pooled by camera,
// site, class, region or owner; or each day of the range on its own.
import type { Kysely } from 'kysely';
import type { CentralTables } from '../store/schema';
import type { CentralConfig } from '../config/schema';
import { addDays, dayBounds } from './days';
import { EVERYWHERE, regionLevels, regionUnder, regionWithin, trimRegion, type RegionScope } from '../ledger/scope';
import { Pool, type CameraTotals, type Figure } from './pool';
import type { FiguresCache } from './cache';

export const GROUP_BYS = ['none', 'camera', 'site', 'class', 'region', 'owner', 'day'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

export interface FiguresQuery {
  from: string;
  to: string;
  groupBy: GroupBy;
  /** Only cameras in this region path (and below). */
  region?: string;
  site?: string;
  class?: number;
  owner?: string;
  /** Sum each camera's known time not intact by cause (offline, black, frozen, …). */
  withCauses?: boolean;
  /** The caller's region scope: cameras outside it are not counted. */
  scope?: RegionScope;
}

export interface Group {
  key: string;
  figure: Figure;
  /** When grouped by camera: its durations by cause. */
  causes?: Record<string, number>;
}

/** How far the days of [from, to] are measured: the oldest measurement among them, how far the
 * last one goes, and the days without figures. */
export interface ComputedState {
  /** The oldest computation among the days of the range (ISO), or null when none has figures yet. */
  computedAt: string | null;
  /** How far the last day is computed (ISO): for today, the time it was last measured. */
  computedThrough: string | null;
  /** Days of the range without figures yet. */
  daysMissing: string[];
}

export interface FiguresResult extends ComputedState {
  period: { from: string; to: string; timezone: string; start: string; end: string };
  total: Figure;
  groups: Group[];
}

export type FigureConfig = Pick<CentralConfig, 'targets' | 'hdMinHeight' | 'timezone'>;

/** Each camera's totals over [from, to] (days), its groups from its last day in the range. */
export async function cameraTotals(db: Kysely<CentralTables>, q: Omit<FiguresQuery, 'groupBy'>): Promise<CameraTotals[]> {
  const narrowedTo = [q.region === undefined ? '' : trimRegion(q.region), q.scope ?? EVERYWHERE].filter((r) => r !== '');
  const sums = db
    .selectFrom('camera_days')
    .select(['site_id', 'camera_id'])
    .select((eb) => [
      eb.fn.max('day').as('last_day'),
      eb.fn.sum<number>('counted_ms').as('counted'),
      eb.fn.sum<number>('known_ms').as('known'),
      eb.fn.sum<number>('online_ms').as('online'),
      eb.fn.sum<number>('offline_ms').as('offline'),
      eb.fn.sum<number>('intact_known_ms').as('intact_known'),
      eb.fn.sum<number>('intact_ms').as('intact'),
      eb.fn.sum<number>('fault_ms').as('fault'),
    ])
    .where('day', '>=', q.from)
    .where('day', '<=', q.to)
    .$if(q.site !== undefined, (x) => x.where('site_id', '=', q.site as string))
    // Only the cameras that were in the region (and the caller's scope) on some day of the range
    // are summed: a superset of those whose last day there is (the filter below decides), found
    // in SQL so that one district's day does not read and sum the whole city's (bench:city).
    .$if(narrowedTo.length > 0, (x) =>
      x.where(({ eb, refTuple, selectFrom }) =>
        eb(
          refTuple('site_id', 'camera_id'),
          'in',
          selectFrom('camera_days as r')
            .select(['r.site_id', 'r.camera_id'])
            .where('r.day', '>=', q.from)
            .where('r.day', '<=', q.to)
            .where((w) => w.and(narrowedTo.map((region) => regionUnder('r.region', region))))
            .$asTuple('site_id', 'camera_id'),
        ),
      ),
    )
    .groupBy(['site_id', 'camera_id'])
    .as('t');
  const rows = await db
    .selectFrom(sums)
    .innerJoin('camera_days as d', (j) => j.onRef('d.site_id', '=', 't.site_id').onRef('d.camera_id', '=', 't.camera_id').onRef('d.day', '=', 't.last_day'))
    .select([
      't.site_id',
      't.camera_id',
      't.last_day',
      't.counted',
      't.known',
      't.online',
      't.offline',
      't.intact_known',
      't.intact',
      't.fault',
      'd.class',
      'd.region',
      'd.owner',
      'd.has_coordinates',
      'd.main_height',
      'd.present_at_end',
    ])
    .execute();
  const keep = groupFilter(q);
  const totals: CameraTotals[] = [];
  for (const r of rows) {
    if (!keep(r)) continue;
    // Counted at the range's end only if its last day is the range's last measured day.
    totals.push(totalsOf(r, r.present_at_end === 1 && r.last_day === q.to));
  }
  if (q.withCauses && totals.length > 0) await addCauses(db, q, totals);
  return totals;
}

interface SummedRow {
  site_id: string;
  camera_id: string;
  counted: number | string;
  known: number | string;
  online: number | string;
  offline: number | string;
  intact_known: number | string;
  intact: number | string;
  fault: number | string;
  class: number | null;
  region: string | null;
  owner: string | null;
  has_coordinates: number;
  main_height: number | null;
}

/** Whether a camera's groups (of its last day in the range) are among those asked for. */
function groupFilter(q: Omit<FiguresQuery, 'groupBy' | 'from' | 'to'>): (r: Pick<SummedRow, 'region' | 'class' | 'owner'>) => boolean {
  const region = q.region === undefined ? undefined : trimRegion(q.region);
  const scope = q.scope ?? EVERYWHERE;
  return (r) =>
    regionWithin(r.region, scope) &&
    (region === undefined || region === '' || regionWithin(r.region, region)) &&
    (q.class === undefined || r.class === q.class) &&
    (q.owner === undefined || r.owner === q.owner);
}

function totalsOf(r: SummedRow, presentAtEnd: boolean): CameraTotals {
  return {
    site: r.site_id,
    camera: r.camera_id,
    countedMs: Number(r.counted),
    knownMs: Number(r.known),
    onlineMs: Number(r.online),
    offlineMs: Number(r.offline),
    intactKnownMs: Number(r.intact_known),
    intactMs: Number(r.intact),
    faultMs: Number(r.fault),
    class: r.class,
    region: r.region,
    owner: r.owner,
    hasCoordinates: r.has_coordinates === 1,
    mainHeight: r.main_height,
    presentAtEnd,
  };
}

/** Each camera's totals on one day: the ones cameraTotals gives for that day alone (its row is the
 * sum and the last day both). */
export async function cameraTotalsOfDay(db: Kysely<CentralTables>, q: Omit<FiguresQuery, 'groupBy' | 'from' | 'to'>, day: string): Promise<CameraTotals[]> {
  const narrowedTo = [q.region === undefined ? '' : trimRegion(q.region), q.scope ?? EVERYWHERE].filter((r) => r !== '');
  const rows = await db
    .selectFrom('camera_days')
    .select([
      'site_id',
      'camera_id',
      'counted_ms as counted',
      'known_ms as known',
      'online_ms as online',
      'offline_ms as offline',
      'intact_known_ms as intact_known',
      'intact_ms as intact',
      'fault_ms as fault',
      'class',
      'region',
      'owner',
      'has_coordinates',
      'main_height',
      'present_at_end',
    ])
    .where('day', '=', day)
    .$if(q.site !== undefined, (x) => x.where('site_id', '=', q.site as string))
    .$if(narrowedTo.length > 0, (x) => x.where((w) => w.and(narrowedTo.map((region) => regionUnder('region', region)))))
    .execute();
  const keep = groupFilter(q);
  return rows.filter(keep).map((r) => totalsOf(r, r.present_at_end === 1));
}

async function addCauses(db: Kysely<CentralTables>, q: Omit<FiguresQuery, 'groupBy'>, totals: CameraTotals[]): Promise<void> {
  for (const t of totals) t.causes = {};
  const byKey = new Map(totals.map((t) => [`${t.site}\u0000${t.camera}`, t]));
  const rows = await db
    .selectFrom('camera_days')
    .select(['site_id', 'camera_id', 'causes'])
    .where('day', '>=', q.from)
    .where('day', '<=', q.to)
    .where('causes', '!=', '{}')
    .$if(q.site !== undefined, (x) => x.where('site_id', '=', q.site as string))
    .execute();
  for (const r of rows) {
    const t = byKey.get(`${r.site_id}\u0000${r.camera_id}`);
    if (!t) continue;
    const causes = t.causes as Record<string, number>;
    for (const [cause, ms] of Object.entries(JSON.parse(r.causes) as Record<string, number>)) causes[cause] = (causes[cause] ?? 0) + ms;
  }
}

/** The key(s) a camera is pooled under. */
function groupKeys(c: CameraTotals, groupBy: GroupBy, regionPrefix: string): string[] {
  switch (groupBy) {
    case 'none':
      return [];
    case 'camera':
      return [`${c.site}/${c.camera}`];
    case 'site':
      return [c.site];
    case 'class':
      return [c.class === null ? 'unclassified' : String(c.class)];
    case 'owner':
      return [c.owner ?? ''];
    case 'day':
      // A camera's summed range has no day: figuresByDay pools each day's own totals instead.
      throw new Error('groupBy day is pooled from each day, not from the range');
    case 'region': {
      // The level just below the prefix; a camera of the prefix region itself is its own group.
      const depth = regionPrefix === '' ? 1 : regionPrefix.split('/').length + 1;
      const levels = regionLevels(c.region);
      return [levels[Math.min(depth, levels.length) - 1] ?? ''];
    }
  }
}

export function poolTotals(totals: readonly CameraTotals[], groupBy: GroupBy, regionPrefix: string, config: FigureConfig): { total: Figure; groups: Group[] } {
  const all = new Pool();
  const groups = new Map<string, Pool>();
  for (const c of totals) {
    all.add(c);
    for (const k of groupKeys(c, groupBy, regionPrefix)) {
      let pool = groups.get(k);
      if (!pool) groups.set(k, (pool = new Pool()));
      pool.add(c);
    }
  }
  const out: Group[] = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, pool]) => {
      const group: Group = { key, figure: pool.figure(config.targets, config.hdMinHeight) };
      if (groupBy === 'camera' && pool.members[0].causes) group.causes = msToSeconds(pool.members[0].causes);
      return group;
    });
  return { total: all.figure(config.targets, config.hdMinHeight), groups: out };
}

function msToSeconds(causes: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(causes).map(([k, v]) => [k, Math.round(v / 1000)]));
}

export function periodOf(from: string, to: string, timezone: string): FiguresResult['period'] {
  return { from, to, timezone, start: new Date(dayBounds(from, timezone).start).toISOString(), end: new Date(dayBounds(to, timezone).end).toISOString() };
}

interface MeasuredDay {
  day: string;
  computed_at: number;
  computed_through: number;
  revision: number;
}

async function measuredDays(db: Kysely<CentralTables>, from: string, to: string): Promise<MeasuredDay[]> {
  return db
    .selectFrom('figures_days')
    .select(['day', 'computed_at', 'computed_through', 'revision'])
    .where('day', '>=', from)
    .where('day', '<=', to)
    .orderBy('day')
    .execute();
}

function stateOf(from: string, to: string, computed: readonly MeasuredDay[]): ComputedState {
  const have = new Set(computed.map((c) => c.day));
  const daysMissing: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) if (!have.has(d)) daysMissing.push(d);
  const last = computed[computed.length - 1];
  const oldest = computed.reduce<number | null>((m, c) => (m === null || c.computed_at < m ? c.computed_at : m), null);
  return {
    computedAt: oldest === null ? null : new Date(oldest).toISOString(),
    computedThrough: last ? new Date(last.computed_through).toISOString() : null,
    daysMissing,
  };
}

export async function computedState(db: Kysely<CentralTables>, from: string, to: string): Promise<ComputedState> {
  return stateOf(from, to, await measuredDays(db, from, to));
}

/** What the figures of these days were pooled from: kept figures are good while it is the same. */
function revisionsOf(days: readonly MeasuredDay[]): string {
  return days.map((d) => `${d.day}:${d.revision}`).join(',');
}

/** The cache key of a query's cameras (the range apart). */
function filtersOf(q: Omit<FiguresQuery, 'groupBy' | 'from' | 'to'>): unknown[] {
  return [q.region ?? null, q.site ?? null, q.class ?? null, q.owner ?? null, q.scope ?? null, q.withCauses ?? null];
}

/** Answers grouped by camera or site are large and asked for one place at a time: not kept. */
const KEPT_GROUPINGS: ReadonlySet<GroupBy> = new Set(['none', 'class', 'region', 'owner']);

/** Pools made once and kept while their days are unchanged; without a cache every call pools. */
function keeper(cache: FiguresCache | undefined) {
  return <T>(key: unknown[], revisions: string, make: () => Promise<T>): Promise<T> => (cache ? cache.through(JSON.stringify(key), revisions, make) : make());
}

export async function figuresFor(db: Kysely<CentralTables>, q: FiguresQuery, config: FigureConfig, cache?: FiguresCache): Promise<FiguresResult> {
  const days = await measuredDays(db, q.from, q.to);
  if (q.groupBy === 'day') return figuresByDay(db, q, config, days, cache);
  const pool = async () => {
    const totals = await cameraTotals(db, { ...q, withCauses: q.withCauses ?? q.groupBy === 'camera' });
    return poolTotals(totals, q.groupBy, trimRegion(q.region ?? ''), config);
  };
  const pooled = KEPT_GROUPINGS.has(q.groupBy)
    ? await keeper(cache)(['figures', q.groupBy, q.from, q.to, ...filtersOf(q)], revisionsOf(days), pool)
    : await pool();
  return { period: periodOf(q.from, q.to, config.timezone), ...stateOf(q.from, q.to, days), ...pooled };
}

/** The range's total, and one group per measured day (key YYYY-MM-DD) whose figure is that day's
 * own total: what a request for that day alone answers. Days without figures have no group. */
async function figuresByDay(
  db: Kysely<CentralTables>,
  q: FiguresQuery,
  config: FigureConfig,
  days: readonly MeasuredDay[],
  cache?: FiguresCache,
): Promise<FiguresResult> {
  const keep = keeper(cache);
  const groups: Group[] = [];
  for (const d of days) {
    let pooled = false;
    const figure = await keep(['day', d.day, ...filtersOf(q)], String(d.revision), async () => {
      pooled = true;
      return poolTotals(await cameraTotalsOfDay(db, q, d.day), 'none', '', config).total;
    });
    groups.push({ key: d.day, figure });
    // A day at a time with a turn of the event loop between: a city's month read in one go holds
    // a synchronous driver for seconds, and every other request (the same page's rate cards) waits.
    if (pooled) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const total = await keep(['figures', 'none', q.from, q.to, ...filtersOf(q)], revisionsOf(days), async () =>
    poolTotals(await cameraTotals(db, q), 'none', '', config),
  );
  return { period: periodOf(q.from, q.to, config.timezone), ...stateOf(q.from, q.to, days), total: total.total, groups };
}

/** Every region path at every level, with the figures of the cameras in it. */
export async function regionTree(db: Kysely<CentralTables>, q: Omit<FiguresQuery, 'groupBy'>, config: FigureConfig, cache?: FiguresCache) {
  const days = await measuredDays(db, q.from, q.to);
  return keeper(cache)(['tree', q.from, q.to, ...filtersOf(q)], revisionsOf(days), () => poolRegionTree(db, q, config));
}

async function poolRegionTree(db: Kysely<CentralTables>, q: Omit<FiguresQuery, 'groupBy'>, config: FigureConfig) {
  const totals = await cameraTotals(db, q);
  const pools = new Map<string, Pool>();
  for (const c of totals) {
    for (const level of regionLevels(c.region)) {
      // Levels above the caller's scope would show its part as if it were the whole.
      if (!regionWithin(level, q.scope ?? EVERYWHERE)) continue;
      let pool = pools.get(level);
      if (!pool) pools.set(level, (pool = new Pool()));
      pool.add(c);
    }
  }
  return [...pools.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([region, pool]) => {
      const parts = region.split('/');
      return {
        region,
        name: parts[parts.length - 1],
        depth: parts.length,
        parent: parts.length > 1 ? parts.slice(0, -1).join('/') : null,
        figure: pool.figure(config.targets, config.hdMinHeight),
      };
    });
}
