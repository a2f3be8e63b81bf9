// A local day's measured rows from its loaded data: the timeline applied to every camera, the
// groups of its latest meta by the end, and what the next day starts from.
import type { Interval } from '../../lib/intervals';
import { measureCamera, type StatusPoint } from './timeline';
import type { CameraDayRow, SiteDayData } from './store';

/** What the next day's figures depend on from this one: if it changes, the next day is stale. */
export function carryOf(last: StatusPoint | null, presentAtEnd: boolean, groups: unknown): string {
  return JSON.stringify({ last, presentAtEnd, groups });
}

/** `period` is the day, or the part of today that has passed. */
export function buildDayRows(day: string, period: Interval, sites: readonly SiteDayData[]): CameraDayRow[] {
  const rows: CameraDayRow[] = [];
  for (const site of sites) {
    for (const camera of site.cameras) {
      const seconds = measureCamera({ period, lifetimes: camera.lifetimes, evidence: site.evidence, carryIn: camera.carryIn, points: camera.points });
      if (seconds.countedMs === 0) continue;
      const presentAtEnd = camera.lifetimes.some((l) => l.start < period.end && l.end >= period.end);
      const g = camera.groups;
      rows.push({
        day,
        site_id: camera.site,
        camera_id: camera.camera,
        counted_ms: seconds.countedMs,
        known_ms: seconds.knownMs,
        online_ms: seconds.onlineMs,
        offline_ms: seconds.offlineMs,
        intact_known_ms: seconds.intactKnownMs,
        intact_ms: seconds.intactMs,
        fault_ms: seconds.faultMs,
        causes: JSON.stringify(seconds.causes),
        class: g?.class ?? null,
        region: g?.region ?? null,
        owner: g?.owner ?? null,
        has_coordinates: g?.hasCoordinates ? 1 : 0,
        main_height: g?.mainHeight ?? null,
        present_at_end: presentAtEnd ? 1 : 0,
        carry: carryOf(seconds.last, presentAtEnd, g),
      });
    }
  }
  return rows;
}
