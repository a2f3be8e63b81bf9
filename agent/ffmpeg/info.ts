// What the ffmpeg binary can do: version, and which of the capabilities camgate needs are
// missing, each with what it breaks. Parsing is pure (parse* functions, tested on captured
// output); ffmpegInfo() runs the six listing commands (execFile, short timeout).
import { execFile } from 'node:child_process';
import type { FfmpegBinary } from './types';

export type CapabilityKind = 'decoder' | 'encoder' | 'muxer' | 'protocol';

export interface NeededCapability {
  kind: CapabilityKind;
  name: string;
  /** Protocols: the direction camgate uses it in ('input' = reading from cameras, 'output' = sending). */
  direction?: 'input' | 'output';
  /** What fails without it. */
  breaks: string;
}

/** Everything camgate's video features use. */
export const NEEDED: readonly NeededCapability[] = [
  {
    kind: 'decoder',
    name: 'h264',
    breaks: 'H.264 cameras cannot be transcoded, diagnosed or thumbnailed (picture probes, JSMpeg live view, transcoding relays fail)',
  },
  {
    kind: 'decoder',
    name: 'hevc',
    breaks: 'H.265 cameras cannot be transcoded, diagnosed or thumbnailed (picture probes, JSMpeg live view, H.265 → H.264 relays fail)',
  },
  { kind: 'encoder', name: 'libx264', breaks: 'relays that transcode (H.265 → H.264 for RTMP, lower bitrate) fail' },
  { kind: 'encoder', name: 'mpeg1video', breaks: 'the live view fallback (JSMpeg) fails' },
  { kind: 'encoder', name: 'mjpeg', breaks: 'thumbnails fail' },
  { kind: 'muxer', name: 'mp4', breaks: 'live view as fragmented MP4 and MP4 clips fail' },
  { kind: 'muxer', name: 'flv', breaks: 'relays to rtmp:// targets fail' },
  { kind: 'muxer', name: 'mpegts', breaks: 'relays to srt:// targets and the JSMpeg live view fail' },
  { kind: 'muxer', name: 'rtsp', breaks: 'relays pushed to rtsp:// targets fail' },
  { kind: 'muxer', name: 'rawvideo', breaks: 'picture probes (health diagnosis frames) fail' },
  { kind: 'muxer', name: 'image2pipe', breaks: 'thumbnails fail' },
  { kind: 'protocol', name: 'rtsp', direction: 'input', breaks: 'cameras cannot be pulled over RTSP: every relay, live view and picture probe fails' },
  { kind: 'protocol', name: 'rtmp', direction: 'output', breaks: 'relays to rtmp:// targets fail' },
  { kind: 'protocol', name: 'srt', direction: 'output', breaks: 'relays to srt:// targets fail' },
  { kind: 'protocol', name: 'tcp', direction: 'input', breaks: 'RTSP over TCP and every network stream fail' },
  { kind: 'protocol', name: 'file', direction: 'output', breaks: 'local files (tests, recordings) cannot be read or written' },
  { kind: 'protocol', name: 'pipe', direction: 'output', breaks: 'live view, picture probes and progress reporting (all on pipes) fail' },
];

/** Oldest major version camgate accepts: ffmpeg 5 changed RTSP's -timeout (was -stimeout) to the socket timeout. */
export const MIN_MAJOR = 5;

export interface MissingCapability extends NeededCapability {
  /** "no srt protocol: relays to srt:// targets fail" */
  message: string;
}

export interface FfmpegVersion {
  /** "5.1.9-0+deb12u1", "4.1.4-static", "N-113000-gabc123" (git builds). */
  version: string;
  /** 5 for "5.1.9…"; null when the version has no number (git builds). */
  major: number | null;
  minor: number | null;
}

export interface FfmpegCapabilities {
  decoders: Set<string>;
  encoders: Set<string>;
  muxers: Set<string>;
  demuxers: Set<string>;
  protocols: { input: Set<string>; output: Set<string> };
}

export interface FfmpegInfo extends FfmpegVersion {
  path: string;
  missing: MissingCapability[];
  /** Other problems in words (old version, unknown version). */
  problems: string[];
  /** true when nothing is missing and there are no problems. */
  ok: boolean;
}

/** `ffmpeg -version` (or -hide_banner -version) → version, major, minor. */
export function parseVersion(text: string): FfmpegVersion {
  const m = /ffmpeg version (\S+)/i.exec(text);
  const version = m?.[1] ?? 'unknown';
  const n = /^n?(\d+)\.(\d+)/.exec(version);
  return { version, major: n ? Number(n[1]) : null, minor: n ? Number(n[2]) : null };
}

/** Lines after the legend separator ("------" / "--"), split into [flags, name, ...]. */
function listedRows(text: string): string[][] {
  const lines = text.split(/\r?\n/);
  const sep = lines.findIndex((l) => /^\s*-{2,}\s*$/.test(l));
  return lines
    .slice(sep + 1)
    .map((l) => l.trim().split(/\s+/))
    .filter((t) => t.length >= 2 && t[0] !== '');
}

