// A discovery sweep: probe (multicast and/or unicast) and identify every device found while the
// probe is still listening (each one as soon as its answer arrives), then every device added by
// hand that did not answer; with bounded concurrency, a per-device deadline and, when
// `timeoutMs` is given, one overall deadline for the whole sweep. Pure orchestration: the driver
// functions are injected, so it is testable without sockets, and it saves nothing (the caller
// decides). One failing device never stops the sweep, and a device the overall deadline cut off
// is reported (code 'timeout'), never dropped.
import type { Credentials, DeviceReport } from '../../drivers/types';
import { NoMulticastInterfaceError } from '../../drivers/onvif/discovery';
import type { DriversApi, ProbeMatch } from '../../drivers/api';
import { addressFromMatch, formatAddress } from './targets';
import { DEFAULT_DEVICE_PATH } from '../../drivers/onvif/driver';
import { hostOf } from '../../drivers/onvif/probe-target';
import { CamgateError, UsageError } from '../../lib/errors';
import { redactUrlsInText } from '../../lib/redact';
import { printableLine } from '../../lib/text';
import { DeadlineError, withDeadline } from '../../lib/deadline';
import { systemClock, type Clock } from '../../lib/clock';
import { normalizeEndpointUuid } from '../../drivers/ids';

export interface KnownDevice {
  deviceId: string;
  host: string;
  port: number;
  path?: string;
  endpointUuid?: string;
}

export interface SweepTarget {
  host: string;
  port: number;
  path: string;
  endpointUuid?: string;
  scopes?: string[];
  /** 'probe': answered WS-Discovery; 'added': in the inventory by hand, identified regardless. */
  source: 'probe' | 'added';
  /** Inventory id of the known device this answer names (by address or endpoint UUID). A claim
   * only: its stored login is sent solely to the address it is recorded at (discover.ts). */
  deviceId?: string;
}

export interface SweepOptions {
  ranges: string[];
  force: boolean;
  multicast: boolean;
  interfaces: string[];
  /** Probe window: how long to collect WS-Discovery answers. With `timeoutMs` this is a cap on
   * the probe's share of the overall budget (see planProbe). */
  probeTimeoutMs: number;
  /** Deadline for identifying one device (also each request's timeout). */
  identifyTimeoutMs: number;
  /** How many devices are identified at the same time (during and after the probe). */
  concurrency: number;
  known: KnownDevice[];
  /** Overall bound of the sweep (probe + identification), from `startedAt`. Omitted: unbounded. */
  timeoutMs?: number;
  /** When the overall budget started, on the deps.clock; default: when sweep() is called. */
  startedAt?: number;
  /** How messages name the overall timeout; default "overall discovery timeout". */
  timeoutLabel?: string;
  /** What people should change to get more time, for the error of a device the overall
   * deadline cut off; default "raise the overall timeout to give devices more time". */
  timeoutAdvice?: string;
}

export type SweepProgress =
  | { type: 'probe-start'; multicast: boolean; unicastTargets: number; timeoutMs: number }
  | { type: 'probe-done'; matches: number; ignored: number; ignoredFrom: string[] }
  /** After the probe: the final number of devices to identify (answers plus added devices that
   * did not answer), of which `done` are already finished (identification starts as answers come). */
  | { type: 'identify-start'; total: number; done: number; remainingMs?: number }
  /** `total` is the number of devices known so far; while `probing`, more may still answer. */
  | { type: 'identified'; address: string; ok: boolean; done: number; total: number; probing?: true; error?: string }
  | ({ type: 'warning' } & SweepWarning);

/** Something the sweep could not do although it went on: 'no-multicast-interface' when the
 * multicast probe could not be sent and only the ranges and added devices were probed. */
export interface SweepWarning {
  code: 'no-multicast-interface';
  message: string;
}

export interface SweepError {
  code: string;
  message: string;
  /** Set when the overall deadline (not the device's own) is what stopped it. */
  deadline?: 'overall';
}

export interface SweepOutcome {
  target: SweepTarget;
  /** "host:port" */
  address: string;
  report?: DeviceReport;
  error?: SweepError;
  durationMs: number;
}

export interface SweepResult {
  unicastTargets: number;
  probeMatches: number;
  /** Answers on the discovery port that were not ONVIF probe matches (junk, other protocols). */
  probeIgnored: number;
  /** Distinct addresses those ignored answers came from. */
  probeIgnoredFrom: string[];
  /** The probe window actually used (ms after the last probe was sent). */
  probeWindowMs: number;
  /** Devices the overall deadline stopped (also counted in outcomes as errors). */
  cutOff: number;
  warnings: SweepWarning[];
  outcomes: SweepOutcome[];
  durationMs: number;
}

