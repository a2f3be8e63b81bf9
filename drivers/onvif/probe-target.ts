// From a discovery answer to the device to open: port and path from the device's XAddrs, but
// the host that answered (XAddrs carry the address the device believes it has: private, NATed,
// IPv6 link-local). The XAddr naming the answering host wins, then the first IPv4 one, then the
// first http one at all.
import type { ProbeMatch } from './probe-message';
import { splitUrl, type UrlParts } from '../../lib/url';

/** "127.41.0.2", "127.41.0.2:3702", "[fe80::1]:3702" → the host without port or brackets. */
export function hostOf(from: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(from);
  if (v6) return v6[1];
  const v4 = /^([^:]+):\d+$/.exec(from);
  return v4 ? v4[1] : from;
}

export interface ProbeTarget {
  kind: 'onvif';
  host: string;
  /** From the chosen XAddr; absent when it gives none (the HTTP default, 80). */
  port?: number;
  /** From the chosen XAddr; absent when it gives none (the driver's default service path). */
  path?: string;
  endpointUuid: string;
  scopes: string[];
}

export function targetFromProbeMatch(match: ProbeMatch): ProbeTarget {
  const host = hostOf(match.from);
  const parsed = match.xaddrs.map((x) => splitUrl(x.trim())).filter((p): p is UrlParts => p !== undefined && p.scheme === 'http');
  const best = parsed.find((p) => p.host === host) ?? parsed.find((p) => /^\d+\.\d+\.\d+\.\d+$/.test(p.host)) ?? parsed[0];
  const path = best?.rest.split('#')[0];
  return {
    kind: 'onvif',
    host,
    ...(best?.port ? { port: best.port } : {}),
    ...(path && path !== '/' ? { path } : {}),
    endpointUuid: match.endpointUuid,
    scopes: match.scopes,
  };
}
