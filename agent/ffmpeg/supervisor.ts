// One supervisor for every ffmpeg process the agent runs: relays, live pulls (supervise()) and
// one-shot picture probes (spawnOnce). It counts them, restarts them with backoff, kills stalled
// ones and reaps them all on stopAll(). Orphans after an agent crash are the launcher's job
// (launch.ts: setpriv --pdeathsig KILL).
//
// States of a supervised process:
//   starting ──(output moves)──▶ running
//   starting/running ──(exit, or stall: SIGKILL)──▶ retrying ──(backoff timer)──▶ starting …
//   any ──stop()──▶ stopped (final)        retrying ──(maxRestarts reached)──▶ failed (final)
//   starting ──(args() throws)──▶ failed (final)
// "Output moves": progress 'pipe' — a -progress block whose frame, total_size or out_time_us grew;
// progress 'stdout' — stdout bytes. No movement for stallTimeoutMs (from spawn, or from the last
// movement) is a stall: ffmpeg is SIGKILLed and restarted.
//
// Backoff: the n-th restart in a row waits min(restartMaxMs, restartMinMs × 2^(n-1)). The count
// in a row (and so the backoff) resets when the run that just ended had stayed running for at
// least stableRunMs (default max(30 s, 3 × restartMinMs)). maxRestarts counts restarts in a row
// the same way: a process with maxRestarts 3 fails at its 4th failure in a row.
//
// No global state: the binary, launcher, timers and logger are injected.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import { BACKGROUND, systemClock, type Clock } from '../../lib/clock';
import { createLaunch } from './launch';
import { classifyFfmpegStderr, ProgressParser, TailBuffer, type ProgressBlock } from './progress';
import type { FfmpegBinary, LaunchFn, SpawnFn, StateChange, SupervisedProcess, SupervisedState, SupervisedStats, SuperviseOptions } from './types';
import { redactUrlsInText } from '../../lib/redact';
import type { Logger } from '../../lib/log';

export interface SupervisorDefaults {
  /** video.stallTimeoutSec × 1000 */
  stallTimeoutMs: number;
  restartMinMs: number;
  restartMaxMs: number;
  /** A run that stayed running this long resets the backoff; default max(30000, 3 × restartMinMs). */
  stableRunMs?: number;
  /** stop(): SIGKILL this long after SIGTERM; default 2000. */
  killGraceMs?: number;
}

export interface FfmpegSupervisorOptions {
  binary: FfmpegBinary;
  /** Default: createLaunch(binary) (setpriv --pdeathsig KILL on Linux). */
  launch?: LaunchFn;
  clock?: Clock;
  defaults: SupervisorDefaults;
  logger: Logger;
}

/** The supervisor's defaults from the config's `video` section. */
export function supervisorDefaults(video: { stallTimeoutSec: number; restartMinMs: number; restartMaxMs: number }): SupervisorDefaults {
  return { stallTimeoutMs: video.stallTimeoutSec * 1000, restartMinMs: video.restartMinMs, restartMaxMs: video.restartMaxMs };
}

export type ProcessKind = SuperviseOptions['kind'];

export interface FfmpegCount {
  /** Living ffmpeg processes (supervised runs and one-shots). */
  total: number;
  byKind: Record<ProcessKind, number>;
}

interface ProgressPoint {
  at: number;
  frame: number | null;
  size: number | null;
  outTimeUs: number | null;
}

/** fps and bitrate ('pipe' progress) are averaged over the progress blocks of this window. */
export const RATE_WINDOW_MS = 5000;
const MIN_RATE_SPAN_MS = 500;

/** Cap on the stderr tail kept per run. */
export const STDERR_TAIL_BYTES = 8192;

/** Flags the supervisor puts in front of the caller's arguments (each only when absent). */
export function supervisorArgs(args: readonly string[], progress: SuperviseOptions['progress']): string[] {
  const front: string[] = [];
  if (!args.includes('-nostdin')) front.push('-nostdin');
  if (!args.includes('-hide_banner')) front.push('-hide_banner');
  if (!args.includes('-loglevel') && !args.includes('-v')) front.push('-loglevel', 'error');
  if (!args.includes('-nostats') && !args.includes('-stats')) front.push('-nostats');
  if (progress === 'pipe') {
    // -progress works with -nostats; -stats_period exists since ffmpeg 4.4.
    if (!args.includes('-progress')) front.push('-progress', 'pipe:3');
    if (!args.includes('-stats_period')) front.push('-stats_period', '1');
  }
  return [...front, ...args];
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `ffmpeg killed by ${signal}`;
  // A supervised run reads a live stream: ending cleanly means the source closed it.
  if (code === 0) return 'the camera closed the stream (ffmpeg exited with code 0)';
  return `ffmpeg exited with code ${code ?? 'unknown'}`;
}

