// Password guessing, counted in memory: each client (one IPv4 address, or one IPv6 /64, since a
// host on the LAN picks any address of its /64 at will; or any other key a caller counts by, such
// as a user name) gets `freeFailures` wrong passwords for free, then has to wait before each
// further try (1 s, doubling, up to 30 s), and after `maxFailures` wrong passwords in a row is
// refused for `lockoutSec`. A try made too early is refused without looking at the password, so the
// rate of guesses is bounded whatever the client sends. All on the injected Clock. Used by the
// agent's live page (web.login.*) and the central's API login (auth.login.*).
import ipaddr from 'ipaddr.js';
import type { Clock } from './clock';

/** Longest wait between two tries before the lockout, ms. */
export const MAX_BACKOFF_MS = 30_000;

export interface LoginGuardOptions {
  maxFailures: number;
  /** Wrong passwords before each further try must wait. */
  freeFailures: number;
  lockoutSec: number;
  clock: Clock;
  /** Clients remembered at once; the oldest are forgotten beyond it. */
  maxClients?: number;
  /** What a try is counted by; default clientOf (the address's IPv4 or IPv6 /64). */
  keyOf?: (remote: string | undefined) => string;
}

/** May the client try a password now? */
export type LoginGate = { open: true } | { open: false; locked: boolean; retryAfterSec: number };

export interface LoginLockout {
  /** The client as counted: an IPv4 address or an IPv6 /64. */
  client: string;
  /** The address of the try that locked it. */
  remote: string;
  failures: number;
  lockoutSec: number;
  /** When the lockout ends (ms, the clock's time). */
  until: number;
}

interface ClientState {
  failures: number;
  lastFailure: number;
  /** No try is looked at before this time (ms). */
  notBefore: number;
  locked: boolean;
}

/** An IPv6 zone id ("%eth0") cut off (a loop-free cut: a pattern would be quadratic on "%%%…"). */
export function withoutZone(address: string): string {
  const at = address.indexOf('%');
  return at < 0 ? address : address.slice(0, at);
}

/** The unit a client is counted in: IPv4 address, IPv6 /64 (IPv4-mapped IPv6 as IPv4). */
export function clientOf(remote: string | undefined): string {
  const addr = withoutZone(remote ?? '');
  if (!ipaddr.isValid(addr)) return addr || 'unknown';
  let parsed = ipaddr.parse(addr);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}

export class LoginGuard {
  private readonly clients = new Map<string, ClientState>();
  private readonly maxClients: number;
  private readonly keyOf: (remote: string | undefined) => string;

  constructor(private readonly options: LoginGuardOptions) {
    this.maxClients = options.maxClients ?? 10_000;
    this.keyOf = options.keyOf ?? clientOf;
  }

  private get lockoutMs(): number {
    return this.options.lockoutSec * 1000;
  }

  private state(client: string): ClientState | undefined {
    const s = this.clients.get(client);
    if (!s) return undefined;
    const now = this.options.clock.now();
    // A lockout served, or a long quiet spell since the last wrong password: a fresh start.
    if ((s.locked && now >= s.notBefore) || (!s.locked && now - s.lastFailure >= this.lockoutMs)) {
      this.clients.delete(client);
      return undefined;
    }
    return s;
  }

  gate(remote: string | undefined): LoginGate {
    const s = this.state(this.keyOf(remote));
    const now = this.options.clock.now();
    if (!s || now >= s.notBefore) return { open: true };
    return { open: false, locked: s.locked, retryAfterSec: Math.max(1, Math.ceil((s.notBefore - now) / 1000)) };
  }

  /** A wrong password from `remote`: counts it; returns the lockout when this one starts it. */
  failed(remote: string | undefined): { client: string; failures: number; retryAfterSec?: number; lockout?: LoginLockout } {
    const client = this.keyOf(remote);
    const now = this.options.clock.now();
    const s = this.state(client) ?? { failures: 0, lastFailure: now, notBefore: now, locked: false };
    s.failures += 1;
    s.lastFailure = now;
    // Most recently active last: the first entries are the ones to forget when full.
    this.clients.delete(client);
    this.clients.set(client, s);
    this.trim();
    if (s.failures >= this.options.maxFailures) {
      s.locked = true;
      s.notBefore = now + this.lockoutMs;
      return {
        client,
        failures: s.failures,
        retryAfterSec: this.options.lockoutSec,
        lockout: { client, remote: remote ?? 'unknown', failures: s.failures, lockoutSec: this.options.lockoutSec, until: s.notBefore },
      };
    }
    if (s.failures < this.options.freeFailures) return { client, failures: s.failures };
    const wait = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(30, s.failures - this.options.freeFailures));
    s.notBefore = now + wait;
    return { client, failures: s.failures, retryAfterSec: Math.ceil(wait / 1000) };
  }

  /** The right password: the client's count starts over. */
  succeeded(remote: string | undefined): void {
    this.clients.delete(this.keyOf(remote));
  }

  /** Clients with wrong passwords on record (for tests and figures). */
  size(): number {
    return this.clients.size;
  }

  private trim(): void {
    if (this.clients.size <= this.maxClients) return;
    for (const client of [...this.clients.keys()]) this.state(client);
    for (const client of this.clients.keys()) {
      if (this.clients.size <= this.maxClients) break;
      this.clients.delete(client);
    }
  }
}
