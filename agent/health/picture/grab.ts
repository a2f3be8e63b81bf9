// Picture probes, the I/O half: one ffmpeg run grabs a few seconds of a camera's picture as a
// handful of small RGB24 frames (for diagnose.ts) plus a thumbnail JPEG.
//
//   input   rtsp:// (or another ffmpeg URL), a local file (the benchmark set), or encoded
//           snapshot image(s) fed on stdin (one JPEG, or several taken over time)
//   pipe:1  N raw frames, DIAGNOSIS_WIDTH × DIAGNOSIS_HEIGHT RGB24, spread over `seconds`
//           (stream/file) or one per snapshot image
//   pipe:3  the same frames as JPEGs at `thumbnailWidth` (aspect kept); the last one is kept
//
// Diagnosis frames are 640×360 whatever the source (4:3 and other shapes are stretched: the
// diagnosis does not care about geometry) — the native size of most sub streams. Blur needs it: on
// 320×180 frames a lens blur a person calls out of focus on a 640×360 stream (Gaussian σ ≈ 2.5 px)
// is ~1.2 px and fine textures could not be told from blurred ones in the benchmark set. The rest
// of the diagnosis samples every 2nd pixel (see diagnose.ts), so the cost stays small. ~0.7 MB a
// frame on the pipe.
//
// Hard timeout: ffmpeg is SIGKILLed at the deadline (or on abort) and we wait for it to be
// reaped before rejecting, so no process outlives the call. stdout is buffered only up to the
// expected frame bytes; thumbnails only up to a fixed cap.
//
// Memory (the agent's RSS with 256 cameras): the frames are copied from the pipe's 64 KB chunks
// straight into buffers taken from a small pool that the caller gives back once the frames are
// diagnosed (GrabResult.release). No chunk list, no Buffer.concat copy, no multi-megabyte
// malloc/free per probe: such blocks raise glibc's mmap threshold and then stay in the heap as
// fragmentation (docs/benchmarks.md). With `onFrame` (the agent's probes) each frame is handed
// over as soon as it is decoded and the grab holds two frames (~1.4 MB) whatever their number;
// without it, one buffer of all the frames (~4.1 MB for 6) is returned.
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Frame, ProbeErrorCode } from '../types';

export const DIAGNOSIS_WIDTH = 640;
export const DIAGNOSIS_HEIGHT = 360;
/** Cap on the thumbnail pipe (all N JPEGs together); beyond it data is discarded. */
const THUMB_PIPE_CAP = 16 * 1024 * 1024;
/** Cap on stderr kept for error mapping. */
const STDERR_CAP = 16 * 1024;
/** Time left for shrinking an oversized thumbnail; below it the thumbnail is dropped. */
const MIN_SHRINK_MS = 300;

export class PictureProbeError extends Error {
  constructor(
    readonly code: ProbeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PictureProbeError';
  }
}

export interface GrabRequest {
  /** rtsp://… (or any other ffmpeg URL), a local file path, or encoded snapshot image(s). */
  input: string | Buffer | readonly Buffer[];
  /** Frames to decode (stream/file: spread evenly over `seconds`; images: one per image). */
  frames: number;
  /** How long to watch a stream, seconds. Ignored for images. */
  seconds: number;
  /** Hard deadline of the whole grab (ffmpeg start-up and thumbnail shrinking included), ms. */
  timeoutMs: number;
  /** Thumbnail width in pixels (height keeps the aspect ratio); 0 = no thumbnail. Default 320. */
  thumbnailWidth?: number;
  /** Thumbnail size cap, bytes; re-encoded at lower quality (then smaller) to fit. Default 20480. */
  thumbnailMaxBytes?: number;
  ffmpegPath?: string;
  signal?: AbortSignal;
  /** What to call the input in messages (default: the URL/path, password removed). */
  label?: string;
  /** Diagnosis frame size (default DIAGNOSIS_WIDTH × DIAGNOSIS_HEIGHT); for experiments. */
  size?: { width: number; height: number };
  /**
   * Called with each frame as soon as it is decoded, in order, instead of returning the frames
   * (GrabResult.frames is then empty). A frame's data stays unchanged until the next frame has
   * been handed over and, for the last one, until GrabResult.release: then its buffer is reused.
   * A throw kills ffmpeg and fails the grab.
   */
  onFrame?: (frame: Frame) => void;
}

