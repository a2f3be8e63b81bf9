// Contract of the camera simulator (scripts/sim): N ONVIF devices on this box for tests and demos.
// Each simulated device owns one loopback address (127.a.b.c) so that unicast WS-Discovery to
// <address>:3702 and HTTP SOAP on <address>:<httpPort> work without network namespaces.

export type SimVendor =
  | 'hikvision' // Hikvision-like: encoding="H265" attribute beside <tt:Encoding>H264, 401 HTML page, Digest
  | 'dahua' // Dahua-like: &amp; in URIs, newline/indent inside <tt:Uri>, InvalidAfterConnect=true
  | 'nvr' // an NVR with `channels` video sources, one main+sub profile pair per channel
  | 'tapo' // ONVIF on port 2020 at /onvif/service
  | 'generic';

export type SimAuth = 'wsse' | 'digest' | 'both' | 'none';

/** Misbehaviour for bad-input tests. Default: none (a well-behaved device). */
export type SimFault =
  | 'garbage' // answers HTTP 200 with bytes that are not XML
  | 'truncated' // valid SOAP cut off half-way
  | 'hang' // accepts TCP and never answers
  | 'huge' // answers with a response far over any sane size cap (e.g. 20 MB)
  | 'doctype' // SOAP with a DOCTYPE declaring entities (billion laughs)
  | 'not-onvif' // an ordinary web server on the HTTP port, and a non-ONVIF UDP answer on 3702
  // Extensions (health probes): the ONVIF side behaves; one other part of the device does not.
  | 'rtsp-garbage' // stream URIs point to a TCP port on the device's address that answers RTSP with junk
  | 'rtsp-hang' // stream URIs point to a TCP port on the device's address that accepts and never answers
  | 'snapshot-huge' // the snapshot URL streams a 50 MB body that starts like a JPEG (no Content-Length)
  | 'snapshot-not-image'; // the snapshot URL answers 200 image/jpeg with bytes that are no image

/** Extension: what a camera's picture looks like (RTSP streams and snapshot). Default 'moving'. */
export type SimPicture =
  | 'moving' // scrolling SMPTE colour bars with a ticking time overlay: a healthy camera
  | 'black' // all black (lens cap, dead sensor)
  | 'frozen' // static colour bars (SMPTE 75%), no overlay: nothing changes from frame to frame
  | 'blue' // plain blue: an NVR's "no video" screen
  | 'clock'; // moving bars with the wall clock (ms) drawn in as a bar code, for latency benchmarks (rtsp_server.py draw_clock)

export interface SimCameraSpec {
  /** Loopback address the device binds, e.g. "127.20.0.5". Required. */
  host: string;
  vendor?: SimVendor; // default 'generic'
  /** HTTP port of the ONVIF services; default 80 (2020 for tapo). */
  httpPort?: number;
  username?: string; // default 'admin'
  password?: string; // default 'admin123'
  auth?: SimAuth; // default 'both' ('digest' for hikvision)
  /** The device clock runs this many ms ahead of the box (negative = behind). */
  clockSkewMs?: number;
  /** Video sources; default 1, or 4 for 'nvr'. */
  channels?: number;
  /** Codec of the main stream; default 'H264' (hikvision: 'H265'). */
  codec?: 'H264' | 'H265';
  /** Identity; sensible unique defaults derived from host when omitted. */
  uuid?: string; // bare uuid, served as urn:uuid:<uuid>
  serial?: string;
  mac?: string;
  model?: string;
  firmware?: string; // keep numeric-looking defaults like "1.00" to catch number coercion
  /** Host the device *believes* it has and puts in XAddrs/URIs (NAT quirk); default `host`. */
  reportedHost?: string;
  fault?: SimFault;
  /** Extensions (optional, not part of the original contract): */
  /** Short id used in RTSP paths (/<id>/ch1/main) and labels; default derived from host ("cam-127-20-0-5"). */
  id?: string;
  /** Friendly name in the discovery scopes (onvif://www.onvif.org/name/...); vendor default otherwise. */
  name?: string;
  /** How long the device is unreachable after SystemReboot; default 2000 ms (0: no downtime). */
  rebootDowntimeMs?: number;
  /** What the camera shows, on every channel (streams and snapshots); default 'moving'. */
  picture?: SimPicture;
  /** Whether Media SetSynchronizationPoint (keyframe on demand) is supported; default true. false:
   * the device answers it with ter:ActionNotSupported, as many cheap cameras do (nothing is
   * counted, no keyframe is forced). */
  keyframeRequests?: boolean;
  /** Frame rate of every main stream, frames per second (fractions allowed: 12.5); default 25.
   * Cameras often send 5, 6, 8, 10, 12.5, 15 or 20. GetProfiles reports it rounded up (ONVIF's
   * FrameRateLimit is an integer). */
  mainFps?: number;
  /** Frame rate of every sub stream, as mainFps; default 15. */
  subFps?: number;
}

