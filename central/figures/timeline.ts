// One camera over one period, measured: how long it was counted, known, online, intact, and in
// which fault, from its status points, its lifetimes and its site's evidence of life. The rules are
// docs/metrics.md's; this is the only place that applies them.
import { intersect, measure, OverlapCursor, type Interval } from '../../lib/intervals';

/** A status as the timeline needs it (status_points rows). */
export interface StatusPoint {
  at: number;
  /** online | degraded | offline | unknown */
  state: string;
  /** ok | fault | none (no picture verdict yet) */
  picture: string;
  /** The picture faults (black, frozen, no-video, no-picture, …) when picture is fault. */
  faults: readonly string[];
}

export interface CameraPeriodInput {
  period: Interval;
  /** When the camera was counted: from its first meta until its removal; end Infinity while it lasts. */
  lifetimes: readonly Interval[];
  /** When its site gave evidence of life (sorted, disjoint). */
  evidence: readonly Interval[];
  /** The latest status before the period, if any. */
  carryIn: StatusPoint | null;
  /** Its statuses inside the period, sorted by time (ties: the later in the list wins). */
  points: readonly StatusPoint[];
}

/** Durations in ms. */
export interface CameraSeconds {
  countedMs: number;
  knownMs: number;
  onlineMs: number;
  offlineMs: number;
  /** Known for the intact rate: offline, or online with a picture verdict. */
  intactKnownMs: number;
  intactMs: number;
  /** Online with a picture fault. */
  faultMs: number;
  /** Known time not intact, by cause: offline, or each picture fault (a second with two faults counts for both). */
  causes: Record<string, number>;
  /** The status in force at the period's end (carried into the next period). */
  last: StatusPoint | null;
}

const ONLINE = new Set(['online', 'degraded']);

/** A picture fault without a named fault still has a cause. */
const UNNAMED_FAULT = 'picture-fault';

export function emptySeconds(): CameraSeconds {
  return { countedMs: 0, knownMs: 0, onlineMs: 0, offlineMs: 0, intactKnownMs: 0, intactMs: 0, faultMs: 0, causes: {}, last: null };
}

export function measureCamera(input: CameraPeriodInput): CameraSeconds {
  const out = emptySeconds();
  const counted = intersect([input.period], input.lifetimes);
  const known = new OverlapCursor(intersect(counted, input.evidence));
  out.countedMs = measure(counted);

  let current = input.carryIn;
  let from = input.period.start;
  const account = (status: StatusPoint | null, start: number, end: number) => {
    if (status === null || end <= start) return;
    const ms = known.overlap(start, end);
    if (ms === 0) return;
    if (ONLINE.has(status.state)) {
      out.knownMs += ms;
      out.onlineMs += ms;
      if (status.picture === 'ok') {
        out.intactKnownMs += ms;
        out.intactMs += ms;
      } else if (status.picture === 'fault') {
        out.intactKnownMs += ms;
        out.faultMs += ms;
        const faults = status.faults.length > 0 ? status.faults : [UNNAMED_FAULT];
        for (const f of faults) out.causes[f] = (out.causes[f] ?? 0) + ms;
      }
    } else if (status.state === 'offline') {
      out.knownMs += ms;
      out.offlineMs += ms;
      out.intactKnownMs += ms;
      out.causes.offline = (out.causes.offline ?? 0) + ms;
    }
  };
  for (const p of input.points) {
    if (p.at < input.period.start || p.at >= input.period.end) continue;
    account(current, from, p.at);
    current = p;
    from = p.at;
  }
  account(current, from, input.period.end);
  out.last = current;
  return out;
}

/** What one stretch of a camera's timeline was: not counted (before its first meta, after its
 * removal), unknown (its site gave no evidence of life, or it had no state), or its state. */
export type BandState = 'online' | 'fault' | 'offline' | 'unknown' | 'uncounted';

export interface Band extends Interval {
  state: BandState;
  /** The picture faults of a fault band. */
  faults: readonly string[];
}

/** What a status makes of the known time it covers: the rule measureCamera counts by. */
export function knownStateOf(status: StatusPoint | null): Exclude<BandState, 'uncounted'> {
  if (status === null) return 'unknown';
  if (ONLINE.has(status.state)) return status.picture === 'fault' ? 'fault' : 'online';
  return status.state === 'offline' ? 'offline' : 'unknown';
}

/**
 * The period cut into stretches of one state each, adjacent stretches of the same state (and
 * faults) joined: what measureCamera measures, laid out in time, so a drawn timeline and the
 * figures cannot disagree (the sum of each state's stretches is its seconds).
 */
export function cameraBands(input: CameraPeriodInput): Band[] {
  const { start, end } = input.period;
  if (end <= start) return [];
  const counted = intersect([input.period], input.lifetimes);
  const known = intersect(counted, input.evidence);
  const cuts = new Set<number>([start, end]);
  for (const i of [...counted, ...known]) cuts.add(i.start).add(i.end);
  for (const p of input.points) if (p.at > start && p.at < end) cuts.add(p.at);
  const times = [...cuts].sort((a, b) => a - b);
  const bands: Band[] = [];
  let current = input.carryIn;
  let p = 0;
  let c = 0;
  let k = 0;
  for (let n = 0; n + 1 < times.length; n++) {
    const from = times[n];
    const to = times[n + 1];
    while (p < input.points.length && input.points[p].at <= from) {
      if (input.points[p].at >= start) current = input.points[p];
      p++;
    }
    while (c < counted.length && counted[c].end <= from) c++;
    while (k < known.length && known[k].end <= from) k++;
    const isCounted = c < counted.length && counted[c].start <= from;
    const isKnown = k < known.length && known[k].start <= from;
    const state: BandState = !isCounted ? 'uncounted' : !isKnown ? 'unknown' : knownStateOf(current);
    const faults = state === 'fault' && current ? current.faults : [];
    const last = bands[bands.length - 1];
    if (last && last.state === state && last.end === from && last.faults.join() === faults.join()) last.end = to;
    else bands.push({ start: from, end: to, state, faults });
  }
  return bands;
}