export interface GrabResult {
  /** The frames (none when they went to GrabRequest.onFrame). */
  frames: Frame[];
  thumbnail?: Buffer;
  source: 'stream' | 'snapshot';
  /** Wall time of the ffmpeg run(s), ms. */
  ffmpegMs: number;
  /**
   * Gives the frames' memory back to the pool for the next grab: call it once the frames are no
   * longer used (they must not be read afterwards). Optional: frames never released are simply
   * garbage-collected.
   */
  release?: () => void;
}

/**
 * Frame buffers kept for reuse across grabs: the picture probes of one agent share one pool
 * (defaultHealthProbes makes it). One buffer per concurrent picture probe is enough (default 2).
 */
export class FramePool {
  private readonly buffers: Buffer[] = [];

  constructor(private readonly maxBuffers = 4) {}

  /** A buffer of at least `bytes` from the pool (the smallest that fits), or a new one of exactly `bytes`. */
  take(bytes: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.buffers.length; i++) {
      if (this.buffers[i].length >= bytes && (best < 0 || this.buffers[i].length < this.buffers[best].length)) best = i;
    }
    if (best >= 0) return this.buffers.splice(best, 1)[0];
    return Buffer.allocUnsafeSlow(bytes);
  }

  give(buf: Buffer): void {
    if (this.buffers.length < this.maxBuffers && !this.buffers.includes(buf)) this.buffers.push(buf);
  }

  /** Buffers in the pool now, and their bytes (tests and diagnostics). */
  stats(): { buffers: number; bytes: number } {
    return { buffers: this.buffers.length, bytes: this.buffers.reduce((n, b) => n + b.length, 0) };
  }
}

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface GrabDeps {
  spawn?: SpawnFn;
  /** Deadlines and ffmpeg's kill timers; default the system clock. */
  clock?: Clock;
  /** Where the frames' buffer comes from and GrabResult.release gives it back; without one each
   * grab allocates its own and release() only lets it go. */
  framePool?: FramePool;
}

import { imageKind, type ImageKind } from './image-kind';
import { basicRefusedMessage, isBasicRefusal } from '../../../drivers/auth';
import { redactUrl } from '../../../lib/url';
import { BACKGROUND, systemClock, type Clock } from '../../../lib/clock';
export { imageKind, type ImageKind };

export function ffmpegBinary(explicit?: string): string {
  return explicit || process.env.FFMPEG_BIN || 'ffmpeg';
}

function describeInput(input: GrabRequest['input'], label?: string): string {
  if (label) return label;
  if (typeof input === 'string') return redactUrl(input);
  const n = Buffer.isBuffer(input) ? 1 : input.length;
  return n === 1 ? 'snapshot image' : `${n} snapshot images`;
}

/** ffmpeg's own socket timeout for network inputs: half the probe's, 0.5–5 s. */
export function socketTimeoutMs(probeTimeoutMs: number): number {
  return Math.round(Math.min(5000, Math.max(500, probeTimeoutMs / 2)));
}

