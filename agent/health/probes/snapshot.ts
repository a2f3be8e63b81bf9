// One picture from a camera's HTTP snapshot URI (the stream grab via ffmpeg lives in picture/).
// The fetch is the uplink's httpGet: one deadline over the whole exchange, Digest/Basic on a 401,
// and a size cap enforced while reading (a 50 MB "JPEG" is cut off at the cap, never buffered).
// The bytes must then start like a JPEG or a PNG.
import { httpGet, HttpFetchError } from '../../../drivers/http-fetch';
import type { Credentials } from '../../../drivers/types';
import type { ProbeError, ProbeErrorCode } from '../types';

export interface SnapshotOptions {
  /** http(s)://host[:port]/path; credentials belong in `credentials`, not in the URL. */
  url: string;
  credentials?: Credentials;
  /** Largest picture accepted; more is 'too-large' (reading stops at the cap). */
  maxBytes: number;
  /** Hard limit on the whole fetch (challenge round trip included), ms. */
  timeoutMs: number;
  /** Aborting ends the fetch at once with 'timeout' ("cancelled"). */
  signal?: AbortSignal;
}

/** Why a snapshot could not be had: `code` for code, `message` (no password) for people. */
export class SnapshotError extends Error implements ProbeError {
  constructor(
    readonly code: ProbeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SnapshotError';
  }

  toProbeError(): ProbeError {
    return { code: this.code, message: this.message };
  }
}

export { imageKind, type ImageKind } from '../picture/image-kind';
import { imageKind } from '../picture/image-kind';
import { redactUrl } from '../../../lib/url';

/** Resolves with the picture's bytes (JPEG or PNG); rejects with SnapshotError. */
export async function fetchSnapshot(options: SnapshotOptions): Promise<Buffer> {
  const { url, credentials, maxBytes, timeoutMs, signal } = options;
  const where = redactUrl(url);
  let body: Buffer;
  let contentType: string | undefined;
  try {
    const res = await httpGet(url, { ...(credentials ? { credentials } : {}), maxBytes, timeoutMs, ...(signal ? { signal } : {}) });
    body = res.body;
    contentType = res.contentType;
  } catch (err) {
    throw toSnapshotError(err, where, credentials?.password);
  }
  if (!imageKind(body)) {
    const what = body.length === 0 ? 'an empty body' : `${body.length} bytes that are neither JPEG nor PNG (they start ${describeStart(body)})`;
    throw new SnapshotError('not-an-image', `snapshot from ${where} is not a picture: ${what}, Content-Type ${contentType ?? 'none'}`);
  }
  return body;
}

function toSnapshotError(err: unknown, where: string, password: string | undefined): SnapshotError {
  const scrub = (m: string) => (password && password.length >= 3 ? m.split(password).join('***') : m);
  if (!(err instanceof HttpFetchError)) {
    return new SnapshotError('failed', scrub(`snapshot from ${where} failed: ${err instanceof Error ? err.message : String(err)}`));
  }
  const message = scrub(`snapshot: ${err.message}`);
  switch (err.code) {
    case 'auth':
      return new SnapshotError('auth', message);
    case 'basic-auth-refused':
      return new SnapshotError('basic-auth-refused', message);
    case 'timeout':
      return new SnapshotError('timeout', message);
    case 'too-large':
      return new SnapshotError('too-large', message);
    case 'unreachable':
      if (/ECONNREFUSED/.test(err.message)) return new SnapshotError('refused', message);
      if (/EHOSTUNREACH|ENETUNREACH|ENETDOWN|EHOSTDOWN|ENOTFOUND|EAI_AGAIN|EADDRNOTAVAIL/.test(err.message)) return new SnapshotError('unreachable', message);
      // Reset, closed mid-answer, not HTTP at all: it answered, badly.
      return new SnapshotError('bad-answer', message);
    default: // http-status (404, 500...), bad-url
      return new SnapshotError('failed', message);
  }
}

/** The first bytes, printable as text when they are, else as hex. */
function describeStart(body: Buffer): string {
  const head = body.subarray(0, 12);
  const text = head.toString('latin1');
  return /^[\x20-\x7e]+$/.test(text) ? JSON.stringify(text) : head.toString('hex').replace(/(..)/g, '$1 ').trim();
}
