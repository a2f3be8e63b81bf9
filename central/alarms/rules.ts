// The alarm rule, pure: given what is known of one (site, camera, kind) — the latest observation
// and its alarm periods — and one more observation (a fault or an all-clear at its observedAt),
// what changes. Messages come in any order (a replayed backlog, two instances splitting a site's
// messages), so a late observation never opens or clears the alarm the latest one decided: it
// only corrects history (an earlier start, an earlier clear, or a fault that opened and cleared
// while nobody was looking, kept as a cleared alarm with its real times). docs/alarms.md.

export const ALARM_KINDS = ['site-offline', 'camera-offline', 'picture-fault', 'stream-fault', 'disk-low', 'outbox-dropping'] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export const ALARM_STATES = ['open', 'acknowledged', 'cleared'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

/** One thing seen about a (site, camera, kind): a fault or an all-clear, at its observedAt. */
export interface Observation {
  at: number;
  fault: boolean;
  /** What was seen, one line (the alarm's opening or clearing evidence). */
  evidence: string;
  /** Facts of a fault (faults, free disk, …), kept on the alarm. */
  detail?: Record<string, unknown>;
  /** From a replayed backlog (historical: true). */
  historical?: boolean;
  /** The camera was removed: clears whatever is open, however late it comes (the camera is gone). */
  removal?: boolean;
}

/** The latest observation of a key: the one that decides whether its alarm is open now. */
export interface Latest {
  at: number;
  fault: boolean;
  /** Earliest all-clear known since the latest fault (or ever, before any): where a late fault's alarm ends. */
  okSince: number | null;
}

/** One alarm period of a key, as the rule sees it. */
export interface Period {
  /** Absent on a period this rule just created. */
  id?: string;
  openedAt: number;
  openedBy: string;
  /** Latest fault observation of the period. */
  lastFaultAt: number;
  clearedAt: number | null;
  clearedBy: string | null;
  /** Latest all-clear known before the period opened: a late fault before it and after this is the same fault. */
  okBefore: number | null;
  detail: Record<string, unknown>;
  historical: boolean;
}

export interface KeyState {
  latest: Latest | null;
  /** The key's periods that matter to the observations at hand, sorted by openedAt. */
  periods: Period[];
}

export type Decision =
  | { action: 'open' }
  | { action: 'still-open'; period: number }
  | { action: 'clear'; period: number }
  | { action: 'extend'; period: number }
  | { action: 'start-earlier'; period: number }
  | { action: 'clear-earlier'; period: number }
  | { action: 'past-alarm'; clearedAt: number; clearedBy: string }
  | { action: 'note-ok' }
  | { action: 'ignore' };

/** The period in force at `at` (opened at or before it, not cleared before it), by index. */
function periodAt(periods: readonly Period[], at: number): number {
  for (let i = periods.length - 1; i >= 0; i--) {
    const p = periods[i];
    if (p.openedAt <= at) return p.clearedAt === null || at < p.clearedAt ? i : -1;
  }
  return -1;
}

function lastOpenedAtOrBefore(periods: readonly Period[], at: number): number {
  for (let i = periods.length - 1; i >= 0; i--) if (periods[i].openedAt <= at) return i;
  return -1;
}

/** Is this observation newer than the one that decided the key (a fault wins a tie)? */
function isNewer(latest: Latest | null, o: Observation): boolean {
  if (!latest) return true;
  return o.at > latest.at || (o.at === latest.at && o.fault && !latest.fault);
}

/** The earliest all-clear known after `at`, if any. */
function earliestOkAfter(state: KeyState, at: number, next: Period | undefined): number | null {
  const candidates = [next?.okBefore ?? null, state.latest?.okSince ?? null, state.latest && !state.latest.fault ? state.latest.at : null];
  const after = candidates.filter((c): c is number => c !== null && c > at);
  return after.length > 0 ? Math.min(...after) : null;
}

export function decide(state: KeyState, o: Observation): Decision {
  const { periods } = state;
  const open = periods.findIndex((p) => p.clearedAt === null);
  if (o.removal) return open >= 0 ? { action: 'clear', period: open } : { action: 'note-ok' };
  if (isNewer(state.latest, o)) {
    if (o.fault) return open >= 0 ? { action: 'still-open', period: open } : { action: 'open' };
    return open >= 0 ? { action: 'clear', period: open } : { action: 'note-ok' };
  }
  // Older than the decision in force: history only.
  if (o.fault) {
    const inside = periodAt(periods, o.at);
    if (inside >= 0) return periods[inside].lastFaultAt >= o.at ? { action: 'ignore' } : { action: 'extend', period: inside };
    const nextIndex = lastOpenedAtOrBefore(periods, o.at) + 1;
    const next = periods[nextIndex] as Period | undefined;
    if (next && (next.okBefore === null || next.okBefore < o.at)) return { action: 'start-earlier', period: nextIndex };
    const clearedAt = earliestOkAfter(state, o.at, next);
    // Always known: a latest fault is inside an open period, which is then `next` or covers o.at.
    if (clearedAt === null) return { action: 'ignore' };
    return { action: 'past-alarm', clearedAt, clearedBy: 'a later all-clear' };
  }
  const before = lastOpenedAtOrBefore(periods, o.at);
  const p = before >= 0 ? periods[before] : undefined;
  if (p && p.clearedAt !== null && o.at > p.lastFaultAt && o.at < p.clearedAt) return { action: 'clear-earlier', period: before };
  if (p && (p.clearedAt === null || o.at <= p.lastFaultAt)) return { action: 'ignore' };
  return { action: 'note-ok' };
}

/** The key's state after the observation, and the indexes of the periods that changed (new ones included). */
export function apply(state: KeyState, o: Observation, d: Decision = decide(state, o)): { state: KeyState; changed: number[] } {
  const periods = state.periods.map((p) => ({ ...p }));
  let latest = state.latest ? { ...state.latest } : null;
  const newer = o.removal === true || isNewer(state.latest, o);
  const changed: number[] = [];
  const touch = (i: number) => changed.push(i);
  switch (d.action) {
    case 'open':
      periods.push({
        openedAt: o.at,
        openedBy: o.evidence,
        lastFaultAt: o.at,
        clearedAt: null,
        clearedBy: null,
        okBefore: latest && !latest.fault ? latest.at : null,
        detail: o.detail ?? {},
        historical: o.historical === true,
      });
      touch(periods.length - 1);
      break;
    case 'still-open':
    case 'extend':
      periods[d.period].lastFaultAt = Math.max(periods[d.period].lastFaultAt, o.at);
      if (d.action === 'still-open' && o.detail) periods[d.period].detail = o.detail;
      touch(d.period);
      break;
    case 'clear':
    case 'clear-earlier':
      periods[d.period].clearedAt = Math.max(o.at, periods[d.period].openedAt);
      periods[d.period].clearedBy = o.evidence;
      touch(d.period);
      break;
    case 'start-earlier':
      periods[d.period].openedAt = o.at;
      periods[d.period].openedBy = o.evidence;
      touch(d.period);
      break;
    case 'past-alarm': {
      const at = periods.findIndex((p) => p.openedAt > o.at);
      const index = at < 0 ? periods.length : at;
      periods.splice(index, 0, {
        openedAt: o.at,
        openedBy: o.evidence,
        lastFaultAt: o.at,
        clearedAt: d.clearedAt,
        clearedBy: d.clearedBy,
        okBefore: null,
        detail: o.detail ?? {},
        historical: true,
      });
      // The new period shifts the indexes of the ones after it.
      touch(index);
      break;
    }
    case 'note-ok': {
      if (newer) break;
      const next = periods.find((p) => p.openedAt > o.at);
      if (next) {
        next.okBefore = Math.max(next.okBefore ?? o.at, o.at);
        touch(periods.indexOf(next));
      } else if (latest && !latest.fault) {
        latest.okSince = Math.min(latest.okSince ?? o.at, o.at);
      }
      break;
    }
    case 'ignore':
      break;
  }
  if (newer) {
    const at = Math.max(o.at, o.removal && latest ? latest.at : o.at);
    latest = {
      at,
      fault: o.fault,
      okSince: o.fault ? null : latest && !latest.fault && latest.okSince !== null ? latest.okSince : at,
    };
  }
  return { state: { latest, periods }, changed: [...new Set(changed)] };
}

/** The state an alarm is in, for people: open, acknowledged, or cleared. */
export function alarmState(clearedAt: number | null, acknowledgedAt: number | null): AlarmState {
  if (clearedAt !== null) return 'cleared';
  return acknowledgedAt !== null ? 'acknowledged' : 'open';
}
