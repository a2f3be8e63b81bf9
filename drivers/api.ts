// The part of drivers/ that discovery, `cameras add` and the uplink's commands call, as an
// interface so they can be tested with fake drivers. The types are the drivers' own.
import * as drivers from './index';
import type { Credentials, DeviceDriver, OpenTarget, ProbeMatch, ProbeOptions } from './index';

export type { ProbeMatch, ProbeOptions };
export type DriverTarget = OpenTarget;

export interface DriversApi {
  probe(options: ProbeOptions): Promise<ProbeMatch[]>;
  expandTargets(spec: string | string[], options: { force?: boolean }): string[];
  openDriver(target: DriverTarget, credentials?: Credentials, options?: { timeoutMs?: number }): DeviceDriver;
}

/** The real drivers. */
export function loadDrivers(): DriversApi {
  return drivers;
}
