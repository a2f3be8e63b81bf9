// Finds the ffmpeg binary, in this order (the first that is set wins):
//   1. config video.ffmpegPath          (source 'config')
//   2. env FFMPEG_PATH, then FFMPEG_BIN (source 'env'; FFMPEG_BIN is ffmpeg-static's own variable)
//   3. the optional ffmpeg-static package (source 'ffmpeg-static'; an optionalDependency whose
//      install script downloads from GitHub: often absent, and its path may point at nothing)
//   4. `ffmpeg` in a PATH directory   (source 'path')
// An explicitly configured path (1, 2) that does not exist is an error naming the key and the fix:
// we never silently run another ffmpeg than the one the operator chose. Everything is injected
// (env, fs, the package require) so tests run without touching the machine.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { FfmpegBinary } from './types';
import { CamgateError } from '../../lib/errors';

export interface LocateOptions {
  /** video.ffmpegPath from the config. */
  configPath?: string;
  env: Record<string, string | undefined>;
  /** Loads ffmpeg-static (default: require('ffmpeg-static')); may throw MODULE_NOT_FOUND. */
  requireStatic?: () => unknown;
  /** Is this an executable regular file? (default: fs stat + access X_OK) */
  exists?: (path: string) => boolean;
  /** Working directory for relative configured paths (default process.cwd()). */
  cwd?: string;
}

export interface LocatedFfmpeg extends FfmpegBinary {
  /** Where exactly: "video.ffmpegPath", "FFMPEG_PATH", "FFMPEG_BIN", "ffmpeg-static", "PATH (/usr/bin)". */
  via: string;
  /** What was tried and skipped on the way, for `camgate doctor` ("ffmpeg-static: not installed"). */
  notes: string[];
}

export class FfmpegNotFoundError extends CamgateError {
  constructor(message: string) {
    super(message);
    this.name = 'FfmpegNotFoundError';
  }
}

export const INSTALL_HINT = 'install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg) or set video.ffmpegPath (CAMGATE_VIDEO_FFMPEG_PATH) to its full path';

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function defaultRequireStatic(): unknown {
  // Not a static import: the package is optional and usually absent.

  return require('ffmpeg-static');
}

/** Searches the PATH directories for an executable `name`. */
export function searchPath(name: string, env: Record<string, string | undefined>, exists: (p: string) => boolean): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (exists(candidate)) return isAbsolute(candidate) ? candidate : resolve(candidate);
  }
  return undefined;
}

/** Resolves an explicitly chosen path (config or env): a bare name is looked up on PATH. */
function explicit(value: string, what: string, fix: string, o: Required<Pick<LocateOptions, 'env' | 'cwd'>> & { exists: (p: string) => boolean }): string {
  if (!value.includes('/')) {
    const found = searchPath(value, o.env, o.exists);
    if (found) return found;
    throw new FfmpegNotFoundError(`${what} = ${JSON.stringify(value)}: no executable of that name on PATH; ${fix}`);
  }
  const abs = isAbsolute(value) ? value : resolve(o.cwd, value);
  if (!o.exists(abs)) {
    throw new FfmpegNotFoundError(`${what} = ${JSON.stringify(value)}: no such executable file; ${fix}`);
  }
  return abs;
}

/**
 * Finds ffmpeg (see the order above). Throws FfmpegNotFoundError when a configured path does not
 * exist, or when nothing is found at all; the message names the key and the fix.
 */
/** The configured ffmpeg: video.ffmpegPath, else its older name health.picture.ffmpegPath. */
export function configuredFfmpegPath(config: { video: { ffmpegPath?: string }; health: { picture: { ffmpegPath?: string } } }): string | undefined {
  return config.video.ffmpegPath ?? config.health.picture.ffmpegPath;
}

export function locateFfmpeg(options: LocateOptions): LocatedFfmpeg {
  const exists = options.exists ?? isExecutableFile;
  const env = options.env;
  const o = { env, cwd: options.cwd ?? process.cwd(), exists };
  const notes: string[] = [];

  const configured = options.configPath?.trim();
  if (configured) {
    const path = explicit(configured, 'video.ffmpegPath', 'fix the path (`which ffmpeg` shows one), or unset it to use FFMPEG_PATH, ffmpeg-static or PATH', o);
    return { path, source: 'config', via: 'video.ffmpegPath', notes };
  }

  for (const name of ['FFMPEG_PATH', 'FFMPEG_BIN'] as const) {
    const value = env[name]?.trim();
    if (!value) continue;
    const path = explicit(value, name, `fix or unset the environment variable ${name}`, o);
    return { path, source: 'env', via: name, notes };
  }

  let staticPath: unknown;
  try {
    staticPath = (options.requireStatic ?? defaultRequireStatic)();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    notes.push(code === 'MODULE_NOT_FOUND' ? 'ffmpeg-static: not installed (optional dependency)' : `ffmpeg-static: cannot load (${(err as Error).message})`);
  }
  if (staticPath !== undefined) {
    // ffmpeg-static exports the path string, or null on a platform it has no binary for.
    const p =
      typeof staticPath === 'string'
        ? staticPath
        : typeof staticPath === 'object' && staticPath !== null && 'default' in staticPath
          ? staticPath.default
          : undefined;
    if (typeof p === 'string' && p !== '') {
      if (exists(p)) return { path: p, source: 'ffmpeg-static', via: 'ffmpeg-static', notes };
      notes.push(`ffmpeg-static: installed, but its binary ${p} is missing (its install-time download failed; FFMPEG_BINARIES_URL names a mirror)`);
    } else {
      notes.push('ffmpeg-static: installed, but has no binary for this platform');
    }
  }

  const onPath = searchPath('ffmpeg', env, exists);
  if (onPath) return { path: onPath, source: 'path', via: `PATH (${onPath.slice(0, onPath.lastIndexOf('/')) || '/'})`, notes };
  notes.push('PATH: no ffmpeg in any directory');

  throw new FfmpegNotFoundError(`ffmpeg not found (${notes.join('; ')}); ${INSTALL_HINT}`);
}
