// The part of drivers/ that discovery and `cameras add` call, as an interface so the sweep can
// be tested with fakes, and so this code builds while drivers/index.ts is still being written.
import type { Credentials, DeviceDriver } from '../../drivers/types';
import { CamgateError } from '../errors';

export interface ProbeMatch {
  /** WS-Discovery endpoint reference, e.g. "urn:uuid:…". */
  endpointUuid: string;
  xaddrs: string[];
  scopes: string[];
  types: string[];
  /** Address the answer came from. */
  from: string;
}

export interface ProbeOptions {
  multicast?: boolean;
  interfaces?: string[];
  targets?: string[];
  timeoutMs: number;
  onProgress?: (ev: unknown) => void;
}

export type DriverTarget =
  | { kind: 'onvif'; host: string; port?: number; path?: string; endpointUuid?: string; scopes?: string[] }
  | { kind: 'rtsp'; url: string };

export interface DriversApi {
  probe(options: ProbeOptions): Promise<ProbeMatch[]>;
  expandTargets(spec: string | string[], options: { force?: boolean }): string[];
  openDriver(target: DriverTarget, credentials?: Credentials, options?: { timeoutMs?: number }): DeviceDriver;
}

// Compile-time check that drivers/index still offers what this interface promises (type only:
// nothing is loaded here).
type RealDrivers = Pick<typeof import('../../drivers/index'), 'probe' | 'expandTargets' | 'openDriver'>;
export const driversMatchContract: (real: RealDrivers) => DriversApi = (real) => real;

/** Loads drivers/index at first use (a missing or broken drivers build is reported, not crashed on). */
export function loadDrivers(): DriversApi {
  const modulePath = '../../drivers/index';
  let mod: Partial<DriversApi>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(modulePath) as Partial<DriversApi>;
  } catch (err) {
    throw new CamgateError(`device drivers are not available in this build (${(err as Error).message.split('\n')[0]})`, 1, { cause: err });
  }
  for (const fn of ['probe', 'expandTargets', 'openDriver'] as const) {
    if (typeof mod[fn] !== 'function') throw new CamgateError(`device drivers are incomplete in this build: ${fn}() is missing`);
  }
  return mod as DriversApi;
}
