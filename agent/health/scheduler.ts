// Runs keyed jobs at their due times through per-kind concurrency pools. A job's key is unique:
// scheduling a key that is waiting moves it earlier (never later); scheduling a key that is
// running marks it to run again when it finishes, at the requested time. Every run is bounded
// by a guard deadline so a probe that ignores its own timeout still frees its slot.
// Someone can also wait for a key's run (request): many requests share one run, and a run that
// exists only for requests is withdrawn when every requester has given up — put back to the run
// it displaced while it waits, cancelled (its signal aborts with RunCancelled) once it runs.
// The clock is injected (tests drive it; the agent passes the system clock).
import { BACKGROUND, systemClock, type Clock } from '../../lib/clock';

export type JobRun = (signal: AbortSignal) => Promise<void>;

/** The reason a run's signal aborts when everyone who asked for it gave up. */
export class RunCancelled extends Error {
  constructor(key: string) {
    super(`${key}: cancelled, no one waits for it any more`);
    this.name = 'RunCancelled';
  }
}

/** True when the run was cut because no one wanted it any more (not by its guard): its partial
 * result says nothing about the device and must not be taken as a failure. */
export function isCancelled(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof RunCancelled;
}

interface Job {
  key: string;
  kind: string;
  dueAt: number;
  run: JobRun;
  running: boolean;
  /** Set while running when the job was scheduled again. */
  again?: { dueAt: number; run: JobRun };
  /** Who waits for the run that is waiting or going now. */
  waiters: Set<() => void>;
  /** The current run is there only for requests (no regular run was due as early). */
  requested: boolean;
  /** The regular run a requested one took the place of, put back when the requests are withdrawn. */
  displaced?: { dueAt: number; run: JobRun };
  /** The going run's controller. */
  controller?: AbortController;
}

export interface SchedulerOptions {
  clock?: Clock;
  /** Concurrency per job kind, e.g. { reach: 32, stream: 32, picture: 2 }. Unknown kinds: 1. */
  limits: Record<string, number>;
  /** Deadline of one run per kind (ms); the run's signal aborts then and its slot is freed. */
  guardMs: Record<string, number>;
  /** Called with a job's error (a job should not throw; this is a last resort). */
  onError?: (key: string, err: unknown) => void;
}

export class Scheduler {
  private readonly clock: Clock;
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Map<string, number>();
  private timer: unknown;
  private stopped = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Run `run` for `key` at `dueAt` (ms epoch). */
  schedule(key: string, kind: string, dueAt: number, run: JobRun): void {
    if (this.stopped) return;
    const job = this.jobs.get(key);
    if (job?.running) {
      if (!job.again || dueAt < job.again.dueAt) job.again = { dueAt, run };
      return;
    }
    if (job && job.dueAt <= dueAt) {
      // A requested run comes first; this regular one is what it returns to if it is withdrawn.
      if (job.requested && (!job.displaced || dueAt < job.displaced.dueAt)) job.displaced = { dueAt, run };
      return;
    }
    if (job) {
      // Earlier than the waiting run: this one serves whoever waits for that.
      Object.assign(job, { dueAt, run, requested: false, displaced: undefined });
    } else {
      this.jobs.set(key, { key, kind, dueAt, run, running: false, waiters: new Set(), requested: false });
    }
    this.pump();
  }

  /**
   * Like schedule(), for a caller who waits: resolves when the run that serves this request has
   * ended — the run of `key` going now (its result is as fresh as any), else the waiting one,
   * moved to `dueAt` when it was due later. When `signal` aborts this resolves at once; when it
   * was the last one waiting for a run that exists only for requests, that run is withdrawn.
   */
  request(key: string, kind: string, dueAt: number, run: JobRun, signal?: AbortSignal): Promise<void> {
    if (this.stopped || signal?.aborted) return Promise.resolve();
    let job = this.jobs.get(key);
    if (!job) {
      job = { key, kind, dueAt, run, running: false, waiters: new Set(), requested: true };
      this.jobs.set(key, job);
    } else if (!job.running && job.dueAt > dueAt) {
      if (!job.requested) job.displaced = { dueAt: job.dueAt, run: job.run };
      Object.assign(job, { dueAt, run, requested: true });
    }
    const served = job;
    const done = new Promise<void>((resolve) => {
      const waiter = () => {
        signal?.removeEventListener('abort', withdraw);
        resolve();
      };
      const withdraw = () => {
        served.waiters.delete(waiter);
        resolve();
        this.withdraw(served);
      };
      served.waiters.add(waiter);
      signal?.addEventListener('abort', withdraw, { once: true });
    });
    this.pump();
    return done;
  }

