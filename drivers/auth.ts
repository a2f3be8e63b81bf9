// HTTP and RTSP authentication (same scheme on both): Basic (RFC 2617 §2) and Digest
// (RFC 2617 §3, MD5 or SHA-256, qop=auth). Used by the RTSP driver and the snapshot fetcher.
import { createHash, randomBytes } from 'node:crypto';
import type { Credentials } from './types';

export interface Challenge {
  scheme: 'basic' | 'digest';
  params: Record<string, string>;
}

/** Parse one WWW-Authenticate value: `Digest realm="x", nonce="y", qop="auth"`. */
export function parseChallenge(value: string): Challenge | undefined {
  const m = /^\s*(Basic|Digest)\b/i.exec(value);
  if (!m) return undefined;
  const rest = value.slice(m[0].length);
  const params: Record<string, string> = {};
  // A name starts only where no name character stands before it: tried from inside a long run
  // of name characters, the expression would scan the rest of the run from every position.
  const re = /(?<![\w-])([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(rest); p; p = re.exec(rest)) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return { scheme: m[1].toLowerCase() as 'basic' | 'digest', params };
}

/** Pick the strongest challenge we support: Digest SHA-256, Digest MD5, then Basic. */
export function chooseChallenge(values: string[]): Challenge | undefined {
  const all = values.map(parseChallenge).filter((c): c is Challenge => !!c);
  const digest = all.filter((c) => c.scheme === 'digest' && /^(?:md5|sha-256)?$/i.test(c.params.algorithm ?? ''));
  return digest.find((c) => /sha-256/i.test(c.params.algorithm ?? '')) ?? digest[0] ?? all.find((c) => c.scheme === 'basic');
}

export class Authenticator {
  private nc = 0;
  constructor(
    private readonly credentials: Credentials,
    private readonly challenge: Challenge,
  ) {}

  /** `cnonce` is only passed by tests that check a known answer. */
  header(method: string, uri: string, cnonce: string = randomBytes(8).toString('hex')): string {
    const { username, password } = this.credentials;
    if (this.challenge.scheme === 'basic') {
      return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    }
    const p = this.challenge.params;
    const algorithm = /sha-256/i.test(p.algorithm ?? '') ? 'sha256' : 'md5';
    const h = (s: string) => createHash(algorithm).update(s, 'utf8').digest('hex');
    const realm = p.realm ?? '';
    const nonce = p.nonce ?? '';
    const ha1 = h(`${username}:${realm}:${password}`);
    const ha2 = h(`${method}:${uri}`);
    const qop = (p.qop ?? '')
      .split(',')
      .map((q) => q.trim())
      .includes('auth')
      ? 'auth'
      : undefined;
    const fields = [`username="${username}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${uri}"`];
    if (qop) {
      const nc = (++this.nc).toString(16).padStart(8, '0');
      fields.push(`response="${h(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`)}"`, `qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
    } else {
      fields.push(`response="${h(`${ha1}:${nonce}:${ha2}`)}"`);
    }
    if (p.algorithm) fields.push(`algorithm=${p.algorithm}`);
    if (p.opaque !== undefined) fields.push(`opaque="${p.opaque}"`);
    return `Digest ${fields.join(', ')}`;
  }
}
