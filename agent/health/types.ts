// Contract between the parts of health monitoring. Pure types.
//   probes/    I/O: one check of one device or camera, each with a hard timeout → a ProbeResult
//   picture/   ffmpeg frame grabs (I/O) and the picture diagnosis on small frames (pure)
//   host/      host metrics (systeminformation) and the box's own alarms
//   state.ts   debounced per-camera state machine (pure): results in, status + events out
//   scheduler  spreads probes over their intervals, bounded concurrency, nothing waits on a hung camera
//   monitor.ts wires the above to the inventory and the uplink

/** Why a check failed, as a short machine-readable code. The message says it for people. */
export type ProbeErrorCode =
  | 'refused' // TCP connection refused (nothing listens: device down or wrong port)
  | 'unreachable' // no route / host unreachable / network down
  | 'timeout' // no answer within the probe's hard timeout (includes "accepts TCP, never answers")
  | 'auth' // credentials rejected
  | 'basic-auth-refused' // the device asks for Basic auth (cleartext password), not allowed for it: nothing sent
  | 'bad-answer' // answered, but not what the protocol says (garbage RTSP/SOAP, truncated)
  | 'too-large' // answer over the size cap (a 50 MB "JPEG")
  | 'not-an-image' // snapshot bytes that are not a decodable picture
  | 'no-frames' // the stream opened but ffmpeg decoded no picture
  | 'not-available' // nothing to check (no stream/snapshot URI known)
  | 'ffmpeg-missing' // ffmpeg is not installed / not runnable
  | 'failed'; // anything else (message says what)

export interface ProbeError {
  code: ProbeErrorCode;
  /** One line naming the camera/device address and what was being done; never a password. */
  message: string;
}

/** TCP reachability of a device (its ONVIF HTTP port, or the RTSP port for RTSP-only devices). */
export interface ReachResult {
  ok: boolean;
  /** TCP connect time when ok. */
  latencyMs: number | null;
  error?: ProbeError;
}

/** ONVIF GetSystemDateAndTime (no auth): proves the ONVIF service answers, gives the clock offset. */
export interface ClockResult {
  ok: boolean;
  /** Device clock minus box clock, ms (midpoint corrected). */
  offsetMs: number | null;
  latencyMs: number | null;
  error?: ProbeError;
}

/** RTSP DESCRIBE of one stream. */
export interface StreamCheck {
  ok: boolean;
  /** 'main' | 'sub' (profile order in the inventory: first = main, second = sub). */
  stream: 'main' | 'sub';
  codec: string | null;
  width: number | null;
  height: number | null;
  latencyMs: number | null;
  error?: ProbeError;
}

export type PictureFault =
  'black' | 'frozen' | 'blurred' | 'occluded' | 'colour-cast' | 'no-video' | 'scene-change' | 'overexposed' | 'noise' | 'stripes' | 'shaking';
/** Every picture fault, most severe first (the order faults are listed in). */
export const PICTURE_FAULTS: readonly PictureFault[] = [
  'no-video',
  'black',
  'overexposed',
  'frozen',
  'scene-change',
  'occluded',
  'blurred',
  'colour-cast',
  'noise',
  'stripes',
  'shaking',
];

/** One decoded frame, small (e.g. 160×90), packed RGB24, row-major, no padding. */
export interface Frame {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * What a camera's picture looks like when it is known good: the measures of one probe (made by
 * picture/reference.ts), kept per camera and compared with every later probe. JSON-safe; a stored
 * one whose `version` is not REFERENCE_VERSION is retaken (parseReference says so).
 */
export interface ReferenceMeasures {
  version: number;
  /** Blur score of the reference (the blurred score's scale). */
  blur: number;
  /** Mean luma (0..255) and share of the picture clipped bright (0..1). */
  brightness: number;
  clipped: number;
  /** Noise and stripes scores of the reference (their scores' scales). */
  noise: number;
  stripes: number;
  /** Frozen score of the reference (how still the camera's normal picture stands). */
  still: number;
  /** Occluded score of the reference (its own largest flat region: a sky, a wall, fog). */
  flat: number;
  /** The picture's layout: luma block means over LAYOUT_COLS × LAYOUT_ROWS blocks, row-major. */
  layout: number[];
  /** Colour balance: the R, G, B highlights, then shadows, off their mean (colour-cast's scales). */
  balance: number[];
}

/** A camera's reference and where it came from. */
export interface PictureReference {
  measures: ReferenceMeasures;
  takenAt: string;
  /** first-good-probe: taken by the agent from the first probe without a fault (to be confirmed
   * by the installer); command: set or renewed by a person. */
  origin: 'first-good-probe' | 'command';
}

/** Outcome of the pure diagnosis over the frames of one picture probe. */
export interface Diagnosis {
  /** Faults found, most severe first (PICTURE_FAULTS order); empty = picture ok. */
  faults: PictureFault[];
  /** One score per fault, each on its own scale documented in picture/diagnose.ts; the
   * threshold it is compared with is in DiagnosisThresholds. Sent to the central so it can tune. */
  scores: Record<PictureFault, number>;
  /** This probe's picture in reference form: what the camera keeps as its reference when this
   * probe is taken as one. */
  measures: ReferenceMeasures;
}

/** Result of one picture probe (frames grabbed + diagnosed, thumbnail made). */
export interface PictureResult {
  /** False when no picture could be obtained at all (error says why). A picture with faults is ok: true. */
  ok: boolean;
  source: 'stream' | 'snapshot' | null;
  diagnosis: Diagnosis | null;
  /** JPEG, ≤ health.picture.thumbnailMaxBytes; absent when no picture. */
  thumbnail?: Buffer;
  frames: number;
  latencyMs: number | null;
  /** CPU time the diagnosis took in this process (ffmpeg excluded), ms. */
  diagnosisCpuMs?: number;
  error?: ProbeError;
}
