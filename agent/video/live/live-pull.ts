// Live view pulls: one ffmpeg per (camera, stream, mode), shared by every viewer of it.
//
//   mode 'mse'    ffmpeg copies the camera's H.264 into fragmented MP4 (no re-encode); fmp4.ts
//                 splits it into the init segment and moof+mdat fragments; the browser appends
//                 them to a Media Source Extensions SourceBuffer.
//   mode 'jsmpeg' node-rtsp-stream's Mpeg1Muxer re-encodes to MPEG-1 in MPEG-TS at
//                 web.fallbackWidth / web.fallbackBitrateKbps for JSMpeg (a canvas decoder in JS):
//                 H.265 cameras (no MSE decoder for them in most browsers) and browsers without MSE.
//
// The first viewer starts the pull (through the FfmpegSupervisor: restart, stall detection, counted
// and killed with the agent); later viewers share it. A late joiner gets the init segment and the
// fragments since the last keyframe (the GOP cache), so its first picture comes at once instead of
// at the next keyframe. The pull stops web.lingerSec after its last viewer leaves (0 = at once), so
// a page reload does not restart ffmpeg. On a restart of ffmpeg (onRunStart) the parser and the
// GOP cache reset and every viewer gets the new run's init segment.
//
// A slow viewer (its WebSocket's bufferedAmount over slowViewerBytes) is not buffered without
// bound: fragments are dropped for it and it resumes at the next keyframe (with that GOP's start).
//
// A cold start waits for the camera's next keyframe (0-2 s with a 2 s I-frame interval): with the
// requestKeyframe option, each ffmpeg run asks the camera for one (ONVIF SetSynchronizationPoint,
// see keyframe.ts) once ffmpeg plays: MSE when the run's init segment has arrived and no keyframe
// fragment yet; JSMpeg at the run's first output (an H.265 camera joined mid-GOP decodes to
// smeared frames until its next keyframe). At most once per run; failures are logged at debug.
import type { ChildProcess } from 'node:child_process';
import type { LaunchFn, SupervisedProcess, SupervisedState, SuperviseOptions } from '../../ffmpeg/types';
import { Fmp4Error, Fmp4Splitter, type InitSegment, type MediaFragment } from './fmp4';
import { CamgateError } from '../../../lib/errors';
import type { AgentConfig } from '../../config/schema';
import type { Logger } from '../../../lib/log';
import { systemClock, type Clock, type TimerHandle } from '../../../lib/clock';

export type LiveStream = 'main' | 'sub';
export type LiveMode = 'mse' | 'jsmpeg';

/** Output options of the MSE pull (after `-i url`). Exported for the tests (same bytes as production). */
export const LIVE_MP4_OUTPUT_ARGS: readonly string[] = [
  '-c:v', 'copy',
  '-an', '-sn', '-dn',
  '-f', 'mp4',
  // empty_moov: ftyp+moov first; default_base_moof: self-contained fragments (MSE needs it);
  // frag_every_frame: one fragment per frame, written as soon as the next frame gives its
  // duration, so a frame leaves ffmpeg one frame interval after it arrived (with 200 ms fragments
  // the first picture and every frame waited up to 200 ms more); keyframes start their own
  // fragment, where late joiners and dropped viewers start.
  '-movflags', 'empty_moov+default_base_moof+frag_every_frame',
  // write each fragment to the pipe at once (no 32 kB AVIO buffering of a 50 kB/s sub stream).
  '-flush_packets', '1',
];

/** What a pull plays: resolved from the inventory (see cameraSource in agent/web/cameras.ts). */
export interface LiveSource {
  /** RTSP URL with credentials (never logged, never sent to a browser). */
  url: string;
  /** Profile codec from the ledger: "H264", "H265", … (undefined: unknown, tried as H.264). */
  codec?: string;
  width?: number;
  height?: number;
  /** Frame rate from the ledger (ONVIF FrameRateLimit); undefined: unknown. Sets the JSMpeg pull's output rate (mpeg1FrameRate). */
  fps?: number;
}

/** Looks a camera's stream up; undefined when the camera or stream does not exist. Called at join and before every ffmpeg start. */
export type ResolveSource = (cameraId: string, stream: LiveStream) => LiveSource | undefined | Promise<LiveSource | undefined>;

