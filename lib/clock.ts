// Time, injected: every module that reads the time or waits takes a Clock, so tests run on
// virtual time (test/kit/clock.ts) and nothing reads Date.now() beside an injected clock.

/** Opaque handle of a pending timer. */
export type TimerHandle = unknown;

export interface TimerOptions {
  /** The timer does not keep the process alive by itself: for the periodic loops of a service
   * (probe schedules, restarts, idle checks), which matter only while something else runs. A
   * timer the process waits for (a command's deadline, a reconnect) leaves this unset. */
  background?: boolean;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once, `ms` from now; the handle cancels it. */
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms, options) => {
    const t = setTimeout(fn, ms);
    if (options?.background) t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Background timers, for code that takes only a `setTimeout` function. */
export const BACKGROUND: TimerOptions = { background: true };

/** Resolves after `ms` on `clock`; rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
