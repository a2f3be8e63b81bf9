// Bounded logging of things outsiders can repeat at will (refused messages, bad logins): at most a
// few lines per key and window, and the first line of the next window says how many were left out,
// so a flood neither fills the disk nor hides that it happened.
import type { Clock } from './clock';

interface Window {
  start: number;
  written: number;
  suppressed: number;
}

export interface LogLimiterOptions {
  windowMs?: number;
  /** Lines per key and window. */
  perWindow?: number;
  /** Keys remembered at most (keys may come from outside: a flood of made-up ones shares one). */
  maxKeys?: number;
}

export class LogLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly perWindow: number;
  private readonly maxKeys: number;

  constructor(
    private readonly clock: Clock,
    options: LogLimiterOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 60_000;
    this.perWindow = options.perWindow ?? 5;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** Whether to write a line for `key` now; `suppressed` = lines of this key left out since the last one written. */
  allow(key: string): { write: boolean; suppressed: number } {
    const now = this.clock.now();
    const window = this.windowOf(key, now);
    if (now - window.start >= this.windowMs) {
      window.start = now;
      window.written = 0;
    }
    if (window.written >= this.perWindow) {
      window.suppressed++;
      return { write: false, suppressed: 0 };
    }
    window.written++;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    return { write: true, suppressed };
  }

  private windowOf(key: string, now: number): Window {
    let window = this.windows.get(key);
    if (window) return window;
    if (this.windows.size >= this.maxKeys) {
      for (const [k, w] of this.windows) if (now - w.start >= this.windowMs && w.suppressed === 0) this.windows.delete(k);
    }
    if (this.windows.size >= this.maxKeys) key = '(too many keys)';
    window = this.windows.get(key) ?? { start: now, written: 0, suppressed: 0 };
    this.windows.set(key, window);
    return window;
  }
}