/** What a viewer receives, in order. */
export type LiveMessage =
  /** MSE: the init segment (ftyp+moov) of the current ffmpeg run; sent again after a restart. */
  | { type: 'init'; init: InitSegment }
  /** MSE: one moof+mdat fragment. */
  | { type: 'fragment'; fragment: MediaFragment }
  /** JSMpeg: MPEG-TS bytes (whole 188-byte packets). */
  | { type: 'ts'; data: Buffer }
  /** The pull ended for good (ffmpeg gave up, the agent stops, the camera was removed). */
  | { type: 'end'; reason: string };

/** A viewer, transport-neutral (the web server adapts a WebSocket). */
export interface LiveViewer {
  /** Bytes queued for this viewer and not yet sent (ws.bufferedAmount). */
  readonly bufferedAmount: number;
  send(message: LiveMessage): void;
}

export interface JoinRequest {
  stream: LiveStream;
  /** 'auto' (default): 'mse' for H.264 (or unknown) sources, 'jsmpeg' otherwise. 'mse' on an H.265 source also becomes 'jsmpeg'. */
  mode?: LiveMode | 'auto';
}

export interface LiveSession {
  cameraId: string;
  stream: LiveStream;
  /** The mode chosen (an H.265 source always gets 'jsmpeg'). */
  mode: LiveMode;
  /** Why the mode differs from the one asked for, if it does. */
  modeReason?: string;
  /** Leaves the pull (idempotent). */
  leave(): void;
}

export type LiveErrorCode = 'not-found' | 'too-many-viewers' | 'closed';