export interface SweepDeps extends DriversApi {
  /** Credentials for a target (its own stored ones, else the site default); may throw (e.g. wrong key). */
  credentialsFor(target: SweepTarget): Credentials | undefined;
  onProgress?(event: SweepProgress): void;
  /** The overall budget's clock; default the system clock. */
  clock?: Clock;
}

/** Grace on top of the probe window before we stop waiting for the driver's probe: fixed, plus
 * time for the driver to pace unicast probes (about 10 ms per 128 targets; doubled for slack). */
export function probeGraceMs(unicastTargets: number): number {
  return 2000 + Math.ceil(unicastTargets / 128) * 20;
}

/** Rough time the driver needs to send unicast probes (batches of 128, 10 ms apart). */
export function probePacingMs(unicastTargets: number): number {
  return Math.ceil(unicastTargets / 128) * 10;
}

export interface ProbePlan {
  /** Share of the overall budget reserved for the probe (sending + collecting answers). */
  shareMs: number;
  /** Probe window handed to the driver: how long to collect answers after the last probe. */
  windowMs: number;
}

/** The probe's share of an overall budget, at most (see planProbe). */
export const PROBE_SHARE = 3 / 4;

/**
 * How an overall budget is split. Devices are identified while the probe is still listening, as
 * soon as they answer, so the probe window no longer delays identification: it gets up to three
 * quarters of the budget, and never more than the configured probe window (`windowCapMs`):
 * share = min(timeout × 3/4, windowCap). Unicast sending comes out of that share (the window
 * shrinks by the pacing time, but keeps at least a quarter of the share so the last batch can
 * still answer). At least a quarter of the budget is left after the probe, for devices that
 * answer late and for added devices that did not answer (those are only tried once the probe
 * has ended). Without an overall budget the window is the cap.
 */
export function planProbe(timeoutMs: number | undefined, windowCapMs: number, unicastTargets: number): ProbePlan {
  if (timeoutMs === undefined) return { shareMs: windowCapMs + probePacingMs(unicastTargets), windowMs: windowCapMs };
  const shareMs = Math.max(1, Math.min(Math.floor(timeoutMs * PROBE_SHARE), windowCapMs));
  const windowMs = Math.max(shareMs - probePacingMs(unicastTargets), Math.floor(shareMs / 4), 1);
  return { shareMs, windowMs };
}

/** Turns probe answers into targets one at a time, as they arrive: deduplicated by endpoint UUID
 * and, for answers without one, by address; known devices that never answered come last. */
export class TargetCollector {
  private readonly seenUuid = new Set<string>();
  private readonly seenAddress = new Set<string>();

  constructor(private readonly known: KnownDevice[]) {}

  /** The target for an answer, or undefined when it duplicates one already taken. */
  fromMatch(m: ProbeMatch): SweepTarget | undefined {
    const uuid = normalizeEndpointUuid(m.endpointUuid);
    // A camera answers once per interface the probe went out on.
    if (uuid && this.seenUuid.has(uuid)) return undefined;
    const a = addressFromMatch(m);
    const key = formatAddress(a.host, a.port);
    if (!uuid && this.seenAddress.has(key)) return undefined;
    if (uuid) this.seenUuid.add(uuid);
    this.seenAddress.add(key);
    const knownDevice = this.known.find((k) => (uuid && normalizeEndpointUuid(k.endpointUuid) === uuid) || (k.host === a.host && k.port === a.port));
    return { ...a, endpointUuid: uuid, scopes: m.scopes, source: 'probe', deviceId: knownDevice?.deviceId };
  }

  /** Known devices no answer has matched so far: call once the probe has ended. */
  unanswered(): SweepTarget[] {
    const out: SweepTarget[] = [];
    for (const k of this.known) {
      const uuid = normalizeEndpointUuid(k.endpointUuid);
      if ((uuid && this.seenUuid.has(uuid)) || this.seenAddress.has(formatAddress(k.host, k.port))) continue;
      out.push({ host: k.host, port: k.port, path: k.path ?? DEFAULT_DEVICE_PATH, endpointUuid: uuid, source: 'added', deviceId: k.deviceId });
    }
    return out;
  }
}