function errText(err: unknown): string {
  return redactUrlsInText(err instanceof Error ? err.message : String(err));
}

function emptyByKind(): Record<ProcessKind, number> {
  return { relay: 0, live: 0, picture: 0, other: 0 };
}

/** Internal hooks the supervisor gives each process. */
interface Host {
  binary: FfmpegBinary;
  launch: LaunchFn;
  clock: Clock;
  defaults: Required<SupervisorDefaults>;
  logger: Logger;
  track(child: ChildProcess, kind: ProcessKind): void;
  untrack(child: ChildProcess): void;
  removed(p: Supervised): void;
}

class Supervised implements SupervisedProcess {
  readonly label: string;
  readonly kind: ProcessKind;
  private state: SupervisedState = 'starting';
  private readonly listeners = new Set<(change: StateChange) => void>();
  private readonly stallMs: number;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly launch: LaunchFn;

  private run = 0;
  private child?: ChildProcess;
  private runEnded = true;
  private restarts = 0;
  /** Restarts in a row without a stable run. */
  private inARow = 0;
  private lastError?: string;
  private runningSinceMs?: number;
  private lastMoveAt = 0;
  private stallReason?: string;
  private stallTimer?: unknown;
  private backoffTimer?: unknown;
  private killTimer?: unknown;
  private stopping?: Promise<void>;
  private reaped?: () => void;

  // Stats of the current run.
  private fps: number | null = null;
  private bitrateKbps: number | null = null;
  private bytes = 0;
  private frames = 0;
  private last?: ProgressPoint;
  /** Progress points of the last RATE_WINDOW_MS (at least two kept), for fps and bitrate. */
  private points: ProgressPoint[] = [];
  /** progress 'stdout': [time, bytes] over the last second. */
  private window: Array<[number, number]> = [];
  private readonly parser = new ProgressParser();
  private readonly stderr = new TailBuffer(STDERR_TAIL_BYTES);
  /** The current run's input (after -i). */
  private input?: string;

  constructor(
    readonly id: string,
    private readonly options: SuperviseOptions,
    private readonly host: Host,
  ) {
    this.label = redactUrlsInText(options.label);
    this.kind = options.kind;
    this.stallMs = options.stallTimeoutMs ?? host.defaults.stallTimeoutMs;
    this.minMs = options.restartMinMs ?? host.defaults.restartMinMs;
    this.maxMs = Math.max(this.minMs, options.restartMaxMs ?? host.defaults.restartMaxMs);
    this.launch = options.launch ?? host.launch;
  }

  get final(): boolean {
    return this.state === 'stopped' || this.state === 'failed';
  }