/** Builds the ffmpeg argument list (exported for tests and for people reading logs). */
export function buildArgs(req: GrabRequest, kind?: ImageKind): string[] {
  const frames = Math.max(1, Math.floor(req.frames));
  const thumbWidth = req.thumbnailWidth ?? 320;
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-threads', '1', '-filter_threads', '1'];
  // Not -nostdin for images: they arrive on stdin.
  if (typeof req.input !== 'string') args.splice(args.indexOf('-nostdin'), 1);
  let fps = '';
  if (typeof req.input === 'string') {
    const rate = frames / Math.max(0.1, req.seconds);
    fps = `fps=fps=${rate.toFixed(6)}:round=near,`;
    // Only the protocols the input needs: a device-reported URI cannot make ffmpeg read local
    // files (file:, concat:, subfile:…), and a path cannot open the network.
    if (/^rtsps?:\/\//i.test(req.input)) {
      // Socket I/O timeout (µs, ffmpeg ≥ 5): a server that accepts TCP and never answers makes
      // ffmpeg fail by itself; the hard deadline still applies.
      args.push('-protocol_whitelist', 'rtsp,rtsps,tcp,tls,rtp,udp,srtp,crypto');
      args.push('-rtsp_transport', 'tcp', '-timeout', String(socketTimeoutMs(req.timeoutMs) * 1000));
    } else if (/^https?:\/\//i.test(req.input)) {
      args.push('-protocol_whitelist', 'http,https,tcp,tls,crypto');
      args.push('-rw_timeout', String(socketTimeoutMs(req.timeoutMs) * 1000));
    } else {
      args.push('-protocol_whitelist', 'file');
    }
    args.push('-i', req.input);
  } else {
    args.push('-f', kind === 'png' ? 'png_pipe' : 'jpeg_pipe', '-i', 'pipe:0');
  }
  const size = req.size ?? { width: DIAGNOSIS_WIDTH, height: DIAGNOSIS_HEIGHT };
  const diag = `scale=${size.width}:${size.height}:flags=area,format=rgb24`;
  if (thumbWidth > 0) {
    const thumb = `scale=w=${thumbWidth}:h='max(2,trunc(ow/dar/2+0.5)*2)':flags=area,setsar=1,format=yuvj420p`;
    args.push('-filter_complex', `[0:v:0]${fps}split=2[d0][t0];[d0]${diag}[d];[t0]${thumb}[t]`);
    args.push('-map', '[d]', '-frames:v', String(frames), '-fps_mode', 'passthrough', '-f', 'rawvideo', 'pipe:1');
    args.push('-map', '[t]', '-frames:v', String(frames), '-fps_mode', 'passthrough', '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2pipe', 'pipe:3');
  } else {
    args.push('-filter_complex', `[0:v:0]${fps}${diag}[d]`);
    args.push('-map', '[d]', '-frames:v', String(frames), '-fps_mode', 'passthrough', '-f', 'rawvideo', 'pipe:1');
  }
  return args;
}

/** Maps ffmpeg's stderr (and the kind of input) to a ProbeErrorCode. */
export function classifyFfmpegError(stderr: string, images: boolean): ProbeErrorCode {
  // The RTSP gate's refusal is a 401 too: told apart first.
  if (isBasicRefusal(stderr)) return 'basic-auth-refused';
  const s = stderr.toLowerCase();
  if (/\b401\b|unauthori[sz]ed|authorization failed/.test(s)) return 'auth';
  if (/connection refused/.test(s)) return 'refused';
  if (/no route to host|network is unreachable|host is unreachable|host unreachable/.test(s)) return 'unreachable';
  if (/timed out|timeout/.test(s)) return 'timeout';
  if (images) return 'not-an-image';
  if (/matches no streams|does not contain any stream|no video stream/.test(s)) return 'no-frames';
  if (/\b(?:400|403|404|405|451|454|461|500|503)\b|method \w+ failed|invalid data found|nonmatching transport|unsupported transport|end of file/.test(s))
    return 'bad-answer';
  return 'failed';
}

/** Last meaningful stderr line, "[rtsp @ 0x…] " prefixes cut, credentials removed. */
function stderrSummary(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').trim())
    .filter((l) => l !== '' && !/^conversion failed!?$/i.test(l) && !/^exiting normally/i.test(l));
  const pick = lines.slice(-2).join('; ');
  return redactUrl(pick)
    .replace(/\/\/[^/@\s]*@/g, '//')
    .slice(0, 300);
}