export interface SimulatorOptions {
  cameras: SimCameraSpec[];
  /** Serve real RTSP streams (GStreamer) for every profile; default true. */
  rtsp?: boolean;
  /** Also join 239.255.255.250:3702 on each device's socket (only inside a test netns). Default false. */
  multicast?: boolean;
  /** Extensions (optional): */
  /** Port of the shared RTSP server; default 0 = any free port (see Simulator.rtspPort). */
  rtspPort?: number;
  /** Address the RTSP server binds; default 0.0.0.0 so every device's 127.x address reaches it. */
  rtspBind?: string;
  /** Require RTSP Digest auth with each device's credentials; default false. */
  rtspAuth?: boolean;
  /** Python with the GStreamer GI bindings; default /usr/bin/python3 (the python3 first on PATH may lack gi). */
  rtspPython?: string;
  /** How long to wait for the RTSP server's READY line; default 20000 ms. */
  rtspStartTimeoutMs?: number;
  /** Interface address used to join the multicast group; default: chosen by the kernel's route. */
  multicastInterface?: string;
}

export interface RunningSimCamera {
  spec: Required<
    Pick<
      SimCameraSpec,
      'host' | 'vendor' | 'httpPort' | 'username' | 'password' | 'auth' | 'channels' | 'codec' | 'uuid' | 'serial' | 'mac' | 'model' | 'firmware'
    >
  > &
    SimCameraSpec;
  /** Device service URL as the device reports it, e.g. http://127.20.0.5:80/onvif/device_service */
  xaddr: string;
  /** Real RTSP URL of channel `ch` (1-based), stream 'main' | 'sub', without credentials. */
  rtspUrl(ch: number, stream: 'main' | 'sub'): string;
  /** Extensions (optional for consumers, always present here): */
  id: string;
  /** Device service URL on the address the device really listens on (host, not reportedHost). */
  deviceUrl: string;
  /** Snapshot URL of channel `ch` on the real address. */
  snapshotUrl(ch: number): string;
  /** Current clock offset of the simulated device (changes with SetSystemDateAndTime). */
  clockSkewMs(): number;
  /** Take the device off the network (false: its HTTP/ONVIF port refuses connections, discovery
   * goes silent, a fault's own RTSP port closes) or bring it back on the same address and ports
   * (true). Resolves once the change is in effect. The shared RTSP server stays up. */
  setOnline(online: boolean): Promise<void>;
  /** False between setOnline(false) and setOnline(true). */
  online(): boolean;
  /** How many SetSynchronizationPoint (keyframe) requests the device has answered, on any profile.
   * Each one also makes the shared RTSP server force a keyframe on that profile's mount. */
  keyframeRequests(): number;
  /** How many SetVideoEncoderConfiguration calls the device has accepted (on any encoder). Each
   * one may change a stream's GovLength, and the shared RTSP server restarts that stream's
   * encoder with it (its viewers are dropped, as a real camera drops them). */
  encoderChanges(): number;
  /** Current keyframe interval (ONVIF GovLength, in frames) of channel `ch`'s stream. */
  govLength(ch: number, stream: 'main' | 'sub'): number;
}

export interface Simulator {
  cameras: RunningSimCamera[];
  /** Port of the shared RTSP server (0 when rtsp: false). */
  rtspPort: number;
  stop(): Promise<void>;
  /** Extension: how long start-up took, in ms (devices: sockets bound; rtsp: until READY, 0 without RTSP). */
  startupMs: { devices: number; rtsp: number };
}
