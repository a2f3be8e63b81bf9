// One camera's health as a debounced state machine. Pure: probe results and a time go in,
// the status and the events to publish come out. The monitor (monitor.ts) feeds it and the
// uplink publishes what it returns.
//
// Rules (docs/health.md):
// - Reachability: `offlineAfterFailures` failed checks in a row take an online (or unknown)
//   camera offline; `onlineAfterSuccesses` successes in a row bring an offline one back. The
//   first result of an unknown camera that succeeds makes it online at once (nothing to
//   debounce against). While a change is pending, `pending()` asks for a quick confirming check.
// - Flapping: `flapTransitions` reachability changes within `flapWindowMs` → one
//   camera-flapping event, then no online/offline events until the camera has been stable for
//   a whole window; then one event if its state differs from the last one announced.
// - ONVIF service and each stream: the same counters, as onvif-fault/-ok and stream-fault/-ok.
// - Picture: a fault (no-picture included) is reported once `confirmProbes` probes in a row have
//   found it, so one odd moment (a truck passing close, a headlight) raises no alarm; it clears at
//   the first probe without it. picture-fault when the reported set grows or changes, picture-ok
//   when it empties. Until confirmed the status keeps what was reported (the latest scores and
//   the unconfirmed faults are shown), and `pending().picture` asks for the confirming probe soon.
//   A probe without a picture says nothing about what the picture shows: until no-picture is
//   confirmed it leaves the other faults' counts alone; once it is, it replaces them.
// - Clock: clock-drift once when |offset| > maxDriftMs, clock-ok when it is back under half.
import type { ClockResult, PictureReference, PictureResult, ProbeError, ReachResult, StreamCheck } from './types';
import type { CameraState, CameraStatus, CheckStatus, PictureStatus, StreamStatus, EventBody } from '../../contract';

export interface HealthRules {
  offlineAfterFailures: number;
  onlineAfterSuccesses: number;
  flapTransitions: number;
  flapWindowMs: number;
  maxDriftMs: number;
  /** Probes in a row that must find a picture fault before it is reported (1 = the first). */
  confirmProbes: number;
}

/** What the status says of a camera's picture reference. */
export type ReferenceInfo = Pick<PictureReference, 'takenAt' | 'origin'>;

export interface HealthOutput {
  events: EventBody[];
  /** The published status changed in a way the central must hear now (state, faults, reason). */
  changed: boolean;
}

/** A debounced boolean: ok/faulty with counters. `undefined` = not yet known. */
class Debounced {
  value: boolean | undefined;
  private failures = 0;
  private successes = 0;

  constructor(
    private readonly failuresNeeded: number,
    private readonly successesNeeded: number,
    initial?: boolean,
  ) {
    this.value = initial;
  }

