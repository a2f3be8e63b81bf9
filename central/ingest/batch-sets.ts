// What one ingest batch comes to, table by table, before it is written: the writer writes a
// batch as a few multi-row statements (one per table) instead of statements per message, so the
// per-message rules (a site's first and latest observation, a camera's latest status, an hour's
// worst metrics, a site's evidence of life) are folded here over the batch first. Pure: the
// writer (writer.ts) reads and writes; these decide.
import { union, type Interval } from '../../lib/intervals';
import type { MetricsHourlyTable, StatusPointsTable } from '../store/schema';
import type { Accepted } from './classify';

/** Per key, the item with the latest `at`; of equal times the later in the list (as writing them in turn would leave). */
export function latestByKey<T>(items: readonly T[], keyOf: (item: T) => string, atOf: (item: T) => number): Map<string, T> {
  const latest = new Map<string, T>();
  for (const item of items) {
    const key = keyOf(item);
    const known = latest.get(key);
    if (known === undefined || atOf(item) >= atOf(known)) latest.set(key, item);
  }
  return latest;
}

/** Per site, the earliest and latest of these observation times. */
export function spansBySite(observations: ReadonlyArray<{ site: string; at: number }>): Map<string, { first: number; last: number }> {
  const spans = new Map<string, { first: number; last: number }>();
  for (const { site, at } of observations) {
    const known = spans.get(site);
    if (known === undefined) spans.set(site, { first: at, last: at });
    else spans.set(site, { first: Math.min(known.first, at), last: Math.max(known.last, at) });
  }
  return spans;
}

/** A site's stored span needs writing when the batch's reaches outside it (or there is no row yet). */
export function spanMoves(stored: { first_seen: number; last_observed: number } | undefined, span: { first: number; last: number }): boolean {
  return stored === undefined || span.first < stored.first_seen || span.last > stored.last_observed;
}

/** An hour's samples of one site, as this batch folds them (the writer adds its own name). */
export type HourlyRow = Omit<MetricsHourlyTable, 'writer'>;

function larger(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function smaller(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** One row per site and hour: the samples counted, the worst of each value (maxima of load, minima of what is free). */
export function foldHourly(samples: readonly HourlyRow[]): HourlyRow[] {
  const byHour = new Map<string, HourlyRow>();
  for (const s of samples) {
    const key = `${s.site_id}\u0000${s.hour}`;
    const known = byHour.get(key);
    if (known === undefined) {
      byHour.set(key, { ...s });
      continue;
    }
    known.samples += s.samples;
    known.load_avg_max = larger(known.load_avg_max, s.load_avg_max);
    known.cpu_percent_max = larger(known.cpu_percent_max, s.cpu_percent_max);
    known.mem_free_min = smaller(known.mem_free_min, s.mem_free_min);
    known.disk_free_percent_min = smaller(known.disk_free_percent_min, s.disk_free_percent_min);
    known.temperature_max = larger(known.temperature_max, s.temperature_max);
    known.agent_rss_max = larger(known.agent_rss_max, s.agent_rss_max);
    known.outbox_depth_max = larger(known.outbox_depth_max, s.outbox_depth_max);
    known.outbox_dropped_max = larger(known.outbox_dropped_max, s.outbox_dropped_max);
    known.cameras_offline_max = larger(known.cameras_offline_max, s.cameras_offline_max);
  }
  return [...byHour.values()];
}

/** How a site's stored evidence intervals change: rows to delete (by start) and rows to insert. */
export interface EvidenceChange {
  removed: Interval[];
  inserted: Interval[];
}

/**
 * A site's evidence after the batch's: `stored` are its stored intervals that overlap or touch
 * the added ones (others cannot change), `added` the batch's, disjoint and sorted. Every stored
 * interval an added one overlaps is merged with it; an added interval already inside one stored
 * interval changes nothing.
 */
export function evidenceChange(stored: readonly Interval[], added: readonly Interval[]): EvidenceChange {
  let current: Interval[] = stored.map((i) => ({ ...i }));
  for (const interval of added) {
    const overlapping = current.filter((o) => o.start <= interval.end && o.end >= interval.start);
    if (overlapping.length === 1 && overlapping[0].start <= interval.start && overlapping[0].end >= interval.end) continue;
    const merged = union(overlapping, [interval]);
    current = [...current.filter((o) => !overlapping.includes(o)), ...merged];
  }
  const same = (a: Interval, b: Interval) => a.start === b.start && a.end === b.end;
  return {
    removed: stored.filter((s) => !current.some((c) => same(c, s))),
    inserted: current.filter((c) => !stored.some((s) => same(c, s))).sort((a, b) => a.start - b.start),
  };
}

/** A status point row (a type, not the interface: rowsTable takes it as a record of its columns). */
export type StatusPointRow = { [K in keyof StatusPointsTable]: StatusPointsTable[K] };

/** The status points of these statuses, in key order (site, camera, message id): the one lock order of every instance. */
export function statusRows(statuses: ReadonlyArray<Extract<Accepted, { kind: 'status' }>>): StatusPointRow[] {
  return statuses
    .map((m) => {
      const p = m.payload;
      return {
        site_id: m.site,
        camera_id: m.camera,
        at: Date.parse(p.observedAt),
        message_id: p.messageId,
        seq: p.seq,
        state: p.state,
        picture: p.picture === null ? 'none' : p.picture.ok ? 'ok' : 'fault',
        faults: p.picture && p.picture.faults.length > 0 ? JSON.stringify(p.picture.faults) : null,
        reason: p.reason ?? null,
      };
    })
    .sort((a, b) => {
      const ka = `${a.site_id}\u0000${a.camera_id}\u0000${a.message_id}`;
      const kb = `${b.site_id}\u0000${b.camera_id}\u0000${b.message_id}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
}

/** A camera's current state, as its latest status says. */
// A type, not an interface: rowsTable takes it as a record of its columns.
export type CurrentState = {
  site_id: string;
  camera_id: string;
  state: string;
  at: number;
  picture: string;
  faults: string | null;
  reason: string | null;
};

/** Each camera's latest of these points, as its current state. */
export function currentStates(points: readonly StatusPointRow[]): CurrentState[] {
  return [
    ...latestByKey(
      points,
      (row) => `${row.site_id}\u0000${row.camera_id}`,
      (row) => row.at,
    ).values(),
  ].map((row) => ({
    site_id: row.site_id,
    camera_id: row.camera_id,
    state: row.state,
    at: row.at,
    picture: row.picture,
    faults: row.faults,
    reason: row.reason,
  }));
}