export class LiveError extends CamgateError {
  override name = 'LiveError';
  constructor(
    readonly code: LiveErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface PullInfo {
  cameraId: string;
  stream: LiveStream;
  mode: LiveMode;
  viewers: number;
  state: SupervisedState;
  /** Viewers currently skipping fragments (too slow), resuming at the next keyframe. */
  slowViewers: number;
  /** Fragments (mse) or TS chunks (jsmpeg) dropped for slow viewers since the pull started. */
  dropped: number;
  /** Current codec string of the MSE init segment ('' before it arrived, or jsmpeg). */
  codec: string;
  /** Stopping after the last viewer left, not yet stopped. */
  lingering: boolean;
}

export interface Mpeg1LaunchOptions {
  url: string;
  ffmpegPath: string;
  /** Flat key/value ffmpeg options, as node-rtsp-stream's Mpeg1Muxer takes them ('' = flag without value). */
  ffmpegOptions: Record<string, string>;
}

/** Starts node-rtsp-stream's Mpeg1Muxer (it spawns `ffmpegPath -i url -f mpegts -codec:v mpeg1video … -`) and returns its ChildProcess. */
export function launchMpeg1Muxer(options: Mpeg1LaunchOptions): ChildProcess {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Mpeg1Muxer = require('node-rtsp-stream/mpeg1muxer') as new (o: { url: string; ffmpegPath: string; ffmpegOptions: Record<string, string> }) => { stream: ChildProcess };
  const muxer = new Mpeg1Muxer(options);
  // Mpeg1Muxer re-emits stdout/stderr as events (harmless: nobody listens) and console.error()s
  // "RTSP stream exited with error" on exit code 1, outside our logger: drop its exit listener.
  // The supervisor reads the ChildProcess itself (stdout, stderr tail, exit, restarts).
  muxer.stream.removeAllListeners('exit');
  return muxer.stream;
}

export interface LivePullsOptions {
  /** FfmpegSupervisor#supervise (bound). */
  supervise: (options: SuperviseOptions) => SupervisedProcess;
  resolve: ResolveSource;
  config: Pick<AgentConfig['web'], 'lingerSec' | 'maxViewers' | 'fallbackWidth' | 'fallbackBitrateKbps'>;
  /**
   * ffmpeg for Mpeg1Muxer (JSMpeg pulls): the pdeathsig wrapper from writeFfmpegWrapper() (it adds
   * `-nostdin -rtsp_transport tcp` before Mpeg1Muxer's `-i`), or a bare ffmpeg.
   */
  mpeg1FfmpegPath: string;
  /** Starts the MPEG-1 muxer; default launchMpeg1Muxer (node-rtsp-stream). Tests pass a fake. */
  mpeg1Launch?: (options: Mpeg1LaunchOptions) => ChildProcess;
  /** A viewer with more than this many bytes queued skips fragments until the next keyframe. Default 2 MiB. */
  slowViewerBytes?: number;
  /** The GOP cache is dropped when it grows past this (a camera with a 60 s GOP). Default 8 MiB. */
  maxGopBytes?: number;
  /**
   * Asks the camera for a keyframe now (keyframeRequester() in keyframe.ts: ONVIF
   * SetSynchronizationPoint). Called at most once per ffmpeg run, when ffmpeg plays and no
   * keyframe has come yet; a rejection is logged at debug and otherwise ignored.
   */
  requestKeyframe?: (cameraId: string, stream: LiveStream) => Promise<void>;
  /**
   * Runs before a pull's first ffmpeg starts (keyframeIntervalKeeper() in keyframe-interval.ts:
   * the opt-in that shortens a sub stream's GOP; the camera restarts the stream when it applies
   * it, so it must happen before the pull, not during it). Waited for at most prepareTimeoutMs;
   * its result is logged, a rejection at warn, and the pull starts either way.
   */
  prepare?: (cameraId: string, stream: LiveStream) => Promise<unknown>;
  /** Default 2000 ms. */
  prepareTimeoutMs?: number;
  logger: Logger;
  clock?: Clock;
}

const DEFAULT_SLOW_BYTES = 2 * 1024 * 1024;
const DEFAULT_MAX_GOP_BYTES = 8 * 1024 * 1024;
const DEFAULT_PREPARE_TIMEOUT_MS = 2000;

/** Is this ledger codec H.264 (or unknown, which is tried as H.264)? */
export function isH264(codec: string | undefined): boolean {
  if (codec === undefined || codec === '') return true;
  return /^(h\.?264|avc1?)$/i.test(codec.trim());
}

/**
 * Did ffmpeg's quick look find the video's parameters? Without them it writes a bare `avc1`
 * entry without its profile (no avcC), no size, or only the other tracks (e.g. `mp4a`).
 */
export function learnedVideo(init: InitSegment): boolean {
  if (init.codec === '' || init.width === 0 || init.height === 0) return false;
  if (/^(mp4a|opus|ac-3|ec-3|alaw|ulaw|\.mp3)$/i.test(init.codec)) return false;
  return init.codec !== 'avc1';
}

/** Picks the mode for a source: an H.265 (or other non-H.264) source always gets 'jsmpeg'. */
export function chooseMode(asked: LiveMode | 'auto' | undefined, codec: string | undefined): { mode: LiveMode; reason?: string } {
  const h264 = isH264(codec);
  if (asked === 'jsmpeg') return { mode: 'jsmpeg' };
  if (h264) return { mode: 'mse' };
  return { mode: 'jsmpeg', ...(asked === 'mse' ? { reason: `the stream is ${codec}: browsers play only H.264 through MSE, so it is re-encoded for JSMpeg` } : {}) };
}

/**
 * ffmpeg arguments of an MSE pull. probe 'fast' (the default) starts output at once: the SDP's
 * sprop-parameter-sets already give codec and size, and ffmpeg's default probing holds the output
 * back ~2 s (measured against the simulator: first keyframe fragment 0.45 s after spawn with
 * -probesize 32 -analyzeduration 0, 2.25 s with 500 kB / 1 s, 1.97 s with ffmpeg's defaults).
 * A camera that sends its parameter sets only in-band yields an init segment without a codec or
 * size; the pull then switches to probe 'full' for its next runs (see Pull.onMp4).
 */
export function mseArgs(url: string, probe: 'fast' | 'full' = 'fast'): string[] {
  return [
    '-hide_banner',
    '-loglevel', 'error',
    ...(/^rtsps?:/i.test(url) ? ['-rtsp_transport', 'tcp'] : []),
    '-fflags', 'nobuffer',
    ...(probe === 'fast' ? ['-probesize', '32', '-analyzeduration', '0'] : ['-probesize', '500000', '-analyzeduration', '1000000']),
    '-i', url,
    '-map', '0:v:0',
    ...LIVE_MP4_OUTPUT_ARGS,
    'pipe:1',
  ];
}

/** The only frame rates MPEG-1 can declare (its frame_rate_code table), as ffmpeg `-r` values, slowest first. */
export const MPEG1_FRAME_RATES: readonly string[] = ['24000/1001', '24', '25', '30000/1001', '30', '50', '60000/1001', '60'];

/** The output rate when the ledger does not know the camera's: the PAL rate most cameras here send. */
export const MPEG1_UNKNOWN_INPUT_RATE = '25';

/** A ledger frame rate that means something (cameras report 0 for "not set"). */
function knownFps(fps: number | undefined): number | undefined {
  return fps !== undefined && Number.isFinite(fps) && fps > 0 ? fps : undefined;
}

/** An ffmpeg rate ("24000/1001", "25") as a number. */
export function rateValue(rate: string): number {
  const [num, den = '1'] = rate.split('/');
  return Number(num) / Number(den);
}

/**
 * The output frame rate of a JSMpeg pull for a camera sending `inputFps` (undefined, 0 or nonsense:
 * unknown): the slowest MPEG-1 rate at or above it, 60 above 60. Cameras send 5, 6, 8, 10, 12.5,
 * 15 or 20 fps, which ffmpeg's mpeg1video refuses to open with ("MPEG-1/2 does not support 10/1 fps").
 * The pull encodes with -fps_mode vfr, so no frame is duplicated to fill the declared rate (a
 * 10 fps camera costs 10 encoded frames a second here and 10 decoded ones in the browser), and
 * frames keep their own timestamps. The declared rate still matters twice: a camera faster than it
 * loses the frames that land on the same output tick (a 30 fps camera at 25 would lose every
 * sixth), and the rate control budgets fallbackBitrateKbps / rate bits per frame, so a rate far
 * above the camera's starves it (measured, 10 fps camera at 1000k: 878 kb/s at 23.976, 412 at 60).
 */
export function mpeg1FrameRate(inputFps: number | undefined): string {
  const fps = knownFps(inputFps);
  if (fps === undefined) return MPEG1_UNKNOWN_INPUT_RATE;
  // 29.97 from a ledger is 30000/1001 (29.97003): a hair of tolerance keeps it there, not at 30.
  return MPEG1_FRAME_RATES.find((r) => rateValue(r) >= fps - 0.001) ?? MPEG1_FRAME_RATES[MPEG1_FRAME_RATES.length - 1];
}

/**
 * Mpeg1Muxer's ffmpegOptions for the JSMpeg fallback (they go after its `-f mpegts -codec:v
 * mpeg1video`). `inputFps`: the camera's frame rate from the ledger, if known (see mpeg1FrameRate).
 */
export function mpeg1Options(config: Pick<AgentConfig['web'], 'fallbackWidth' | 'fallbackBitrateKbps'>, inputFps?: number): Record<string, string> {
  const w = Math.max(2, Math.floor(config.fallbackWidth / 2) * 2);
  const rate = mpeg1FrameRate(inputFps);
  return {
    '-hide_banner': '',
    '-loglevel': 'error',
    '-an': '',
    // at most fallbackWidth wide (never upscaled), even height keeping the aspect ratio.
    '-vf': `scale=w='trunc(min(${w},iw)/2)*2':h=-2`,
    '-b:v': `${config.fallbackBitrateKbps}k`,
    '-maxrate': `${config.fallbackBitrateKbps * 2}k`,
    '-bufsize': `${config.fallbackBitrateKbps}k`,
    '-r': rate,
    '-fps_mode': 'vfr',
    // no B-frames (each would add a frame of delay), a keyframe (sequence header) about every
    // second of the camera's frames (-g counts encoded frames, and vfr encodes only the camera's)
    // so a JSMpeg viewer without the GOP cache starts within a second.
    '-bf': '0',
    '-g': String(Math.max(1, Math.round(knownFps(inputFps) ?? rateValue(rate)))),
    // write every TS packet out at once.
    '-flush_packets': '1',
    '-muxdelay': '0.001',
  };
}

/**
 * Turns the arguments the supervisor hands the launcher back into Mpeg1Muxer options: the URL after
 * `-i`, every other option (the supervisor's own, like -nostdin, and mpeg1Options) as key/value
 * pairs. Mpeg1Muxer places them after `-i url -f mpegts -codec:v mpeg1video`; ffmpeg takes
 * global options (-nostdin, -loglevel) anywhere.
 */
export function argsToMuxerOptions(args: readonly string[]): { url: string; ffmpegOptions: Record<string, string> } {
  const ffmpegOptions: Record<string, string> = {};
  let url: string | undefined;
  const skip = new Set(['-f', '-codec:v', '-c:v']);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-i') {
      url = args[++i];
      continue;
    }
    if (a === '-' || a === 'pipe:1') continue;
    if (!a.startsWith('-')) continue; // a stray value
    const next = args[i + 1];
    const hasValue = next !== undefined && (!next.startsWith('-') || /^-\d/.test(next)) && next !== '-';
    if (skip.has(a)) {
      if (hasValue) i++;
      continue;
    }
    ffmpegOptions[a] = hasValue ? next : '';
    if (hasValue) i++;
  }
  if (!url) throw new Error('MPEG-1 pull: no -i in the ffmpeg arguments');
  return { url, ffmpegOptions };
}

