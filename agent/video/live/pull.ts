// One live pull: the output of one ffmpeg (a camera's stream in one mode) fanned out to its
// viewers. MSE output is split into the init segment and fragments (fmp4.ts); JSMpeg output is
// read as MPEG-TS packets (mpeg-ts.ts). Both keep a GOP cache for late joiners, and a viewer that
// falls behind skips to the next keyframe instead of being buffered without bound.
import type { SupervisedProcess, SupervisedState } from '../../ffmpeg/types';
import { Fmp4Error, Fmp4Splitter, type InitSegment } from './fmp4';
import { learnedVideo } from './args';
import { GopCache, type Unit } from './gop-cache';
import { TsReader } from './mpeg-ts';
import type { LiveMessage, LiveMode, LiveStream, PullInfo, ViewerState } from './types';
import type { Logger } from '../../../lib/log';
import type { TimerHandle } from '../../../lib/clock';

/** What a pull needs from the registry that owns it. */
export interface PullHost {
  readonly logger: Logger;
  sendTo(v: ViewerState, message: LiveMessage): void;
  /** Asks the camera for a keyframe (fire and forget). */
  requestKeyframe(pull: Pull): void;
}

export class Pull {
  readonly viewers = new Set<ViewerState>();
  process: SupervisedProcess | undefined;
  state: SupervisedState = 'starting';
  dropped = 0;
  lingerTimer?: TimerHandle;
  ended = false;
  /** How ffmpeg probes the camera (mseArgs): 'full' after a fast start gave no codec parameters. */
  probe: 'fast' | 'full' = 'fast';
  init: InitSegment | undefined;
  private readonly gop: GopCache;
  // MSE
  private readonly splitter = new Fmp4Splitter();
  private broken = false;
  // JSMpeg
  private readonly ts: TsReader;
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
    private readonly host: PullHost,
    private readonly slowBytes: number,
    maxGopBytes: number,
  ) {
    this.gop = new GopCache(maxGopBytes);
    this.ts = new TsReader(this.gop, maxGopBytes);
  }

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
    this.gop.clear();
    this.ts.reset();
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

  private onMp4(chunk: Buffer): void {
    if (this.broken) return;
    let out;
    try {
      out = this.splitter.push(chunk);
    } catch (err) {
      this.broken = true;
      this.host.logger.warn(
        { camera: this.cameraId, stream: this.stream, err: (err as Error).message },
        'live pull: ffmpeg output is not fragmented MP4; waiting for the next run',
      );
      if (!(err instanceof Fmp4Error)) throw err;
      return;
    }
    for (const o of out) {
      if (o.kind === 'init') {
        if (this.probe === 'fast' && !learnedVideo(o)) {
          // The fast start did not learn the codec (parameter sets only in-band): restart probing fully.
          this.probe = 'full';
          this.broken = true;
          this.host.logger.info({ camera: this.cameraId, stream: this.stream }, 'live pull: no codec parameters in the SDP; restarting with full probing');
          this.process?.restart?.('probing the stream fully');
          return;
        }
        this.init = o;
        this.gop.clear();
        for (const v of this.viewers) {
          v.hasInit = true;
          v.waitingKey = true;
          this.host.sendTo(v, { type: 'init', init: o });
        }
        continue;
      }
      const unit: Unit = { kind: 'fragment', fragment: o };
      if (o.keyframe) {
        this.keyframeSeen = true;
        this.gop.start();
      }
      this.gop.add(unit, o.data.length);
      this.broadcast(unit, o.keyframe);
    }
    // ffmpeg writes the init segment once it plays; until the first keyframe comes, nothing can be shown.
    if (this.init && !this.keyframeSeen) this.askKeyframe();
  }

  private onTs(chunk: Buffer): void {
    const read = this.ts.read(chunk);
    if (!read) return;
    // The run's first output: ffmpeg plays (for an H.265 camera joined mid-GOP, smeared frames until its keyframe).
    this.askKeyframe();
    this.broadcast({ kind: 'ts', data: read.batch }, read.keyframe);
  }

  /** requestKeyframe, at most once per run. */
  private askKeyframe(): void {
    if (this.keyframeAsked || this.ended) return;
    this.keyframeAsked = true;
    this.host.requestKeyframe(this);
  }

  /** Sends a unit to every viewer that can take it; a viewer waiting for a keyframe gets the GOP cache when one started in this unit. */
  private broadcast(unit: Unit, keyInUnit: boolean): void {
    for (const v of this.viewers) {
      if (this.mode === 'mse' && !v.hasInit) continue;
      if (v.waitingKey) {
        if (!keyInUnit || !this.gop.started) continue;
        if (v.viewer.bufferedAmount > this.slowBytes) {
          this.dropped++;
          continue;
        }
        v.waitingKey = false;
        v.slow = false;
        for (const u of this.gop.contents) this.host.sendTo(v, message(u));
        continue;
      }
      if (v.viewer.bufferedAmount > this.slowBytes) {
        v.waitingKey = true;
        v.slow = true;
        this.dropped++;
        continue;
      }
      this.host.sendTo(v, message(unit));
    }
  }

  /** A late joiner: the init segment and the GOP so far, or wait for them. */
  welcome(v: ViewerState): void {
    if (this.mode === 'mse') {
      if (!this.init) return; // gets it when it comes
      v.hasInit = true;
      this.host.sendTo(v, { type: 'init', init: this.init });
    }
    if (this.gop.started && this.gop.contents.length) {
      v.waitingKey = false;
      for (const u of this.gop.contents) this.host.sendTo(v, message(u));
    }
  }
}

function message(u: Unit): LiveMessage {
  return u.kind === 'fragment' ? { type: 'fragment', fragment: u.fragment } : { type: 'ts', data: u.data };
}