/** `ffmpeg -decoders` / `-encoders` → codec implementation names (h264, libx264, …). */
export function parseCodecList(text: string): Set<string> {
  const out = new Set<string>();
  for (const [flags, name] of listedRows(text)) {
    if (/^[VASD.]/.test(flags) && flags.length >= 3) out.add(name);
  }
  return out;
}

/** `ffmpeg -muxers` / `-demuxers` (or `-formats`) → format names ("mov,mp4,…" lists are split). */
export function parseFormats(text: string, flag: 'E' | 'D'): Set<string> {
  const out = new Set<string>();
  for (const [flags, names] of listedRows(text)) {
    // " E mp4" / " D  rtsp" (4.x–6.x), " E. mp4" / "DEd …" style columns in newer builds.
    if (!/^[DEd.]{1,3}$/.test(flags) || !flags.includes(flag)) continue;
    for (const n of names.split(',')) if (n) out.add(n);
  }
  return out;
}

/** `ffmpeg -muxers` → muxer names. */
export function parseMuxers(text: string): Set<string> {
  return parseFormats(text, 'E');
}

/** `ffmpeg -protocols` → input and output protocol names. */
export function parseProtocols(text: string): { input: Set<string>; output: Set<string> } {
  const input = new Set<string>();
  const output = new Set<string>();
  let into: Set<string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (/^input:$/i.test(line)) into = input;
    else if (/^output:$/i.test(line)) into = output;
    else if (into && /^\w+$/.test(line)) into.add(line);
  }
  return { input, output };
}

function has(c: FfmpegCapabilities, need: NeededCapability): boolean {
  switch (need.kind) {
    case 'decoder':
      return c.decoders.has(need.name);
    case 'encoder':
      return c.encoders.has(need.name);
    case 'muxer':
      return c.muxers.has(need.name);
    case 'protocol':
      // RTSP is a demuxer/muxer in ffmpeg, not a URL protocol: `-protocols` never lists it.
      if (need.name === 'rtsp') return need.direction === 'output' ? c.muxers.has('rtsp') : c.demuxers.has('rtsp');
      return need.direction === 'output' ? c.protocols.output.has(need.name) : c.protocols.input.has(need.name);
  }
}

/** The needed capabilities this ffmpeg lacks, each with what it breaks. */
export function missingCapabilities(c: FfmpegCapabilities): MissingCapability[] {
  return NEEDED.filter((n) => !has(c, n)).map((n) => ({ ...n, message: `no ${n.name} ${n.kind}: ${n.breaks}` }));
}

/** Problems with the version itself. */
export function versionProblems(v: FfmpegVersion): string[] {
  if (v.major === null) {
    return [`ffmpeg version "${v.version}" has no release number (a git build?): camgate assumes ffmpeg ≥ ${MIN_MAJOR} and cannot check it`];
  }
  if (v.major < MIN_MAJOR) {
    return [
      `ffmpeg ${v.version} is older than ${MIN_MAJOR}: RTSP -timeout means something else before ffmpeg 5 (a listen timeout, not the socket timeout), ` +
        `so a camera that stops sending is not noticed; ${v.major === 4 && (v.minor ?? 0) < 4 ? 'it also lacks -stats_period (progress reporting); ' : ''}install ffmpeg ${MIN_MAJOR} or later`,
    ];
  }
  return [];
}

/** Combines the five captured outputs (pure). */
export function analyze(
  path: string,
  out: { version: string; decoders: string; encoders: string; muxers: string; demuxers: string; protocols: string },
): FfmpegInfo {
  const v = parseVersion(out.version);
  const caps: FfmpegCapabilities = {
    decoders: parseCodecList(out.decoders),
    encoders: parseCodecList(out.encoders),
    muxers: parseMuxers(out.muxers),
    demuxers: parseFormats(out.demuxers, 'D'),
    protocols: parseProtocols(out.protocols),
  };
  const missing = missingCapabilities(caps);
  const problems = versionProblems(v);
  return { path, ...v, missing, problems, ok: missing.length === 0 && problems.length === 0 };
}

/** Runs a command and resolves with its stdout (execFile by default). */
export type RunFn = (file: string, args: readonly string[], options: { timeoutMs: number }) => Promise<string>;

export const defaultRun: RunFn = (file, args, options) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024, windowsHide: true }, (err, stdout) => {
      if (err) reject(new Error(err.message, { cause: err }));
      else resolve(stdout);
    });
  });

/** Runs `ffmpeg -hide_banner -version | -decoders | -encoders | -muxers | -demuxers | -protocols` (in parallel) and analyzes them. Rejects when ffmpeg cannot run. */
export async function ffmpegInfo(binary: FfmpegBinary, run: RunFn = defaultRun, timeoutMs = 5000): Promise<FfmpegInfo> {
  const list = (flag: string) => run(binary.path, ['-hide_banner', flag], { timeoutMs });
  const [version, decoders, encoders, muxers, demuxers, protocols] = await Promise.all([
    list('-version'),
    list('-decoders'),
    list('-encoders'),
    list('-muxers'),
    list('-demuxers'),
    list('-protocols'),
  ]);
  return analyze(binary.path, { version, decoders, encoders, muxers, demuxers, protocols });
}