interface ViewerState {
  viewer: LiveViewer;
  /** MSE: has the current run's init segment. */
  hasInit: boolean;
  /** Skipping until the next keyframe (joined before one, or too slow). */
  waitingKey: boolean;
  slow: boolean;
}

type Unit = { kind: 'fragment'; fragment: MediaFragment } | { kind: 'ts'; data: Buffer };

/** TS packet helpers for the JSMpeg GOP cache. */
const TS_PACKET = 188;

function tsPid(buf: Buffer, off: number): number {
  return ((buf[off + 1] & 0x1f) << 8) | buf[off + 2];
}

/** A TS packet that starts a PES whose payload holds an MPEG-1 sequence header (00 00 01 B3): where a decoder can start. */
function tsHasSequenceHeader(buf: Buffer, off: number): boolean {
  if (!(buf[off + 1] & 0x40)) return false; // payload_unit_start_indicator
  const end = off + TS_PACKET - 3;
  for (let i = off + 4; i < end; i++) if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1 && buf[i + 3] === 0xb3) return true;
  return false;
}

class Pull {
  readonly viewers = new Set<ViewerState>();
  process: SupervisedProcess | undefined;
  state: SupervisedState = 'starting';
  dropped = 0;
  lingerTimer?: TimerHandle;
  ended = false;
  // MSE
  private readonly splitter = new Fmp4Splitter();
  private broken = false;
  /** How ffmpeg probes the camera (mseArgs): 'full' after a fast start gave no codec parameters. */
  probe: 'fast' | 'full' = 'fast';
  init: InitSegment | undefined;
  // GOP cache: MSE fragments since the last keyframe, or TS bytes since the PAT before the last sequence header.
  private gop: Unit[] = [];
  private gopBytes = 0;
  private gopActive = false;
  // JSMpeg
  private carry: Buffer = Buffer.alloc(0);
  private sincePat: Buffer[] = [];
  private sincePatBytes = 0;
  private run = 0;
  /** This run asked the camera for a keyframe (requestKeyframe: once per run). */
  private keyframeAsked = false;
  /** MSE: a keyframe fragment of this run has arrived. */
  private keyframeSeen = false;

