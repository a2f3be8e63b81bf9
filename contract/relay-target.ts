// The push URL of cmd/stream-start: which targets the agent sends a camera to. One rule for both
// sides: the command's JSON Schema takes its pattern from here, and the agent parses every target
// with parseRelayTarget() before ffmpeg sees it.
//
// ffmpeg writes the target into protocol messages (an RTSP target is the request line of OPTIONS
// and ANNOUNCE), so a CR or LF in it would become headers, or a second command, on the wire to
// whatever host the URL names. Hence: printable ASCII only (no whitespace, no control characters;
// anything else percent-encoded), and the structure read by the WHATWG URL parser, cross-checked
// with the way ffmpeg splits the same text.
//
// ffmpeg also reads options from the query. For srt:// every key is an ffmpeg option (libsrt), and
// mode=listener or rendezvous would make the box a stream server for anyone who connects: only
// the SRT keys below are accepted, mode only as caller. For rtsp:// ffmpeg reads bare words
// (`?udp`, `?multicast`, `?http`, `?tcp`, `?https`, `?filter_src`) as transport switches, so every
// query part must be key=value; rtmp:// and rtmps:// queries are for the centre's server (tokens,
// vhost), which ffmpeg passes along. A second '?' is refused: ffmpeg's RTSP code reads options
// after the last '?', the URL parser after the first.
import { splitUrl } from '../lib/url';

export const RELAY_TARGET_SCHEMES = ['rtsp', 'rtmp', 'rtmps', 'srt'] as const;
export type RelayTargetScheme = (typeof RELAY_TARGET_SCHEMES)[number];

/** JSON Schema pattern of a target: an accepted scheme (any case), then printable ASCII only. */
export const RELAY_TARGET_PATTERN = '^(?:[Rr][Tt][Ss][Pp]|[Rr][Tt][Mm][Pp][Ss]?|[Ss][Rr][Tt])://[!-~]+$';

/** What the pattern asks for, in words (the validator's message when it fails). */
export const RELAY_TARGET_EXPECTED =
  'a push URL rtsp://, rtmp://, rtmps:// or srt:// (caller mode) of printable ASCII only: no spaces, line breaks or control characters; percent-encode anything else';

/**
 * SRT query keys (ffmpeg's libsrt options) a target may carry, with the values allowed where only
 * some are safe. Not listed, so refused: listen_timeout (a listener), smoother, messageapi.
 */
export const SRT_TARGET_KEYS: Readonly<Record<string, readonly string[] | null>> = {
  mode: ['caller'],
  transtype: ['live'],
  passphrase: null,
  pbkeylen: null,
  enforced_encryption: null,
  kmrefreshrate: null,
  kmpreannounce: null,
  streamid: null,
  latency: null,
  tsbpddelay: null,
  rcvlatency: null,
  peerlatency: null,
  connect_timeout: null,
  timeout: null,
  maxbw: null,
  inputbw: null,
  oheadbw: null,
  payload_size: null,
  pkt_size: null,
  tlpktdrop: null,
  nakreport: null,
  sndbuf: null,
  rcvbuf: null,
  lossmaxttl: null,
  minversion: null,
  mss: null,
  ffs: null,
  ipttl: null,
  iptos: null,
  linger: null,
};

export class RelayTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RelayTargetError';
  }
}

export interface RelayTarget {
  scheme: RelayTargetScheme;
  /** Host as ffmpeg connects to it: lower case, IPv6 without brackets. */
  host: string;
  port?: number;
  /** Query parts in order, raw (not percent-decoded), as ffmpeg reads them. */
  query: Array<[key: string, value: string]>;
}

const ACCEPTED = RELAY_TARGET_SCHEMES.map((s) => `${s}://`).join(', ');
// The JSON Schema's own pattern (schemas take no flags, hence [Rr]; !-~ is printable ASCII).
// eslint-disable-next-line regexp/use-ignore-case, regexp/no-obscure-range
const PATTERN = new RegExp(RELAY_TARGET_PATTERN);
const QUERY_KEY = /^[\w.-]{1,64}$/;
const UNSPECIFIED = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

/** The target without user:password@ and with a cut-off tail, for messages about a bad target. */
function shown(text: string): string {
  const cut = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return JSON.stringify(cut.replace(/\/\/[^/@]*@/, '//'));
}

/** The first character a target may not hold, described, or undefined. */
function badCharacter(text: string): string | undefined {
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (code >= 0x21 && code <= 0x7e) continue;
    const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    if (code === 0x0d || code === 0x0a) return `a line break (${hex})`;
    if (code === 0x20 || /\s/u.test(ch)) return `whitespace (${hex})`;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `a control character (${hex})`;
    return `a non-ASCII character (${hex}; percent-encode it)`;
  }
  return undefined;
}

/** An IPv6 literal in the URL parser's spelling (compressed, lower case); other hosts as they are. */
function canonicalHost(host: string): string {
  if (!host.includes(':')) return host.toLowerCase();
  try {
    return new URL(`rtsp://[${host}]`).hostname.slice(1, -1);
  } catch {
    return host;
  }
}

