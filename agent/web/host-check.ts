// DNS rebinding: a page at http://attacker.example:8088/ whose name the attacker then points at this
// box's address is, to the browser, the attacker's own origin, so its scripts may read every answer
// of this server (a loopback page without a password included). The one thing that tells such a
// request apart is the Host header, which carries the attacker's name. So a request is served only
// when its Host is an address the page listens on, localhost, or a name in web.hostnames. The port
// is not compared: rebinding changes the name, and a port forward in front of the box changes the
// port honestly.
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import { withoutZone } from '../../lib/login-guard';

export interface HostCheckOptions {
  /** The address the server listens on (web.host after listen: an IP literal, maybe 0.0.0.0 or ::). */
  listenAddress: string;
  /** web.hostnames. */
  hostnames: readonly string[];
  /** The box's interface addresses (os.networkInterfaces by default), for a server on 0.0.0.0 or ::. */
  interfaceAddresses?: () => string[];
}

/** The host part of a Host header, lower case, IPv6 without brackets, without a trailing dot; undefined when malformed. */
export function hostOfHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^(?:\[([0-9A-F:.]+)\]|([\w.-]+))(?::\d{1,5})?$/i.exec(header);
  if (!m) return undefined;
  if (m[1] !== undefined) return ipaddr.IPv6.isValid(m[1]) ? ipaddr.parse(m[1]).toString() : undefined;
  return m[2].toLowerCase().replace(/\.$/, '');
}

function canonicalIp(text: string): string | undefined {
  const t = withoutZone(text.replace(/^\[|\]$/g, ''));
  if (ipaddr.IPv6.isValid(t)) {
    const v6 = ipaddr.IPv6.parse(t);
    return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toString();
  }
  return ipaddr.IPv4.isValidFourPartDecimal(t) ? ipaddr.IPv4.parse(t).toString() : undefined;
}

function boxAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((i) => i.address);
}

export class HostCheck {
  private readonly names: Set<string>;
  private readonly listen: string | undefined;
  private readonly wildcard: boolean;

  constructor(private readonly options: HostCheckOptions) {
    this.names = new Set(['localhost', ...options.hostnames.map((n) => n.trim().toLowerCase().replace(/\.$/, ''))]);
    this.listen = canonicalIp(options.listenAddress);
    this.wildcard = this.listen === '0.0.0.0' || this.listen === '::';
  }

  /** Is a request with this Host header for this page? */
  allows(header: string | undefined): boolean {
    const host = hostOfHeader(header);
    if (host === undefined) return false;
    if (this.names.has(host)) return true;
    const ip = canonicalIp(host);
    if (ip === undefined) return false;
    if (ip === this.listen) return true;
    if (!this.wildcard) return false;
    const addresses = (this.options.interfaceAddresses ?? boxAddresses)().map(canonicalIp);
    // A server on :: also takes IPv4 (as mapped addresses): every address of the box counts.
    return addresses.includes(ip);
  }
}
