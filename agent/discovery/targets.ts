// From a WS-Discovery answer to the address to identify. Devices advertise the address they
// believe they have (NAT, wrong subnet, IPv6 link-local); the address that answered is the
// one that works, so only port and path are taken from XAddrs. Pure.
import type { ProbeMatch } from '../../drivers/api';

export interface OnvifAddress {
  host: string;
  port: number;
  path: string;
}

export const DEFAULT_DEVICE_PATH = '/onvif/device_service';

/** "127.41.0.2", "127.41.0.2:3702", "[fe80::1]:3702" → host without port or brackets. */
export function hostOf(from: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(from);
  if (v6) return v6[1];
  const v4 = /^([^:]+):\d+$/.exec(from);
  return v4 ? v4[1] : from;
}

interface ParsedXaddr {
  scheme: string;
  host: string;
  port?: number;
  path: string;
}

function parseXaddr(x: string): ParsedXaddr | undefined {
  const m = /^(https?):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?(\/[^\s]*)?$/i.exec(x.trim());
  if (!m) return undefined;
  return { scheme: m[1].toLowerCase(), host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : undefined, path: m[4] ?? '/' };
}

export function addressFromMatch(match: ProbeMatch): OnvifAddress {
  const host = hostOf(match.from);
  const parsed = match.xaddrs.map(parseXaddr).filter((x): x is ParsedXaddr => x !== undefined && x.scheme === 'http');
  const chosen =
    parsed.find((x) => x.host === host) ?? parsed.find((x) => /^\d+\.\d+\.\d+\.\d+$/.test(x.host)) ?? parsed[0];
  if (!chosen) return { host, port: 80, path: DEFAULT_DEVICE_PATH };
  return { host, port: chosen.port ?? 80, path: chosen.path };
}

export function formatAddress(host: string, port?: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}