  /** Feeds one result; returns the new value when it flipped (or was first decided), else undefined. */
  feed(ok: boolean): boolean | undefined {
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (this.value === undefined || (this.value === false && this.successes >= this.successesNeeded)) return this.set(true);
    } else {
      this.successes = 0;
      this.failures++;
      if (this.value !== false && this.failures >= this.failuresNeeded) return this.set(false);
    }
    return undefined;
  }

  /** A change is under way: the last result disagreed with the value and needs confirming. */
  get pending(): boolean {
    return (this.value !== false && this.failures > 0) || (this.value === false && this.successes > 0);
  }

  private set(value: boolean): boolean {
    this.value = value;
    this.failures = 0;
    this.successes = 0;
    return value;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function checkOf(ok: boolean, latencyMs: number | null, at: number, error?: ProbeError): CheckStatus {
  return { ok, latencyMs, checkedAt: iso(at), ...(error ? { error: { code: error.code, message: error.message } } : {}) };
}

/** The picture faults of a status as a sorted key, to see whether the set changed. */
const faultKey = (faults: readonly string[]) => [...faults].sort().join(',');

export class CameraHealth {
  private readonly reachState: Debounced;
  private readonly onvifState: Debounced;
  private readonly streamState = new Map<'main' | 'sub', Debounced>();
  private reach: CheckStatus | null = null;
  private onvif: CheckStatus | null = null;
  private readonly streams = new Map<'main' | 'sub', StreamStatus>();
  private picture: PictureStatus | null;
  /** Picture faults (no-picture included) and how many probes in a row have found each. */
  private readonly pictureStreaks = new Map<string, number>();
  /** Faults the latest probe found that are not reported yet. */
  private unconfirmed: string[] = [];
  private reference: ReferenceInfo | null;
  private lastSeen: string | null;
  private clockOffsetMs: number | null;
  private drifting = false;
  private state: CameraState = 'unknown';
  private since: string | null;
  private reason: string | null = null;
  /** Reachability changes (ms timestamps) within the flap window. */
  private transitions: number[] = [];
  private flapping = false;
  /** The reachability state last announced by an event (online/offline), for flap exits. */
  private announced: boolean | undefined;

  constructor(
    readonly camera: string,
    private readonly rules: HealthRules,
    /** The last status before a restart: the camera starts from it, so a camera that was offline
     * and still is does not raise a second alarm. */
    restored?: CameraStatus | null,
    /** What the inventory knows when nothing was restored. */
    known?: { lastSeen: string | null; clockOffsetMs: number | null },
    /** The camera's stored picture reference (the store's, newer than a restored status's). */
    reference?: ReferenceInfo | null,
  ) {
    const wasReachable = restored?.state === 'offline' ? false : restored && restored.state !== 'unknown' ? true : undefined;
    this.reachState = new Debounced(rules.offlineAfterFailures, rules.onlineAfterSuccesses, wasReachable);
    this.announced = wasReachable;
    this.onvifState = new Debounced(rules.offlineAfterFailures, rules.onlineAfterSuccesses, restored?.onvif ? restored.onvif.ok : undefined);
    for (const s of restored?.streams ?? []) {
      this.streamState.set(s.stream, new Debounced(rules.offlineAfterFailures, rules.onlineAfterSuccesses, s.ok));
      this.streams.set(s.stream, s);
    }
    this.reach = restored?.reach ?? null;
    this.onvif = restored?.onvif ?? null;
    // Counts of unconfirmed faults are not kept over a restart: they start again.
    this.picture = restored?.picture ? withoutUnconfirmed(restored.picture) : null;
    this.reference = reference !== undefined ? reference : (restored?.picture?.reference ?? null);
    if (this.picture) this.picture.reference = this.reference;
    this.lastSeen = restored?.lastSeen ?? known?.lastSeen ?? null;
    this.clockOffsetMs = restored?.clockOffsetMs ?? known?.clockOffsetMs ?? null;
    this.drifting = this.clockOffsetMs !== null && Math.abs(this.clockOffsetMs) > rules.maxDriftMs;
    this.since = restored?.since ?? null;
    if (restored) {
      this.state = restored.state;
      this.reason = restored.reason ?? null;
    }
  }

  /** Which checks should be repeated soon to confirm a change under way. */
  pending(): { reach: boolean; streams: boolean; picture: boolean } {
    return {
      reach: this.reachState.pending || this.onvifState.pending,
      streams: [...this.streamState.values()].some((s) => s.pending),
      picture: this.unconfirmed.length > 0,
    };
  }

  /** Reachable now (debounced)? undefined = not known yet. */
  get reachable(): boolean | undefined {
    return this.reachState.value;
  }

  /** A device check: TCP reachability and, for ONVIF devices whose TCP answered, its clock. */
  onReach(reach: ReachResult, clock: ClockResult | null, at: number): HealthOutput {
    const events: EventBody[] = [];
    this.reach = checkOf(reach.ok, reach.latencyMs, at, reach.error);
    if (reach.ok) this.lastSeen = iso(at);
    const flipped = this.reachState.feed(reach.ok);
    if (flipped !== undefined) this.reachTransition(flipped, at, events);
    else if (this.flapping) this.maybeEndFlapping(at, events);

    if (reach.ok && clock) {
      this.onvif = checkOf(clock.ok, clock.latencyMs, at, clock.error);
      const wasFaulty = this.onvifState.value === false;
      const onvifFlip = this.onvifState.feed(clock.ok);
      if (onvifFlip === false) {
        events.push({
          type: 'onvif-fault',
          severity: 'warning',
          camera: this.camera,
          message: `${this.camera}: the device accepts connections but its ONVIF service does not answer properly (${clock.error?.message ?? 'no answer'})`,
          detail: { code: clock.error?.code ?? 'failed', error: clock.error?.message ?? null },
        });
      } else if (onvifFlip === true && wasFaulty) {
        events.push({ type: 'onvif-ok', severity: 'info', camera: this.camera, message: `${this.camera}: ONVIF service answers again`, detail: {} });
      }
      if (clock.ok && clock.offsetMs !== null) this.clockReading(clock.offsetMs, events);
    }
    return this.finish(at, events);
  }

  /** RTSP DESCRIBE results of the camera's streams (main, sub). */
  onStreams(checks: readonly StreamCheck[], at: number): HealthOutput {
    const events: EventBody[] = [];
    for (const c of checks) {
      const status: StreamStatus = { stream: c.stream, codec: c.codec, width: c.width, height: c.height, ...checkOf(c.ok, c.latencyMs, at, c.error) };
      const state = this.streamState.get(c.stream) ?? new Debounced(this.rules.offlineAfterFailures, this.rules.onlineAfterSuccesses);
      const wasKnownFaulty = state.value === false;
      this.streamState.set(c.stream, state);
      this.streams.set(c.stream, status);
      if (c.ok) this.lastSeen = iso(at);
      const flipped = state.feed(c.ok);
      if (flipped === false) {
        events.push({
          type: 'stream-fault',
          severity: 'alarm',
          camera: this.camera,
          message: `${this.camera}: ${c.stream} stream fails: ${c.error?.message ?? 'no answer'}`,
          detail: { stream: c.stream, code: c.error?.code ?? 'failed', error: c.error?.message ?? null },
        });
      } else if (flipped === true && wasKnownFaulty) {
        events.push({
          type: 'stream-ok',
          severity: 'info',
          camera: this.camera,
          message: `${this.camera}: ${c.stream} stream works again`,
          detail: { stream: c.stream, codec: c.codec, width: c.width, height: c.height },
        });
      }
    }
    return this.finish(at, events);
  }

  /**
   * One picture probe. A box-side failure (ffmpeg missing) leaves the picture status alone.
   * `reference`: the camera's picture reference after this probe (undefined: unchanged).
   */
  onPicture(result: PictureResult, at: number, reference?: ReferenceInfo | null): HealthOutput {
    const events: EventBody[] = [];
    if (!result.ok && result.error?.code === 'ffmpeg-missing') return { events, changed: false };
    if (reference !== undefined) this.reference = reference;
    const before = this.picture;
    const was = before ? before.faults : [];
    const seen: string[] = result.ok ? [...(result.diagnosis?.faults ?? [])] : ['no-picture'];
    const confirmed = (f: string) => (this.pictureStreaks.get(f) ?? 0) >= this.rules.confirmProbes;
    let faults: string[];
    if (result.ok) {
      for (const f of [...this.pictureStreaks.keys()]) if (!seen.includes(f)) this.pictureStreaks.delete(f);
      for (const f of seen) this.pictureStreaks.set(f, (this.pictureStreaks.get(f) ?? 0) + 1);
      // A fault already reported stays while probes find it (a restored one needs no new confirming).
      faults = seen.filter((f) => was.includes(f) || confirmed(f));
    } else {
      this.pictureStreaks.set('no-picture', (this.pictureStreaks.get('no-picture') ?? 0) + 1);
      if (was.includes('no-picture') || confirmed('no-picture')) {
        for (const f of [...this.pictureStreaks.keys()]) if (f !== 'no-picture') this.pictureStreaks.delete(f);
        faults = ['no-picture'];
      } else {
        faults = [...was];
      }
    }
    const unconfirmed = seen.filter((f) => !faults.includes(f));
    this.unconfirmed = unconfirmed;
    if (result.ok) this.lastSeen = iso(at);
    // No verdict yet (the first probes found faults still to confirm): the picture stays unknown.
    if (before === null && faults.length === 0 && unconfirmed.length > 0) return this.finish(at, events);
    const thumbnail = result.thumbnail ? { bytes: result.thumbnail.length, takenAt: iso(at) } : (before?.thumbnail ?? null);
    const reportsNoPicture = faults.includes('no-picture');
    const error = result.error;
    this.picture = {
      ok: faults.length === 0,
      faults,
      ...(unconfirmed.length > 0 ? { unconfirmed } : {}),
      checkedAt: iso(at),
      ...(result.diagnosis ? { scores: roundScores(result.diagnosis.scores) } : {}),
      source: result.source,
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
      thumbnail,
      reference: this.reference,
    };
    if (faultKey(was) !== faultKey(faults)) {
      if (faults.length > 0) {
        const added = faults.filter((f) => !was.includes(f));
        events.push({
          type: 'picture-fault',
          severity: 'alarm',
          camera: this.camera,
          message: `${this.camera}: picture ${faults.join(', ')}${reportsNoPicture && error ? ` (${error.message})` : ''}`,
          detail: {
            faults: [...faults],
            added,
            cleared: was.filter((f) => !faults.includes(f)),
            ...(result.diagnosis ? { scores: roundScores(result.diagnosis.scores) } : {}),
            source: result.source,
            ...(reportsNoPicture && error ? { code: error.code, error: error.message } : {}),
          },
        });
      } else if (before) {
        events.push({ type: 'picture-ok', severity: 'info', camera: this.camera, message: `${this.camera}: picture ok again`, detail: { cleared: [...was] } });
      }
    }
    return this.finish(at, events);
  }

  /** The camera's picture reference was taken, renewed or cleared outside a probe (a command). */
  onReference(reference: ReferenceInfo | null, at: number): HealthOutput {
    this.reference = reference;
    if (this.picture) this.picture = { ...this.picture, reference };
    return this.finish(at, []);
  }

  status(): CameraStatus {
    return {
      camera: this.camera,
      state: this.state,
      since: this.since,
      lastSeen: this.lastSeen,
      clockOffsetMs: this.clockOffsetMs,
      picture: this.picture,
      reason: this.reason,
      flapping: this.flapping,
      reach: this.reach,
      onvif: this.onvif,
      streams: [...this.streams.values()].sort((a, b) => (a.stream < b.stream ? -1 : 1)),
    };
  }

  private reachTransition(reachable: boolean, at: number, events: EventBody[]): void {
    const previous = this.announced;
    if (previous !== undefined) {
      this.transitions.push(at);
      this.transitions = this.transitions.filter((t) => t > at - this.rules.flapWindowMs);
    }
    if (!this.flapping && this.transitions.length >= this.rules.flapTransitions) {
      this.flapping = true;
      events.push({
        type: 'camera-flapping',
        severity: 'warning',
        camera: this.camera,
        message: `${this.camera}: changed state ${this.transitions.length} times in ${Math.round(this.rules.flapWindowMs / 1000)} s; online/offline events are held back until it is stable`,
        detail: { flapping: true, transitions: this.transitions.length, windowSec: Math.round(this.rules.flapWindowMs / 1000) },
      });
      return;
    }
    if (this.flapping) return;
    this.announce(reachable, at, events);
  }

  private maybeEndFlapping(at: number, events: EventBody[]): void {
    const last = this.transitions[this.transitions.length - 1] ?? 0;
    if (at - last < this.rules.flapWindowMs) return;
    this.flapping = false;
    this.transitions = [];
    const now = this.reachState.value;
    events.push({
      type: 'camera-flapping',
      severity: 'info',
      camera: this.camera,
      message: `${this.camera}: stable again (${now ? 'online' : 'offline'})`,
      detail: { flapping: false },
    });
    if (now !== undefined && now !== this.announced) this.announce(now, at, events);
  }

  private announce(reachable: boolean, at: number, events: EventBody[]): void {
    const previous = this.announced;
    this.announced = reachable;
    if (!reachable) {
      events.push({
        type: 'camera-offline',
        severity: 'alarm',
        camera: this.camera,
        message: `${this.camera}: unreachable (${this.reach?.error?.message ?? 'no answer'})`,
        detail: {
          code: this.reach?.error?.code ?? 'failed',
          error: this.reach?.error?.message ?? null,
          lastSeen: this.lastSeen,
          failures: this.rules.offlineAfterFailures,
        },
      });
    } else if (previous === false) {
      const downSince = this.since ? Date.parse(this.since) : null;
      events.push({
        type: 'camera-online',
        severity: 'info',
        camera: this.camera,
        message: `${this.camera}: reachable again`,
        detail: { downSec: downSince !== null ? Math.round((at - downSince) / 1000) : null, latencyMs: this.reach?.latencyMs ?? null },
      });
    }
  }

  private clockReading(offsetMs: number, events: EventBody[]): void {
    this.clockOffsetMs = Math.round(offsetMs);
    const off = Math.abs(offsetMs);
    if (!this.drifting && off > this.rules.maxDriftMs) {
      this.drifting = true;
      events.push({
        type: 'clock-drift',
        severity: 'warning',
        camera: this.camera,
        message: `${this.camera}: clock ${formatOffset(offsetMs)} from the box (limit ${this.rules.maxDriftMs} ms)`,
        detail: { offsetMs: Math.round(offsetMs), maxDriftMs: this.rules.maxDriftMs },
      });
    } else if (this.drifting && off <= this.rules.maxDriftMs / 2) {
      this.drifting = false;
      events.push({
        type: 'clock-ok',
        severity: 'info',
        camera: this.camera,
        message: `${this.camera}: clock within ${formatOffset(offsetMs)} of the box`,
        detail: { offsetMs: Math.round(offsetMs) },
      });
    }
  }

  /** Is the clock beyond the drift limit (for automatic sync)? */
  get clockDrifting(): boolean {
    return this.drifting;
  }

  /** What the central must hear about at once when it moves (not latencies or lastSeen). */
  private signature(): string {
    const streams = [...this.streamState.entries()].map(([k, s]) => `${k}=${s.value}`).sort();
    const picture = this.picture
      ? `${this.picture.ok}:${faultKey(this.picture.faults)}:${faultKey(this.picture.unconfirmed ?? [])}:${this.reference?.origin ?? ''}@${this.reference?.takenAt ?? ''}`
      : 'none';
    return [this.state, this.reason, this.flapping, this.onvifState.value, this.drifting, picture, ...streams].join('|');
  }

  private lastSignature = '';

  /** Recomputes the overall state and reason; `changed` when anything the central tracks moved
   * (state, reason, flapping, first or changed stream/picture/ONVIF results, clock drift). */
  private finish(at: number, events: EventBody[]): HealthOutput {
    const before = { state: this.state, reason: this.reason, flapping: this.flapping };
    const reachable = this.reachState.value;
    const faults: string[] = [];
    if (this.onvifState.value === false) faults.push(`ONVIF: ${this.onvif?.error?.message ?? 'no answer'}`);
    for (const [stream, s] of this.streamState) {
      if (s.value === false) faults.push(`${stream} stream: ${this.streams.get(stream)?.error?.message ?? 'fails'}`);
    }
    if (this.picture && this.picture.faults.length > 0) {
      faults.push(
        this.picture.faults.includes('no-picture') && this.picture.error
          ? `no picture: ${this.picture.error.message}`
          : `picture ${this.picture.faults.join(', ')}`,
      );
    }
    if (reachable === undefined) {
      this.state = 'unknown';
      this.reason = null;
    } else if (!reachable) {
      this.state = 'offline';
      this.reason = this.reach?.error?.message ?? 'unreachable';
      if (before.state === 'offline' && before.reason) this.reason = before.reason; // keep the reason that took it down
    } else if (faults.length > 0) {
      this.state = 'degraded';
      this.reason = faults.join('; ');
    } else {
      this.state = 'online';
      this.reason = null;
    }
    if (this.state !== before.state) this.since = iso(at);
    const signature = this.signature();
    const changed = signature !== this.lastSignature || events.length > 0;
    this.lastSignature = signature;
    return { events, changed };
  }
}

function withoutUnconfirmed(picture: PictureStatus): PictureStatus {
  const copy = { ...picture };
  delete copy.unconfirmed;
  return copy;
}

function roundScores(scores: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(scores)) out[k] = Number.isFinite(v) ? Math.round(v * 1000) / 1000 : 0;
  return out;
}

function formatOffset(ms: number): string {
  const s = Math.abs(ms) / 1000;
  const text = s >= 120 ? `${Math.round(s / 60)} min` : `${s.toFixed(1)} s`;
  return `${text} ${ms >= 0 ? 'ahead' : 'behind'}`;
}