  constructor(
    readonly key: string,
    readonly cameraId: string,
    readonly stream: LiveStream,
    readonly mode: LiveMode,
    private readonly owner: LivePulls,
    private readonly slowBytes: number,
    private readonly maxGopBytes: number,
  ) {}

  get codec(): string {
    return this.init?.codec ?? '';
  }

  info(): PullInfo {
    let slow = 0;
    for (const v of this.viewers) if (v.slow) slow++;
    return {
      cameraId: this.cameraId,
      stream: this.stream,
      mode: this.mode,
      viewers: this.viewers.size,
      state: this.process ? this.process.stats().state : this.state,
      slowViewers: slow,
      dropped: this.dropped,
      codec: this.codec,
      lingering: this.lingerTimer !== undefined,
    };
  }

  onRunStart(run: number): void {
    this.run = run;
    this.keyframeAsked = false;
    this.keyframeSeen = false;
    this.splitter.reset();
    this.broken = false;
    this.init = undefined;
    this.clearGop();
    this.carry = Buffer.alloc(0);
    this.sincePat = [];
    this.sincePatBytes = 0;
    for (const v of this.viewers) {
      v.hasInit = false;
      v.waitingKey = true;
      v.slow = false;
    }
  }

  onStdout(chunk: Buffer, run: number): void {
    if (this.ended) return;
    if (run !== this.run) this.onRunStart(run); // a supervisor that does not call onRunStart first
    if (this.mode === 'mse') this.onMp4(chunk);
    else this.onTs(chunk);
  }

  private clearGop(): void {
    this.gop = [];
    this.gopBytes = 0;
    this.gopActive = false;
  }

  private addToGop(unit: Unit, bytes: number): void {
    if (!this.gopActive) return;
    this.gop.push(unit);
    this.gopBytes += bytes;
    if (this.gopBytes > this.maxGopBytes) this.clearGop();
  }

