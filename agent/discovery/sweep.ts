// A discovery sweep: probe (multicast and/or unicast), then identify every device found (and
// every device added by hand) with bounded concurrency and a per-device deadline. Pure
// orchestration: the driver functions are injected, so it is testable without sockets, and it
// saves nothing (the caller decides). One failing device never stops the sweep.
import type { Credentials, DeviceReport } from '../../drivers/types';
import { UsageError } from '../errors';
import { normalizeEndpointUuid } from '../inventory/ids';
import { redactUrlsInText } from '../redact';
import { mapWithConcurrency } from '../util/concurrency';
import { withDeadline } from '../util/deadline';
import type { DriversApi, ProbeMatch } from './drivers-api';
import { addressFromMatch, DEFAULT_DEVICE_PATH, formatAddress } from './targets';

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
  /** Inventory id, when the device is already known. */
  deviceId?: string;
}

export interface SweepOptions {
  ranges: string[];
  force: boolean;
  multicast: boolean;
  interfaces: string[];
  probeTimeoutMs: number;
  /** Deadline for identifying one device (also each request's timeout). */
  identifyTimeoutMs: number;
  concurrency: number;
  known: KnownDevice[];
}

export type SweepProgress =
  | { type: 'probe-start'; multicast: boolean; unicastTargets: number; timeoutMs: number }
  | { type: 'probe-done'; matches: number }
  | { type: 'identify-start'; total: number }
  | { type: 'identified'; address: string; ok: boolean; done: number; total: number; error?: string };

export interface SweepOutcome {
  target: SweepTarget;
  /** "host:port" */
  address: string;
  report?: DeviceReport;
  error?: { code: string; message: string };
  durationMs: number;
}

export interface SweepResult {
  unicastTargets: number;
  probeMatches: number;
  outcomes: SweepOutcome[];
  durationMs: number;
}

export interface SweepDeps extends DriversApi {
  /** Credentials for a target (its own stored ones, else the site default); may throw (e.g. wrong key). */
  credentialsFor(target: SweepTarget): Credentials | undefined;
  onProgress?(event: SweepProgress): void;
  now?(): number;
}

/** Grace on top of the probe window before we stop waiting for the driver's probe: fixed, plus
 * time for the driver to pace unicast probes (about 10 ms per 128 targets; doubled for slack). */
export function probeGraceMs(unicastTargets: number): number {
  return 2000 + Math.ceil(unicastTargets / 128) * 20;
}

export function targetsFromMatches(matches: ProbeMatch[], known: KnownDevice[]): SweepTarget[] {
  const out: SweepTarget[] = [];
  const seenUuid = new Set<string>();
  const seenAddress = new Set<string>();
  for (const m of matches) {
    const uuid = normalizeEndpointUuid(m.endpointUuid);
    // A camera answers once per interface the probe went out on.
    if (uuid && seenUuid.has(uuid)) continue;
    const a = addressFromMatch(m);
    const key = formatAddress(a.host, a.port);
    if (!uuid && seenAddress.has(key)) continue;
    if (uuid) seenUuid.add(uuid);
    seenAddress.add(key);
    const knownDevice = known.find((k) => (uuid && normalizeEndpointUuid(k.endpointUuid) === uuid) || (k.host === a.host && k.port === a.port));
    out.push({ ...a, endpointUuid: uuid, scopes: m.scopes, source: 'probe', deviceId: knownDevice?.deviceId });
  }
  for (const k of known) {
    const uuid = normalizeEndpointUuid(k.endpointUuid);
    if ((uuid && seenUuid.has(uuid)) || seenAddress.has(formatAddress(k.host, k.port))) continue;
    out.push({ host: k.host, port: k.port, path: k.path ?? DEFAULT_DEVICE_PATH, endpointUuid: uuid, source: 'added', deviceId: k.deviceId });
  }
  return out;
}

function errorInfo(err: unknown, address: string): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown; name?: string };
  const code = typeof e?.code === 'string' ? e.code : e?.name === 'DeadlineError' ? 'timeout' : 'error';
  let message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  if (!message.includes(address) && !message.includes(address.split(':')[0])) message = `${address}: ${message}`;
  return { code, message: redactUrlsInText(message) };
}

async function identify(target: SweepTarget, options: SweepOptions, deps: SweepDeps): Promise<Omit<SweepOutcome, 'durationMs'>> {
  const address = formatAddress(target.host, target.port);
  let driver: ReturnType<SweepDeps['openDriver']> | undefined;
  try {
    const credentials = deps.credentialsFor(target);
    const onvif = { kind: 'onvif' as const, host: target.host, port: target.port, path: target.path };
    driver = deps.openDriver({ ...onvif, ...(target.endpointUuid ? { endpointUuid: target.endpointUuid } : {}), ...(target.scopes ? { scopes: target.scopes } : {}) }, credentials, {
      timeoutMs: options.identifyTimeoutMs,
    });
    const d = driver;
    const report = await withDeadline(
      d.report(),
      options.identifyTimeoutMs,
      `identification of ${address} did not finish within ${options.identifyTimeoutMs} ms (onvif.timeoutMs)`,
      () => d.close(),
    );
    // The probe knows things a device may not repeat over SOAP.
    const completed: DeviceReport = {
      ...report,
      endpointUuid: report.endpointUuid ?? target.endpointUuid,
      scopes: report.scopes ?? target.scopes,
    };
    return { target, address, report: completed };
  } catch (err) {
    return { target, address, error: errorInfo(err, address) };
  } finally {
    try {
      driver?.close();
    } catch {
      // closing a broken driver must not turn a report into an error
    }
  }
}

export async function sweep(options: SweepOptions, deps: SweepDeps): Promise<SweepResult> {
  const now = deps.now ?? Date.now;
  const started = now();
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
  let matches: ProbeMatch[] = [];
  if (options.multicast || unicast.length > 0) {
    deps.onProgress?.({ type: 'probe-start', multicast: options.multicast, unicastTargets: unicast.length, timeoutMs: options.probeTimeoutMs });
    matches = await withDeadline(
      deps.probe({ multicast: options.multicast, interfaces: options.interfaces, targets: unicast, timeoutMs: options.probeTimeoutMs }),
      options.probeTimeoutMs + probeGraceMs(unicast.length),
      `the WS-Discovery probe did not finish within ${options.probeTimeoutMs} ms`,
    );
    deps.onProgress?.({ type: 'probe-done', matches: matches.length });
  }
  const targets = targetsFromMatches(matches, options.known);
  deps.onProgress?.({ type: 'identify-start', total: targets.length });
  let done = 0;
  const outcomes = await mapWithConcurrency(targets, options.concurrency, async (target) => {
    const t0 = now();
    const outcome = await identify(target, options, deps);
    done++;
    deps.onProgress?.({ type: 'identified', address: outcome.address, ok: !outcome.error, done, total: targets.length, error: outcome.error?.message });
    return { ...outcome, durationMs: now() - t0 };
  });
  return { unicastTargets: unicast.length, probeMatches: matches.length, outcomes, durationMs: now() - started };
}
