// Waiting on real peers (a broker, ffmpeg, a simulated camera): poll until something holds, with a
// limit that is a safety net, never a timing assertion. Virtual time is kit/clock.ts's.

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `find` every 50 ms until it returns something other than undefined or false, and returns
 * that; fails after `limitMs` with `what` and, when given, what `diagnose` says of the state.
 */
export async function waitFor<T>(
  find: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  limitMs = 30_000,
  diagnose?: () => string,
): Promise<T> {
  const until = Date.now() + limitMs;
  for (;;) {
    const found = await find();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > until) throw new Error(`timed out after ${limitMs} ms waiting for ${what}${diagnose ? `; ${diagnose()}` : ''}`);
    await sleep(50);
  }
}

/** Like waitFor, but resolves false instead of failing (for "has it happened yet?" checks). */
export async function eventually(cond: () => boolean, limitMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(stepMs);
  }
  return cond();
}
