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

/**
 * rtsp://admin:pw@10.0.0.5/Streaming?password=x → rtsp://***@10.0.0.5/Streaming?password=***
 * Works on strings that are not valid URLs too (a regex fallback), because device answers are not.
 */
export function redactUrl(url: string): string {
  return maskSecretParams(url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/i, (_m, scheme: string) => `${scheme}${REDACTED}@`)).replace(
    STREAMID_PARAM,
    (_m, name: string, value: string) => (value === '' ? name : `${name}${REDACTED}`),
  );
}

/** Secret-looking parameters (SECRET_PARAM) of the URLs in `text` replaced by `mask`; the rest as it is. */
export function maskSecretParams(text: string, mask: string = REDACTED): string {
  return text.replace(SECRET_PARAM, (_m, name: string, value: string) => (value === '' ? name : `${name}${mask}`));
}

/** For storage: the URL with user:password@ removed entirely (the drivers' rule) and
 * password-like parameters masked. */
export function stripUrlCredentials(url: string): string {
  return maskSecretParams(withoutUserinfo(url));
}

const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** Redacts every URL inside free text (error messages, device answers). */
export function redactUrlsInText(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url));
}

/**
 * What every log line goes through (lib/log), whatever field the text sits in: in each URL the
 * password of a user:password@ (the user name stays: it tells which login was used), the
 * secret-looking parameters and an SRT streamid are masked.
 */
export function scrubLogText(text: string): string {
  return text.replace(URL_IN_TEXT, (url) =>
    maskSecretParams(url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@\s:]*):[^/@\s]*@/i, `$1:${REDACTED}@`)).replace(
      STREAMID_PARAM,
      (_m, name: string, value: string) => (value === '' ? name : `${name}${REDACTED}`),
    ),
  );
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
