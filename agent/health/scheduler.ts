// Runs keyed jobs at their due times through per-kind concurrency pools. A job's key is unique:
// scheduling a key that is waiting moves it earlier (never later); scheduling a key that is
// running marks it to run again when it finishes, at the requested time. Every run is bounded
// by a guard deadline so a probe that ignores its own timeout still frees its slot.
// The clock is injected (tests drive it; the agent passes the system clock).
import { BACKGROUND, systemClock, type Clock } from '../../lib/clock';

export type JobRun = (signal: AbortSignal) => Promise<void>;

interface Job {
  key: string;
  kind: string;
  dueAt: number;
  run: JobRun;
  running: boolean;
  /** Set while running when the job was scheduled again. */
  again?: { dueAt: number; run: JobRun };
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
    if (job && job.dueAt <= dueAt) return;
    this.jobs.set(key, { key, kind, dueAt, run, running: false });
    this.pump();
  }

  /** Forget a key (a camera removed from the inventory). A run in progress finishes. */
  cancel(key: string): void {
    const job = this.jobs.get(key);
    if (!job) return;
    if (job.running) job.again = undefined;
    else this.jobs.delete(key);
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
    this.jobs.clear();
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
    let guard: unknown;
    const guardMs = this.options.guardMs[job.kind] ?? 60_000;
    try {
      await Promise.race([
        job.run(controller.signal),
        new Promise<void>((resolve) => {
          guard = this.clock.setTimeout(
            () => {
              controller.abort(new Error(`${job.key}: no result within ${guardMs} ms`));
              resolve();
            },
            guardMs,
            BACKGROUND,
          );
        }),
      ]);
    } catch (err) {
      this.options.onError?.(job.key, err);
    } finally {
      if (guard !== undefined) this.clock.clearTimeout(guard);
      this.running.set(job.kind, (this.running.get(job.kind) ?? 1) - 1);
      job.running = false;
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
