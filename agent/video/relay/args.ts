import ipaddr from 'ipaddr.js';
import { redactUrl } from '../../../lib/url';
import { maskSecretParams } from '../../../lib/redact';
import { CamgateError, EXIT_USAGE } from '../../../lib/errors';
import { parseRelayTarget, RELAY_TARGET_SCHEMES, RelayTargetError, type RelayTarget, type RelayTargetScheme } from '../../../contract';
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
// What a target may be (printable ASCII, SRT caller only, known query keys) is the contract's rule
// (contract/relay-target.ts), checked before ffmpeg sees it; the site may also restrict the hosts
// (video.relay.allowedHosts). The target URL is then passed as given (an SRT passphrase or
// streamid in its query included); what is logged or reported is redactTarget()'s form.

export type TargetScheme = RelayTargetScheme;

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

export const TARGET_SCHEMES: readonly TargetScheme[] = RELAY_TARGET_SCHEMES;

/** Protocols ffmpeg may use for the camera input (nothing that reads files or other URLs). */
export const INPUT_PROTOCOL_WHITELIST = 'rtsp,rtsps,tcp,tls,rtp,udp,srtp,crypto';

/** The target's scheme, or a RelayTargetError naming what is wrong and the fix. */
export function targetScheme(target: string): TargetScheme {
  return parseRelayTarget(target).scheme;
}

/** The centre hosts a site sends relays to (video.relay.allowedHosts); empty = any host. */
export interface AllowedHosts {
  /** The entries as configured, for messages. */
  entries: readonly string[];
  allows(host: string): boolean;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Compiles video.relay.allowedHosts: host names (matched exactly, case-insensitive, as the target
 * spells them: no DNS lookup, which ffmpeg would repeat and a resolver could answer differently),
 * IPv4/IPv6 addresses and CIDR blocks. Throws naming the bad entry.
 */
export function allowedHosts(entries: readonly string[]): AllowedHosts {
  const names = new Set<string>();
  const ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  entries.forEach((raw, i) => {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
    try {
      if (entry.includes('/')) return void ranges.push(ipaddr.parseCIDR(entry));
      if (ipaddr.IPv6.isValid(entry) || ipaddr.IPv4.isValidFourPartDecimal(entry)) {
        const addr = ipaddr.parse(entry);
        return void ranges.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
      }
    } catch {
      // falls through to the message below
    }
    if (!entry.includes('/') && !/^[0-9.]+$/.test(entry) && HOST_NAME.test(entry)) return void names.add(entry);
    throw new CamgateError(
      `video.relay.allowedHosts[${i}] ${JSON.stringify(raw)} is not a host name, an IP address or a CIDR block (e.g. media.county.example, 10.20.0.5, 10.20.0.0/24)`,
      EXIT_USAGE,
    );
  });
  return {
    entries,
    allows(host) {
      if (entries.length === 0) return true;
      const h = host.toLowerCase();
      if (names.has(h)) return true;
      if (!ipaddr.isValid(h) || (h.includes('.') && !h.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(h))) return false;
      let addr = ipaddr.parse(h);
      if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
      return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
    },
  };
}

/** A target checked by the contract's rule and the site's host allow-list; throws RelayTargetError. */
export function checkTarget(target: string, hosts?: AllowedHosts): RelayTarget {
  const parsed = parseRelayTarget(target);
  if (hosts && !hosts.allows(parsed.host)) {
    throw new RelayTargetError(
      `target host ${parsed.host} is not a centre this site sends to (video.relay.allowedHosts: ${hosts.entries.join(', ')}); use one of those or add the host to the list`,
    );
  }
  return parsed;
}

export { RelayTargetError };

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
  // Checked again here, right where the URL is handed over: nothing unchecked reaches ffmpeg.
  const scheme = parseRelayTarget(input.target).scheme;
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
  args.push(...rule.muxer, input.target);
  return args;
}