  stats(): SupervisedStats {
    const s: SupervisedStats = {
      state: this.state,
      fps: this.fps,
      bitrateKbps: this.options.progress === 'stdout' ? this.windowKbps() : this.bitrateKbps,
      bytes: this.bytes,
      frames: this.frames,
      restarts: this.restarts,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    if (this.runningSinceMs !== undefined && this.state === 'running') s.runningSince = new Date(this.runningSinceMs).toISOString();
    if (this.child?.pid !== undefined && !this.runEnded) s.pid = this.child.pid;
    return s;
  }

  onState(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setState(to: SupervisedState, reason?: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    const change: StateChange = { from, to, stats: this.stats() };
    if (reason !== undefined) change.reason = reason;
    const log = { ffmpeg: this.id, kind: this.kind, label: this.label, from, to, reason, restarts: this.restarts, pid: change.stats.pid };
    if (to === 'failed' || to === 'retrying') this.host.logger.warn(log, `ffmpeg ${this.label}: ${to}${reason ? `: ${reason}` : ''}`);
    else this.host.logger.info(log, `ffmpeg ${this.label}: ${to}`);
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (err) {
        this.host.logger.error({ ffmpeg: this.id, err }, 'ffmpeg state listener threw');
      }
    }
  }

  /** Starts the next run (state is 'starting' already). */
  async start(): Promise<void> {
    if (this.final || this.stopping) return;
    this.run += 1;
    const run = this.run;
    this.resetRunStats();
    let args: readonly string[];
    try {
      args = await this.options.args();
    } catch (err) {
      if (this.final || this.stopping) return;
      this.lastError = `cannot build the ffmpeg arguments: ${errText(err)}`;
      this.setState('failed', this.lastError);
      return;
    }
    if (this.final || this.stopping || run !== this.run) return;
    const i = args.indexOf('-i');
    this.input = i >= 0 ? args[i + 1] : undefined;
    const progress = this.options.progress;
    const stdio: SpawnOptions['stdio'] = progress === 'pipe' ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'];
    let child: ChildProcess;
    try {
      child = this.launch(supervisorArgs(args, progress), { stdio });
    } catch (err) {
      this.runEnded = true;
      this.ended(run, `cannot start ffmpeg (${this.host.binary.path}): ${errText(err)}`);
      return;
    }
    this.child = child;
    this.runEnded = false;
    this.host.track(child, this.kind);
    this.lastMoveAt = this.host.clock.now();

    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(run, chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      if (run === this.run) this.stderr.push(chunk);
    });
    const fd3 = child.stdio?.[3] as Readable | null | undefined;
    fd3?.on('data', (chunk: Buffer) => {
      if (run !== this.run) return;
      for (const block of this.parser.push(chunk)) this.onProgress(block);
    });
    for (const s of [child.stdout, child.stderr, fd3]) s?.on('error', () => undefined);
    child.on('error', (err: NodeJS.ErrnoException) => {
      // A spawn failure has no process (no 'exit' follows); a kill failure leaves 'exit' to come.
      if (child.pid === undefined)
        this.childGone(run, child, `cannot start ffmpeg (${this.host.binary.path}): ${err.code ?? ''} ${errText(err)}`.replace(/\s+/g, ' '));
    });
    child.on('exit', (code, signal) => this.childGone(run, child, describeExit(code, signal)));
    this.armStall(run);
    try {
      this.options.onRunStart?.(run);
    } catch (err) {
      this.host.logger.error({ ffmpeg: this.id, err }, 'onRunStart threw');
    }
  }

  private resetRunStats(): void {
    this.fps = null;
    this.bitrateKbps = null;
    this.bytes = 0;
    this.frames = 0;
    this.last = undefined;
    this.points = [];
    this.window = [];
    this.parser.reset();
    this.stderr.clear();
    this.stallReason = undefined;
    this.runningSinceMs = undefined;
  }

  private moved(): void {
    this.lastMoveAt = this.host.clock.now();
    if (this.state === 'starting' && !this.stopping) {
      this.runningSinceMs = this.lastMoveAt;
      this.setState('running');
    }
  }

  private onStdout(run: number, chunk: Buffer): void {
    if (run !== this.run) return;
    if (this.options.progress === 'stdout') {
      this.bytes += chunk.length;
      const now = this.host.clock.now();
      this.window.push([now, chunk.length]);
      this.pruneWindow(now);
      if (chunk.length > 0) this.moved();
    }
    if (this.options.onStdout) {
      try {
        this.options.onStdout(chunk, run);
      } catch (err) {
        this.host.logger.error({ ffmpeg: this.id, err }, 'onStdout threw');
      }
    }
  }

  private pruneWindow(now: number): void {
    while (this.window.length > 0 && this.window[0][0] <= now - 1000) this.window.shift();
  }

  private windowKbps(): number | null {
    if (this.runEnded || this.bytes === 0) return null;
    const now = this.host.clock.now();
    this.pruneWindow(now);
    const bytes = this.window.reduce((a, [, n]) => a + n, 0);
    // bytes over the last second → kbit/s (bytes × 8 / 1000).
    return Math.round((bytes * 8) / 100) / 10;
  }

