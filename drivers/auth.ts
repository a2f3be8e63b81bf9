// HTTP and RTSP authentication (same scheme on both): Basic (RFC 2617 §2) and Digest
// (RFC 2617 §3, MD5 or SHA-256, qop=auth). Used by the RTSP driver, the RTSP gate ffmpeg goes
// through, and the snapshot fetcher.
//
// The one rule on Basic: any device on the LAN can answer 401 with `WWW-Authenticate: Basic` and
// so collect the login in cleartext (base64). Digest is always preferred, and a device that
// offers only Basic gets the password only when the login says so (Credentials.allowBasic: the
// installer's per-device setting); otherwise it is refused with basicRefusedMessage().
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

/** Pick the strongest challenge we may answer: Digest SHA-256, Digest MD5, then Basic only when
 * `policy.allowBasic`. Undefined when none is left (see pickChallenge for why). */
export function chooseChallenge(values: string[], policy: { allowBasic?: boolean }): Challenge | undefined {
  const choice = pickChallenge(values, policy);
  return typeof choice === 'string' ? undefined : choice;
}

/** The strongest challenge we may answer, or why there is none: 'basic-refused' when the device
 * offers Basic (and nothing we speak better) but the login does not allow Basic, 'unsupported'
 * when it offers only schemes we do not speak. */
export function pickChallenge(values: string[], policy: { allowBasic?: boolean }): Challenge | 'basic-refused' | 'unsupported' {
  const all = values.map(parseChallenge).filter((c): c is Challenge => !!c);
  const digest = all.filter((c) => c.scheme === 'digest' && /^(?:md5|sha-256)?$/i.test(c.params.algorithm ?? ''));
  const best = digest.find((c) => /sha-256/i.test(c.params.algorithm ?? '')) ?? digest[0];
  if (best) return best;
  const basic = all.find((c) => c.scheme === 'basic');
  if (!basic) return 'unsupported';
  return policy.allowBasic === true ? basic : 'basic-refused';
}

/** What the RTSP gate answers ffmpeg (as its 401 reason phrase, which ffmpeg prints) when it
 * refused Basic: the classifiers of ffmpeg's messages look for it. */
export const BASIC_REFUSED_REASON = 'Unauthorized - the camera asks for Basic auth, camgate refused to send the password in cleartext';

/** Tells whether a text (an ffmpeg line, an error message) reports a Basic refusal. */
export function isBasicRefusal(text: string): boolean {
  return text.includes(BASIC_REFUSED_REASON) || text.includes(BASIC_REFUSED_SAID);
}

const BASIC_REFUSED_SAID = 'asks for Basic authentication (the password in cleartext): not sent';

/** The one message for a refused Basic challenge; `where` names the device or URL. */
export function basicRefusedMessage(where: string): string {
  return (
    `${where} ${BASIC_REFUSED_SAID}. camgate answers Digest only, unless Basic is allowed for this device; ` +
    'if the camera really cannot do Digest and the network to it is trusted: camgate cameras set <camera> --allow-basic-auth'
  );
}

export class Authenticator {
  private nc = 0;
  constructor(
    private readonly credentials: Credentials,
    private readonly challenge: Challenge,
  ) {}

  get scheme(): Challenge['scheme'] {
    return this.challenge.scheme;
  }

  /** `cnonce` is only passed by tests that check a known answer. */
  header(method: string, uri: string, cnonce: string = randomBytes(8).toString('hex')): string {
    const { username, password } = this.credentials;
    if (this.challenge.scheme === 'basic') {
      // The last guard: whoever made this Authenticator, Basic leaves only when allowed.
      if (this.credentials.allowBasic !== true) throw new Error('Basic authentication is not allowed for this login');
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
