// Who may open the live view: HTTP Basic (web.username / web.password) when a password is set,
// plus a session cookie set on an authenticated page load so the page's WebSockets are let in
// (browsers do not reliably send Basic credentials on a WebSocket handshake). Without a password
// the page is only allowed on a loopback address. Wrong passwords are throttled per client
// (login-guard.ts); a session cookie is 256 random bits, not worth guessing, and is not throttled.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import { CamgateError, EXIT_USAGE } from '../../lib/errors';
import type { AgentConfig } from '../config/schema';
import { systemClock, type Clock } from '../../lib/clock';
import type { Logger } from '../../lib/log';
import { LoginGuard, type LoginLockout } from '../../lib/login-guard';

export const SESSION_COOKIE = 'camgate_live';

/** Is `host` (an IP literal or "localhost") a loopback address? 0.0.0.0 and :: are not. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (!ipaddr.isValid(h)) return false;
  let addr = ipaddr.parse(h);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  return addr.range() === 'loopback';
}

/** Throws (naming the keys and the fix) when the page would be open to the LAN without a password,
 * or when only half of its TLS setting is given. */
export function checkWebBinding(config: Pick<AgentConfig['web'], 'host' | 'password'> & { tls?: AgentConfig['web']['tls'] }): void {
  const tls = config.tls ?? {};
  if (Boolean(tls.cert) !== Boolean(tls.key)) {
    const [given, missing] = tls.cert ? ['web.tls.cert', 'web.tls.key'] : ['web.tls.key', 'web.tls.cert'];
    throw new CamgateError(`${given} is set but ${missing} is not: give both (the PEM certificate and its private key), or neither for plain http`, EXIT_USAGE);
  }
  if (config.password) return;
  if (isLoopbackHost(config.host)) return;
  throw new CamgateError(
    `web.host is ${config.host}, which is not a loopback address, and web.password is not set: anyone on that network could watch every camera. ` +
      'Set web.password (or CAMGATE_WEB_PASSWORD), or listen on this box only with web.host 127.0.0.1 (CAMGATE_WEB_HOST).',
    EXIT_USAGE,
  );
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time string comparison (both sides hashed to a fixed length first). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Checks an `Authorization: Basic …` header against the configured user and password. */
export function checkBasic(header: string | undefined, username: string, password: string): boolean {
  if (!header) return false;
  const m = /^Basic\s+([A-Z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Both compared every time: no early exit that tells which one was wrong.
  const userOk = safeEqual(decoded.slice(0, colon), username);
  const passOk = safeEqual(decoded.slice(colon + 1), password);
  return userOk && passOk;
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    if (k) out[k] = part.slice(eq + 1).trim();
  }
  return out;
}

/** What a request may do: pass, or get 401 (no or wrong login) or 429 (too many wrong ones; wait). */
export type AuthVerdict = { ok: true } | { ok: false; status: 401; retryAfterSec?: number } | { ok: false; status: 429; retryAfterSec: number };

export interface WebAuthOptions {
  config: Pick<AgentConfig['web'], 'username' | 'password'> & { login?: AgentConfig['web']['login'] };
  clock?: Clock;
  /** Session lifetime, ms. */
  ttlMs?: number;
  maxSessions?: number;
  /** Cookies are marked Secure (the page is served over https). */
  secure?: boolean;
  logger?: Logger;
  /** Told when a client is locked out (the agent sends an audit event). */
  onLockout?: (lockout: LoginLockout) => void;
}

/** In-memory session tokens for the page's WebSockets (lost on restart: the page reloads through Basic again). */
export class WebAuth {
  private readonly sessions = new Map<string, number>();
  private readonly config: WebAuthOptions['config'];
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly maxSessions: number;
  private readonly guard: LoginGuard;

  constructor(private readonly options: WebAuthOptions) {
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
    this.ttlMs = options.ttlMs ?? 12 * 3600 * 1000;
    this.maxSessions = options.maxSessions ?? 256;
    const login = options.config.login ?? { maxFailures: 10, freeFailures: 3, lockoutSec: 900 };
    this.guard = new LoginGuard({ maxFailures: login.maxFailures, freeFailures: login.freeFailures, lockoutSec: login.lockoutSec, clock: this.clock });
  }

  get required(): boolean {
    return Boolean(this.config.password);
  }

  /** A request is allowed by Basic credentials, or (WebSockets, API calls of the page) by a live
   * session cookie. A wrong password counts against the client; a client that has to wait is
   * refused without its password being looked at. */
  check(req: IncomingMessage, { cookie }: { cookie: boolean }): AuthVerdict {
    if (!this.required) return { ok: true };
    if (cookie && this.hasSession(req)) return { ok: true };
    const header = req.headers.authorization;
    if (!header) return { ok: false, status: 401 };
    const remote = req.socket.remoteAddress;
    const gate = this.guard.gate(remote);
    if (!gate.open) return { ok: false, status: 429, retryAfterSec: gate.retryAfterSec };
    if (checkBasic(header, this.config.username, this.config.password!)) {
      this.guard.succeeded(remote);
      return { ok: true };
    }
    const counted = this.guard.failed(remote);
    const { logger } = this.options;
    if (counted.lockout) {
      const lock = counted.lockout;
      logger?.warn(
        { remote: lock.remote, client: lock.client, failures: lock.failures, lockoutSec: lock.lockoutSec, until: new Date(lock.until).toISOString() },
        `web: login locked for ${lock.client} after ${lock.failures} wrong passwords in a row; refused for ${lock.lockoutSec} s (web.login.maxFailures, web.login.lockoutSec)`,
      );
      try {
        this.options.onLockout?.(lock);
      } catch (err) {
        logger?.error({ err, client: lock.client }, 'web: login lockout audit failed');
      }
      return { ok: false, status: 429, retryAfterSec: lock.lockoutSec };
    }
    logger?.info({ remote, client: counted.client, failures: counted.failures }, `web: wrong login from ${remote ?? 'unknown'} (${counted.failures} in a row)`);
    return counted.retryAfterSec !== undefined ? { ok: false, status: 401, retryAfterSec: counted.retryAfterSec } : { ok: false, status: 401 };
  }

  private hasSession(req: IncomingMessage): boolean {
    const token = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    if (!token || !/^[\w-]{43}$/.test(token)) return false;
    const until = this.sessions.get(token);
    if (until === undefined) return false;
    if (until < this.clock.now()) {
      this.sessions.delete(token);
      return false;
    }
    return true;
  }

  /** A new session token (after a successful Basic login), as a Set-Cookie value. */
  issueCookie(): string {
    const t = this.clock.now();
    for (const [k, until] of this.sessions) if (until < t) this.sessions.delete(k);
    while (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    const token = randomBytes(32).toString('base64url');
    this.sessions.set(token, t + this.ttlMs);
    return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.ttlMs / 1000)}${this.options.secure ? '; Secure' : ''}`;
  }
}
