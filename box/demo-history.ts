// The demo's past: the last days of its three sites, so a fresh demo opens on a 30-day trend,
// yesterday's report and cameras' timelines rather than on one point of today. Built for the
// cameras exactly as the sites' inventories know them (their ids come from the devices' identity,
// their metas are the ones the agents send), each ending as the live demo makes it: the cameras
// planned offline offline, those with a picture fault with it. Pure: scripts/sim/history.ts
// makes the facts, this only says which.
import type { CameraRecord } from '../agent/inventory/types';
import { cameraMetaRecord } from '../agent/uplink/payloads';
import { addDays, dayBounds, dayOf } from '../central/figures/days';
import { siteHistory, type CameraEnd } from '../scripts/sim/history';
import { SimulatedSite, type TelemetryMessage } from '../scripts/sim/telemetry';
import type { SimPicture } from '../scripts/sim/types';
import { demoHost, type DemoCamera, type DemoSite } from './demo';

/** Every fresh demo tells the same story. */
export const DEMO_HISTORY_SEED = 20_260_101;

/** Most days a demo can be given: a day is ~1,800 messages a site, taken in at start. */
export const DEMO_DAYS_MAX = 90;

/** What the agents report for each simulated picture (an NVR's blue screen is its no-video). */
const FAULTS_OF: Partial<Record<SimPicture, string[]>> = { black: ['black'], frozen: ['frozen'], blue: ['no-video'] };

export interface DemoSiteInventory {
  site: DemoSite;
  /** Its index in DEMO_SITES (the cameras' loopback addresses follow it). */
  index: number;
  cameras: readonly CameraRecord[];
}

export interface DemoHistorySpan {
  /** Whole local days before today; 0: none. */
  days: number;
  /** Where the live agents take over. */
  to: number;
  /** central.timezone: the days of the figures. */
  timezone: string;
  /** central.staleAfterSec: the metrics come more often, so every minute of the history is known. */
  staleAfterSec: number;
}

function endOf(camera: DemoCamera): CameraEnd {
  if (camera.offline) return { state: 'offline' };
  const faults = camera.picture ? (FAULTS_OF[camera.picture] ?? [camera.picture]) : [];
  return { state: 'online', picture: faults.length > 0 ? { ok: false, faults } : { ok: true } };
}

/** The history's first instant: the local midnight `days` days before today's. */
export function historyStart(span: Pick<DemoHistorySpan, 'days' | 'to' | 'timezone'>): number {
  return dayBounds(addDays(dayOf(span.to, span.timezone), -span.days), span.timezone).start;
}

/** Each site's history, oldest first, one site at a time: a month of a site is ~18,000 messages, and
 * the box need not hold the three at once. */
export function* demoHistories(inventories: readonly DemoSiteInventory[], span: DemoHistorySpan): Generator<TelemetryMessage[]> {
  if (span.days === 0) return;
  const from = historyStart(span);
  // The agents send metrics every minute; a sample every 4/5 of staleAfterSec is evidence enough
  // and less than half the messages to take in at start.
  const metricsEveryMs = Math.max(1000, Math.floor(span.staleAfterSec * 800));
  for (const { site, index, cameras } of inventories) {
    const labels = [];
    const ends: Record<string, CameraEnd> = {};
    for (const [i, planned] of site.cameras.entries()) {
      const record = cameras.find((c) => c.device.host === demoHost(index, i));
      if (!record) continue;
      labels.push({ camera: record.id, meta: cameraMetaRecord(record) });
      ends[record.id] = endOf(planned);
    }
    yield siteHistory(new SimulatedSite(site.id, labels), { from, to: span.to, seed: DEMO_HISTORY_SEED, metricsEveryMs, ends });
  }
}
