// Relay profiles: what cmd/stream-start's `profile` asks of the video. Pure.
//
//   copy        (default) the camera's video as it is (`-c:v copy`, ~0.5 % of a core) when the
//               target's container carries its codec (args.ts TARGETS). When it does not — an
//               H.265 camera pushed to rtmp:// (FLV carries no H.265), or a codec the ledger does
//               not know going to a target that only takes H.264 — the relay transcodes to H.264
//               at the source size and says so in the reply (mode 'transcode' and a reason).
//   h264        always H.264 at the source size; cap = the ledger's bitrate of that stream, else
//               4096 kbit/s.
//   h264-720p   H.264 scaled to 720 lines (width keeps the aspect ratio, even; never upscaled),
//               cap 2000 kbit/s.
//   h264-480p   as above, 480 lines, cap 1000 kbit/s.
//   h264-360p   as above, 360 lines, cap 600 kbit/s.
// `maxBitrateKbps` in the command overrides the cap of a transcode (not of a copy: a copy cannot
// change the bitrate). A transcode costs ~12-16 % of a core per 1080p stream on a synthetic
// scene (docs/video.md), several times that on real scenes: prefer copy and the sub stream.
import { TARGETS, TargetScheme, VideoPlan } from './args';
import { CommandError } from '../../../contract';
import { normalizeCodec } from '../../../drivers/ids';

export const RELAY_PROFILE_NAMES = ['copy', 'h264', 'h264-720p', 'h264-480p', 'h264-360p'] as const;
export type RelayProfileName = (typeof RELAY_PROFILE_NAMES)[number];
export const DEFAULT_RELAY_PROFILE: RelayProfileName = 'copy';

/** Bitrate cap of the source-size h264 profile when the ledger does not know the stream's. */
export const DEFAULT_SOURCE_KBPS = 4096;
/** Keyframe interval when the ledger does not know the frame rate: 2 s at 25 fps. */
export const DEFAULT_FPS = 25;

export interface RelayProfile {
  name: RelayProfileName;
  description: string;
  /** 'copy' = copy when the target takes the codec; 'h264' = always transcode. */
  video: 'copy' | 'h264';
  /** Scale to this many lines (transcode only); absent = source size. */
  height?: number;
  /** Bitrate cap, kbit/s; absent = the source's bitrate, else DEFAULT_SOURCE_KBPS. */
  capKbps?: number;
}

export const RELAY_PROFILES: Readonly<Record<RelayProfileName, RelayProfile>> = {
  copy: { name: 'copy', description: "the camera's video unchanged; H.264 at source size when the target cannot carry the codec", video: 'copy' },
  h264: { name: 'h264', description: 'H.264 at the source size, capped at the source bitrate (else 4096 kbit/s)', video: 'h264' },
  'h264-720p': { name: 'h264-720p', description: 'H.264 scaled to 720 lines, 2000 kbit/s', video: 'h264', height: 720, capKbps: 2000 },
  'h264-480p': { name: 'h264-480p', description: 'H.264 scaled to 480 lines, 1000 kbit/s', video: 'h264', height: 480, capKbps: 1000 },
  'h264-360p': { name: 'h264-360p', description: 'H.264 scaled to 360 lines, 600 kbit/s', video: 'h264', height: 360, capKbps: 600 },
};

/** The profile by name (default copy); an unknown name is an invalid-args error listing the valid ones. */
export function relayProfile(name: string | undefined): RelayProfile {
  const key = name ?? DEFAULT_RELAY_PROFILE;
  if (Object.prototype.hasOwnProperty.call(RELAY_PROFILES, key)) return RELAY_PROFILES[key as RelayProfileName];
  throw new CommandError('invalid-args', `unknown relay profile ${JSON.stringify(key)}; valid: ${RELAY_PROFILE_NAMES.join(', ')}`);
}

/** What the ledger says about the source stream (all optional: devices do not always say). */
export interface SourceInfo {
  codec?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
}

export interface RelayPlan {
  profile: RelayProfileName;
  mode: 'copy' | 'transcode';
  /** Why the mode differs from what the profile's name suggests (copy profile → transcode). */
  reason?: string;
  video: VideoPlan;
}

function codecName(codec: string): string {
  if (codec === 'H264') return 'H.264';
  if (codec === 'H265') return 'H.265';
  return codec;
}

/**
 * Decides copy or transcode and the transcode's parameters. `maxBitrateKbps` overrides the cap of
 * a transcode (ignored for a copy).
 */
export function planRelay(args: { profile?: string; maxBitrateKbps?: number; source: SourceInfo; scheme: TargetScheme }): RelayPlan {
  const profile = relayProfile(args.profile);
  const rule = TARGETS[args.scheme];
  const fps = args.source.fps && args.source.fps > 0 ? args.source.fps : DEFAULT_FPS;
  const gop = Math.max(1, Math.round(fps * 2));
  const override = args.maxBitrateKbps !== undefined && args.maxBitrateKbps > 0 ? Math.round(args.maxBitrateKbps) : undefined;
  const sourceKbps = args.source.bitrateKbps && args.source.bitrateKbps > 0 ? args.source.bitrateKbps : DEFAULT_SOURCE_KBPS;

  if (profile.video === 'copy') {
    const codec = normalizeCodec(args.source.codec);
    if (codec !== undefined && rule.carries.includes(codec)) return { profile: profile.name, mode: 'copy', video: { codec: 'copy' } };
    if (codec === undefined && rule.carries.includes('H264') && rule.carries.includes('H265')) {
      // The ledger does not know the codec, but the target takes both codecs cameras send.
      return { profile: profile.name, mode: 'copy', video: { codec: 'copy' } };
    }
    const why =
      codec === undefined
        ? `the ledger does not know the camera's codec and ${rule.container} carries only ${rule.carries.map(codecName).join(', ')}`
        : `${rule.container} cannot carry ${codecName(codec)}`;
    return {
      profile: profile.name,
      mode: 'transcode',
      reason: `${why}: transcoding to H.264 at the source size (${override ?? sourceKbps} kbit/s cap)`,
      video: { codec: 'h264', bitrateKbps: override ?? sourceKbps, gop },
    };
  }
  const cap = override ?? profile.capKbps ?? sourceKbps;
  return {
    profile: profile.name,
    mode: 'transcode',
    video: { codec: 'h264', ...(profile.height !== undefined ? { height: profile.height } : {}), bitrateKbps: cap, gop },
  };
}