/** Splits concatenated JPEGs (ffmpeg's mjpeg image2pipe output) and returns the last complete one. */
export function lastJpeg(buf: Buffer): Buffer | undefined {
  let end = -1;
  for (let i = buf.length - 2; i >= 0; i--) {
    if (buf[i] === 0xff && buf[i + 1] === 0xd9) {
      end = i + 2;
      break;
    }
  }
  if (end < 0) return undefined;
  // The start of that image: the last SOI (FF D8 FF) before its end. ffmpeg's encoder writes no
  // embedded EXIF thumbnails, so SOI only appears at image starts.
  for (let i = end - 3; i >= 0; i--) {
    if (buf[i] === 0xff && buf[i + 1] === 0xd8 && buf[i + 2] === 0xff) return Buffer.from(buf.subarray(i, end));
  }
  return undefined;
}

interface RunOutput {
  /** Wall time of the run, ms. */
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** The whole buffer stdout was copied into (RunOptions.stdoutBuffer), when one was taken. */
  stdoutBuffer?: Buffer;
  /** Frame by frame (RunOptions.frames): the buffers the frames were copied into. */
  frameBuffers?: Buffer[];
  /** Frames handed to RunOptions.frames.onFrame. */
  framesHanded: number;
  fd3: Buffer;
  stderr: string;
}

interface RunOptions {
  bin: string;
  args: string[];
  stdin?: Buffer;
  stdoutCap: number;
  /** Copy stdout into a buffer of at least stdoutCap bytes taken from here on the first chunk
   * (instead of keeping the chunks and concatenating them). */
  stdoutBuffer?: (bytes: number) => Buffer;
  /** Takes back a buffer from stdoutBuffer that the run will not return (it failed). */
  giveBack?: (buf: Buffer) => void;
  /** Frame by frame instead (needs stdoutBuffer): stdout goes into two buffers of frameBytes in
   * turn and each full one is handed to onFrame. */
  frames?: { frameBytes: number; onFrame: (data: Buffer) => void };
  withFd3: boolean;
  deadline: number;
  signal?: AbortSignal;
  what: string;
  spawn: SpawnFn;
  clock: Clock;
}

function missingMessage(what: string, bin: string, err: NodeJS.ErrnoException): string {
  return `picture probe of ${what}: cannot run ffmpeg (${bin}: ${err.code ?? err.message}); install ffmpeg or set health.picture.ffmpegPath`;
}