  /** Forget a key (a camera removed from the inventory). A run in progress finishes. */
  cancel(key: string): void {
    const job = this.jobs.get(key);
    if (!job) return;
    if (job.running) job.again = undefined;
    else {
      this.jobs.delete(key);
      this.release(job);
    }
  }

  /** A requested run no one waits for any more: back to the run it displaced, or cut short. */
  private withdraw(job: Job): void {
    if (job.waiters.size > 0 || !job.requested || this.jobs.get(job.key) !== job) return;
    if (job.running) {
      job.controller?.abort(new RunCancelled(job.key));
      return;
    }
    if (job.displaced) {
      Object.assign(job, { dueAt: job.displaced.dueAt, run: job.displaced.run, requested: false, displaced: undefined });
    } else {
      this.jobs.delete(job.key);
    }
    this.pump();
  }

  private release(job: Job): void {
    const waiters = [...job.waiters];
    job.waiters.clear();
    for (const w of waiters) w();
  }

  has(key: string): boolean {
    return this.jobs.has(key);
  }

  /** Jobs running now, per kind. */
  inFlight(): Record<string, number> {
    return Object.fromEntries(this.running);
  }

  /** Resolves when nothing is running and nothing is due now (tests, sweeps). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    for (const job of jobs) this.release(job);
    this.flushIdle();
  }

  private isIdle(): boolean {
    const now = this.clock.now();
    for (const job of this.jobs.values()) if (job.running || job.dueAt <= now) return false;
    return true;
  }

  private flushIdle(): void {
    if (this.idleWaiters.length === 0 || (!this.stopped && !this.isIdle())) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Starts every due job whose kind has a free slot, earliest first, then re-arms. */
  private pump(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const due = [...this.jobs.values()].filter((j) => !j.running && j.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    for (const job of due) {
      const used = this.running.get(job.kind) ?? 0;
      if (used >= (this.options.limits[job.kind] ?? 1)) continue;
      this.running.set(job.kind, used + 1);
      job.running = true;
      void this.execute(job);
    }
    // Jobs left waiting for a slot start when a running one finishes (execute → pump).
    let next = Infinity;
    for (const job of this.jobs.values()) if (!job.running && job.dueAt > now && job.dueAt < next) next = job.dueAt;
    if (next !== Infinity) {
      if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
      this.timer = this.clock.setTimeout(
        () => {
          this.timer = undefined;
          this.pump();
        },
        Math.max(0, next - now),
        BACKGROUND,
      );
    }
    this.flushIdle();
  }

  private async execute(job: Job): Promise<void> {
    const controller = new AbortController();
    job.controller = controller;
    let guard: unknown;
    const guardMs = this.options.guardMs[job.kind] ?? 60_000;
    try {
      await Promise.race([
        job.run(controller.signal),
        // The guard, or a withdrawal (RunCancelled), frees the slot at once.
        new Promise<void>((resolve) => {
          controller.signal.addEventListener('abort', () => resolve(), { once: true });
          guard = this.clock.setTimeout(() => controller.abort(new Error(`${job.key}: no result within ${guardMs} ms`)), guardMs, BACKGROUND);
        }),
      ]);
    } catch (err) {
      this.options.onError?.(job.key, err);
    } finally {
      if (guard !== undefined) this.clock.clearTimeout(guard);
      this.running.set(job.kind, (this.running.get(job.kind) ?? 1) - 1);
      job.running = false;
      job.controller = undefined;
      job.requested = false;
      this.release(job);
      if (this.jobs.get(job.key) === job) {
        if (job.again) {
          job.dueAt = job.again.dueAt;
          job.run = job.again.run;
          job.again = undefined;
        } else {
          this.jobs.delete(job.key);
        }
      }
      this.pump();
    }
  }
}
