// Expands a user's scan specification ("192.168.1.0/24, 10.0.0.5-10.0.0.40 10.0.0.99") into
// the list of IPv4 addresses to probe by unicast WS-Discovery. Pure: no I/O.
import ipaddr from 'ipaddr.js';

export class TargetSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetSpecError';
  }
}

export interface ExpandTargetsOptions {
  /** Allow ranges larger than maxWithoutForce. */
  force?: boolean;
  /** Largest number of addresses one token (and the whole spec) may cover without force. Default 65536 (a /16). */
  maxWithoutForce?: number;
}

const ACCEPTED_FORMS = 'accepted forms: 10.0.0.5, 192.168.1.0/24, 10.0.0.5-10.0.0.40 (separate several with commas or spaces)';
// Even with --force we will not materialise more than a /8 (16.7 M strings would exhaust memory).
const HARD_LIMIT = 1 << 24;

function toInt(addr: ipaddr.IPv4): number {
  const [a, b, c, d] = addr.toByteArray();
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function toDotted(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function parseIPv4(text: string, token: string): ipaddr.IPv4 {
  // isValidFourPartDecimal rejects "10.1", octal "010.0.0.1" and hex: only plain dotted quads.
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (ipaddr.IPv6.isValid(text)) {
    throw new TargetSpecError(`"${token}": IPv6 is not supported for scanning (WS-Discovery unicast is IPv4 here); ${ACCEPTED_FORMS}`);
  }
  throw new TargetSpecError(`"${token}" is not an IPv4 address, network or range; ${ACCEPTED_FORMS}`);
}

interface Span {
  token: string;
  first: number;
  last: number;
}

function parseToken(token: string): Span {
  if (token.includes('/')) {
    const [ip, bits] = token.split('/');
    if (!/^\d{1,2}$/.test(bits ?? '') || Number(bits) > 32) {
      throw new TargetSpecError(`"${token}": bad prefix length (0-32); ${ACCEPTED_FORMS}`);
    }
    const prefix = Number(bits);
    const base = toInt(parseIPv4(ip, token));
    const size = 2 ** (32 - prefix);
    const first = prefix === 0 ? 0 : (base & ~(size - 1)) >>> 0;
    const last = first + size - 1;
    // Only /24 and larger networks are certainly whole subnets whose first and last addresses
    // are network/broadcast; a /28 is often a slice of a bigger subnet where .0/.15 are hosts.
    if (prefix <= 24) return { token, first: first + 1, last: last - 1 };
    return { token, first, last };
  }
  if (token.includes('-')) {
    const parts = token.split('-');
    if (parts.length !== 2) throw new TargetSpecError(`"${token}" is not a valid range; ${ACCEPTED_FORMS}`);
    const first = toInt(parseIPv4(parts[0], token));
    const last = toInt(parseIPv4(parts[1], token));
    if (last < first) throw new TargetSpecError(`"${token}": the range ends before it starts`);
    return { token, first, last };
  }
  const n = toInt(parseIPv4(token, token));
  return { token, first: n, last: n };
}

/** Expand a scan spec to IPv4 addresses, de-duplicated, in the order given.
 * Throws TargetSpecError naming the offending token. */
export function expandTargets(spec: string | string[], options: ExpandTargetsOptions = {}): string[] {
  const max = options.maxWithoutForce ?? 65536;
  const text = Array.isArray(spec) ? spec.join(',') : spec;
  const tokens = text.split(/[\s,]+/).filter((t) => t !== '');
  if (tokens.length === 0) throw new TargetSpecError(`no targets given; ${ACCEPTED_FORMS}`);

  const spans = tokens.map(parseToken);
  let total = 0;
  for (const s of spans) {
    const count = s.last - s.first + 1;
    total += count;
    if (count > HARD_LIMIT) {
      throw new TargetSpecError(`"${s.token}" covers ${count} addresses: more than a /8 is refused even with --force`);
    }
    if (count > max && !options.force) {
      throw new TargetSpecError(`"${s.token}" covers ${count} addresses (more than ${max}, a /16): pass --force to scan it`);
    }
  }
  if (total > HARD_LIMIT) throw new TargetSpecError(`${total} addresses in total: more than a /8 is refused even with --force`);
  if (total > max && !options.force) {
    throw new TargetSpecError(`${total} addresses in total (more than ${max}): pass --force to scan them all`);
  }

  const seen = new Set<number>();
  const out: string[] = [];
  for (const s of spans) {
    for (let n = s.first; n <= s.last; n++) {
      if (seen.has(n)) continue;
      seen.add(n);
      out.push(toDotted(n));
    }
  }
  return out;
}
