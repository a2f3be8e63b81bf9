// From a discovery answer to something openDriver accepts: port and path from the device's
// XAddr, but the host that answered (XAddrs carry private, NATed or link-local addresses).
import type { ProbeMatch } from './probe-message';
import { splitUrl } from '../../lib/url';

export function targetFromProbeMatch(match: ProbeMatch): {
  kind: 'onvif';
  host: string;
  port?: number;
  path?: string;
  endpointUuid: string;
  scopes: string[];
} {
  const parsed = match.xaddrs.map(splitUrl).filter((p) => p && p.scheme === 'http');
  // Prefer the XAddr whose host is the answering address; otherwise the first http one.
  const best = parsed.find((p) => p!.host === match.from) ?? parsed[0];
  const path = best?.rest.split('#')[0];
  return {
    kind: 'onvif',
    host: match.from,
    ...(best?.port ? { port: best.port } : {}),
    ...(path && path !== '/' ? { path } : {}),
    endpointUuid: match.endpointUuid,
    scopes: match.scopes,
  };
}
