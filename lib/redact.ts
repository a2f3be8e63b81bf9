// Keeps credentials out of everything people and logs see. Two layers:
// - structural: URLs lose their user:password@ and password-like parameters;
// - textual: a SecretScrubber replaces every known secret string wherever it appears
//   (error messages from libraries can embed a password we did not anticipate).

import { redactUrl as withoutUserinfo } from './url';

export const REDACTED = '***';

/**
 * Names of URL parameters that carry secrets (case-insensitive): logins (some DVRs put them in
 * the path), tokens and signatures, the SRT passphrase. A value runs to the next & or whitespace
 * or quote: not to a / # ; + or :, which a passphrase may hold.
 */
const SECRET_PARAM = /([?&;/](?:password|passwd|pwd|pass|passphrase|auth|token|access_token|key|apikey|api_key|secret|sig|signature|sign)=)([^&\s"'<>]*)/gi;

/** An SRT streamid is free text ("#!::r=live/x,s=<session>,u=<user>"), often with a session key
 * in it: masked wherever a URL is logged or shown (the relay's target in replies keeps it: the
 * centre chose it and tells its streams apart by it). Its value runs to the next & or whitespace. */
const STREAMID_PARAM = /([?&;]streamid=)([^&\s"'<>]*)/gi;

/** Where an authority ends: the path, query or fragment, or the end of a URL inside text. */
const AUTHORITY_END = /[/?#\s"'<>]/g;
/** Where a URL inside text ends. */
const URL_END = /[\s"'<>]/g;

/** Counts the characters a scan looks at, so tests can check that the work grows linearly. */
export interface ScanMeter {
  chars: number;
}

/** Index of the first match of a global character-class regex at or after `from`, or text.length. */
function nextOf(re: RegExp, text: string, from: number, meter?: ScanMeter): number {
  re.lastIndex = from;
  const at = re.exec(text)?.index ?? text.length;
  if (meter) meter.chars += at - from + 1;
  return at;
}

function isSchemeChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2e || c === 0x2d;
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/**
 * Every `//user:password@` becomes `//***@`: after each "://" in the text, whether or not a
 * scheme stands before it, everything up to the last "@" of the authority. One pass: an
 * authority ends at the first "/", and every "://" holds one, so no character is looked at more
 * than twice.
 */
function maskUserinfo(text: string, meter?: ScanMeter): string {
  let out = '';
  let copied = 0;
  let searchFrom = 0;
  for (;;) {
    const i = text.indexOf('://', searchFrom);
    if (meter) meter.chars += (i < 0 ? text.length : i + 3) - searchFrom;
    if (i < 0) break;
    const start = i + 3;
    const end = nextOf(AUTHORITY_END, text, start, meter);
    const at = text.slice(start, end).lastIndexOf('@');
    if (meter) meter.chars += end - start;
    if (at >= 0) {
      out += text.slice(copied, start) + REDACTED;
      copied = start + at;
    }
    // The next "://" may begin on the authority's last character (":" before the "//").
    searchFrom = Math.max(i + 1, end - 1);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Secret-looking parameters (SECRET_PARAM) of the URLs in `text` replaced by `mask`; the rest as it is. */
export function maskSecretParams(text: string, mask: string = REDACTED): string {
  return text.replace(SECRET_PARAM, (_m, name: string, value: string) => (value === '' ? name : `${name}${mask}`));
}

/** An SRT streamid's value masked (STREAMID_PARAM). */
function maskStreamId(text: string): string {
  return text.replace(STREAMID_PARAM, (_m, name: string, value: string) => (value === '' ? name : `${name}${REDACTED}`));
}

/**
 * The URLs inside free text as [start, end) spans, as /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi
 * would find them, in linear time: that expression tries every start position and scans a long
 * run of letters from each one (quadratic: 80k characters took seconds, 2 MB hours).
 * Found from each "://" instead: the scheme is the run of scheme characters before it, from its
 * first letter; runs never reach back past the previous "://" or URL.
 */
function urlSpans(text: string, meter?: ScanMeter): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let floor = 0;
  let searchFrom = 0;
  for (;;) {
    const i = text.indexOf('://', searchFrom);
    if (meter) meter.chars += (i < 0 ? text.length : i + 3) - searchFrom;
    if (i < 0) return spans;
    let s = i;
    while (s > floor && isSchemeChar(text.charCodeAt(s - 1))) s--;
    while (s < i && !isLetter(text.charCodeAt(s))) s++;
    if (meter) meter.chars += 2 * (i - s) + 1;
    const end = s < i ? nextOf(URL_END, text, i + 3, meter) : i + 3;
    if (end === i + 3) {
      // No scheme or nothing after "://": not a URL; the run before it is not looked at again.
      floor = searchFrom = i + 1;
      continue;
    }
    spans.push([s, end]);
    floor = searchFrom = end;
  }
}

/**
 * rtsp://admin:pw@10.0.0.5/Streaming?password=x → rtsp://***@10.0.0.5/Streaming?password=***
 * Works on strings that are not valid URLs too, because device answers are not.
 */
export function redactUrl(url: string): string {
  return maskStreamId(maskSecretParams(maskUserinfo(url)));
}

/** For storage: the URL with user:password@ removed entirely (the drivers' rule) and
 * password-like parameters masked. */
export function stripUrlCredentials(url: string): string {
  return maskSecretParams(withoutUserinfo(url));
}

/** Redacts every URL inside free text (error messages, device answers), in time linear in its
 * length whatever the text: the logger and every error path run it on what devices send. */
export function redactUrlsInText(text: string, meter?: ScanMeter): string {
  return eachUrl(maskUserinfo(text, meter), (url) => maskStreamId(maskSecretParams(url)), meter);
}

/** `text` with every URL in it (urlSpans) replaced by `fn` of it. */
function eachUrl(text: string, fn: (url: string) => string, meter?: ScanMeter): string {
  let out = '';
  let copied = 0;
  for (const [s, e] of urlSpans(text, meter)) {
    out += text.slice(copied, s) + fn(text.slice(s, e));
    copied = e;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * What every log line goes through (lib/log), whatever field the text sits in: in each URL the
 * password of a user:password@ (the user name stays: it tells which login was used), the
 * secret-looking parameters and an SRT streamid are masked. Linear, like redactUrlsInText.
 */
export function scrubLogText(text: string): string {
  return eachUrl(text, (url) => maskStreamId(maskSecretParams(maskPassword(url))));
}

/** In one URL, the password of its user:password@ replaced (the user name kept). */
function maskPassword(url: string): string {
  const start = url.indexOf('://') + 3;
  const end = nextOf(AUTHORITY_END, url, start);
  const at = url.slice(start, end).lastIndexOf('@');
  if (at < 0) return url;
  const colon = url.slice(start, start + at).indexOf(':');
  return colon < 0 ? url : `${url.slice(0, start + colon + 1)}${REDACTED}${url.slice(start + at)}`;
}

/** Shortest secret we scrub from free text: shorter ones would garble every log line. */
export const MIN_SCRUB_LENGTH = 3;

/** Remembers the secrets this process knows and erases them from text (raw and JSON-escaped). */
export class SecretScrubber {
  private readonly secrets = new Set<string>();

  add(...secrets: Array<string | undefined>): this {
    for (const s of secrets) {
      if (s && s.length >= MIN_SCRUB_LENGTH) {
        this.secrets.add(s);
        // The same secret as it appears inside a JSON string (quotes, backslashes, unicode).
        const escaped = JSON.stringify(s).slice(1, -1);
        if (escaped !== s) this.secrets.add(escaped);
        const encoded = encodeURIComponent(s);
        if (encoded !== s) this.secrets.add(encoded);
      }
    }
    return this;
  }

  get size(): number {
    return this.secrets.size;
  }

  scrub(text: string): string {
    if (this.secrets.size === 0) return text;
    let out = text;
    // Longest first, so a secret that contains another is replaced whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(s)) out = out.split(s).join(REDACTED);
    }
    return out;
  }
}

/** For people-facing text: URLs redacted and known secrets erased. */
export function redactText(text: string, scrubber?: SecretScrubber): string {
  const out = redactUrlsInText(text);
  return scrubber ? scrubber.scrub(out) : out;
}

/** Any value as one piece of text: strings as they are, objects as JSON (never "[object Object]"). */
export function textOf(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return value.toString();
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return value.description ?? 'symbol';
    case 'function':
      return `function ${value.name}`;
    default:
      try {
        return JSON.stringify(value) ?? 'null';
      } catch {
        return Object.prototype.toString.call(value);
      }
  }
}