  private onProgress(b: ProgressBlock): void {
    const now = this.host.clock.now();
    const prev = this.last;
    const grew = (a: number | null, p: number | null | undefined) => a !== null && a > (p ?? 0);
    const moving = grew(b.frame, prev?.frame) || grew(b.totalSize, prev?.size) || grew(b.outTimeUs, prev?.outTimeUs);
    const point: ProgressPoint = {
      at: now,
      frame: b.frame ?? prev?.frame ?? null,
      size: b.totalSize ?? prev?.size ?? null,
      outTimeUs: b.outTimeUs ?? prev?.outTimeUs ?? null,
    };
    this.points.push(point);
    while (this.points.length > 2 && this.points[1].at <= now - RATE_WINDOW_MS) this.points.shift();
    // Rates over the window (≥ MIN_RATE_SPAN_MS of our clock), so blocks that reach us late or
    // bunched together do not make the numbers jump; ffmpeg's own averages before that.
    const base = this.points[0];
    const dt = now - base.at;
    if (dt >= MIN_RATE_SPAN_MS) {
      this.fps = b.frame !== null && base.frame !== null ? Math.round(((b.frame - base.frame) * 10000) / dt) / 10 : b.fps;
      this.bitrateKbps = b.totalSize !== null && base.size !== null ? Math.round(((b.totalSize - base.size) * 80) / dt) / 10 : b.bitrateKbps;
    } else if (this.points.length === 1) {
      this.fps = b.fps;
      this.bitrateKbps = b.bitrateKbps;
    }
    if (b.frame !== null) this.frames = b.frame;
    if (b.totalSize !== null) this.bytes = b.totalSize;
    this.last = point;
    if (moving) this.moved();
  }

  private armStall(run: number): void {
    const check = (): void => {
      this.stallTimer = undefined;
      if (run !== this.run || this.runEnded || this.stopping || this.final) return;
      const idle = this.host.clock.now() - this.lastMoveAt;
      if (idle >= this.stallMs) {
        this.stallReason = `stalled: no output for ${Math.round(this.stallMs / 1000)} s`;
        this.child?.kill('SIGKILL');
        return;
      }
      this.stallTimer = this.host.clock.setTimeout(check, this.stallMs - idle, BACKGROUND);
    };
    this.stallTimer = this.host.clock.setTimeout(check, this.stallMs, BACKGROUND);
  }

  private clearTimers(): void {
    for (const t of [this.stallTimer, this.backoffTimer, this.killTimer]) if (t !== undefined) this.host.clock.clearTimeout(t);
    this.stallTimer = this.backoffTimer = this.killTimer = undefined;
  }

  private childGone(run: number, child: ChildProcess, exit: string): void {
    if (run !== this.run || this.runEnded) return;
    this.runEnded = true;
    this.host.untrack(child);
    this.ended(run, exit);
  }

  /** The current run is over (process reaped, or never started). */
  private ended(run: number, exit: string): void {
    if (this.stallTimer !== undefined) this.host.clock.clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    if (this.stopping) {
      if (this.killTimer !== undefined) this.host.clock.clearTimeout(this.killTimer);
      this.killTimer = undefined;
      this.reaped?.();
      return;
    }
    if (this.final || run !== this.run) return;
    // ffmpeg names its input: a camera reached through the RTSP gate by a one-use link, which means nothing to people.
    const tail = this.input && /^rtsp:\/\/127\.0\.0\.1:/.test(this.input) ? this.stderr.value.split(this.input).join('the camera stream') : this.stderr.value;
    const said = classifyFfmpegStderr(tail);
    const reason = this.stallReason ? (said ? `${this.stallReason} (ffmpeg said: ${said})` : this.stallReason) : said ? `${said} [${exit}]` : exit;
    this.lastError = redactUrlsInText(reason);
    const now = this.host.clock.now();
    if (this.runningSinceMs !== undefined && now - this.runningSinceMs >= this.host.defaults.stableRunMs) this.inARow = 0;
    const max = this.options.maxRestarts;
    if (max !== undefined && this.inARow >= max) {
      this.setState('failed', `${this.lastError}; gave up after ${this.inARow} restart(s) in a row`);
      return;
    }
    this.inARow += 1;
    this.restarts += 1;
    const delay = Math.min(this.maxMs, this.minMs * 2 ** (this.inARow - 1));
    this.runningSinceMs = undefined;
    this.setState('retrying', `${this.lastError}; restart ${this.restarts} in ${delay} ms`);
    this.backoffTimer = this.host.clock.setTimeout(
      () => {
        this.backoffTimer = undefined;
        if (this.final || this.stopping) return;
        this.setState('starting');
        void this.start();
      },
      delay,
      BACKGROUND,
    );
  }

  /** Kills the current run and restarts it like a stall would (backoff applies); the reason becomes lastError. */
  restart(reason: string): void {
    if (this.runEnded || this.stopping || this.final || !this.child) return;
    this.stallReason = reason;
    this.child.kill('SIGKILL');
  }