export function targetsFromMatches(matches: ProbeMatch[], known: KnownDevice[]): SweepTarget[] {
  const collector = new TargetCollector(known);
  const out: SweepTarget[] = [];
  for (const m of matches) {
    const t = collector.fromMatch(m);
    if (t) out.push(t);
  }
  return [...out, ...collector.unanswered()];
}

function errorInfo(err: unknown, address: string): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown; name?: string };
  const code = typeof e?.code === 'string' ? e.code : e?.name === 'DeadlineError' ? 'timeout' : 'error';
  let message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  if (!message.includes(address) && !message.includes(address.split(':')[0])) message = `${address}: ${message}`;
  return { code, message: oneLine(redactUrlsInText(message)) };
}

const MAX_MESSAGE_CHARS = 400;

/** Error messages quote what devices sent: keep them one printable line of sane length. */
export function oneLine(message: string): string {
  return printableLine(message, MAX_MESSAGE_CHARS);
}

interface Budget {
  /** Absolute deadline on the deps.clock; Infinity when unbounded. */
  deadlineAt: number;
  timeoutMs?: number;
  label: string;
  advice: string;
  clock: Clock;
}

function overallTimeoutError(address: string, budget: Budget, startedMs?: number): SweepError {
  const what = startedMs === undefined ? 'not identified' : `identification cut off after ${Math.round(startedMs)} ms`;
  const when = startedMs === undefined ? ' before its turn came' : '';
  return {
    code: 'timeout',
    message: `${address}: ${what}: the ${budget.label} of ${budget.timeoutMs} ms ran out${when}; ${budget.advice}`,
    deadline: 'overall',
  };
}

/** `work`, or a rejection as soon as `signal` aborts (after calling onCancel). */
function cancellable<T>(work: Promise<T>, signal: AbortSignal, onCancel: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = () => {
      try {
        onCancel();
      } finally {
        reject(new Error('identification cancelled: the sweep failed'));
      }
    };
    if (signal.aborted) return cancel();
    signal.addEventListener('abort', cancel, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', cancel));
  });
}

async function identify(
  target: SweepTarget,
  options: SweepOptions,
  deps: SweepDeps,
  budget: Budget,
  cancel: AbortSignal,
): Promise<Omit<SweepOutcome, 'durationMs'>> {
  const address = formatAddress(target.host, target.port);
  const remaining = budget.deadlineAt - budget.clock.now();
  // Not started before the overall deadline: reported, no driver opened.
  if (remaining <= 0) return { target, address, error: overallTimeoutError(address, budget) };
  const overallFirst = remaining < options.identifyTimeoutMs;
  const limitMs = overallFirst ? Math.ceil(remaining) : options.identifyTimeoutMs;
  const t0 = budget.clock.now();
  let driver: ReturnType<SweepDeps['openDriver']> | undefined;
  let expired = false;
  try {
    const credentials = deps.credentialsFor(target);
    const onvif = { kind: 'onvif' as const, host: target.host, port: target.port, path: target.path };
    driver = deps.openDriver(
      { ...onvif, ...(target.endpointUuid ? { endpointUuid: target.endpointUuid } : {}), ...(target.scopes ? { scopes: target.scopes } : {}) },
      credentials,
      {
        timeoutMs: options.identifyTimeoutMs,
      },
    );
    const d = driver;
    const onExpire = () => {
      expired = true;
      d.close();
    };
    // Each request keeps its own timeout (onvif.timeoutMs); the overall deadline, when it comes
    // first, cuts the whole identification and closes the driver.
    const report = await withDeadline(
      cancellable(d.report(), cancel, () => d.close()),
      limitMs,
      `identification of ${address} did not finish within ${options.identifyTimeoutMs} ms (onvif.timeoutMs)`,
      onExpire,
      budget.clock,
    );
    // The probe knows things a device may not repeat over SOAP.
    const completed: DeviceReport = {
      ...report,
      endpointUuid: report.endpointUuid ?? target.endpointUuid,
      scopes: report.scopes ?? target.scopes,
    };
    return { target, address, report: completed };
  } catch (err) {
    // `expired`, not the error's type: closing the driver may make report() reject first.
    if (overallFirst && (expired || err instanceof DeadlineError))
      return { target, address, error: overallTimeoutError(address, budget, budget.clock.now() - t0) };
    return { target, address, error: errorInfo(err, address) };
  } finally {
    try {
      driver?.close();
    } catch {
      // closing a broken driver must not turn a report into an error
    }
  }
}

