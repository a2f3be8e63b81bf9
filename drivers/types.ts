// The one interface every device driver implements (ONVIF, RTSP-only, later vendor APIs).
// Pure data types only: no I/O here, so inventory and CLI code can depend on it freely.

export interface Credentials {
  username: string;
  password: string;
  /**
   * Answer a Basic challenge with this login, i.e. send the password in cleartext. Off unless the
   * installer allowed it for the device (`camgate cameras set <camera> --allow-basic-auth`): any
   * device on the LAN can ask for Basic, so a device that offers nothing else is refused.
   */
  allowBasic?: boolean;
}

/** What the device says about itself. Every field is a string, exactly as the device sent it
 * (the onvif package would turn "1.00" into 1; ledger fields must stay strings). */
export interface DeviceIdentity {
  manufacturer?: string;
  model?: string;
  firmware?: string;
  serial?: string;
  hardwareId?: string;
  /** Lower-case colon-separated, e.g. "44:19:b6:00:00:01", when the device gives it. */
  mac?: string;
}

export interface MediaProfile {
  token: string;
  name?: string;
  /** "H264" | "H265" | "MJPEG" | ... upper-case; undefined when the device does not say. */
  codec?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
  /** The video source this profile encodes: an NVR has one per channel. */
  videoSourceToken?: string;
  /** RTSP URI with credentials stripped and the host rewritten to the address that answered. */
  streamUri?: string;
  /** HTTP snapshot URI, same rules as streamUri. */
  snapshotUri?: string;
  /** What identification noted about this profile, for people, each naming the profile: why it
   * has no stream URI (none given, the call failed, or a URI refused as not rtsp/rtsps), why a
   * snapshot URI was refused. Printable single lines. */
  notes?: string[];
}

/** One picture source: a camera, or one channel of an NVR. Each becomes one camera in the ledger. */
export interface ChannelReport {
  /** 1-based channel number; 1 for a plain camera. */
  channel: number;
  videoSourceToken?: string;
  /** Main stream first, then sub streams (ordered by resolution, largest first). */
  profiles: MediaProfile[];
}

export interface ClockReading {
  /** The device's UTC clock as an ISO string (from UTCDateTime only: time zones lie). */
  deviceUtc: string;
  /** device clock minus box clock, milliseconds; positive = device is ahead. */
  offsetMs: number;
  /** Free-text time zone as the device reports it; informational only. */
  timeZone?: string;
}

export type DriverKind = 'onvif' | 'rtsp';

/** Everything identification found about one device. */
export interface DeviceReport {
  driver: DriverKind;
  /** The address that answered (never the address the device believes it has). */
  host: string;
  port: number;
  /** ONVIF device service URL after host rewriting; RTSP URL (no credentials) for rtsp devices. */
  url: string;
  /** WS-Discovery endpoint reference, normalised to "urn:uuid:<lower-case uuid>". */
  endpointUuid?: string;
  identity: DeviceIdentity;
  /** True when the device exposes more than one video source (an NVR/DVR). */
  isNvr: boolean;
  channels: ChannelReport[];
  clock?: ClockReading;
  /** WS-Discovery scopes, decoded (onvif://www.onvif.org/name/..., hardware/..., location/...). */
  scopes?: string[];
}

/** A device driver bound to one device. All methods reject with DriverError on failure. */
export interface DeviceDriver {
  readonly kind: DriverKind;
  identify(): Promise<DeviceIdentity>;
  channels(): Promise<ChannelReport[]>;
  /** Fetch the stream URI again right before use (Dahua: InvalidAfterConnect). */
  streamUri(profileToken: string): Promise<string>;
  snapshotUri(profileToken: string): Promise<string | undefined>;
  time(): Promise<ClockReading>;
  /** Set the device clock to the box's UTC time. */
  setTime(now: Date): Promise<void>;
  reboot(): Promise<void>;
  /**
   * Ask the encoder of this profile for a keyframe (I-frame) now: ONVIF Media
   * SetSynchronizationPoint. The live view calls it when a pull starts, so the first picture need
   * not wait for the camera's next scheduled keyframe. Optional: only ONVIF drivers have it, and
   * a device without it rejects with DriverError 'unsupported' (or 'device-fault').
   */
  requestKeyframe?(profileToken: string): Promise<void>;
  /**
   * How often the encoder of this profile sends a keyframe unasked (ONVIF GovLength over the
   * frame rate): the longest a new viewer waits for a picture when the camera ignores
   * requestKeyframe. Optional: ONVIF drivers only.
   */
  keyframeInterval?(profileToken: string): Promise<KeyframeInterval>;
  /**
   * Changes only the GovLength of this profile's encoder (SetVideoEncoderConfiguration, the rest
   * of the configuration sent back as read; persisted across reboots). Cameras restart the
   * stream when they apply it: its current viewers see a short break.
   */
  setKeyframeInterval?(profileToken: string, govLength: number): Promise<void>;
  /** Full report: identity, channels with profiles and URIs, clock. */
  report(): Promise<DeviceReport>;
  close(): void;
}

/** A profile's keyframe spacing as its encoder configuration states it. */
export interface KeyframeInterval {
  /** The video encoder configuration the profile uses (several profiles may share one). */
  configurationToken: string;
  /** Frames from one keyframe to the next (ONVIF GovLength); undefined when not stated. */
  govLength?: number;
  /** FrameRateLimit, frames per second. */
  fps?: number;
  /** govLength / fps, rounded to 0.01 s, when both are known. */
  seconds?: number;
  /** Encoding as the device states it (H264, H265, ...). */
  codec?: string;
}

export type DriverErrorCode =
  | 'auth' // wrong credentials: "authentication failed for <device>"
  | 'basic-auth-refused' // the device asks for Basic (cleartext password), not allowed for it
  | 'unreachable' // refused, no route, DNS
  | 'timeout' // accepted TCP but no answer in time
  | 'not-onvif' // something answered, but not ONVIF SOAP
  | 'malformed' // SOAP that does not parse or misses required parts
  | 'too-large' // response over the size cap
  | 'unsafe-xml' // DOCTYPE / ENTITY: refused (XXE, entity expansion)
  | 'unsupported' // the device does not implement the call
  | 'device-fault'; // a SOAP fault other than auth

/** The one error type drivers throw: `message` is for people and names the device; `code` is for code. */
export class DriverError extends Error {
  constructor(
    readonly code: DriverErrorCode,
    message: string,
    readonly device?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DriverError';
  }
}
