// Security headers of the central's HTTP answers: the ones every answer carries (API and pages),
// and the dashboard page's Content-Security-Policy, which depends on where map tiles come from.
import type { Api } from '../api/types';

/** The origin (scheme://host[:port]) images of a Leaflet tile URL template come from, or undefined
 * for a relative or unusable template. {s} (Leaflet's subdomains) becomes a wildcard label. */
export function tileOrigin(template: string): string | undefined {
  const m = /^(https?):\/\/([^/?#]+)/i.exec(template.trim());
  if (!m) return undefined;
  const host = m[2].replace(/\{s\}/g, '*');
  // Anything else in braces in the host ({z}, a typo) cannot be named in a policy.
  if (/[{}\s;,'"]/.test(host)) return undefined;
  return `${m[1].toLowerCase()}://${host}`;
}

/** The dashboard's policy: scripts and styles of this server only (no inline script, no eval);
 * style attributes are allowed because Leaflet and ECharts write their markup with them (they
 * cannot run code); tiles from the configured tile server; never framed. */
export function dashboardCsp(tileUrl: string): string {
  const tiles = tileOrigin(tileUrl);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    `img-src 'self' data: blob:${tiles ? ` ${tiles}` : ''}`,
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers for every answer, API and pages: no MIME sniffing, no framing, no referrer, HSTS over https. */
export function installSecurityHeaders(app: Api): void {
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
    if (request.protocol === 'https') void reply.header('strict-transport-security', 'max-age=31536000');
  });
}
