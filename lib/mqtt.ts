// Connecting to an MQTT broker, for every camgate process that does (the agent's uplink, the
// central): PEM files read with errors that name the key, the reconnect schedule (exponential
// backoff with jitter, failover across the configured URLs), and connect errors rewritten into one
// clear line that names the setting to look at.
import { readFileSync } from 'node:fs';
import { CamgateError } from './errors';

/** Reads a PEM file named by config key `what`; undefined when unset. */
export function readPem(what: string, file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CamgateError(`${what} = ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * Delay before connection attempt number `attempt` (0 = the first, made at once). Attempts walk
 * the URL list in order (failover); within one pass the next URL is tried after `minMs`, and each
 * full pass over the list doubles the wait, up to `maxMs`. Every delay is jittered to between
 * half and all of its value, so a thousand sites that lost the broker together do not return in
 * lockstep.
 */
export function reconnectDelay(attempt: number, urlCount: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  if (attempt <= 0) return 0;
  const n = Math.max(1, urlCount);
  const base = attempt % n !== 0 ? minMs : Math.min(maxMs, minMs * 2 ** Math.min(30, Math.floor(attempt / n)));
  return Math.round(base / 2 + (random() * base) / 2);
}

/** Which URL attempt number `attempt` uses. */
export function urlForAttempt(urls: readonly string[], attempt: number): string {
  return urls[attempt % urls.length];
}

const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/** One line that says what went wrong and which setting to look at. */
export function describeConnectError(err: unknown, url: string): string {
  const e = err as (Error & { code?: string | number; reason?: string }) | undefined;
  const code = e?.code;
  const detail = e?.message ?? String(err);
  if (typeof code === 'string') {
    if (TLS_TRUST_CODES.has(code)) return `${url}: TLS: the broker's certificate is not trusted (${code}); check broker.ca`;
    if (code === 'CERT_HAS_EXPIRED') return `${url}: TLS: the broker's certificate has expired`;
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `${url}: TLS: the broker's certificate does not name this host (${detail})`;
    if (code.includes('CERTIFICATE_REQUIRED')) return `${url}: TLS: the broker requires a client certificate; set broker.cert and broker.key`;
    if (/ALERT_(?:BAD_CERTIFICATE|UNKNOWN_CA|DECRYPT_ERROR)/.test(code)) return `${url}: TLS: the broker rejected this client's certificate (${code})`;
    if (code === 'ECONNREFUSED') return `${url}: connection refused (is the broker running and listening there?)`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${url}: host name not found`;
    if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `${url}: broker unreachable (${code})`;
    if (code === 'ECONNRESET' || code === 'EPIPE')
      return `${url}: the broker closed the connection during setup (${code}); with TLS this often means a client certificate is missing or refused`;
  }
  if (typeof code === 'number') {
    // CONNACK return codes (3.1.1: 1-5) and reason codes (MQTT 5: >= 0x80).
    if (code === 4 || code === 0x86) return `${url}: the broker refused the login: bad user name or password (check broker.username / broker.password)`;
    if (code === 5 || code === 0x87) return `${url}: the broker refused the login: not authorized`;
    if (code === 1 || code === 0x84) return `${url}: the broker does not support this MQTT protocol version (try broker.protocolVersion 4)`;
    if (code === 2 || code === 0x85) return `${url}: the broker refused the client id`;
    if (code === 3 || code === 0x88) return `${url}: the broker is unavailable`;
    return `${url}: the broker refused the connection (reason code ${code}: ${detail})`;
  }
  if (/connack timeout|connect timeout/i.test(detail)) return `${url}: no CONNACK within the connect timeout (broker.connectTimeoutMs)`;
  return `${url}: ${detail}`;
}

/** Does `topic` match the subscription filter `filter` (MQTT wildcards + and #)? */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
