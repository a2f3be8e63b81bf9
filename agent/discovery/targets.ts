// From a WS-Discovery answer to the address to identify, and how addresses are shown. Pure.
import type { ProbeMatch } from '../../drivers/api';
import { targetFromProbeMatch } from '../../drivers/onvif/probe-target';
import { DEFAULT_DEVICE_PATH } from '../../drivers/onvif/driver';

export interface OnvifAddress {
  host: string;
  port: number;
  path: string;
}

/** Where to identify a device that answered a probe (drivers' targetFromProbeMatch), with the
 * defaults filled in. */
export function addressFromMatch(match: ProbeMatch): OnvifAddress {
  const target = targetFromProbeMatch(match);
  return { host: target.host, port: target.port ?? 80, path: target.path ?? DEFAULT_DEVICE_PATH };
}

export function formatAddress(host: string, port?: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}
