// A small HTTP GET for camera snapshots: one hard deadline over the whole exchange, a size cap,
// and the camera's login by HTTP Digest (MD5/SHA-256, qop=auth or none), or Basic only when the
// login allows it (drivers/auth.ts). No redirects, no keep-alive. Every failure is an
// HttpFetchError with a code.
import { Authenticator, basicRefusedMessage, pickChallenge } from './auth';
import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Credentials } from './types';

export type HttpFetchErrorCode = 'auth' | 'basic-auth-refused' | 'unreachable' | 'timeout' | 'too-large' | 'http-status' | 'bad-url';

export class HttpFetchError extends Error {
  constructor(
    readonly code: HttpFetchErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpFetchError';
  }
}

export interface HttpFetchOptions {
  credentials?: Credentials;
  /** Hard deadline for the whole exchange (challenge round-trip included). */
  timeoutMs: number;
  /** Largest body accepted; more is `too-large`. */
  maxBytes: number;
  signal?: AbortSignal;
}

export interface HttpFetchResult {
  status: number;
  contentType?: string;
  body: Buffer;
}

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: Buffer;
}

/** GET `url`; resolves only for HTTP 200. */
export async function httpGet(url: string, options: HttpFetchOptions): Promise<HttpFetchResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HttpFetchError('bad-url', `not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new HttpFetchError('bad-url', `unsupported scheme ${parsed.protocol} in ${redacted(parsed)}`);
  const where = redacted(parsed);
  const deadline = Date.now() + options.timeoutMs;

  let res = await once(parsed, undefined, deadline, options, where);
  if (res.status === 401) {
    if (!options.credentials) throw new HttpFetchError('auth', `authentication required by ${where} and no login is configured`);
    const challenge = pickChallenge(challenges(res.rawHeaders), options.credentials);
    if (challenge === 'basic-refused') throw new HttpFetchError('basic-auth-refused', basicRefusedMessage(where));
    if (challenge === 'unsupported') throw new HttpFetchError('auth', `${where} asks for an authentication scheme this agent does not speak`);
    const authorization = new Authenticator(options.credentials, challenge).header('GET', parsed.pathname + parsed.search);
    res = await once(parsed, authorization, deadline, options, where);
    if (res.status === 401) throw new HttpFetchError('auth', `authentication failed for ${where}`);
  }
  if (res.status !== 200) throw new HttpFetchError('http-status', `${where} answered HTTP ${res.status}`);
  const contentType = res.headers['content-type'];
  return { status: res.status, ...(contentType ? { contentType } : {}), body: res.body };
}

function redacted(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function once(url: URL, authorization: string | undefined, deadline: number, options: HttpFetchOptions, where: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return reject(new HttpFetchError('timeout', `no answer from ${where} within ${options.timeoutMs} ms`));
    if (options.signal?.aborted) return reject(new HttpFetchError('timeout', `request to ${where} was cancelled`));
    let settled = false;
    const finish = (err: Error | undefined, value?: RawResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value as RawResponse);
    };
    const headers: Record<string, string> = { Accept: 'image/jpeg, */*', Connection: 'close' };
    if (authorization) headers.Authorization = authorization;
    const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = make(url, { method: 'GET', headers, agent: false }, (res) => {
      const declared = Number(res.headers['content-length']);
      if (res.statusCode === 200 && Number.isFinite(declared) && declared > options.maxBytes) {
        finish(new HttpFetchError('too-large', `${where} sent ${declared} bytes, over the ${options.maxBytes}-byte cap`));
        return res.destroy();
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          finish(new HttpFetchError('too-large', `${where} sent more than the ${options.maxBytes}-byte cap`));
          return res.destroy();
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', (err) => finish(new HttpFetchError('unreachable', `${where}: ${err.message}`)));
      res.on('aborted', () => finish(new HttpFetchError('unreachable', `${where} closed the connection mid-answer`)));
    });
    const timer = setTimeout(() => finish(new HttpFetchError('timeout', `no answer from ${where} within ${options.timeoutMs} ms`)), remaining);
    const onAbort = () => finish(new HttpFetchError('timeout', `request to ${where} was cancelled`));
    options.signal?.addEventListener('abort', onAbort);
    req.on('error', (err) => finish(new HttpFetchError('unreachable', `cannot reach ${where}: ${err.message}`)));
    req.end();
  });
}

/** Every WWW-Authenticate value (one per header line; Node would join them with ", "). */
function challenges(rawHeaders: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === 'www-authenticate') out.push(rawHeaders[i + 1]);
  return out;
}

/** The Authorization header for the strongest challenge we may answer (Digest SHA-256, Digest
 * MD5, then Basic when `creds.allowBasic`), or undefined when none is left. */
export function authorizationFor(values: string[], creds: Credentials, method: string, uri: string, cnonce?: string): string | undefined {
  const challenge = pickChallenge(values, creds);
  return typeof challenge === 'string' ? undefined : new Authenticator(creds, challenge).header(method, uri, cnonce);
}