/** Runs ffmpeg once with the deadline/abort/cap rules. Rejects with PictureProbeError. */
function runFfmpeg(o: RunOptions): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(new PictureProbeError('failed', `picture probe of ${o.what}: aborted`, { cause: o.signal.reason }));
      return;
    }
    const t0 = o.clock.now();
    const remaining = o.deadline - t0;
    if (remaining <= 0) {
      reject(new PictureProbeError('timeout', `picture probe of ${o.what}: timeout before ffmpeg started`));
      return;
    }
    let child: ChildProcess;
    try {
      child = o.spawn(o.bin, o.args, { stdio: ['pipe', 'pipe', 'pipe', ...(o.withFd3 ? (['pipe'] as const) : [])], windowsHide: true });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      reject(new PictureProbeError('ffmpeg-missing', missingMessage(o.what, o.bin, e), { cause: e }));
      return;
    }
    const out: Buffer[] = [];
    let outBuf: Buffer | undefined;
    let outBytes = 0;
    const fd3: Buffer[] = [];
    let fd3Bytes = 0;
    let stderr = '';
    let failure: PictureProbeError | undefined;
    let settled = false;

    // Frame by frame: the frame being filled and the one handed over before it.
    const frameBufs: Buffer[] = [];
    let filling = 0;
    let filled = 0;
    let handed = 0;
    const toFrames = (chunk: Buffer, take: number, fr: NonNullable<RunOptions['frames']>, newBuffer: (bytes: number) => Buffer): void => {
      for (let off = 0; off < take && !failure;) {
        if (frameBufs.length <= filling) frameBufs.push(newBuffer(fr.frameBytes));
        const n = Math.min(take - off, fr.frameBytes - filled);
        chunk.copy(frameBufs[filling], filled, off, off + n);
        off += n;
        filled += n;
        if (filled < fr.frameBytes) continue;
        try {
          fr.onFrame(frameBufs[filling].subarray(0, fr.frameBytes));
          handed++;
        } catch (err) {
          kill(new PictureProbeError('failed', `picture probe of ${o.what}: frame ${handed + 1} not analysed: ${(err as Error).message}`, { cause: err }));
        }
        filling ^= 1;
        filled = 0;
      }
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      // After settling (the 2 s fallback below), a pooled buffer may already serve another grab.
      if (settled || failure || outBytes >= o.stdoutCap) return; // keep draining so ffmpeg never blocks; discard the rest
      const take = Math.min(chunk.length, o.stdoutCap - outBytes);
      if (o.frames && o.stdoutBuffer) {
        toFrames(chunk, take, o.frames, o.stdoutBuffer);
      } else if (o.stdoutBuffer) {
        outBuf ??= o.stdoutBuffer(o.stdoutCap);
        chunk.copy(outBuf, outBytes, 0, take);
      } else {
        out.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      }
      outBytes += take;
    });
    const pipe3 = child.stdio[3] as NodeJS.ReadableStream | null | undefined;
    pipe3?.on('data', (chunk: Buffer) => {
      if (fd3Bytes >= THUMB_PIPE_CAP) return;
      fd3.push(chunk);
      fd3Bytes += chunk.length;
    });
    pipe3?.on('error', () => undefined);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_CAP) stderr += chunk.toString('utf8');
      else stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_CAP);
    });
    child.stdin?.on('error', () => undefined); // EPIPE when ffmpeg exits before reading everything
    if (child.stdin) {
      if (o.stdin) child.stdin.end(o.stdin);
      else child.stdin.end();
    }

    const kill = (why: PictureProbeError): void => {
      if (failure) return;
      failure = why;
      child.kill('SIGKILL');
      // 'close' follows the kill; if it somehow does not, do not hang the caller forever.
      o.clock.setTimeout(() => finish(), 2000, BACKGROUND);
    };
    const timer = o.clock.setTimeout(
      () => kill(new PictureProbeError('timeout', `picture probe of ${o.what}: no picture within ${Math.round(remaining)} ms (ffmpeg killed)`)),
      remaining,
    );
    const onAbort = (): void => kill(new PictureProbeError('failed', `picture probe of ${o.what}: aborted`, { cause: o.signal?.reason }));
    o.signal?.addEventListener('abort', onAbort, { once: true });

    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      o.clock.clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (failure) {
        if (outBuf) o.giveBack?.(outBuf);
        for (const b of frameBufs) o.giveBack?.(b);
        reject(failure);
      } else {
        const stdout = outBuf ? outBuf.subarray(0, outBytes) : o.frames ? Buffer.alloc(0) : Buffer.concat(out);
        resolve({
          ms: o.clock.now() - t0,
          code: exit?.code ?? null,
          signal: exit?.signal ?? null,
          stdout,
          stdoutBuffer: outBuf,
          frameBuffers: frameBufs,
          framesHanded: handed,
          fd3: Buffer.concat(fd3),
          stderr,
        });
      }
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'ENOTDIR') {
        failure ??= new PictureProbeError('ffmpeg-missing', missingMessage(o.what, o.bin, err), { cause: err });
      } else {
        failure ??= new PictureProbeError('failed', `picture probe of ${o.what}: ffmpeg: ${err.message}`, { cause: err });
      }
      // A spawn error means no process (nothing to reap); a kill error leaves 'close' to come.
      if (child.pid === undefined) finish();
    });
    child.on('close', (code, sig) => {
      exit = { code, signal: sig };
      finish();
    });
  });
}

