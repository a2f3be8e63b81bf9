// URL surgery done by hand rather than with WHATWG URL, because devices send URLs it rejects or
// rewrites (IPv6 zone ids, unencoded characters, odd paths), and a change to the authority must
// leave path and query byte-for-byte as they were.

export interface UrlParts {
  scheme: string; // lower-case, without "://"
  userinfo?: string;
  /** Host without brackets (IPv6 literal as-is, zone id kept). */
  host: string;
  port?: number;
  /** Path, query and fragment exactly as given ("" when absent). */
  rest: string;
}

const URL_HEAD = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i;

/** Split "scheme://[userinfo@]host[:port]/rest"; undefined when it is not of that shape. */
export function splitUrl(url: string): UrlParts | undefined {
  const m = URL_HEAD.exec(url);
  if (!m) return undefined;
  const [head, scheme, authority] = m;
  const rest = url.slice(head.length);
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostport = at >= 0 ? authority.slice(at + 1) : authority;
  let host: string;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return undefined;
    host = hostport.slice(1, close);
    const after = hostport.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return undefined;
    portText = after ? after.slice(1) : undefined;
  } else {
    const colon = hostport.lastIndexOf(':');
    if (colon >= 0 && hostport.indexOf(':') !== colon) return undefined; // bare IPv6 without brackets
    host = colon >= 0 ? hostport.slice(0, colon) : hostport;
    portText = colon >= 0 ? hostport.slice(colon + 1) : undefined;
  }
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return undefined;
    port = Number(portText);
  }
  return { scheme: scheme.toLowerCase(), userinfo, host, port, rest };
}

/** "host" or "[v6]" as it must appear in a URL authority. */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function formatUrl(parts: UrlParts): string {
  const user = parts.userinfo !== undefined ? `${parts.userinfo}@` : '';
  const port = parts.port !== undefined ? `:${parts.port}` : '';
  return `${parts.scheme}://${user}${bracketHost(parts.host)}${port}${parts.rest}`;
}

/** The URL with any user:password@ removed; text that is not a URL is returned with anything
 * that looks like credentials cut out, so it is always safe to log. */
export function redactUrl(url: string): string {
  const parts = splitUrl(url.trim());
  if (parts) return formatUrl({ ...parts, userinfo: undefined });
  return url.replace(/\/\/[^/@\s]*@/g, '//');
}

/** The URL with `user:password@` set (percent-encoded). Never log the result (redactUrl() undoes
 * it), and never give it to a process: its arguments are readable by every local user. The
 * agent's ffmpeg reaches cameras with a login through the RTSP gate (drivers/rtsp/gate.ts).
 * Unparseable: unchanged. */
export function withCredentials(url: string, credentials: { username: string; password: string }): string {
  const parts = splitUrl(url);
  if (!parts) return url;
  const enc = (s: string) => encodeURIComponent(s);
  return formatUrl({ ...parts, userinfo: `${enc(credentials.username)}:${enc(credentials.password)}` });
}