  /** The delay before the next restart, for tests and status (undefined unless retrying). */
  nextDelayMs(): number | undefined {
    return this.state === 'retrying' ? Math.min(this.maxMs, this.minMs * 2 ** (this.inARow - 1)) : undefined;
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.state === 'failed') {
      this.stopping = Promise.resolve();
      this.host.removed(this);
      return this.stopping;
    }
    this.clearTimers();
    const child = this.child;
    if (!child || this.runEnded) {
      this.stopping = Promise.resolve();
      this.setState('stopped');
      this.host.removed(this);
      return this.stopping;
    }
    this.stopping = new Promise<void>((resolve) => {
      this.reaped = () => {
        this.reaped = undefined;
        this.setState('stopped');
        this.host.removed(this);
        resolve();
      };
    });
    child.kill('SIGTERM');
    this.killTimer = this.host.clock.setTimeout(
      () => {
        this.killTimer = undefined;
        if (!this.runEnded) child.kill('SIGKILL');
      },
      this.host.defaults.killGraceMs,
      BACKGROUND,
    );
    return this.stopping;
  }
}

export class FfmpegSupervisor {
  readonly binary: FfmpegBinary;
  private readonly launch: LaunchFn;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly defaults: Required<SupervisorDefaults>;
  private readonly processes = new Map<string, Supervised>();
  private readonly living = new Map<ChildProcess, ProcessKind>();
  private readonly oneShots = new Set<ChildProcess>();
  private seq = 0;
  private closed = false;

  constructor(options: FfmpegSupervisorOptions) {
    this.binary = options.binary;
    this.launch = options.launch ?? createLaunch(options.binary);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    const d = options.defaults;
    this.defaults = {
      stallTimeoutMs: d.stallTimeoutMs,
      restartMinMs: d.restartMinMs,
      restartMaxMs: d.restartMaxMs,
      stableRunMs: d.stableRunMs ?? Math.max(30_000, 3 * d.restartMinMs),
      killGraceMs: d.killGraceMs ?? 2000,
    };
  }

  private host(): Host {
    return {
      binary: this.binary,
      launch: this.launch,
      clock: this.clock,
      defaults: this.defaults,
      logger: this.logger,
      track: (child, kind) => this.living.set(child, kind),
      untrack: (child) => this.living.delete(child),
      removed: (p) => this.processes.delete(p.id),
    };
  }

  /** Starts supervising an ffmpeg process at once (state 'starting'). Throws after stopAll(). */
  supervise(options: SuperviseOptions): SupervisedProcess {
    if (this.closed) throw new Error('ffmpeg supervisor is stopped: cannot start more processes');
    const id = `ff${++this.seq}`;
    const p = new Supervised(id, options, this.host());
    this.processes.set(id, p);
    this.logger.info({ ffmpeg: id, kind: options.kind, label: p.label }, `ffmpeg ${p.label}: starting`);
    // Started on the next microtask, so listeners added right after supervise() see every change
    // (an args() that throws at once included).
    queueMicrotask(() => void p.start());
    return p;
  }

  /**
   * A SpawnFn for one-shot runs (picture probes: `grabFrames(req, { spawn: supervisor.spawnOnce })`).
   * `command` is ignored: the supervisor's ffmpeg runs, through its launcher (orphan protection).
   * The child is counted (kind 'picture') while it lives and killed by stopAll().
   */
  readonly spawnOnce: SpawnFn = (_command, args, options) => {
    if (this.closed) throw Object.assign(new Error('ffmpeg supervisor is stopped'), { code: 'ESHUTDOWN' });
    const child = this.launch(args, { stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'] });
    this.living.set(child, 'picture');
    this.oneShots.add(child);
    const gone = (): void => {
      this.living.delete(child);
      this.oneShots.delete(child);
    };
    child.once('exit', gone);
    child.once('error', () => {
      if (child.pid === undefined) gone();
    });
    return child;
  };

  /** Living ffmpeg processes, in total and by kind. */
  count(): FfmpegCount {
    const byKind = emptyByKind();
    for (const kind of this.living.values()) byKind[kind] += 1;
    return { total: this.living.size, byKind };
  }

  /** Supervised processes not stopped yet (failed ones stay listed until stop()). */
  list(): SupervisedProcess[] {
    return [...this.processes.values()];
  }

  /** Stops everything (supervised and one-shot) and resolves once every process is reaped. */
  async stopAll(): Promise<void> {
    this.closed = true;
    const waits: Array<Promise<void>> = [...this.processes.values()].map((p) => p.stop());
    for (const child of this.oneShots) {
      waits.push(
        new Promise<void>((resolve) => {
          if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
      );
    }
    await Promise.all(waits);
  }
}