/** All labels numeric (inet_aton forms such as 127.1, 0x7f.0.0.1, 2130706433, 0177.0.0.1)? */
function numericV4(host: string): boolean {
  return host.split('.').every((label) => /^(?:0x[0-9a-f]*|\d+)$/i.test(label));
}

const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * Parses and checks a relay target; throws RelayTargetError naming what is wrong and the fix.
 * What it accepts is passed to ffmpeg unchanged.
 */
export function parseRelayTarget(text: string): RelayTarget {
  if (typeof text !== 'string' || text === '') throw new RelayTargetError(`target is required (${ACCEPTED})`);
  const bad = badCharacter(text);
  if (bad) throw new RelayTargetError(`target ${shown(text)} holds ${bad}: a target must be printable ASCII with no spaces or line breaks`);
  if (!PATTERN.test(text)) {
    const m = /^([A-Z][A-Z0-9+.-]*):\/\//i.exec(text);
    if (m) throw new RelayTargetError(`target scheme "${m[1].toLowerCase()}://" is not accepted; accepted: ${ACCEPTED}`);
    throw new RelayTargetError(`target ${shown(text)} is not a URL; accepted: ${ACCEPTED}`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RelayTargetError(`target ${shown(text)} is not a valid URL (check the host and port); accepted: ${ACCEPTED}`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase() as RelayTargetScheme;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === '') throw new RelayTargetError(`target ${shown(text)} has no host`);
  // Two parsers, one answer: the host checked here is the host ffmpeg connects to (ffmpeg splits
  // the authority as splitUrl does: after the last '@', IPv6 in brackets).
  const split = splitUrl(text);
  if (!split || canonicalHost(split.host) !== host) {
    throw new RelayTargetError(`target ${shown(text)} has an ambiguous host; write scheme://[user:password@]host[:port]/path`);
  }
  // The resolver reads 127.1 or 0x7f000001 as addresses: only one spelling of an IPv4 address, so
  // an allow-list and a reader of the logs see the address ffmpeg connects to.
  if (numericV4(host) && !DOTTED_QUAD.test(host)) {
    throw new RelayTargetError(`target host ${host} is not an IPv4 address in dotted decimal (a.b.c.d, no leading zeros): write the centre's address so`);
  }
  if (UNSPECIFIED.has(host)) {
    throw new RelayTargetError(`target host ${host} is "any address", not a centre to send to: name the centre's media server`);
  }
  const port = url.port === '' ? undefined : Number(url.port);
  if (scheme === 'srt' && port === undefined) throw new RelayTargetError(`target ${shown(text)} has no port: srt:// needs host:port`);

  // ffmpeg's SRT code reads the query from the first '?' to the end, '#' included (an SRT
  // streamid is often "#!::r=…"); the other schemes have no use for a fragment.
  if (url.hash !== '' && scheme !== 'srt') {
    throw new RelayTargetError(`target ${shown(text)} has a fragment (#…): a push URL has none; percent-encode '#' as %23 if it is part of the path`);
  }
  const qmark = text.indexOf('?');
  const rawQuery = qmark < 0 ? '' : text.slice(qmark + 1);
  if (rawQuery.includes('?')) throw new RelayTargetError(`target ${shown(text)} has more than one '?': percent-encode the others as %3F`);
  const query: RelayTarget['query'] = [];
  if (qmark >= 0) {
    const seen = new Set<string>();
    for (const part of rawQuery.split('&')) {
      const eq = part.indexOf('=');
      const key = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? '' : part.slice(eq + 1);
      if (eq < 0 || !QUERY_KEY.test(key)) {
        throw new RelayTargetError(
          `target query part ${JSON.stringify(part.slice(0, 40))} is not key=value (key of letters, digits, '_', '.', '-'): ffmpeg would read a bare word as one of its own options`,
        );
      }
      if (seen.has(key)) throw new RelayTargetError(`target query key "${key}" appears twice; give it once`);
      seen.add(key);
      query.push([key, value]);
    }
  }
  if (scheme === 'srt') checkSrtQuery(query);
  return { scheme, host, ...(port !== undefined ? { port } : {}), query };
}

function checkSrtQuery(query: RelayTarget['query']): void {
  for (const [key, value] of query) {
    if (!Object.prototype.hasOwnProperty.call(SRT_TARGET_KEYS, key)) {
      throw new RelayTargetError(`srt:// target option "${key}" is not accepted; accepted: ${Object.keys(SRT_TARGET_KEYS).join(', ')}`);
    }
    const allowed = SRT_TARGET_KEYS[key];
    if (allowed && !allowed.includes(value)) {
      if (key === 'mode') {
        throw new RelayTargetError(
          `srt:// mode "${value}" is refused: the agent only calls the centre (mode=caller, the default); a listener or rendezvous relay would serve the camera to anyone who connects`,
        );
      }
      throw new RelayTargetError(`srt:// option ${key}=${JSON.stringify(value)} is not accepted; accepted: ${allowed.join(', ')}`);
    }
  }
}