/** Re-encodes an oversized thumbnail at lower quality, then smaller, until it fits. */
async function shrinkJpeg(
  jpeg: Buffer,
  maxBytes: number,
  width: number,
  o: Omit<RunOptions, 'args' | 'stdin' | 'stdoutCap' | 'withFd3'>,
): Promise<Buffer | undefined> {
  const attempts: Array<{ q: number; w: number }> = [
    { q: 12, w: width },
    { q: 24, w: width },
    { q: 31, w: Math.max(64, Math.round(width / 2)) },
  ];
  for (const a of attempts) {
    if (o.deadline - o.clock.now() < MIN_SHRINK_MS) return undefined;
    const args = ['-hide_banner', '-nostats', '-loglevel', 'error', '-threads', '1', '-f', 'jpeg_pipe', '-i', 'pipe:0'];
    // Flags and their values read in pairs.
    // prettier-ignore
    args.push(
      '-vf', `scale=w=${a.w}:h='max(2,trunc(ow/dar/2+0.5)*2)':flags=area,format=yuvj420p`,
      '-frames:v', '1',
      '-c:v', 'mjpeg',
      '-q:v', String(a.q),
      '-f', 'image2pipe',
      'pipe:1',
    );
    const r = await runFfmpeg({ ...o, args, stdin: jpeg, stdoutCap: 4 * maxBytes + 65536, withFd3: false });
    if (r.code === 0 && r.stdout.length > 0 && r.stdout.length <= maxBytes && imageKind(r.stdout) === 'jpeg') return r.stdout;
  }
  return undefined;
}

/**
 * Runs ffmpeg once on the input and returns the decoded small frames and a thumbnail.
 * Throws PictureProbeError (code = ProbeErrorCode) when no picture could be obtained.
 */
