// A simulated site's past, as its agent would replay it from its outbox after a long outage: every
// message historical, observed in the past, never retained. Each camera is counted from the start
// (its meta then), mostly online, now and then offline or with a picture fault for a few hours
// that then clears; on a bad day many of a site's cameras go dark together (a power cut), so the
// trend has a shape; metrics through the whole span are the site's evidence of life; and every
// camera ends as the caller says it is when its live agent takes over. Pure: the same plan gives
// the same facts (only message ids and outbox sequences are fresh).
import type { SimPicture, SimulatedSite, TelemetryMessage } from './telemetry';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What a camera is at the end of the history: what its live agent reports next. */
export interface CameraEnd {
  state: 'online' | 'offline';
  /** Online: its picture verdict (ok when omitted). */
  picture?: SimPicture;
}

export interface HistoryPlan {
  /** Start of the history; a local midnight makes each 24 hours from it one day of the figures. */
  from: number;
  /** Where the live agents take over. */
  to: number;
  /** Which history: another seed, other outages on other days. */
  seed: number;
  /** Between two metrics samples: under the central's staleAfterSec, or stretches of the history are unknown. */
  metricsEveryMs: number;
  /** Each camera's end (by camera id); a camera not here is in the ledger from the start but never reported a state. */
  ends: Readonly<Record<string, CameraEnd>>;
}

/** A deterministic number in [0, 1) from integers. */
function noise(...n: number[]): number {
  let h = 2166136261;
  for (const x of n) h = Math.imul(h ^ x, 16777619) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  return (h % 1_000_000) / 1_000_000;
}

/** A text as an integer for noise(). */
function textHash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** What noise() is asked about: each question its own stream. */
const ASK = { badDay: 1, hit: 2, kind: 3, start: 4, length: 5, fault: 6, cutStart: 7, cutLength: 8, endAge: 9, load: 10 } as const;

/** Faults a picture shows for a few hours (a spider's web, a stuck encoder, a dirty lens). */
const PASSING_FAULTS = ['black', 'frozen', 'blurred', 'occluded', 'no-video'];

/** About one day in eight is a bad day; the same days for every site of one seed. */
export function isBadDay(seed: number, day: number): boolean {
  return noise(seed, ASK.badDay, day) < 0.125;
}

interface Incident {
  start: number;
  end: number;
  /** offline, or the picture faults while online. */
  what: 'offline' | string[];
}

/** One camera's incidents, none overlapping another or the camera's end state, which starts at `endStart`. */
function incidents(plan: HistoryPlan, site: number, camera: number, endStart: number): Incident[] {
  const out: Incident[] = [];
  let free = plan.from;
  for (let day = 0, dayStart = plan.from; dayStart < endStart; day++, dayStart += DAY) {
    const r = (ask: number) => noise(plan.seed, site, camera, day, ask);
    let incident: Incident | undefined;
    if (isBadDay(plan.seed, day) && r(ASK.hit) < 0.6) {
      // The site's power cut: the same hours for every camera it takes down.
      const start = dayStart + (7 + Math.floor(noise(plan.seed, site, day, ASK.cutStart) * 6)) * HOUR;
      const length = (5 + Math.floor(noise(plan.seed, site, day, ASK.cutLength) * 4)) * HOUR;
      incident = { start, end: start + length, what: 'offline' };
    } else if (r(ASK.hit) < 0.1) {
      const start = dayStart + Math.floor(r(ASK.start) * 20 * 4) * (HOUR / 4);
      const length = (2 + Math.floor(r(ASK.length) * 6)) * HOUR;
      const what = r(ASK.kind) < 0.5 ? 'offline' : [PASSING_FAULTS[Math.floor(r(ASK.fault) * PASSING_FAULTS.length)]];
      incident = { start, end: start + length, what };
    }
    if (!incident || incident.start < free || incident.end >= endStart) continue;
    out.push(incident);
    free = incident.end;
  }
  return out;
}

/** When a camera's end state began: an offline camera went dark hours ago, a faulty picture days ago. */
function endStartOf(plan: HistoryPlan, site: number, camera: number, end: CameraEnd): number {
  const age = noise(plan.seed, site, camera, ASK.endAge);
  const ago = end.state === 'offline' ? (2 + Math.floor(age * 9)) * HOUR : end.picture && end.picture.ok === false ? (1 + age * 2) * DAY : 0;
  return Math.max(plan.from, plan.to - ago);
}

/** The history of one site's cameras, oldest first. */
export function siteHistory(sim: SimulatedSite, plan: HistoryPlan): TelemetryMessage[] {
  if (!(plan.to > plan.from)) return [];
  if (!(plan.metricsEveryMs > 0)) throw new RangeError(`history: metricsEveryMs must be positive (got ${plan.metricsEveryMs})`);
  const site = textHash(sim.site);
  const timed: Array<{ at: number; message: TelemetryMessage }> = [];
  const ok: SimPicture = { ok: true };
  sim.cameras.forEach((label, i) => {
    timed.push({ at: plan.from, message: sim.meta(label, plan.from, { historical: true }) });
    const end = plan.ends[label.camera];
    if (!end) return;
    const camera = textHash(label.camera) ^ i;
    const endStart = endStartOf(plan, site, camera, end);
    if (endStart > plan.from) timed.push({ at: plan.from, message: sim.status(label.camera, 'online', plan.from, ok, { historical: true }) });
    for (const incident of incidents(plan, site, camera, endStart)) {
      const during =
        incident.what === 'offline'
          ? sim.status(label.camera, 'offline', incident.start, null, { historical: true })
          : sim.status(label.camera, 'online', incident.start, { ok: false, faults: incident.what }, { historical: true });
      timed.push({ at: incident.start, message: during });
      timed.push({ at: incident.end, message: sim.status(label.camera, 'online', incident.end, ok, { historical: true }) });
    }
    if (end.state === 'offline') timed.push({ at: endStart, message: sim.status(label.camera, 'offline', endStart, null, { historical: true }) });
    else if (end.picture && end.picture.ok === false) {
      timed.push({ at: endStart, message: sim.status(label.camera, 'online', endStart, end.picture, { historical: true }) });
    }
  });
  const bootedAt = plan.from - 3 * DAY;
  for (let at = plan.from, n = 0; at < plan.to; at += plan.metricsEveryMs, n++) {
    // A township box's load: higher by day, when the picture checks compete with the live views.
    const hourOfDay = Math.floor(((at - plan.from) % DAY) / HOUR);
    const loadAvg1 = Math.round((0.2 + (hourOfDay >= 8 && hourOfDay < 20 ? 0.4 : 0) + noise(plan.seed, site, n, ASK.load) * 0.3) * 100) / 100;
    timed.push({ at, message: sim.metrics(at, { historical: true, loadAvg1, uptimeSec: Math.floor((at - bootedAt) / 1000) }) });
  }
  // Stable: at one moment, a meta before its camera's first status.
  return timed.sort((a, b) => a.at - b.at).map((t) => t.message);
}
