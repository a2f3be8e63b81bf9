// What we read from a DESCRIBE answer: the first video stream's codec, and its picture size and
// frame rate when the SDP says so.
import { h264PictureSize, h265PictureSize } from './sps';
import { normalizeCodec } from '../ids';

export interface SdpVideo {
  codec?: string;
  width?: number;
  height?: number;
  fps?: number;
  /** a=control of the video media (track URL), if any. */
  control?: string;
}

function decodeB64(s: string): Uint8Array | undefined {
  if (!/^[\w+/=-]+$/.test(s)) return undefined;
  const buf = Buffer.from(s, 'base64');
  return buf.length > 0 ? buf : undefined;
}

function fmtpParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** Undefined when the SDP has no video media at all. */
export function parseSdpVideo(sdp: string): SdpVideo | undefined {
  const lines = sdp.split(/\r?\n/);
  let inVideo = false;
  let seenVideo = false;
  let payloads: string[] = [];
  const rtpmap: Record<string, string> = {};
  const fmtp: Record<string, Record<string, string>> = {};
  const video: SdpVideo = {};
  for (const line of lines) {
    if (line.startsWith('m=')) {
      if (seenVideo) break; // only the first video media
      inVideo = line.startsWith('m=video ');
      if (inVideo) {
        seenVideo = true;
        payloads = line.trim().split(/\s+/).slice(3);
      }
      continue;
    }
    if (!inVideo) continue;
    let m = /^a=rtpmap:(\d+)\s+([^/\s]+)/.exec(line);
    if (m) rtpmap[m[1]] = m[2].toUpperCase();
    m = /^a=fmtp:(\d+)\s(.*)/.exec(line);
    if (m) fmtp[m[1]] = fmtpParams(m[2]);
    m = /^a=framerate:\s*([\d.]+)/.exec(line);
    if (m && Number(m[1]) > 0) video.fps = Math.round(Number(m[1]));
    m = /^a=x-dimensions:\s*(\d+)\s*,\s*(\d+)/.exec(line);
    if (m) {
      video.width = Number(m[1]);
      video.height = Number(m[2]);
    }
    m = /^a=control:\s*(\S+)/.exec(line);
    if (m) video.control = m[1];
  }
  if (!seenVideo) return undefined;
  const pt = payloads[0];
  const name = pt !== undefined ? rtpmap[pt] : undefined;
  // PT 26 is static JPEG (no rtpmap line needed).
  const codec = normalizeCodec(name ?? (pt === '26' ? 'JPEG' : undefined));
  if (codec) video.codec = codec;
  const params = pt !== undefined ? fmtp[pt] : undefined;
  if (params && (video.width === undefined || video.height === undefined)) {
    let size;
    if (video.codec === 'H264' && params['sprop-parameter-sets']) {
      const sps = decodeB64(params['sprop-parameter-sets'].split(',')[0]);
      size = sps && h264PictureSize(sps);
    } else if (video.codec === 'H265' && params['sprop-sps']) {
      const sps = decodeB64(params['sprop-sps'].split(',')[0]);
      size = sps && h265PictureSize(sps);
    }
    if (size) {
      video.width = size.width;
      video.height = size.height;
    }
  }
  return video;
}
