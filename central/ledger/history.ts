// What happened over time, for one site or one camera: the site's connection timeline and its
// hourly metrics; the camera's statuses, when it was counted, and when its site gave evidence of
// life — the raw material of its figures (docs/metrics.md), in the caller's scope.
import type { Kysely } from 'kysely';
import type { CentralTables } from '../store/schema';
import { cameraBands } from '../figures/timeline';
import { cameraInScope, siteInScope, type RegionScope } from './scope';

/** The longest span one request reads: a year. */
export const HISTORY_MAX_MS = 366 * 86_400_000;
/** Status points in one answer at most (a flapping camera over a year has more: ask for less). */
export const TIMELINE_MAX_POINTS = 20_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The sites' hourly metrics, one row per site and hour: each central instance adds its samples to
 * rows of its own (ingest/writer.ts), folded here the way the writer folds samples (counts added,
 * the worst of each value kept).
 */
export function metricsByHour(db: Kysely<CentralTables>) {
  return db
    .selectFrom('metrics_hourly')
    .select((eb) => [
      'site_id',
      'hour',
      eb.fn.sum<number>('samples').as('samples'),
      eb.fn.max('load_avg_max').as('load_avg_max'),
      eb.fn.max('cpu_percent_max').as('cpu_percent_max'),
      eb.fn.min('mem_free_min').as('mem_free_min'),
      eb.fn.min('disk_free_percent_min').as('disk_free_percent_min'),
      eb.fn.max('temperature_max').as('temperature_max'),
      eb.fn.max('agent_rss_max').as('agent_rss_max'),
      eb.fn.max('outbox_depth_max').as('outbox_depth_max'),
      eb.fn.max('outbox_dropped_max').as('outbox_dropped_max'),
      eb.fn.max('cameras_offline_max').as('cameras_offline_max'),
    ])
    .groupBy(['site_id', 'hour']);
}

function parseList(text: string | null): string[] {
  if (!text) return [];
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

export async function siteHistory(db: Kysely<CentralTables>, site: string, from: number, to: number, scope: RegionScope) {
  const known = await db.selectFrom('sites').select('site_id').where('site_id', '=', site).where(siteInScope('sites.site_id', scope)).executeTakeFirst();
  if (!known) return undefined;
  const connections = await db
    .selectFrom('site_connections')
    .selectAll()
    .where('site_id', '=', site)
    .where('at', '>=', from)
    .where('at', '<', to)
    .orderBy('at')
    .limit(10_000)
    .execute();
  const metrics = await metricsByHour(db)
    .where('site_id', '=', site)
    .where('hour', '>=', from - (from % 3_600_000))
    .where('hour', '<', to)
    .orderBy('hour')
    .limit(10_000)
    .execute();
  const latest = await db.selectFrom('metrics_latest').select(['at', 'payload']).where('site_id', '=', site).executeTakeFirst();
  return {
    site,
    /** The latest metrics message as the agent sent it. */
    latestMetrics: latest ? (JSON.parse(latest.payload) as Record<string, unknown>) : null,
    connections: connections.map((c) => ({ at: iso(c.at) as string, connection: c.connection, reason: c.reason, bdSeq: c.bd_seq })),
    metrics: metrics.map((m) => ({
      hour: iso(m.hour) as string,
      samples: Number(m.samples),
      loadAvgMax: m.load_avg_max,
      cpuPercentMax: m.cpu_percent_max,
      memFreeMinBytes: m.mem_free_min,
      diskFreePercentMin: m.disk_free_percent_min,
      temperatureMaxC: m.temperature_max,
      agentRssMaxBytes: m.agent_rss_max,
      outboxDepthMax: m.outbox_depth_max,
      outboxDroppedMax: m.outbox_dropped_max,
      camerasOfflineMax: m.cameras_offline_max,
    })),
  };
}

/** A camera's statuses over [from, to), and its bands up to `now` (nothing is known of later). */
export async function cameraTimeline(db: Kysely<CentralTables>, site: string, camera: string, from: number, to: number, now: number, scope: RegionScope) {
  const known = await db
    .selectFrom('cameras')
    .select('camera_id')
    .where('site_id', '=', site)
    .where('camera_id', '=', camera)
    .where(cameraInScope('cameras.site_id', 'cameras.camera_id', scope))
    .executeTakeFirst();
  if (!known) return undefined;
  const points = await db
    .selectFrom('status_points')
    .select(['at', 'state', 'picture', 'faults', 'reason'])
    .where('site_id', '=', site)
    .where('camera_id', '=', camera)
    .where('at', '>=', from)
    .where('at', '<', to)
    .orderBy('at')
    .limit(TIMELINE_MAX_POINTS + 1)
    .execute();
  const before = await db
    .selectFrom('status_points')
    .select(['at', 'state', 'picture', 'faults', 'reason'])
    .where('site_id', '=', site)
    .where('camera_id', '=', camera)
    .where('at', '<', from)
    .orderBy('at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const lifetimes = await db
    .selectFrom('camera_lifetimes')
    .select(['start_ms', 'end_ms'])
    .where('site_id', '=', site)
    .where('camera_id', '=', camera)
    .where('start_ms', '<', to)
    .where((eb) => eb.or([eb('end_ms', 'is', null), eb('end_ms', '>', from)]))
    .orderBy('start_ms')
    .execute();
  const evidence = await db
    .selectFrom('site_evidence')
    .select(['start_ms', 'end_ms'])
    .where('site_id', '=', site)
    .where('start_ms', '<', to)
    .where('end_ms', '>', from)
    .orderBy('start_ms')
    .limit(10_000)
    .execute();
  const point = (p: { at: number; state: string; picture: string; faults: string | null; reason: string | null }) => ({
    at: iso(p.at) as string,
    state: p.state,
    picture: p.picture,
    faults: parseList(p.faults),
    reason: p.reason,
  });
  const statusOf = (p: { at: number; state: string; picture: string; faults: string | null }) => ({ ...p, faults: parseList(p.faults) });
  const bands = cameraBands({
    period: { start: from, end: Math.min(to, now) },
    lifetimes: lifetimes.map((l) => ({ start: l.start_ms, end: l.end_ms ?? Infinity })),
    evidence: evidence.map((e) => ({ start: e.start_ms, end: e.end_ms })),
    carryIn: before ? statusOf(before) : null,
    points: points.slice(0, TIMELINE_MAX_POINTS).map(statusOf),
  });
  return {
    site,
    camera,
    from: iso(from) as string,
    to: iso(to) as string,
    /** The status in force at `from`. */
    initial: before ? point(before) : null,
    points: points.slice(0, TIMELINE_MAX_POINTS).map(point),
    truncated: points.length > TIMELINE_MAX_POINTS,
    counted: lifetimes.map((l) => ({ from: iso(l.start_ms) as string, to: iso(l.end_ms) })),
    evidence: evidence.map((e) => ({ from: iso(e.start_ms) as string, to: iso(e.end_ms) as string })),
    bands: bands.map((b) => ({ from: iso(b.start) as string, to: iso(b.end) as string, state: b.state, faults: [...b.faults] })),
  };
}
