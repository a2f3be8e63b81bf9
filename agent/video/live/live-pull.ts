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
import type { CameraInput, LaunchFn, SupervisedProcess, SuperviseOptions } from '../../ffmpeg/types';
import { argsToMuxerOptions, chooseMode, mpeg1Options, mseArgs } from './args';
import { launchMpeg1Muxer, type Mpeg1LaunchOptions } from './mpeg1-muxer';
import { Pull } from './pull';
import {
  LiveError,
  type JoinRequest,
  type LiveMessage,
  type LiveMode,
  type LiveSession,
  type LiveSource,
  type LiveStream,
  type LiveViewer,
  type PullInfo,
  type ResolveSource,
  type ViewerState,
} from './types';
import type { AgentConfig } from '../../config/schema';
import type { Logger } from '../../../lib/log';
import { BACKGROUND, systemClock, type Clock } from '../../../lib/clock';

export interface LivePullsOptions {
  /** FfmpegSupervisor#supervise (bound). */
  supervise: (options: SuperviseOptions) => SupervisedProcess;
  resolve: ResolveSource;
  /**
   * What ffmpeg opens for a source (the agent's RTSP gate: a camera's login never goes into
   * ffmpeg's arguments). Default: the source's URL, and a source with a login is refused.
   */
  input?: CameraInput;
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

/** Without a gate: a source that needs a login cannot be pulled (its login would go into ffmpeg's arguments). */
const noLoginInput: CameraInput = async (source) => {
  if (source.credentials) throw new LiveError('not-found', `${source.label}: the camera needs a login and no RTSP gate was given to log in for ffmpeg`);
  return source.url;
};

const DEFAULT_SLOW_BYTES = 2 * 1024 * 1024;
const DEFAULT_MAX_GOP_BYTES = 8 * 1024 * 1024;
const DEFAULT_PREPARE_TIMEOUT_MS = 2000;

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
      throw new LiveError(
        'too-many-viewers',
        `${this.viewerCount} live viewers already (web.maxViewers = ${max}): close another live page, or raise web.maxViewers (CAMGATE_WEB_MAX_VIEWERS) if the box can take it`,
      );
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
    const input = opts.input ?? noLoginInput;
    const inputUrl = async (): Promise<string> => {
      const s = await resolveSource();
      return input({ url: s.url, ...(s.credentials ? { credentials: s.credentials } : {}), label });
    };
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
            return mseArgs(await inputUrl(), pull.probe);
          }
        : async () => {
            await prepared;
            const source = await resolveSource();
            const flat: string[] = [];
            for (const [k, v] of Object.entries(mpeg1Options(opts.config, source.fps))) flat.push(k, ...(v === '' ? [] : [v]));
            // The logical command; the launcher hands url and options to Mpeg1Muxer, which adds `-f mpegts -codec:v mpeg1video` and `-`.
            return ['-i', await inputUrl(), '-f', 'mpegts', '-codec:v', 'mpeg1video', ...flat, '-'];
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
      (err: unknown) =>
        this.logger.warn(
          { ...log, ms: this.clock.now() - t0, err: err instanceof Error ? err.message : String(err) },
          'live pull: preparing the camera failed (the pull starts anyway)',
        ),
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
    pull.lingerTimer = this.clock.setTimeout(
      () => {
        pull.lingerTimer = undefined;
        if (pull.viewers.size === 0) void this.end(pull);
      },
      sec * 1000,
      BACKGROUND,
    );
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
