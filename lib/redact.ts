// Keeps credentials out of everything people and logs see. Two layers:
// - structural: URLs lose their user:password@ and password-like parameters;
// - textual: a SecretScrubber replaces every known secret string wherever it appears
//   (error messages from libraries can embed a password we did not anticipate).

import { redactUrl as withoutUserinfo } from './url';

export const REDACTED = '***';

/** Names of URL parameters that carry secrets (case-insensitive). Some DVRs put them in the path. */
const SECRET_PARAM = /([?&;/](?:password|passwd|pwd|pass|auth|token|key|secret|sig|signature)=)([^&;/#\s]*)/gi;

/**
 * rtsp://admin:pw@10.0.0.5/Streaming?password=x → rtsp://***@10.0.0.5/Streaming?password=***
 * Works on strings that are not valid URLs too (a regex fallback), because device answers are not.
 */
export function redactUrl(url: string): string {
  return maskSecretParams(url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/i, (_m, scheme: string) => `${scheme}${REDACTED}@`));
}

function maskSecretParams(url: string): string {
  return url.replace(SECRET_PARAM, (_m, name: string, value: string) => (value === '' ? name : `${name}${REDACTED}`));
}

/** For storage: the URL with user:password@ removed entirely (the drivers' rule) and
 * password-like parameters masked. */
export function stripUrlCredentials(url: string): string {
  return maskSecretParams(withoutUserinfo(url));
}

/** Redacts every URL inside free text (error messages, device answers). */
export function redactUrlsInText(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
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
