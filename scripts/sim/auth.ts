// Authentication as cameras do it: WS-Security UsernameToken (checked against the simulated
// device clock, ±5 s) and HTTP Digest (RFC 2617/7616, qop=auth, MD5 and optionally SHA-256).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NS } from './soap';
import { attr, child, descendant, type XmlElement } from './xml';

export interface Credentials {
  username: string;
  password: string;
}

/** absent: no credentials of this kind were sent; rejected: sent but wrong (or stale). */
export type AuthVerdict = 'absent' | 'ok' | 'rejected';

export const WSSE_CLOCK_TOLERANCE_MS = 5000;

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks the UsernameToken in a SOAP Header (PasswordDigest, or PasswordText as many cameras accept). */
export function verifyUsernameToken(header: XmlElement | undefined, creds: Credentials, deviceNow: Date): AuthVerdict {
  const token = descendant(header, NS.wsse, 'UsernameToken');
  if (!token) return 'absent';
  const username = child(token, NS.wsse, 'Username')?.text ?? '';
  const passwordEl = child(token, NS.wsse, 'Password');
  const password = passwordEl?.text ?? '';
  const type = attr(passwordEl, 'Type') ?? '';
  if (!sameText(username, creds.username)) return 'rejected';
  if (type.endsWith('#PasswordText')) return sameText(password, creds.password) ? 'ok' : 'rejected';

  const nonce = child(token, NS.wsse, 'Nonce')?.text ?? '';
  // Created belongs to wsu:, but some clients put it in wsse:; cameras accept both.
  const created = (child(token, NS.wsu, 'Created') ?? child(token, NS.wsse, 'Created'))?.text ?? '';
  const createdMs = Date.parse(created);
  if (!nonce || Number.isNaN(createdMs)) return 'rejected';
  if (Math.abs(createdMs - deviceNow.getTime()) > WSSE_CLOCK_TOLERANCE_MS) return 'rejected';
  const expected = createHash('sha1')
    .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(creds.password, 'utf8')]))
    .digest('base64');
  return sameText(password, expected) ? 'ok' : 'rejected';
}

export type DigestAlgorithm = 'MD5' | 'SHA-256';

const NONCE_LIFETIME_MS = 10 * 60 * 1000;

/** Stateless HTTP Digest: nonces are HMAC-signed timestamps, so 256 devices keep no nonce tables. */
export class HttpDigest {
  private readonly secret = randomBytes(16);

  constructor(
    readonly realm: string,
    readonly algorithms: readonly DigestAlgorithm[],
  ) {}

  /** One WWW-Authenticate value per algorithm (Hikvision-like: MD5 without algorithm=, then SHA-256). */
  challenges(): string[] {
    const nonce = this.newNonce();
    return this.algorithms.map((alg) =>
      alg === 'MD5'
        ? `Digest qop="auth", realm="${this.realm}", nonce="${nonce}", stale="FALSE"`
        : `Digest qop="auth", realm="${this.realm}", nonce="${nonce}", algorithm="SHA-256", stale="FALSE"`,
    );
  }

  verify(authorization: string | undefined, method: string, url: string, creds: Credentials): AuthVerdict {
    if (!authorization || !/^Digest\s/i.test(authorization)) return 'absent';
    const p = parseDigestParams(authorization.replace(/^Digest\s+/i, ''));
    const algName = (p.algorithm ?? 'MD5').toUpperCase();
    const alg = this.algorithms.find((a) => a === algName);
    if (!alg || !p.nonce || !p.response || p.username === undefined) return 'rejected';
    if (p.realm !== this.realm || p.uri !== url || !this.nonceIsValid(p.nonce)) return 'rejected';
    if (!sameText(p.username, creds.username)) return 'rejected';
    const hash = (s: string): string =>
      createHash(alg === 'MD5' ? 'md5' : 'sha256')
        .update(s)
        .digest('hex');
    const ha1 = hash(`${creds.username}:${this.realm}:${creds.password}`);
    const ha2 = hash(`${method}:${p.uri}`);
    let expected: string;
    if (p.qop === undefined) expected = hash(`${ha1}:${p.nonce}:${ha2}`);
    else if (p.qop === 'auth' && p.nc && p.cnonce) expected = hash(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
    else return 'rejected';
    return sameText(p.response.toLowerCase(), expected) ? 'ok' : 'rejected';
  }

  private sign(stamp: string): string {
    return createHmac('sha256', this.secret).update(`${stamp}:${this.realm}`).digest('hex').slice(0, 24);
  }

  private newNonce(): string {
    const stamp = Date.now().toString(16);
    return `${stamp}${this.sign(stamp)}`;
  }

  private nonceIsValid(nonce: string): boolean {
    const stamp = nonce.slice(0, -24);
    if (!/^[0-9a-f]+$/.test(stamp) || !sameText(nonce.slice(-24), this.sign(stamp))) return false;
    return Date.now() - parseInt(stamp, 16) < NONCE_LIFETIME_MS;
  }
}

/** key="quoted, value", key=token, ... (values may contain commas inside quotes). */
export function parseDigestParams(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const key = (m[1] ?? '').toLowerCase();
    out[key] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return out;
}