export async function grabFrames(req: GrabRequest, deps: GrabDeps = {}): Promise<GrabResult> {
  const spawn = deps.spawn ?? nodeSpawn;
  const clock = deps.clock ?? systemClock;
  const pool = deps.framePool;
  const start = clock.now();
  const deadline = start + req.timeoutMs;
  const what = describeInput(req.input, req.label);
  const bin = ffmpegBinary(req.ffmpegPath);
  const images = typeof req.input === 'string' ? undefined : Buffer.isBuffer(req.input) ? [req.input] : [...req.input];
  const source: GrabResult['source'] = images ? 'snapshot' : 'stream';

  let kind: ImageKind | undefined;
  if (images) {
    if (images.length === 0) throw new PictureProbeError('not-available', `picture probe: no snapshot images given`);
    for (const [i, img] of images.entries()) {
      const k = imageKind(img);
      if (!k) {
        const which = images.length > 1 ? ` (image ${i + 1} of ${images.length})` : '';
        throw new PictureProbeError('not-an-image', `picture probe of ${what}: ${img.length} bytes that are not a JPEG or PNG image${which}`);
      }
      if (kind && k !== kind) throw new PictureProbeError('not-an-image', `picture probe of ${what}: snapshot images mix JPEG and PNG`);
      kind = k;
    }
  } else if (typeof req.input === 'string') {
    if (req.input.trim() === '') throw new PictureProbeError('not-available', 'picture probe: no stream URL or file given');
    const scheme = /^([A-Z][A-Z0-9+.-]*):/i.exec(req.input)?.[1]?.toLowerCase();
    if (scheme && scheme.length > 1 && !['rtsp', 'rtsps', 'http', 'https'].includes(scheme)) {
      throw new PictureProbeError('not-available', `picture probe of ${what}: unsupported stream URL scheme "${scheme}" (rtsp, rtsps, http, https)`);
    }
  }

  const frames = images ? images.length : Math.max(1, Math.floor(req.frames));
  const size = req.size ?? { width: DIAGNOSIS_WIDTH, height: DIAGNOSIS_HEIGHT };
  const frameBytes = size.width * size.height * 3;
  const thumbWidth = req.thumbnailWidth ?? 320;
  const thumbMax = req.thumbnailMaxBytes ?? 20480;
  const args = buildArgs({ ...req, frames }, kind);
  const run = await runFfmpeg({
    bin,
    args,
    stdin: images ? Buffer.concat(images) : undefined,
    stdoutCap: frames * frameBytes,
    stdoutBuffer: (bytes) => (pool ? pool.take(bytes) : Buffer.allocUnsafeSlow(bytes)),
    giveBack: (buf) => pool?.give(buf),
    frames: req.onFrame
      ? {
          frameBytes,
          onFrame: (data) => req.onFrame!({ width: size.width, height: size.height, data: new Uint8Array(data.buffer, data.byteOffset, frameBytes) }),
        }
      : undefined,
    withFd3: thumbWidth > 0,
    deadline,
    signal: req.signal,
    what,
    spawn,
    clock,
  });
  const count = req.onFrame ? run.framesHanded : Math.floor(run.stdout.length / frameBytes);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    if (run.stdoutBuffer) pool?.give(run.stdoutBuffer);
    for (const b of run.frameBuffers ?? []) pool?.give(b);
  };
  if (count === 0) release();
  if (run.code !== 0 && count === 0) {
    const code = classifyFfmpegError(run.stderr, images !== undefined);
    // ffmpeg reports its RTSP socket timeout (a server that accepted and then said nothing) as
    // "Invalid data found"; a server answering garbage fails at once instead.
    if (
      code === 'bad-answer' &&
      typeof req.input === 'string' &&
      /^rtsps?:/i.test(req.input) &&
      run.ms >= 0.9 * socketTimeoutMs(req.timeoutMs) &&
      /invalid data found/i.test(run.stderr)
    ) {
      throw new PictureProbeError('timeout', `picture probe of ${what}: no answer within ${socketTimeoutMs(req.timeoutMs)} ms`);
    }
    if (code === 'basic-auth-refused') throw new PictureProbeError(code, `picture probe of ${what}: ${basicRefusedMessage('the camera')}`);
    // ffmpeg names its input; an RTSP gate link (the agent's, for a camera with a login) means nothing to people.
    const said = typeof req.input === 'string' && req.label ? run.stderr.split(req.input).join(req.label) : run.stderr;
    const detail = stderrSummary(said) || (run.signal ? `ffmpeg killed by ${run.signal}` : `ffmpeg exit code ${run.code}`);
    throw new PictureProbeError(code, `picture probe of ${what}: ${detail}`);
  }
  if (count === 0) {
    throw new PictureProbeError(
      images ? 'not-an-image' : 'no-frames',
      `picture probe of ${what}: ${images ? 'no picture decoded from the snapshot' : 'opened, but no video frame decoded'}`,
    );
  }
  const out: Frame[] = [];
  for (let i = 0; i < (req.onFrame ? 0 : count); i++) {
    out.push({ width: size.width, height: size.height, data: new Uint8Array(run.stdout.buffer, run.stdout.byteOffset + i * frameBytes, frameBytes) });
  }
  let thumbnail = thumbWidth > 0 ? lastJpeg(run.fd3) : undefined;
  if (thumbnail && thumbnail.length > thumbMax) {
    // The frames are in hand: a shrink that fails or runs out of time only costs the thumbnail.
    thumbnail = await shrinkJpeg(thumbnail, thumbMax, thumbWidth, { bin, deadline, signal: req.signal, what, spawn, clock }).catch((err: unknown) => {
      if (req.signal?.aborted) {
        release();
        throw err;
      }
      return undefined;
    });
  }
  return { frames: out, thumbnail, source, ffmpegMs: Math.round(clock.now() - start), release };
}
