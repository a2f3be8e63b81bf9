// RTSP DESCRIBE of one stream (main or sub): proves the stream URL, the credentials and that it
// is RTSP with video, and reads codec and picture size from the SDP. Reuses the RTSP driver's
// exchange (DESCRIBE, Basic/Digest on a 401) with one hard budget over all of its requests.
// Unlike the driver's identification it sends no OPTIONS first: every request is a connection
// of its own, so an OPTIONS cannot prepare the DESCRIBE that follows, and a sweep of hundreds of
// streams every 30 s pays for every round trip.
import { performance } from 'node:perf_hooks';
import type { Authenticator } from '../../../drivers/auth';
import { describeVideo, type RtspExchange } from '../../../drivers/rtsp/driver';
import { parseRtspUrl, type ParsedRtspUrl } from '../../../drivers/target';
import { DriverError, type Credentials } from '../../../drivers/types';
import type { ProbeError, ProbeErrorCode, StreamCheck } from '../types';
import { bounded, probeError, since } from './reach';
import { bracketHost, redactUrl } from '../../../lib/url';

export interface StreamCheckOptions {
  /** rtsp://host[:port]/path; credentials belong in `credentials`, not in the URL. */
  url: string;
  stream: 'main' | 'sub';
  credentials?: Credentials;
  /** Hard limit on the whole check (every request and the auth round trip), ms. */
  timeoutMs: number;
  /** Aborting ends the check at once with 'timeout' ("cancelled"). */
  signal?: AbortSignal;
  /** Cap on the DESCRIBE answer body (the SDP); default 64 KiB. */
  maxResponseBytes?: number;
}

/** An SDP is a few hundred bytes; a camera that sends more than this is not describing a stream. */
export const DESCRIBE_MAX_RESPONSE_BYTES = 64 * 1024;

const DEADLINE_GRACE_MS = 25;

/**
 * Logins that worked, per device and user name, most recent last. The next probe of that device
 * sends its Authorization up front instead of first collecting a 401: one round trip less per
 * stream every sweep. A nonce the device no longer accepts costs the same round trip as before
 * (the exchange retries once with the fresh challenge). Entries are dropped on an auth failure
 * and when the password given differs from the one they were made with.
 */
const authCache = new Map<string, { auth: Authenticator; password: string; allowBasic: boolean }>();
const AUTH_CACHE_MAX = 4096;

function cachedAuth(key: string, creds: Credentials | undefined): Authenticator | undefined {
  const hit = authCache.get(key);
  if (!hit || !creds || hit.password !== creds.password) return undefined;
  // Basic sent up front is the password in cleartext: only while the device still allows it.
  if (hit.auth.scheme === 'basic' && (creds.allowBasic !== true || !hit.allowBasic)) return undefined;
  return hit.auth;
}

function rememberAuth(key: string, auth: Authenticator | undefined, creds: Credentials | undefined): void {
  authCache.delete(key);
  if (!auth || !creds) return;
  authCache.set(key, { auth, password: creds.password, allowBasic: creds.allowBasic === true });
  if (authCache.size > AUTH_CACHE_MAX) authCache.delete(authCache.keys().next().value!);
}

/** Never rejects: every outcome is a StreamCheck. */
export function checkStream(options: StreamCheckOptions): Promise<StreamCheck> {
  const { stream, credentials, timeoutMs, signal } = options;
  const t0 = performance.now();
  let secret = credentials?.password;
  const failed = (error: ProbeError, latencyMs: number | null = null): StreamCheck => ({
    ok: false,
    stream,
    codec: null,
    width: null,
    height: null,
    latencyMs,
    error: { code: error.code, message: scrub(`${stream} stream: ${error.message}`, secret) },
  });

  let target: ParsedRtspUrl;
  try {
    target = parseRtspUrl(options.url);
  } catch {
    // The parser's message quotes the input, which may carry a password: name the URL redacted.
    return Promise.resolve(failed(probeError('failed', `not a valid rtsp:// URL: ${JSON.stringify(redactUrl(options.url))}`)));
  }
  const device = `${bracketHost(target.host)}:${target.port}`;
  secret ??= target.credentials?.password;
  const deadline = t0 + timeoutMs;
  let closed = false;
  const creds = credentials ?? target.credentials;
  const cacheKey = `${device} ${creds?.username ?? ''}`;
  const exchange: RtspExchange = {
    target,
    device,
    credentials: creds,
    auth: cachedAuth(cacheKey, creds),
    // Each request gets what is left of the budget, so the last one ends at the deadline too.
    timeoutMs: () => Math.max(1, Math.ceil(deadline - performance.now())),
    maxResponseBytes: options.maxResponseBytes ?? DESCRIBE_MAX_RESPONSE_BYTES,
    cseq: 0,
    isClosed: () => closed,
    ...(signal ? { signal } : {}),
  };
  // The requests' own timeouts end at the deadline and know whether TCP connected; this one,
  // a little later, is the backstop.
  return bounded<StreamCheck>(
    timeoutMs + DEADLINE_GRACE_MS,
    signal,
    () => failed(probeError('timeout', `no complete RTSP answer from ${device} within ${timeoutMs} ms (DESCRIBE)`)),
    () => failed(probeError('timeout', `RTSP DESCRIBE of ${device} was cancelled`)),
    (finish) => {
      describeVideo(exchange, false).then(
        (video) => {
          rememberAuth(cacheKey, exchange.auth, creds);
          finish({
            ok: true,
            stream,
            codec: video.codec ?? null,
            width: video.width ?? null,
            height: video.height ?? null,
            latencyMs: since(t0),
          });
        },
        (err: unknown) => {
          if (err instanceof DriverError && (err.code === 'auth' || err.code === 'basic-auth-refused')) authCache.delete(cacheKey);
          finish(failed(classify(err, device), since(t0)));
        },
      );
      // Nothing new is sent after the deadline or a cancel; a request in flight ends by its own
      // timeout, which is at most the deadline.
      return () => {
        closed = true;
      };
    },
  );
}

function classify(err: unknown, device: string): ProbeError {
  if (!(err instanceof DriverError)) return probeError('failed', `RTSP DESCRIBE of ${device} failed: ${err instanceof Error ? err.message : String(err)}`);
  const code: ProbeErrorCode = (() => {
    switch (err.code) {
      case 'auth':
        return 'auth';
      case 'basic-auth-refused':
        return 'basic-auth-refused';
      case 'timeout':
        return 'timeout';
      case 'malformed':
        return 'bad-answer';
      case 'too-large':
        return 'too-large';
      case 'unreachable': {
        const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code;
        if (cause === 'ECONNREFUSED') return 'refused';
        // The client's own connect deadline carries no cause: the device never completed TCP.
        return cause ? 'unreachable' : 'timeout';
      }
      default:
        // device-fault (e.g. 404: no stream at that path), unsupported (no video in the SDP)
        return 'failed';
    }
  })();
  return probeError(code, err.message);
}

/** Belt and braces: a password never reaches a message, even if some layer echoed it. */
function scrub(message: string, password: string | undefined): string {
  return password && password.length >= 3 ? message.split(password).join('***') : message;
}