interface IdentificationPool {
  /** True while the probe may still add targets (reported with each 'identified' event). */
  probing: boolean;
  readonly total: number;
  readonly done: number;
  /** Queues a target; it starts as soon as fewer than `concurrency` identifications run. */
  add(target: SweepTarget): void;
  /** No more targets: resolves with every outcome, in the order the targets were added. */
  finish(): Promise<SweepOutcome[]>;
  /** Starts nothing more, closes the drivers of identifications under way and waits for them. */
  cancel(): Promise<void>;
}

/** Identifies targets as they are added, at most `options.concurrency` at a time. */
function identificationPool(options: SweepOptions, deps: SweepDeps, budget: Budget): IdentificationPool {
  const limit = Math.max(1, options.concurrency);
  const targets: SweepTarget[] = [];
  const outcomes: SweepOutcome[] = [];
  const cancelled = new AbortController();
  let next = 0;
  let active = 0;
  let done = 0;
  let closed = false;
  let failure: { err: unknown } | undefined;
  let settle: (() => void) | undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const checkSettled = () => {
    if (closed && active === 0 && (next === targets.length || cancelled.signal.aborted)) settle?.();
  };
  const run = async (index: number) => {
    const target = targets[index];
    const t0 = budget.clock.now();
    const outcome = await identify(target, options, deps, budget, cancelled.signal);
    if (cancelled.signal.aborted) return;
    done++;
    deps.onProgress?.({
      type: 'identified',
      address: outcome.address,
      ok: !outcome.error,
      done,
      total: targets.length,
      ...(pool.probing ? { probing: true as const } : {}),
      error: outcome.error?.message,
    });
    outcomes[index] = { ...outcome, durationMs: budget.clock.now() - t0 };
  };
  const pump = () => {
    while (active < limit && next < targets.length && !cancelled.signal.aborted && !failure) {
      const index = next++;
      active++;
      run(index)
        .catch((err: unknown) => {
          // identify() reports device errors itself: this is a bug or a throwing progress callback.
          failure ??= { err };
        })
        .finally(() => {
          active--;
          pump();
          checkSettled();
        });
    }
    if (failure) next = targets.length;
  };
  const pool: IdentificationPool = {
    probing: true,
    get total() {
      return targets.length;
    },
    get done() {
      return done;
    },
    add(target) {
      if (closed) throw new Error('identification pool already closed');
      targets.push(target);
      pump();
    },
    async finish() {
      closed = true;
      checkSettled();
      await settled;
      if (failure) throw failure.err;
      return outcomes;
    },
    async cancel() {
      pool.probing = false;
      cancelled.abort();
      closed = true;
      checkSettled();
      await settled;
    },
  };
  return pool;
}

/** Without multicast: a warning saying what is still probed, or, when nothing is left, the
 * error that says what to do. */
function withoutMulticast(reason: string, unicastTargets: number, knownDevices: number): { warning: SweepWarning } | { error: CamgateError } {
  if (unicastTargets > 0) {
    return {
      warning: {
        code: 'no-multicast-interface',
        message: `${reason}; probing only the ${unicastTargets} address(es) of --range (or discovery.ranges) by unicast: devices outside them are not found`,
      },
    };
  }
  if (knownDevices > 0) {
    return {
      warning: {
        code: 'no-multicast-interface',
        message: `${reason}; identifying only the ${knownDevices} device(s) added by hand: give --range (or discovery.ranges) to find others`,
      },
    };
  }
  return {
    error: new CamgateError(
      `${reason}. With no --range (nor discovery.ranges in the config) there is nothing else to probe: give the cameras' addresses with --range ` +
        '(an IP, a range A-B or a CIDR such as 192.168.1.0/24), ' +
        'or bring up the network interface the cameras are on (`ip -4 addr` lists them) and, to probe only that one, name it with --interface (or discovery.interfaces)',
    ),
  };
}

