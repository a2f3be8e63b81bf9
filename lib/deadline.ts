// Bounds a promise in time: withDeadline fails when time runs out (a device that accepts TCP and
// never answers must not hold a discovery sweep hostage); waitAtMost just stops waiting (a clean
// shutdown gives each step a bounded wait and goes on).
import { systemClock, type Clock } from './clock';

export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

export function withDeadline<T>(work: Promise<T>, ms: number, message: string, onExpire?: () => void, clock: Clock = systemClock): Promise<T> {
  let timer: unknown;
  const expired = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => {
      try {
        onExpire?.();
      } finally {
        reject(new DeadlineError(message));
      }
    }, ms);
  });
  // The losing promise must not surface later as an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clock.clearTimeout(timer));
}

/** `work`'s value, or undefined when it has not settled within `ms` (its rejection passes through). */
export function waitAtMost<T>(work: Promise<T>, ms: number, clock: Clock = systemClock): Promise<T | undefined> {
  let timer: unknown;
  const gaveUp = new Promise<undefined>((resolve) => {
    timer = clock.setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([work, gaveUp]).finally(() => clock.clearTimeout(timer));
}
