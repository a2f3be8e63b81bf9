// The contract between the ffmpeg supervisor (supervisor.ts) and its users: relays to the centre
// (agent/video/relay), live view pulls (agent/video/live) and one-shot picture probes
// (agent/health/picture). Every ffmpeg process the agent runs is started through one
// FfmpegSupervisor, so it is counted, reported and never outlives the agent.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { GateSource } from '../../drivers/rtsp/gate';

export type { GateSource };

/**
 * The URL an ffmpeg opens for a camera stream: the camera's own URL when it needs no login, else
 * a one-connection link of the agent's RTSP gate (drivers/rtsp/gate.ts), which logs in for it.
 * No ffmpeg ever holds a login: its arguments are readable by every local user (ps), and ffmpeg
 * would answer a Basic challenge with whatever login its URL carries.
 */
export type CameraInput = (source: GateSource) => Promise<string>;

/** Where the ffmpeg binary came from (locate.ts), in the order they are tried. */
export type FfmpegSource = 'config' | 'env' | 'ffmpeg-static' | 'path';

export interface FfmpegBinary {
  /** Absolute path (or the bare name "ffmpeg" resolved on PATH at spawn time). */
  path: string;
  source: FfmpegSource;
}

/** Spawns a process; node's child_process.spawn by default, a fake in tests. */
export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/**
 * Starts one ffmpeg run. The default launcher (launch.ts) runs ffmpeg under
 * `setpriv --pdeathsig KILL` on Linux so the kernel kills it when the agent dies, even by SIGKILL.
 * A launcher may also wrap a library that spawns ffmpeg itself (node-rtsp-stream's Mpeg1Muxer),
 * as long as it hands back the ChildProcess.
 */
export type LaunchFn = (args: readonly string[], options?: { stdio?: SpawnOptions['stdio'] }) => ChildProcess;

export type SupervisedState =
  /** spawned, no output yet */
  | 'starting'
  /** output is moving */
  | 'running'
  /** waiting to restart after an exit or a stall (backoff) */
  | 'retrying'
  /** stopped on request (final) */
  | 'stopped'
  /** gave up: maxRestarts reached or the args builder threw (final) */
  | 'failed';

export interface SupervisedStats {
  state: SupervisedState;
  /** Output frames per second over the last few seconds (progress 'pipe': the -progress blocks of
   * the last 5 s; ffmpeg's own average before 0.5 s of blocks); null before the first block and
   * always for progress 'stdout'. */
  fps: number | null;
  /** Output bitrate, kbit/s, over the last few seconds ('pipe': as fps; 'stdout': stdout bytes of
   * the last second); null before the first output, and for 'pipe' when ffmpeg has no output size (-f null). */
  bitrateKbps: number | null;
  /** Output bytes of the current run. */
  bytes: number;
  /** Frames of the current run. */
  frames: number;
  /** Restarts since supervise() (exits and stalls). */
  restarts: number;
  /** The last failure, in words ("camera refused the connection", "stalled: no output for 10 s", ffmpeg's own line). */
  lastError?: string;
  /** ISO time the current run started producing output. */
  runningSince?: string;
  /** pid of the current run (absent while retrying or stopped). */
  pid?: number;
}

export interface SuperviseOptions {
  /** Names the process in logs and errors, without credentials: "relay r1 cam-3f2a9c1d/main → rtmp://centre/live/x". */
  label: string;
  /** Kind, for counting (metrics: ffmpeg processes by kind). */
  kind: 'relay' | 'live' | 'picture' | 'other';
  /**
   * ffmpeg arguments for the next run, called before every start (so a URI can be fetched again:
   * Dahua's InvalidAfterConnect). The supervisor adds its own progress options in front
   * (`-progress pipe:3 -stats_period 1` unless progress is 'stdout'). Throwing fails the process.
   */
  args: () => readonly string[] | Promise<readonly string[]>;
  /**
   * How progress is seen: 'pipe' = ffmpeg's -progress key=value blocks on fd 3 (relays: output
   * goes to the network); 'stdout' = bytes on stdout (live pulls: the output is the pipe).
   */
  progress: 'pipe' | 'stdout';
  /** stdout chunks (progress 'stdout'); each run's stdout goes here in order. */
  onStdout?: (chunk: Buffer, run: number) => void;
  /** Called when a new run starts (run = 1, 2, …): live pulls reset their parsers here. */
  onRunStart?: (run: number) => void;
  /** Overrides of the supervisor's defaults (video.stallTimeoutSec, restartMinMs, restartMaxMs). */
  stallTimeoutMs?: number;
  restartMinMs?: number;
  restartMaxMs?: number;
  /** Give up after this many restarts in a row without a stable run; default: never. */
  maxRestarts?: number;
  /** Launcher for this process (default: the supervisor's). */
  launch?: LaunchFn;
}

export interface StateChange {
  from: SupervisedState;
  to: SupervisedState;
  /** Why (for 'retrying' and 'failed'): the error in words. */
  reason?: string;
  stats: SupervisedStats;
}

export interface SupervisedProcess {
  readonly id: string;
  readonly label: string;
  readonly kind: SuperviseOptions['kind'];
  stats(): SupervisedStats;
  /** Every state change, in order. */
  onState(listener: (change: StateChange) => void): () => void;
  /** Kills the current run and starts again (as after a stall: backoff applies); no-op unless a run is up. Optional for fakes. */
  restart?(reason: string): void;
  /** Stops the process (SIGTERM, then SIGKILL after a grace period) and resolves once it is reaped. Idempotent. */
  stop(): Promise<void>;
}
