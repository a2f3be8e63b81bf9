// What the live view's pulls and their viewers exchange: modes, sources, messages, sessions.
import type { SupervisedState } from '../../ffmpeg/types';
import type { Credentials } from '../../../drivers/types';
import type { InitSegment, MediaFragment } from './fmp4';
import { CamgateError } from '../../../lib/errors';

export type LiveStream = 'main' | 'sub';
export type LiveMode = 'mse' | 'jsmpeg';

/** What a pull plays: resolved from the inventory (see cameraSource in agent/web/cameras.ts). */
export interface LiveSource {
  /** The camera's RTSP URL, without credentials (never sent to a browser). */
  url: string;
  /** The camera's login: handed to the RTSP gate (LivePullsOptions.input), never to ffmpeg. */
  credentials?: Credentials;
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

/** A viewer as a pull keeps it. */
export interface ViewerState {
  viewer: LiveViewer;
  /** MSE: has the current run's init segment. */
  hasInit: boolean;
  /** Skipping until the next keyframe (joined before one, or too slow). */
  waitingKey: boolean;
  slow: boolean;
}
