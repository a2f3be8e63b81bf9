// Password guessing at the API's login: wrong passwords are counted per address (an IPv4 address,
// an IPv6 /64) and per user name, in memory, each with lib/login-guard's backoff and lockout
// (auth.login.*). Either count closed refuses the try (429 with Retry-After) without looking at
// the password. Counting per name too stops a guesser with many addresses; the price is that a
// guesser can keep one name locked out while it tries: the lockout is temporary and audited.
import type { Clock } from '../../lib/clock';
import { LoginGuard, type LoginLockout } from '../../lib/login-guard';

export interface ThrottleOptions {
  freeFailures: number;
  maxFailures: number;
  lockoutSec: number;
  clock: Clock;
}

export type ThrottleGate = { open: true } | { open: false; retryAfterSec: number };

export class LoginThrottle {
  private readonly byAddress: LoginGuard;
  private readonly byName: LoginGuard;

  constructor(options: ThrottleOptions) {
    this.byAddress = new LoginGuard(options);
    this.byName = new LoginGuard({ ...options, keyOf: (name) => `user:${(name ?? '').toLowerCase()}` });
  }

  gate(username: string, address: string): ThrottleGate {
    const gates = [this.byAddress.gate(address), this.byName.gate(username)];
    const closed = gates.filter((g) => !g.open);
    if (closed.length === 0) return { open: true };
    return { open: false, retryAfterSec: Math.max(...closed.map((g) => (g.open ? 0 : g.retryAfterSec))) };
  }

  /** Counts a wrong password; returns the lockouts this one started. */
  failed(username: string, address: string): LoginLockout[] {
    return [this.byAddress.failed(address).lockout, this.byName.failed(username).lockout].filter((l): l is LoginLockout => l !== undefined);
  }

  succeeded(username: string, address: string): void {
    this.byAddress.succeeded(address);
    this.byName.succeeded(username);
  }
}
