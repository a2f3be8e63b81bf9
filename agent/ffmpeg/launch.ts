// The default LaunchFn: how one ffmpeg run is started so that it can never outlive the agent.
//
// On Linux, ffmpeg runs as `setpriv --pdeathsig KILL -- <ffmpeg> args…` (util-linux): setpriv sets
// PR_SET_PDEATHSIG and execs ffmpeg (same pid), so the kernel SIGKILLs ffmpeg when its parent dies,
// however it dies (SIGKILL and OOM kills included: no handler of ours has to run).
// PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the process. libuv
// forks from the thread that calls uv_spawn: child_process.spawn on the main thread, which lives as
// long as the process. Never launch ffmpeg from a worker_thread: it would be killed when that
// worker ends. The signal survives execve (ffmpeg is not setuid). There is a window of a few
// microseconds between fork and setpriv's prctl() in which a parent death is missed; setpriv does
// not re-check getppid(). The supervisor's stop paths cover the normal cases; this covers crashes.
//
// Without setpriv (not Linux, or util-linux missing) ffmpeg is spawned directly and orphans are
// possible when the agent is SIGKILLed; `camgate doctor` says so.
import { execFile, spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isExecutableFile } from './locate';
import type { FfmpegBinary, LaunchFn, SpawnFn } from './types';

export const SETPRIV_PATH = '/usr/bin/setpriv';

export interface OrphanProtection {
  /** true when ffmpeg runs under setpriv --pdeathsig KILL. */
  available: boolean;
  /** The setpriv used. */
  setpriv?: string;
  /** In words, for `camgate doctor` and the start-up log. */
  reason: string;
}

export interface LaunchDeps {
  spawn?: SpawnFn;
  platform?: NodeJS.Platform;
  /** setpriv to use; null = never (plain spawn). Default /usr/bin/setpriv when it exists on Linux. */
  setprivPath?: string | null;
  exists?: (path: string) => boolean;
}

/** Is orphan protection available on this box (synchronous: a file check)? */
export function orphanProtection(deps: LaunchDeps = {}): OrphanProtection {
  const platform = deps.platform ?? process.platform;
  if (deps.setprivPath === null) return { available: false, reason: 'disabled: ffmpeg is spawned directly' };
  if (platform !== 'linux') {
    return { available: false, reason: `not Linux (${platform}): no PR_SET_PDEATHSIG; ffmpeg is spawned directly and survives an agent killed by SIGKILL` };
  }
  const setpriv = deps.setprivPath ?? SETPRIV_PATH;
  const exists = deps.exists ?? isExecutableFile;
  if (!exists(setpriv)) {
    return {
      available: false,
      reason: `${setpriv} not found: ffmpeg is spawned directly and survives an agent killed by SIGKILL; install util-linux (apt-get install util-linux)`,
    };
  }
  return { available: true, setpriv, reason: `ffmpeg runs under ${setpriv} --pdeathsig KILL: the kernel kills it when the agent dies` };
}

/** Checks that setpriv really accepts --pdeathsig (util-linux ≥ 2.33) by running it once. */
export function checkSetpriv(setpriv: string, timeoutMs = 3000): Promise<{ ok: boolean; detail: string }> {
  return new Promise((res) => {
    execFile(setpriv, ['--pdeathsig', 'KILL', '--', 'true'], { timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (!err) res({ ok: true, detail: `${setpriv} --pdeathsig works` });
      else res({ ok: false, detail: `${setpriv} --pdeathsig KILL -- true failed: ${String(stderr).trim() || err.message}` });
    });
  });
}

/** Command and arguments for one ffmpeg run, with or without setpriv. */
export function launchCommand(binary: FfmpegBinary, args: readonly string[], protection: OrphanProtection): { command: string; args: string[] } {
  if (protection.available && protection.setpriv) return { command: protection.setpriv, args: ['--pdeathsig', 'KILL', '--', binary.path, ...args] };
  return { command: binary.path, args: [...args] };
}

export interface DefaultLaunch extends LaunchFn {
  readonly protection: OrphanProtection;
}

/**
 * The default launcher for `binary`. Stdio: stdin ignored (callers pass -nostdin; the supervisor
 * adds it), stdout and stderr piped, unless options.stdio says otherwise (the supervisor asks for
 * a 4th pipe for -progress pipe:3).
 */
export function createLaunch(binary: FfmpegBinary, deps: LaunchDeps = {}): DefaultLaunch {
  const protection = orphanProtection(deps);
  const spawn = deps.spawn ?? nodeSpawn;
  const launch = ((args: readonly string[], options?: { stdio?: SpawnOptions['stdio'] }): ChildProcess => {
    const cmd = launchCommand(binary, args, protection);
    return spawn(cmd.command, cmd.args, { stdio: options?.stdio ?? ['ignore', 'pipe', 'pipe'], detached: false, windowsHide: true });
  }) as DefaultLaunch;
  Object.defineProperty(launch, 'protection', { value: protection, enumerable: true });
  return launch;
}

/** POSIX sh single-quoting: 'it'\''s' */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export const WRAPPER_NAME = 'ffmpeg-pdeathsig';

/**
 * Writes `<dir>/ffmpeg-pdeathsig`, an executable sh script for libraries that spawn ffmpeg
 * themselves (node-rtsp-stream's Mpeg1Muxer runs `ffmpegPath -i <url> -f mpegts …`): it execs
 * `setpriv --pdeathsig KILL -- <ffmpeg> -nostdin -rtsp_transport tcp -fpsprobesize 0 "$@"` (same
 * pid all along, so the library's ChildProcess is ffmpeg itself). Both options land before the
 * caller's `-i`, so they are input options: the wrapper is for rtsp:// inputs only (ffmpeg refuses
 * -rtsp_transport for other inputs: "Option rtsp_transport not found"). -fpsprobesize 0: ffmpeg
 * does not wait for 20 frames to estimate the camera's frame rate (0.8 s at 25 fps, 4 s at 5 fps
 * before the first picture); the JSMpeg pull sets its output rate itself (mpeg1Options -r).
 * Without setpriv, the script execs ffmpeg directly. Returns the script's absolute path.
 */
export function writeFfmpegWrapper(dir: string, binary: FfmpegBinary, deps: LaunchDeps = {}): string {
  const protection = orphanProtection(deps);
  const target = resolve(dir, WRAPPER_NAME);
  const ffmpeg = binary.path.includes('/') ? resolve(binary.path) : binary.path;
  const lines = [
    '#!/bin/sh',
    '# Written by camgate (agent/ffmpeg/launch.ts): runs ffmpeg so that it dies with its parent.',
    `# ${protection.reason}`,
    protection.available && protection.setpriv
      ? `exec ${shQuote(protection.setpriv)} --pdeathsig KILL -- ${shQuote(ffmpeg)} -nostdin -rtsp_transport tcp -fpsprobesize 0 "$@"`
      : `exec ${shQuote(ffmpeg)} -nostdin -rtsp_transport tcp -fpsprobesize 0 "$@"`,
    '',
  ];
  const tmp = join(dir, `.${WRAPPER_NAME}.${process.pid}.tmp`);
  writeFileSync(tmp, lines.join('\n'), { mode: 0o755 });
  chmodSync(tmp, 0o755);
  renameSync(tmp, target);
  return target;
}