  private onMp4(chunk: Buffer): void {
    if (this.broken) return;
    let out;
    try {
      out = this.splitter.push(chunk);
    } catch (err) {
      this.broken = true;
      this.owner.logger.warn({ camera: this.cameraId, stream: this.stream, err: (err as Error).message }, 'live pull: ffmpeg output is not fragmented MP4; waiting for the next run');
      if (!(err instanceof Fmp4Error)) throw err;
      return;
    }
    for (const o of out) {
      if (o.kind === 'init') {
        if (this.probe === 'fast' && !learnedVideo(o)) {
          // The fast start did not learn the codec (parameter sets only in-band): restart probing fully.
          this.probe = 'full';
          this.broken = true;
          this.owner.logger.info({ camera: this.cameraId, stream: this.stream }, 'live pull: no codec parameters in the SDP; restarting with full probing');
          this.process?.restart?.('probing the stream fully');
          return;
        }
        this.init = o;
        this.clearGop();
        for (const v of this.viewers) {
          v.hasInit = true;
          v.waitingKey = true;
          this.owner.sendTo(v, { type: 'init', init: o });
        }
        continue;
      }
      const unit: Unit = { kind: 'fragment', fragment: o };
      if (o.keyframe) {
        this.keyframeSeen = true;
        this.clearGop();
        this.gopActive = true;
      }
      this.addToGop(unit, o.data.length);
      this.broadcast(unit, o.keyframe);
    }
    // ffmpeg writes the init segment once it plays; until the first keyframe comes, nothing can be shown.
    if (this.init && !this.keyframeSeen) this.askKeyframe();
  }

  /** requestKeyframe, at most once per run. */
  private askKeyframe(): void {
    if (this.keyframeAsked || this.ended) return;
    this.keyframeAsked = true;
    this.owner.requestKeyframe(this);
  }

  private onTs(chunk: Buffer): void {
    // Whole packets only: the GOP cache must start on a packet boundary, and ffmpeg's output starts on one.
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const whole = data.length - (data.length % TS_PACKET);
    this.carry = Buffer.from(data.subarray(whole));
    if (whole === 0) return;
    // The run's first output: ffmpeg plays (for an H.265 camera joined mid-GOP, smeared frames until its keyframe).
    this.askKeyframe();
    const batch = data.subarray(0, whole);
    let segStart = 0;
    let keyAt = -1;
    const pushRange = (a: number, b: number): void => {
      if (b <= a) return;
      const piece = batch.subarray(a, b);
      this.sincePat.push(piece);
      this.sincePatBytes += piece.length;
      if (this.sincePatBytes > this.maxGopBytes) {
        // no PAT for a long time: nothing to start a cache from until the next one.
        this.sincePat = [];
        this.sincePatBytes = 0;
      }
      if (this.gopActive) this.addToGop({ kind: 'ts', data: piece }, piece.length);
    };
    for (let off = 0; off < whole; off += TS_PACKET) {
      if (batch[off] !== 0x47) continue; // out of sync: JSMpeg resyncs itself
      if (tsPid(batch, off) === 0) {
        pushRange(segStart, off);
        segStart = off;
        this.sincePat = [];
        this.sincePatBytes = 0;
      } else if (tsHasSequenceHeader(batch, off)) {
        pushRange(segStart, off);
        segStart = off;
        // The new GOP starts at the last PAT (the PMT follows it; JSMpeg needs both).
        this.clearGop();
        if (this.sincePatBytes <= this.maxGopBytes) {
          this.gopActive = true;
          this.gop = this.sincePat.map((d) => ({ kind: 'ts' as const, data: d }));
          this.gopBytes = this.sincePatBytes;
        }
        keyAt = off;
      }
    }
    pushRange(segStart, whole);
    this.broadcast({ kind: 'ts', data: batch }, keyAt >= 0);
  }

  /** Sends a unit to every viewer that can take it; a viewer waiting for a keyframe gets the GOP cache when one started in this unit. */
  private broadcast(unit: Unit, keyInUnit: boolean): void {
    for (const v of this.viewers) {
      if (this.mode === 'mse' && !v.hasInit) continue;
      if (v.waitingKey) {
        if (!keyInUnit || !this.gopActive) continue;
        if (v.viewer.bufferedAmount > this.slowBytes) {
          this.dropped++;
          continue;
        }
        v.waitingKey = false;
        v.slow = false;
        for (const u of this.gop) this.owner.sendTo(v, this.message(u));
        continue;
      }
      if (v.viewer.bufferedAmount > this.slowBytes) {
        v.waitingKey = true;
        v.slow = true;
        this.dropped++;
        continue;
      }
      this.owner.sendTo(v, this.message(unit));
    }
  }

  private message(u: Unit): LiveMessage {
    return u.kind === 'fragment' ? { type: 'fragment', fragment: u.fragment } : { type: 'ts', data: u.data };
  }

  /** A late joiner: the init segment and the GOP so far, or wait for them. */
  welcome(v: ViewerState): void {
    if (this.mode === 'mse') {
      if (!this.init) return; // gets it when it comes
      v.hasInit = true;
      this.owner.sendTo(v, { type: 'init', init: this.init });
    }
    if (this.gopActive && this.gop.length) {
      v.waitingKey = false;
      for (const u of this.gop) this.owner.sendTo(v, this.message(u));
    }
  }
}

