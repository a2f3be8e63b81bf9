// Security headers of the central's HTTP answers: the ones every answer carries (API and pages),
// and the dashboard page's Content-Security-Policy, which depends on where map tiles and live video
// come from.
import type { Api } from '../api/types';

/** scheme://host[:port] of a URL template with one of these schemes, or undefined for a relative or
 * unusable one. The placeholder `wildcard` in the host becomes `*`; any other brace in the host
 * cannot be named in a policy. */
function templateOrigin(template: string, schemes: readonly string[], wildcard?: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]+)/i.exec(template.trim());
  if (!m || !schemes.includes(m[1].toLowerCase())) return undefined;
  const host = wildcard ? m[2].split(`{${wildcard}}`).join('*') : m[2];
  // Anything else in braces in the host ({z}, a typo) cannot be named in a policy.
  if (/[{}\s;,'"]/.test(host)) return undefined;
  return `${m[1].toLowerCase()}://${host}`;
}

/** The origin (scheme://host[:port]) images of a Leaflet tile URL template come from, or undefined
 * for a relative or unusable template. {s} (Leaflet's subdomains) becomes a wildcard label. */
export function tileOrigin(template: string): string | undefined {
  return templateOrigin(template, ['http', 'https'], 's');
}

/** Where a live view's video comes from: the origins of the media servers' play templates the
 * dashboard plays (http(s) for HLS and HTTP-FLV; ws(s) for WebSocket-FLV), each once, in order. The
 * play URLs are the media server's, not the central's: without them in connect-src (hls.js and
 * mpegts.js fetch the stream) and media-src (a browser's own HLS) the policy would refuse the video.
 * Templates with a placeholder in the host are refused at start (central/live/templates.ts). */
export function mediaOrigins(servers: ReadonlyArray<{ play: Readonly<Record<string, string>> }>): { fetch: string[]; media: string[] } {
  const fetch = new Set<string>();
  const media = new Set<string>();
  for (const server of servers) {
    for (const template of Object.values(server.play)) {
      const web = templateOrigin(template, ['http', 'https']);
      if (web) {
        fetch.add(web);
        media.add(web);
      }
      const socket = templateOrigin(template, ['ws', 'wss']);
      if (socket) fetch.add(socket);
    }
  }
  return { fetch: [...fetch], media: [...media] };
}

function sources(fixed: string, extra: readonly string[]): string {
  return [fixed, ...extra].join(' ');
}

/** The dashboard's policy: scripts and styles of this server only (no inline script, no eval);
 * style attributes are allowed because Leaflet and ECharts write their markup with them (they
 * cannot run code); tiles from the configured tile server; live video from the configured media
 * servers (blob: for Media Source Extensions); never framed. */
export function dashboardCsp(tileUrl: string, mediaServers: ReadonlyArray<{ play: Readonly<Record<string, string>> }> = []): string {
  const tiles = tileOrigin(tileUrl);
  const video = mediaOrigins(mediaServers);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    sources("img-src 'self' data: blob:", tiles ? [tiles] : []),
    "font-src 'self'",
    sources("connect-src 'self'", video.fetch),
    sources("media-src 'self' blob:", video.media),
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