export async function sweep(options: SweepOptions, deps: SweepDeps): Promise<SweepResult> {
  const clock = deps.clock ?? systemClock;
  const now = () => clock.now();
  const started = options.startedAt ?? now();
  const budget: Budget = {
    deadlineAt: options.timeoutMs === undefined ? Infinity : started + options.timeoutMs,
    timeoutMs: options.timeoutMs,
    label: options.timeoutLabel ?? 'overall discovery timeout',
    advice: options.timeoutAdvice ?? 'raise the overall timeout to give devices more time',
    clock,
  };
  let unicast: string[] = [];
  if (options.ranges.length > 0) {
    try {
      unicast = deps.expandTargets(options.ranges, { force: options.force });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (!options.multicast && unicast.length === 0 && options.known.length === 0) {
    throw new UsageError('nothing to discover: multicast is off and no --range was given (nor discovery.ranges in the config)');
  }
  const plan = planProbe(options.timeoutMs, options.probeTimeoutMs, unicast.length);
  const collector = new TargetCollector(options.known);
  const pool = identificationPool(options, deps, budget);
  try {
    let probeMatches = 0;
    let ignored = 0;
    const ignoredFrom = new Set<string>();
    const warnings: SweepWarning[] = [];
    const warn = (warning: SweepWarning) => {
      warnings.push(warning);
      deps.onProgress?.({ type: 'warning', ...warning });
    };
    if (options.multicast || unicast.length > 0) {
      deps.onProgress?.({ type: 'probe-start', multicast: options.multicast, unicastTargets: unicast.length, timeoutMs: plan.windowMs });
      const abort = new AbortController();
      // Identification starts as soon as a device answers, while the probe keeps listening.
      const accept = (m: ProbeMatch) => {
        if (!pool.probing) return; // a driver calling back after its probe ended
        const target = collector.fromMatch(m);
        if (target) pool.add(target);
      };
      // The driver's probe ends on its own after the window; this only guards against one that
      // does not, and never past the overall deadline.
      const guardMs = Math.max(1, Math.min(plan.windowMs + probeGraceMs(unicast.length), budget.deadlineAt - now()));
      let matches: ProbeMatch[];
      try {
        matches = await withDeadline(
          deps.probe({
            multicast: options.multicast,
            interfaces: options.interfaces,
            targets: unicast,
            timeoutMs: plan.windowMs,
            signal: abort.signal,
            onProgress: (ev) => {
              const e = ev as { type?: unknown; from?: unknown; reason?: unknown };
              if (e?.type === 'multicast-unavailable' && typeof e.reason === 'string') {
                const next = withoutMulticast(e.reason, unicast.length, options.known.length);
                if ('warning' in next) warn(next.warning);
                return;
              }
              if (e?.type !== 'ignored') return;
              ignored++;
              if (typeof e.from === 'string') ignoredFrom.add(hostOf(e.from));
            },
            onMatch: accept,
          }),
          guardMs,
          `the WS-Discovery probe did not finish within ${Math.round(guardMs)} ms (probe window ${plan.windowMs} ms)`,
          () => abort.abort(),
          clock,
        );
      } catch (err) {
        if (err instanceof NoMulticastInterfaceError) {
          // Multicast was all there was to probe; devices added by hand can still be identified.
          const next = withoutMulticast(err.message, unicast.length, options.known.length);
          if ('error' in next) throw next.error;
          warn(next.warning);
          matches = [];
        } else {
          if (!abort.signal.aborted) throw err;
          throw new CamgateError(`the WS-Discovery probe did not finish within ${Math.round(guardMs)} ms (probe window ${plan.windowMs} ms)`, 1, {
            cause: err,
          });
        }
      }
      pool.probing = false;
      probeMatches = matches.length;
      deps.onProgress?.({ type: 'probe-done', matches: matches.length, ignored, ignoredFrom: [...ignoredFrom] });
      // What the driver did not hand over while listening (or a driver without onMatch).
      for (const m of matches) {
        const target = collector.fromMatch(m);
        if (target) pool.add(target);
      }
    }
    pool.probing = false;
    for (const target of collector.unanswered()) pool.add(target);
    const remainingMs = Number.isFinite(budget.deadlineAt) ? Math.max(0, Math.round(budget.deadlineAt - now())) : undefined;
    deps.onProgress?.({ type: 'identify-start', total: pool.total, done: pool.done, ...(remainingMs !== undefined ? { remainingMs } : {}) });
    const outcomes = await pool.finish();
    return {
      unicastTargets: unicast.length,
      probeMatches,
      probeIgnored: ignored,
      probeIgnoredFrom: [...ignoredFrom],
      probeWindowMs: plan.windowMs,
      cutOff: outcomes.filter((o) => o.error?.deadline === 'overall').length,
      warnings,
      outcomes,
      durationMs: now() - started,
    };
  } catch (err) {
    // No result without a probe (or after a bug): stop what already started, drivers closed.
    await pool.cancel();
    throw err;
  }
}
