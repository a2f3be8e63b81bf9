// The ffmpeg arguments of the live view's pulls: fragmented MP4 for MSE, MPEG-1 in MPEG-TS for
// JSMpeg, and which of the two a camera gets.
import type { InitSegment } from './fmp4';
import type { LiveMode } from './types';
import type { AgentConfig } from '../../config/schema';

/** Output options of the MSE pull (after `-i url`), flags and their values in pairs. Exported for the tests (same bytes as production). */
// prettier-ignore
export const LIVE_MP4_OUTPUT_ARGS: readonly string[] = [
  '-c:v', 'copy',
  '-an',
  '-sn',
  '-dn',
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

/** Is this ledger codec H.264 (or unknown, which is tried as H.264)? */
export function isH264(codec: string | undefined): boolean {
  if (codec === undefined || codec === '') return true;
  return /^(?:h\.?264|avc1?)$/i.test(codec.trim());
}

/**
 * Did ffmpeg's quick look find the video's parameters? Without them it writes a bare `avc1`
 * entry without its profile (no avcC), no size, or only the other tracks (e.g. `mp4a`).
 */
export function learnedVideo(init: InitSegment): boolean {
  if (init.codec === '' || init.width === 0 || init.height === 0) return false;
  if (/^(?:mp4a|opus|ac-3|ec-3|alaw|ulaw|\.mp3)$/i.test(init.codec)) return false;
  return init.codec !== 'avc1';
}

/** Picks the mode for a source: an H.265 (or other non-H.264) source always gets 'jsmpeg'. */
export function chooseMode(asked: LiveMode | 'auto' | undefined, codec: string | undefined): { mode: LiveMode; reason?: string } {
  const h264 = isH264(codec);
  if (asked === 'jsmpeg') return { mode: 'jsmpeg' };
  if (h264) return { mode: 'mse' };
  return {
    mode: 'jsmpeg',
    ...(asked === 'mse' ? { reason: `the stream is ${codec}: browsers play only H.264 through MSE, so it is re-encoded for JSMpeg` } : {}),
  };
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
  // Flags and their values read in pairs.
  // prettier-ignore
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