/**
 * The pulls of one agent. Construct once; `join` per viewer (a WebSocket), `close` at shutdown.
 */
export class LivePulls {
  private readonly pulls = new Map<string, Pull>();
  private viewerCount = 0;
  private closed = false;
  readonly logger: Logger;
  private readonly clock: Clock;

  constructor(private readonly options: LivePullsOptions) {
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
  }

  /** Every pull, for status pages and tests. */
  list(): PullInfo[] {
    return [...this.pulls.values()].map((p) => p.info());
  }

  /** Viewers across all pulls. */
  get viewers(): number {
    return this.viewerCount;
  }

  /**
   * Adds a viewer to the pull of (camera, stream, mode), starting it if needed. Rejects with a
   * LiveError: 'not-found' (no such camera or stream), 'too-many-viewers' (web.maxViewers),
   * 'closed' (the agent is stopping).
   */
  async join(cameraId: string, request: JoinRequest, viewer: LiveViewer): Promise<LiveSession> {
    if (this.closed) throw new LiveError('closed', 'the live view is shutting down');
    const max = this.options.config.maxViewers;
    if (this.viewerCount >= max) {
      throw new LiveError('too-many-viewers', `${this.viewerCount} live viewers already (web.maxViewers = ${max}): close another live page, or raise web.maxViewers (CAMGATE_WEB_MAX_VIEWERS) if the box can take it`);
    }
    // Count the viewer now so that concurrent joins cannot overshoot maxViewers while resolving.
    this.viewerCount++;
    let counted = true;
    try {
      const source = await this.options.resolve(cameraId, request.stream);
      if (!source) throw new LiveError('not-found', `no camera "${cameraId}" with a ${request.stream} stream`);
      if (this.closed) throw new LiveError('closed', 'the live view is shutting down');
      const { mode, reason } = chooseMode(request.mode, source.codec);
      const key = `${cameraId}/${request.stream}/${mode}`;
      let pull = this.pulls.get(key);
      if (!pull) {
        pull = this.start(key, cameraId, request.stream, mode);
      } else if (pull.lingerTimer !== undefined) {
        this.clock.clearTimeout(pull.lingerTimer);
        pull.lingerTimer = undefined;
      }
      const state: ViewerState = { viewer, hasInit: false, waitingKey: true, slow: false };
      pull.viewers.add(state);
      pull.welcome(state);
      const thePull = pull;
      let left = false;
      counted = false;
      return {
        cameraId,
        stream: request.stream,
        mode,
        ...(reason ? { modeReason: reason } : {}),
        leave: () => {
          if (left) return;
          left = true;
          this.viewerCount--;
          thePull.viewers.delete(state);
          if (thePull.viewers.size === 0 && !thePull.ended) this.linger(thePull);
        },
      };
    } finally {
      if (counted) this.viewerCount--;
    }
  }

  /** Stops every pull and tells every viewer; joins are refused from now on. */
  async close(reason = 'the agent is stopping'): Promise<void> {
    this.closed = true;
    const all = [...this.pulls.values()];
    await Promise.all(all.map((p) => this.end(p, reason)));
  }

  /** @internal used by Pull: the requestKeyframe option, fire and forget. */
  requestKeyframe(pull: Pull): void {
    const request = this.options.requestKeyframe;
    if (!request) return;
    const t0 = this.clock.now();
    const log = { camera: pull.cameraId, stream: pull.stream, mode: pull.mode };
    let pending: Promise<void>;
    try {
      pending = Promise.resolve(request(pull.cameraId, pull.stream));
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      () => this.logger.debug({ ...log, ms: this.clock.now() - t0 }, 'live pull: keyframe requested from the camera'),
      (err: unknown) => this.logger.debug({ ...log, err: err instanceof Error ? err.message : String(err) }, 'live pull: keyframe request failed (ignored)'),
    );
  }

