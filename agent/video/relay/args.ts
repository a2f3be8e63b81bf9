import { redactUrl, splitUrl } from '../../../lib/url';
import { maskSecretParams } from '../../../lib/redact';
// ffmpeg arguments of one relay (camera → centre). Pure: no I/O, no clock; relays.ts calls it
// before every run of the process (so the stream URI and the login are read fresh each time).
//
// Input: the camera's RTSP stream over TCP (interleaved: survives NAT and lossy links where UDP
// RTP does not), with a socket timeout so a camera that goes silent ends the run (the supervisor
// restarts it) and a protocol whitelist so a URI from the ledger can only make ffmpeg speak RTSP
// and its transports, never file:, http: or concat:.
//
// Video only (`-an`): cameras send G.711 (PCMA/PCMU) or AAC audio, or none; FLV (RTMP) does not
// carry G.711 at the rates cameras use, and the centre's video platforms (GB/T 28181 viewing,
// video analysis) want the picture. Carrying audio would mean an audio transcode per relay for
// something nobody asked for; it can be added as a profile later.
//
// Output by the target's scheme (TARGETS, the one table of target rules):
//   rtsp://   RTSP push (ANNOUNCE/RECORD) over TCP     -f rtsp -rtsp_transport tcp   H.264, H.265
//   rtmp://   RTMP push, FLV                           -f flv                        H.264 only
//   rtmps://  RTMP over TLS, FLV                       -f flv                        H.264 only
//   srt://    SRT caller, MPEG-TS                      -f mpegts                     H.264, H.265
// Classic FLV has no H.265 codec id (ffmpeg 5.1, which Debian bookworm ships, cannot write
// "enhanced RTMP"), so an H.265 camera going to rtmp:// is transcoded to H.264 (profiles.ts).
// The target URL is passed as given (an SRT passphrase or streamid in its query included); what
// is logged or reported is redactTarget()'s form.

export type TargetScheme = 'rtsp' | 'rtmp' | 'rtmps' | 'srt';

export interface TargetRule {
  /** ffmpeg muxer and its options, in the order they go before the URL. */
  muxer: readonly string[];
  /** Source codecs (ledger spelling: upper case) the container carries as they are. */
  carries: readonly string[];
  /** For messages: the container's name. */
  container: string;
}

/** The one table of target rules: container, ffmpeg options, codecs it takes without a transcode. */
export const TARGETS: Readonly<Record<TargetScheme, TargetRule>> = {
  rtsp: { muxer: ['-f', 'rtsp', '-rtsp_transport', 'tcp'], carries: ['H264', 'H265'], container: 'RTSP (RTP)' },
  rtmp: { muxer: ['-f', 'flv'], carries: ['H264'], container: 'FLV (RTMP)' },
  rtmps: { muxer: ['-f', 'flv'], carries: ['H264'], container: 'FLV (RTMPS)' },
  srt: { muxer: ['-f', 'mpegts'], carries: ['H264', 'H265'], container: 'MPEG-TS (SRT)' },
};

export const TARGET_SCHEMES = Object.keys(TARGETS) as TargetScheme[];

/** Protocols ffmpeg may use for the camera input (nothing that reads files or other URLs). */
export const INPUT_PROTOCOL_WHITELIST = 'rtsp,rtsps,tcp,tls,rtp,udp,srtp,crypto';

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

/** The target's scheme, or a TargetError naming the accepted ones. */
export function targetScheme(target: string): TargetScheme {
  const parts = splitUrl(target.trim());
  const accepted = TARGET_SCHEMES.map((s) => `${s}://`).join(', ');
  if (!parts) throw new TargetError(`target ${JSON.stringify(redactTarget(target))} is not a URL; accepted: ${accepted}`);
  if (!(TARGET_SCHEMES as string[]).includes(parts.scheme)) {
    throw new TargetError(`target scheme "${parts.scheme}://" is not accepted; accepted: ${accepted}`);
  }
  if (parts.host === '') throw new TargetError(`target ${JSON.stringify(redactTarget(target))} has no host`);
  return parts.scheme as TargetScheme;
}

/** A target (or any text holding URLs) safe to report: no user:password@, secret query
 * parameters (SRT passphrase, tokens: lib/redact's list) replaced by ********. The path (an RTMP
 * stream key) and an SRT streamid stay: the centre chose them and needs them to tell relays
 * apart. Logs mask the streamid too (lib/log). */
export function redactTarget(text: string): string {
  return maskSecretParams(redactUrl(text).replace(/\/\/[^/@\s]*@/g, '//'), '********');
}

/** Free text from ffmpeg or the supervisor (error lines quote URLs): credentials cut out. */
export function scrubSecrets(text: string): string {
  return maskSecretParams(text.replace(/\/\/[^/@\s]*@/g, '//'), '********');
}

/** What relays.ts and profiles.ts decide; the args follow from it. */
export type VideoPlan =
  | { codec: 'copy' }
  | {
      codec: 'h264';
      /** Scale to this height (never up), width keeping the aspect ratio, even; absent = source size. */
      height?: number;
      /** Bitrate cap, kbit/s. */
      bitrateKbps: number;
      /** Keyframe interval in frames (2 s). */
      gop: number;
    };

export interface RelayArgsInput {
  /** What ffmpeg opens for the camera: its URL, or the RTSP gate's link when it needs a login (CameraInput). */
  inputUrl: string;
  /** Socket timeout of the RTSP input, ms (video.connectTimeoutMs). */
  timeoutMs: number;
  target: string;
  video: VideoPlan;
}

/** ffmpeg arguments (without the supervisor's progress options, which it adds in front). */
export function relayArgs(input: RelayArgsInput): string[] {
  const scheme = targetScheme(input.target);
  const rule = TARGETS[scheme];
  // Flags and their values read in pairs.
  // prettier-ignore
  const args = [
    '-nostdin',
    '-hide_banner',
    '-loglevel', 'error',
    // input: the camera
    '-rtsp_transport', 'tcp',
    '-timeout', String(Math.max(1, Math.round(input.timeoutMs)) * 1000), // µs
    '-protocol_whitelist', INPUT_PROTOCOL_WHITELIST,
    '-i', input.inputUrl,
    // the first video stream, no audio (see the top of this file)
    '-map', '0:v:0',
    '-an',
  ];
  if (input.video.codec === 'copy') {
    args.push('-c:v', 'copy');
  } else {
    const v = input.video;
    const kbps = Math.max(1, Math.round(v.bitrateKbps));
    if (v.height !== undefined) {
      // -2: width follows the aspect ratio, rounded to even (x264 needs even sizes); never upscale.
      args.push('-vf', `scale=-2:min(${v.height}\\,ih)`);
    }
    // Flags and their values read in pairs.
    // prettier-ignore
    args.push(
      '-c:v', 'libx264',
      '-preset', 'veryfast',
      '-tune', 'zerolatency',
      '-pix_fmt', 'yuv420p',
      '-g', String(Math.max(1, Math.round(v.gop))),
      '-b:v', `${kbps}k`,
      '-maxrate', `${kbps}k`,
      '-bufsize', `${kbps * 2}k`,
    );
  }
  args.push(...rule.muxer, input.target.trim());
  return args;
}
