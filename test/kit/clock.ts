// Virtual time for tests: a Clock whose time moves only when the test says so. Timers run in due
// order, with pending promise callbacks and I/O callbacks flushed after each, so code that awaits
// between timers behaves as it would in real time, without the test sleeping.
import type { Clock, TimerHandle } from '../../lib/clock';

/** Lets pending promise callbacks and already-queued I/O callbacks run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(start: number | string = Date.parse('2026-01-01T00:00:00Z')) {
    this.t = typeof start === 'string' ? Date.parse(start) : start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }

  /** Timers not yet run. */
  get count(): number {
    return this.pending.size;
  }

  /** Delays of the pending timers from now, soonest first. */
  delays(): number[] {
    return [...this.pending.values()].map((p) => p.at - this.t).sort((a, b) => a - b);
  }

  private nextDue(until: number): [number, Pending] | undefined {
    let next: [number, Pending] | undefined;
    for (const e of this.pending) {
      if (e[1].at > until) continue;
      if (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq)) next = e;
    }
    return next;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await flush();
    for (let next = this.nextDue(target); next; next = this.nextDue(target)) {
      this.pending.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await flush();
    }
    this.t = target;
    await flush();
  }

  /** Moves time to the next pending timer and runs it (and any due at the same moment). */
  async next(): Promise<boolean> {
    const first = [...this.pending.values()].sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
    if (!first) return false;
    await this.advance(first.at - this.t);
    return true;
  }

  /** Advances in steps until `condition` holds (checked after each step); fails after `maxMs` of virtual time. */
  async until(condition: () => boolean, { stepMs = 100, maxMs = 600_000, what = 'the condition' } = {}): Promise<void> {
    const end = this.t + maxMs;
    await flush();
    while (!condition()) {
      if (this.t >= end) throw new Error(`${what} did not hold within ${maxMs} ms of virtual time`);
      await this.advance(stepMs);
    }
  }
}

/** A clock that reads its time from `now` (a variable the test moves); its timers never fire. */
export function clockReading(now: () => number): Clock {
  const timers = new FakeClock();
  return { now, setTimeout: (fn, ms) => timers.setTimeout(fn, ms), clearTimeout: (h) => timers.clearTimeout(h) };
}