  /** @internal used by Pull */
  sendTo(v: ViewerState, message: LiveMessage): void {
    try {
      v.viewer.send(message);
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'live pull: send to a viewer failed');
    }
  }

  private start(key: string, cameraId: string, stream: LiveStream, mode: LiveMode): Pull {
    const opts = this.options;
    const pull = new Pull(key, cameraId, stream, mode, this, opts.slowViewerBytes ?? DEFAULT_SLOW_BYTES, opts.maxGopBytes ?? DEFAULT_MAX_GOP_BYTES);
    this.pulls.set(key, pull);
    const resolveSource = async (): Promise<LiveSource> => {
      const s = await opts.resolve(cameraId, stream);
      if (!s) throw new LiveError('not-found', `camera "${cameraId}" has no ${stream} stream any more`);
      return s;
    };
    const label = `live ${cameraId}/${stream} ${mode}`;
    let launch: LaunchFn | undefined;
    if (mode === 'jsmpeg') {
      const mpeg1Launch = opts.mpeg1Launch ?? launchMpeg1Muxer;
      launch = (args) => {
        const { url, ffmpegOptions } = argsToMuxerOptions(args);
        return mpeg1Launch({ url, ffmpegPath: opts.mpeg1FfmpegPath, ffmpegOptions });
      };
    }
    const prepared = this.prepare(cameraId, stream, mode);
    const args =
      mode === 'mse'
        ? async () => {
            await prepared;
            return mseArgs((await resolveSource()).url, pull.probe);
          }
        : async () => {
            await prepared;
            const source = await resolveSource();
            const flat: string[] = [];
            for (const [k, v] of Object.entries(mpeg1Options(opts.config, source.fps))) flat.push(k, ...(v === '' ? [] : [v]));
            // The logical command; the launcher hands url and options to Mpeg1Muxer, which adds `-f mpegts -codec:v mpeg1video` and `-`.
            return ['-i', source.url, '-f', 'mpegts', '-codec:v', 'mpeg1video', ...flat, '-'];
          };
    const proc = opts.supervise({
      label,
      kind: 'live',
      args,
      progress: 'stdout',
      onStdout: (chunk, run) => pull.onStdout(chunk, run),
      onRunStart: (run) => pull.onRunStart(run),
      ...(launch ? { launch } : {}),
    });
    pull.process = proc;
    proc.onState((change) => {
      pull.state = change.to;
      if (change.to === 'failed') {
        this.logger.warn({ camera: cameraId, stream, mode, reason: change.reason }, 'live pull gave up');
        void this.end(pull, `the camera stream failed: ${change.reason ?? 'ffmpeg gave up'}`);
      }
    });
    this.logger.info({ camera: cameraId, stream, mode }, 'live pull started');
    return pull;
  }

  /** The prepare option, bounded by prepareTimeoutMs; never rejects. */
  private prepare(cameraId: string, stream: LiveStream, mode: LiveMode): Promise<void> {
    const prepare = this.options.prepare;
    if (!prepare) return Promise.resolve();
    const log = { camera: cameraId, stream, mode };
    const t0 = this.clock.now();
    let work: Promise<unknown>;
    try {
      work = Promise.resolve(prepare(cameraId, stream));
    } catch (err) {
      work = Promise.reject(err);
    }
    const logged = work.then(
      (result) => this.logger.debug({ ...log, ms: this.clock.now() - t0, result }, 'live pull: prepared'),
      (err: unknown) => this.logger.warn({ ...log, ms: this.clock.now() - t0, err: err instanceof Error ? err.message : String(err) }, 'live pull: preparing the camera failed (the pull starts anyway)'),
    );
    const limitMs = this.options.prepareTimeoutMs ?? DEFAULT_PREPARE_TIMEOUT_MS;
    return new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.logger.debug({ ...log, limitMs }, 'live pull: preparing the camera takes long; the pull starts now');
        resolve();
      }, limitMs);
      void logged.then(() => {
        this.clock.clearTimeout(timer);
        resolve();
      });
    });
  }

  private linger(pull: Pull): void {
    const sec = this.options.config.lingerSec;
    if (sec <= 0) {
      void this.end(pull);
      return;
    }
    pull.lingerTimer = this.clock.setTimeout(() => {
      pull.lingerTimer = undefined;
      if (pull.viewers.size === 0) void this.end(pull);
    }, sec * 1000);
    (pull.lingerTimer as { unref?: () => void }).unref?.();
  }

  private async end(pull: Pull, reason?: string): Promise<void> {
    if (pull.ended) return;
    pull.ended = true;
    if (pull.lingerTimer !== undefined) {
      this.clock.clearTimeout(pull.lingerTimer);
      pull.lingerTimer = undefined;
    }
    if (this.pulls.get(pull.key) === pull) this.pulls.delete(pull.key);
    if (reason) for (const v of pull.viewers) this.sendTo(v, { type: 'end', reason });
    this.logger.info({ camera: pull.cameraId, stream: pull.stream, mode: pull.mode, viewers: pull.viewers.size }, 'live pull stopping');
    try {
      await pull.process?.stop();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'live pull: stopping ffmpeg failed');
    }
  }
}
