// Benchmark: a labelled picture set that looks like the field, built with real ffmpeg from real
// photographs and videos that Debian packages ship (scripts/bench/field-set/sources.tsv: package,
// path, scene, licence; scripts/picture-sources.sh installs them), encoded the way cameras send
// (H.264 / H.265, 640×360 sub stream at 256–768 kbit/s and 5–15 fps, some 1080p main stream,
// GOP 2 s, no B-frames), each fault applied where it happens in a camera. Every clip goes through
// the probe's real path (grabFrames on the file, then diagnose) — see picture-eval.ts — and the
// report gives precision/recall per fault and the false-fault rate on normal pictures for the
// tuning and the held-out part separately. Results and method: docs/benchmarks.md, "Picture
// diagnosis on a field-like set (baseline)".
//
//   npx tsc -p tsconfig.json && node dist/scripts/bench/field-set.js [options]
//     --seed 1          PRNG seed: the split and every clip parameter (the defaults reproduce the
//                       documented run)
//     --part all        which part to build and judge: tuning | held-out | all
//     --frames 6        frames per probe (health.picture.frames)
//     --seconds 3       seconds per probe (health.picture.seconds) = clip length
//     --concurrency 2   ffmpeg processes at once
//     --sources FILE    the manifest (default scripts/bench/field-set/sources.tsv)
//     --dir DIR         keep the clips in DIR (default: a temp dir, removed at the end)
//     --reuse           with --dir: keep clips already there (re-run the evaluation only)
//     --scores          print every clip's scores (CSV)
//     --json            also print the results as one JSON line
//
// Order of the picture pipeline, as in a camera: the scene (framing, a slow pan of a few px/s)
// → what is in front of or in the lens (defocus blur, an occluding hand/cloth/tape/leaf/bag) →
// the sensor and ISP (exposure, flicker, white balance, a dying lamp, sensor noise that changes
// every frame) → the OSD (a ticking clock, a name) → the encoder (which may repeat a frame) →
// the cable (a lost or lifted colour channel on an analogue link, OSD included).
import { seededRandom } from '../../lib/random';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DIAGNOSIS_THRESHOLDS } from '../../agent/health/picture/diagnose';
import { ffmpegBinary } from '../../agent/health/picture/grab';
import { PICTURE_FAULTS, type PictureFault } from '../../agent/health/types';
import {
  CLIP_CLASSES,
  FONT,
  FONT_BOLD,
  FONT_MONO,
  Rng,
  evaluate,
  formatReport,
  pct,
  pool,
  rejudge,
  rgbHex,
  runFfmpeg,
  scoresCsv,
  sensorNoise,
  summarise,
  type ClipClass,
  type ClipOutcome,
  type LabelledClip,
} from './picture-eval';

// ---- sources ------------------------------------------------------------------------------------

/** Scene categories of the manifest: the split is stratified by them, and the normal pictures of
 * all but `day` and `indoor` are hard negatives of some fault. */
export const SOURCE_CATEGORIES = ['day', 'indoor', 'foliage', 'night', 'mono', 'sunset', 'flat', 'soft', 'fog', 'colour', 'backlit'] as const;
export type SourceCategory = (typeof SOURCE_CATEGORIES)[number];

export interface Source {
  id: string;
  /** Sources showing the same scene (a photo and the video it was taken from) share a group: the
   * split keeps a group in one part. */
  group: string;
  package: string;
  path: string;
  kind: 'photo' | 'video';
  category: SourceCategory;
  width: number;
  height: number;
  licence: string;
  scene: string;
}

export const DEFAULT_MANIFEST = resolve(__dirname, '../../../scripts/bench/field-set/sources.tsv');
const MANIFEST_COLUMNS = ['id', 'group', 'package', 'path', 'kind', 'category', 'width', 'height', 'licence', 'scene'] as const;

/** Parses the manifest (TSV with a header line); every bad line is named with what to fix. */
export function parseSources(text: string, file = 'sources.tsv'): Source[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = lines.shift()?.split('\t') ?? [];
  if (head.join() !== MANIFEST_COLUMNS.join()) {
    throw new Error(`${file}: header must be the tab-separated columns ${MANIFEST_COLUMNS.join(', ')} (got ${head.join(', ') || 'nothing'})`);
  }
  const seen = new Set<string>();
  return lines.map((line, i) => {
    const where = `${file} line ${i + 2}`;
    const cells = line.split('\t');
    if (cells.length !== MANIFEST_COLUMNS.length)
      throw new Error(`${where}: ${cells.length} columns, need ${MANIFEST_COLUMNS.length} (${MANIFEST_COLUMNS.join(', ')})`);
    const [id, group, pkg, path, kind, category, width, height, licence, scene] = cells;
    if (!/^[a-z0-9-]+$/.test(id)) throw new Error(`${where}: id "${id}" must be lower-case letters, digits and dashes`);
    if (seen.has(id)) throw new Error(`${where}: id "${id}" is used twice; ids must be unique`);
    seen.add(id);
    if (kind !== 'photo' && kind !== 'video') throw new Error(`${where}: kind "${kind}" must be photo or video`);
    if (!(SOURCE_CATEGORIES as readonly string[]).includes(category))
      throw new Error(`${where}: category "${category}" must be one of ${SOURCE_CATEGORIES.join(', ')}`);
    const w = Number(width);
    const h = Number(height);
    if (!(w > 0 && h > 0)) throw new Error(`${where}: width and height must be the source's pixel size (got "${width}" × "${height}")`);
    if (!path.startsWith('/')) throw new Error(`${where}: path "${path}" must be absolute (where the package installs it)`);
    if (licence.trim() === '') throw new Error(`${where}: licence is empty; take it from /usr/share/doc/${pkg}/copyright`);
    return { id, group: group || id, package: pkg, path, kind, category: category as SourceCategory, width: w, height: h, licence, scene };
  });
}

export function readSources(file = DEFAULT_MANIFEST): Source[] {
  return parseSources(readFileSync(file, 'utf8'), file);
}

/** Sources whose files are not on this machine, with the packages that ship them. */
export function missingSources(sources: readonly Source[]): { sources: Source[]; packages: string[] } {
  const missing = sources.filter((s) => !existsSync(s.path));
  return { sources: missing, packages: [...new Set(missing.map((s) => s.package))].sort() };
}

// ---- split --------------------------------------------------------------------------------------

export type Part = 'tuning' | 'held-out';
export const TUNING_SHARE = 0.6;

/**
 * Splits by source group, never by clip: the groups are stratified — videos (the only real
 * motion) form one stratum, photos one per category — and within a stratum sorted by name,
 * shuffled with the seed, and the first round(0.6·n) go to tuning, the rest to held-out; a
 * stratum with two or more groups keeps at least one in each part. So no held-out clip shows a
 * scene any tuning clip shows, and both parts get every kind of scene.
 */
export function splitSources(sources: readonly Source[], seed: number, share = TUNING_SHARE): Map<string, Part> {
  const rng = new Rng(seededRandom(seed * 104729 + 3));
  const stratumOf = new Map<string, string>();
  for (const s of sources) {
    // A group with a video in it is a video group (the night city: a photo and its video).
    if (s.kind === 'video' || !stratumOf.has(s.group)) stratumOf.set(s.group, s.kind === 'video' ? 'video' : s.category);
  }
  const strata = new Map<string, string[]>();
  for (const [group, stratum] of [...stratumOf].sort(([a], [b]) => a.localeCompare(b))) strata.set(stratum, [...(strata.get(stratum) ?? []), group]);
  const parts = new Map<string, Part>();
  for (const [, groups] of [...strata].sort(([a], [b]) => a.localeCompare(b))) {
    for (let i = groups.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [groups[i], groups[j]] = [groups[j], groups[i]];
    }
    let tuning = Math.round(groups.length * share);
    if (groups.length >= 2) tuning = Math.min(groups.length - 1, Math.max(1, tuning));
    groups.forEach((g, i) => parts.set(g, i < tuning ? 'tuning' : 'held-out'));
  }
  return parts;
}

// ---- occluders ----------------------------------------------------------------------------------

/** An occluding object's outline, in picture units (0..1 across and down): a wobbly ellipse
 * centred at or beyond an edge or corner, as a hand, cloth or leaf enters the view from a side. */
export interface OccluderShape {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  /** Radius modulation 0..0.25 (three lobes): not a perfect ellipse. */
  wobble: number;
  phase: number;
}

/** Distance from the centre in units of the outline's radius at that angle (< 1 inside). */
export function occluderDistance(s: OccluderShape, x: number, y: number): number {
  const dx = x - s.cx;
  const dy = y - s.cy;
  return Math.hypot(dx / s.rx, dy / s.ry) / (1 + s.wobble * Math.sin(3 * Math.atan2(dy, dx) + s.phase));
}

/** The share of the picture inside the outline (160 × 90 sample grid). */
export function occluderCoverage(s: OccluderShape): number {
  let inside = 0;
  for (let j = 0; j < 90; j++) for (let i = 0; i < 160; i++) if (occluderDistance(s, (i + 0.5) / 160, (j + 0.5) / 90) < 1) inside++;
  return inside / (160 * 90);
}

/** An outline from an edge or a corner covering `target` of the picture (±2%, by bisection on its size). */
export function fitOccluder(rng: Rng, target: number): OccluderShape & { anchor: string } {
  const anchors: Array<[string, number, number]> = [
    ['left', -0.05, rng.range(0.2, 0.8)],
    ['right', 1.05, rng.range(0.2, 0.8)],
    ['bottom', rng.range(0.2, 0.8), 1.08],
    ['top', rng.range(0.2, 0.8), -0.08],
    ['bottom-left corner', -0.02, 1.02],
    ['bottom-right corner', 1.02, 1.02],
    ['top-left corner', -0.02, -0.02],
    ['top-right corner', 1.02, -0.02],
  ];
  const [anchor, cx, cy] = rng.pick(anchors);
  const aspect = rng.range(0.7, 1.5); // rx : ry in picture units (the frame is 16:9)
  const shape = { cx, cy, rx: 0, ry: 0, wobble: rng.range(0.05, 0.2), phase: rng.range(0, 2 * Math.PI) };
  let lo = 0.05;
  let hi = 4;
  for (let k = 0; k < 30; k++) {
    const mid = (lo + hi) / 2;
    shape.rx = mid * aspect;
    shape.ry = mid;
    if (occluderCoverage(shape) < target) lo = mid;
    else hi = mid;
  }
  shape.rx = hi * aspect;
  shape.ry = hi;
  return { ...shape, anchor };
}

// ---- clips --------------------------------------------------------------------------------------

/** What a normal picture is the hard negative of (null: an ordinary scene). */
export type HardNegative =
  'night' | 'ir-mono' | 'mono' | 'dark-sunset' | 'sunset' | 'still' | 'flat' | 'soft' | 'fog' | 'haze' | 'strong-colour' | 'backlit' | 'bright' | 'vibration';

const NEGATIVE_OF_CATEGORY: Partial<Record<SourceCategory, HardNegative>> = {
  night: 'night',
  mono: 'mono',
  sunset: 'sunset',
  flat: 'flat',
  soft: 'soft',
  fog: 'fog',
  colour: 'strong-colour',
  backlit: 'backlit',
};

export interface FieldClipSpec {
  id: string;
  cls: ClipClass;
  labels: PictureFault[];
  part: Part;
  /** The source the picture comes from (for no-video cards: the slot's source, whose picture is not shown). */
  source: string;
  group: string;
  negative: HardNegative | null;
  codec: 'h264' | 'h265';
  stream: 'sub' | 'main';
  width: number;
  height: number;
  fps: number;
  kbps: number;
  seconds: number;
  /** Start in the source video, s (0 for photos). */
  offset: number;
  /** Fault and scene parameters, for the record. */
  params: Record<string, string | number | boolean>;
  desc: string;
  /** The occluding object (ffmpeg input 1, rendered once as an RGBA picture). */
  occluder?: OccluderShape & { anchor: string; rgb: [number, number, number]; alpha: number; texture: number; defocus: number; soft: number; sway: number };
  /** The filter_complex graph from [0:v] (or a lavfi source for cards) to [v]. */
  graph: string;
  card: boolean;
  /** Text files the graph references: name → content. */
  texts: Record<string, string>;
  /** reference: the camera's known-good picture that its other clips are judged against; probe: a labelled clip. */
  role: 'probe' | 'reference';
  /** The camera (the source) whose reference a probe is judged against. */
  camera: string;
  /** A camera that was turned: the part of the source it shows now (zoom, and where: 0..1 across and down). */
  view?: { zoom: number; fx: number; fy: number };
  /** A camera that was moved to another scene: the source it shows now. */
  viewSource?: string;
}

export type FieldClip = FieldClipSpec & LabelledClip;

interface ClipCtx {
  rng: Rng;
  spec: FieldClipSpec;
  /** The photo sources of the same part (another scene for a camera that was moved). */
  others: readonly Source[];
}

function textFile(ctx: ClipCtx, suffix: string, content: string): string {
  const name = `${ctx.spec.id}-${suffix}.txt`;
  ctx.spec.texts[name] = content;
  return name;
}

/** A camera OSD: a ticking date-time and often a name, at the edges, scaled to the picture. */
function osd(ctx: ClipCtx, opts: { clock?: boolean; name?: boolean } = {}): string {
  const { rng, spec } = ctx;
  const fs = Math.round(rng.range(14, 22) * (spec.height / 360));
  const colour = rng.pick(['white', 'white', 'yellow', '0xe0e0e0']);
  const border = rng.chance(0.6) ? `:borderw=${rng.int(1, 2)}:bordercolor=black` : '';
  const font = rng.pick([FONT, FONT_MONO, FONT_BOLD]);
  const parts: string[] = [];
  if (opts.clock ?? true) {
    const fmt = rng.pick(['%Y-%m-%d %H\\:%M\\:%S', '%Y/%m/%d %a %H\\:%M\\:%S', '%d-%m-%Y %H\\:%M\\:%S']);
    const file = textFile(ctx, 'clock', `%{pts:gmtime:${rng.int(1_600_000_000, 1_800_000_000)}:${fmt}}`);
    parts.push(`drawtext=fontfile=${font}:textfile=${file}:fontsize=${fs}:fontcolor=${colour}${border}${rng.pick([':x=8:y=8', ':x=w-tw-8:y=8'])}`);
  }
  if (opts.name ?? rng.chance(0.6)) {
    const file = textFile(ctx, 'name', rng.pick(['CAM 01', 'Gate-3 East', 'IPC-0042', 'Dongmen Rd', 'CH07 Road', 'Village 12 Square', 'Crossroad 2']));
    parts.push(`drawtext=fontfile=${font}:textfile=${file}:fontsize=${fs}:fontcolor=${colour}${border}${rng.pick([':x=w-tw-8:y=h-th-8', ':x=8:y=h-th-8'])}`);
  }
  spec.params.osd = parts.length ? `${fs}px` : 'none';
  return parts.join(',');
}

/** Framing of the scene: a photo pans a few px/s (or stands still); a video is a fixed camera. */
function framing(ctx: ClipCtx, source: Source, still: boolean): string {
  const { rng, spec } = ctx;
  if (source.kind === 'video')
    return `fps=${spec.fps},scale=${spec.width}:${spec.height}:force_original_aspect_ratio=increase,crop=${spec.width}:${spec.height}`;
  const vx = still || rng.chance(0.3) ? 0 : rng.range(-2.5, 2.5);
  const vy = still || rng.chance(0.5) ? 0 : rng.range(-1.2, 1.2);
  spec.params.pan = vx === 0 && vy === 0 ? 'none' : `${vx.toFixed(1)},${vy.toFixed(1)} px/s`;
  const m = PAN_MARGIN * (spec.width / 640);
  return `crop=${spec.width}:${spec.height}:x='${(m / 2).toFixed(1)}+${vx.toFixed(3)}*t':y='${(m / 2).toFixed(1)}+${vy.toFixed(3)}*t'`;
}

/** Framing of a camera that shakes: the scene enlarged a little (room to move) and the crop
 * jumping by up to ±amp px with two sines (a pole swaying and vibrating); vibration: amp ~1 px. */
function jitterFraming(ctx: ClipCtx, source: Source, amp: number, f1: number, f2: number): string {
  const { spec } = ctx;
  const room = Math.ceil(2 * amp + 4);
  const w = spec.width + room;
  const h = Math.round((w * spec.height) / spec.width) + 2;
  const move = (f: number, p: number): string =>
    `${(room / 2).toFixed(1)}+${(amp * 0.7).toFixed(2)}*sin(2*PI*${f1.toFixed(2)}*t+${p})+${(amp * 0.3).toFixed(2)}*sin(2*PI*${f.toFixed(2)}*t+${p + 1})`;
  const pre = source.kind === 'video' ? `fps=${spec.fps},` : '';
  return `${pre}scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${spec.width}:${spec.height}:x='${move(f2, 0)}':y='${move(f2 * 1.3, 2)}'`;
}

/** The sensor and ISP: a slow exposure flicker (auto-exposure hunting, mains lights), then noise. */
function sensor(ctx: ClipCtx, noiseRange: [number, number], flicker = ctx.rng.chance(0.4)): string {
  const { rng, spec } = ctx;
  const amp = rng.range(...noiseRange);
  spec.params.noise = Number(amp.toFixed(1));
  let chain = '';
  if (flicker) {
    const a = rng.range(0.01, 0.03);
    const f = rng.range(0.2, 1);
    chain += `,eq=brightness='${a.toFixed(3)}*sin(2*PI*${f.toFixed(2)}*t)':eval=frame`;
    spec.params.flicker = `${(a * 100).toFixed(1)}% at ${f.toFixed(2)} Hz`;
  }
  return chain + sensorNoise(amp);
}

/** Margin of the prepared photo around the picture (at 640 wide), for the pan. */
const PAN_MARGIN = 16;

type Transform = 'night' | 'ir-mono' | 'dark-sunset' | 'still' | 'haze' | 'bright' | 'vibration';
const TRANSFORMS_FOR: Record<SourceCategory, Transform[]> = {
  day: ['night', 'ir-mono', 'still', 'haze'],
  indoor: ['night', 'ir-mono', 'still'],
  foliage: ['night', 'ir-mono', 'still', 'haze'],
  night: ['still', 'ir-mono'],
  mono: ['still', 'night'],
  sunset: ['dark-sunset', 'still'],
  flat: ['still', 'night'],
  soft: ['still', 'ir-mono'],
  fog: ['still', 'ir-mono'],
  colour: ['still', 'ir-mono'],
  backlit: ['still', 'night'],
};

const NIGHT_NOISE: [number, number] = [5, 12];
const DAY_NOISE: [number, number] = [2, 6];

function normalGraph(ctx: ClipCtx, source: Source, transform: Transform | null): string {
  const { rng, spec } = ctx;
  const night = source.category === 'night';
  switch (transform) {
    case null:
      return `${framing(ctx, source, false)}${sensor(ctx, night ? NIGHT_NOISE : DAY_NOISE)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    case 'still':
      // A still scene is not a frozen one: the sensor noise changes every frame and the clock ticks.
      return `${framing(ctx, source, true)}${sensor(ctx, night ? NIGHT_NOISE : DAY_NOISE, false)},${osd(ctx, { clock: true })}`;
    case 'night': {
      // Dusk or a poorly lit street: exposure cut, colours fade, more sensor gain (noise).
      const gain = rng.range(0.25, 0.45);
      const sat = rng.range(0.4, 0.8);
      spec.params.gain = Number(gain.toFixed(2));
      return `${framing(ctx, source, false)},lutyuv=y=val*${gain.toFixed(3)}+3:u=128+(val-128)*${sat.toFixed(2)}:v=128+(val-128)*${sat.toFixed(2)}${sensor(ctx, NIGHT_NOISE)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
    case 'ir-mono': {
      // IR night mode: the IR-cut filter is out, the ISP sends grey; IR lamps light the scene flat.
      const gain = rng.range(0.8, 1.15);
      spec.params.gain = Number(gain.toFixed(2));
      return `${framing(ctx, source, false)},hue=s=0,lutyuv=y=val*${gain.toFixed(3)}${sensor(ctx, [4, 9])}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
    case 'dark-sunset': {
      const gain = rng.range(0.45, 0.7);
      spec.params.gain = Number(gain.toFixed(2));
      return `${framing(ctx, source, false)},lutyuv=y=val*${gain.toFixed(3)}${sensor(ctx, NIGHT_NOISE)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
    case 'bright': {
      // A bright moment (sun on the scene, exposure set high): lighter, some highlights clip.
      const gain = rng.range(1.12, 1.3);
      spec.params.gain = Number(gain.toFixed(2));
      return `${framing(ctx, source, false)},lutyuv=y=val*${gain.toFixed(3)}+${rng.int(4, 16)}${sensor(ctx, DAY_NOISE)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
    case 'vibration': {
      // Traffic passing by a pole: the picture trembles by a pixel or so.
      const amp = rng.range(0.5, 1.5) * (spec.width / 640);
      spec.params.vibration = `±${amp.toFixed(1)} px`;
      return `${jitterFraming(ctx, source, amp, rng.range(2, 5), rng.range(5, 9))}${sensor(ctx, DAY_NOISE)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
    case 'haze': {
      // Fog or haze: airlight lowers contrast and saturation; the edges stay where they were.
      const c = rng.range(0.45, 0.65);
      const b = rng.range(0.05, 0.12);
      spec.params.contrast = Number(c.toFixed(2));
      return `${framing(ctx, source, false)},eq=contrast=${c.toFixed(2)}:brightness=${b.toFixed(2)}:saturation=${rng.range(0.5, 0.8).toFixed(2)}${sensor(ctx, DAY_NOISE)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
  }
}

function faultGraph(ctx: ClipCtx, source: Source, fault: PictureFault): string {
  const { rng, spec } = ctx;
  const night = source.category === 'night';
  const noise: [number, number] = night ? NIGHT_NOISE : DAY_NOISE;
  const k = spec.width / 640;
  switch (fault) {
    case 'blurred': {
      // Defocus (lens knocked, focus drifted, dew): blur of the optical image, before the sensor
      // adds its noise and the camera its sharp OSD. Mild (σ 1.5 px at 640 wide, what an installer
      // already calls soft) to strong.
      const box = rng.chance(0.3);
      const strength = Math.exp(rng.range(Math.log(1.5), Math.log(6)));
      let blur: string;
      if (box) {
        const r = Math.max(1, Math.round(strength * 1.2 * k));
        blur = `boxblur=luma_radius=${r}:luma_power=2:chroma_radius=${Math.max(1, Math.round(r / 2))}:chroma_power=2`;
        spec.params.blur = `box r ${r} ×2`;
      } else {
        blur = `gblur=sigma=${(strength * k).toFixed(2)}`;
        spec.params.blur = `gaussian σ ${(strength * k).toFixed(2)} px`;
      }
      spec.params.defocus640 = Number(strength.toFixed(2));
      return `${framing(ctx, source, false)},${blur}${sensor(ctx, noise)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
    case 'occluded': {
      const target = rng.range(0.3, 0.95);
      const shape = fitOccluder(rng, target);
      const kinds: Array<[string, () => [number, number, number], number]> = [
        ['hand', () => [rng.range(150, 205), rng.range(105, 150), rng.range(85, 125)], rng.range(0.3, 0.7)],
        ['dark cloth', () => [rng.range(15, 60), rng.range(15, 60), rng.range(20, 70)], 1],
        ['black tape', () => [rng.range(10, 30), rng.range(10, 30), rng.range(10, 30)], 1],
        ['grey tape', () => [rng.range(90, 130), rng.range(90, 130), rng.range(85, 125)], rng.range(0.5, 0.9)],
        ['leaf', () => [rng.range(30, 70), rng.range(60, 110), rng.range(20, 50)], rng.range(0.4, 0.9)],
        ['paper bag', () => [rng.range(150, 180), rng.range(115, 140), rng.range(75, 100)], rng.range(0.4, 0.8)],
        ['plastic bag', () => [rng.range(190, 230), rng.range(190, 230), rng.range(185, 225)], rng.range(0.45, 0.8)],
      ];
      const [kind, colour, light] = rng.pick(kinds);
      const rgb = colour().map((c) => c * light) as [number, number, number];
      const alpha = kind === 'plastic bag' ? rng.range(0.8, 0.92) : 1;
      spec.occluder = {
        ...shape,
        rgb,
        alpha,
        texture: rng.range(6, 16),
        defocus: rng.range(4, 16) * k,
        soft: rng.range(0.04, 0.12),
        sway: rng.chance(0.5) ? rng.range(1, 4) * k : 0,
      };
      spec.params.occluder = `${kind} from the ${shape.anchor}, ${(occluderCoverage(shape) * 100).toFixed(0)}% covered, colour ${rgbHex(...rgb)}`;
      const sway = spec.occluder.sway ? `:x='${spec.occluder.sway.toFixed(1)}*sin(2*PI*0.7*t)'` : '';
      return `${framing(ctx, source, false)}[scene];[1:v]format=rgba[occ];[scene][occ]overlay=format=auto${sway}${sensor(ctx, noise)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
    case 'black': {
      if (rng.chance(0.6)) {
        // The lamp or IR illuminator dying at night: almost nothing comes back, the AGC maxes out.
        const gain = rng.range(0.03, 0.1);
        spec.params.black = `lamp dying, exposure ×${gain.toFixed(3)}`;
        return `${framing(ctx, source, false)},lutyuv=y=val*${gain.toFixed(3)}+${rng.int(0, 6)}:u=128+(val-128)*0.2:v=128+(val-128)*0.2${sensor(ctx, [3, 10])}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
      }
      // Lens cap (or a camera painted over): a black field with sensor noise and the OSD.
      const level = rng.int(0, 14);
      spec.params.black = `lens cap, level ${level}`;
      return `${framing(ctx, source, false)},lutyuv=y=${level}:u=128:v=128${sensor(ctx, [2, 8])}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
    case 'colour-cast': {
      const ch = rng.pick(['r', 'g', 'b'] as const);
      const type = rng.pick(['lost', 'weak', 'lifted', 'white-balance'] as const);
      const m: Record<'r' | 'g' | 'b', string> = { r: 'val', g: 'val', b: 'val' };
      let filter: string;
      if (type === 'lost') {
        const g = rng.range(0, 0.25);
        m[ch] = `val*${g.toFixed(2)}`;
        filter = `lutrgb=r=${m.r}:g=${m.g}:b=${m.b}`;
        spec.params.cast = `${ch} channel lost (×${g.toFixed(2)})`;
      } else if (type === 'weak') {
        const g = rng.range(0.45, 0.7);
        m[ch] = `val*${g.toFixed(2)}`;
        filter = `lutrgb=r=${m.r}:g=${m.g}:b=${m.b}`;
        spec.params.cast = `${ch} channel weakened (×${g.toFixed(2)})`;
      } else if (type === 'lifted') {
        const off = rng.range(40, 90);
        m[ch] = `val*${(1 - off / 255).toFixed(3)}+${off.toFixed(0)}`;
        filter = `lutrgb=r=${m.r}:g=${m.g}:b=${m.b}`;
        spec.params.cast = `${ch} channel lifted +${off.toFixed(0)}`;
      } else {
        const a = rng.range(0.5, 0.7);
        const wb = rng.pick(['warm', 'cold', 'magenta'] as const);
        filter =
          wb === 'warm'
            ? `colorchannelmixer=rr=1:gg=${(a + 0.15).toFixed(2)}:bb=${a.toFixed(2)}:rg=0.15`
            : wb === 'cold'
              ? `colorchannelmixer=rr=${a.toFixed(2)}:gg=${(a + 0.2).toFixed(2)}:bb=1:bg=0.15`
              : `colorchannelmixer=rr=1:gg=${a.toFixed(2)}:bb=0.95`; // IR-cut filter stuck out by day
        spec.params.cast = `white balance gone ${wb} (${a.toFixed(2)})`;
      }
      // A cable (analogue link) fault hits the OSD too; a sensor/ISP one happens before it.
      const cable = type !== 'white-balance' && rng.chance(0.5);
      spec.params.castWhere = cable ? 'cable (after the OSD)' : 'sensor/ISP (before the OSD)';
      const o = rng.chance(0.85) ? `,${osd(ctx)}` : '';
      return cable ? `${framing(ctx, source, false)}${sensor(ctx, noise)}${o},${filter}` : `${framing(ctx, source, false)},${filter}${sensor(ctx, noise)}${o}`;
    }
    case 'frozen': {
      // The encoder repeats one picture. Usually the OSD is drawn later and its clock keeps ticking;
      // sometimes the whole pipeline hangs and the clock froze too.
      const at = rng.int(0, Math.max(0, spec.fps - 1));
      const clockTicks = rng.chance(0.65);
      spec.params.frozen = `frame ${at}, clock ${clockTicks ? 'ticking' : 'frozen too'}`;
      const freeze = `trim=start_frame=${at}:end_frame=${at + 1},loop=loop=-1:size=1:start=0,setpts=N/(${spec.fps}*TB)`;
      return clockTicks
        ? `${framing(ctx, source, false)}${sensor(ctx, noise)},${freeze},${osd(ctx, { clock: true })}`
        : `${framing(ctx, source, false)}${sensor(ctx, noise)},${osd(ctx, { clock: true })},${freeze}`;
    }
    case 'overexposed': {
      // Exposure far too high: the auto-exposure stuck (a day/night switch that failed, a lamp
      // or the sun straight into the lens): most of the picture burns out to white.
      const how = rng.pick(['gain', 'gain', 'washed'] as const);
      if (how === 'gain') {
        const gain = rng.range(2, 4);
        spec.params.overexposed = `exposure ×${gain.toFixed(2)}`;
        return `${framing(ctx, source, false)},lutyuv=y=val*${gain.toFixed(3)}+${rng.int(10, 40)}:u=128+(val-128)*0.6:v=128+(val-128)*0.6${sensor(ctx, noise)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
      }
      const lift = rng.range(0.45, 0.7);
      spec.params.overexposed = `washed out, black level lifted ${(lift * 100).toFixed(0)}%`;
      return `${framing(ctx, source, false)},lutyuv=y=val*${(1.6 - lift).toFixed(3)}+${Math.round(lift * 255)}:u=128+(val-128)*0.4:v=128+(val-128)*0.4${sensor(ctx, noise)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
    case 'noise': {
      // Snow: a weak or disturbed analogue signal, or a sensor failing: coarse grain far above a
      // night picture's noise, new every frame, on the cable (OSD too) or at the sensor; strong
      // enough to stay visible through the encoder (fine grain of a few levels is smoothed away
      // and is not a fault a viewer sees).
      const grain = rng.pick([1, 2, 2, 3]) * (spec.width / 640);
      const strength = rng.range(45, 90);
      spec.params.snow = `±${(strength / 2).toFixed(0)} levels, grain ${grain.toFixed(0)} px`;
      const gw = Math.max(2, Math.round(spec.width / grain));
      const gh = Math.max(2, Math.round(spec.height / grain));
      const snow = `[scene];color=c=gray:s=${gw}x${gh}:r=${spec.fps}:d=${spec.seconds},noise=alls=${Math.round(strength)}:allf=t+u,scale=${spec.width}:${spec.height}:flags=neighbor,format=yuv420p[grain];[scene][grain]blend=all_mode=grainmerge`;
      const o = rng.chance(0.85) ? `,${osd(ctx)}` : '';
      return rng.chance(0.5)
        ? `${framing(ctx, source, false)}${sensor(ctx, noise, false)}${o},format=yuv420p${snow}`
        : `${framing(ctx, source, false)},format=yuv420p${snow}${o}`;
    }
    case 'stripes': {
      // Interference: a ground loop's hum bars rolling through the picture, or fine lines from a
      // nearby transmitter or a bad cable, horizontal or vertical, sometimes slightly tilted.
      const kind = rng.pick(['hum bars', 'horizontal lines', 'horizontal lines', 'vertical lines', 'tilted lines'] as const);
      const k = spec.width / 640;
      const period = (kind === 'hum bars' ? rng.range(70, 160) : rng.range(5, 28)) * k;
      const amp = kind === 'hum bars' ? rng.range(18, 40) : rng.range(10, 30);
      const speed = kind === 'hum bars' ? rng.range(0.3, 1.2) : rng.range(0, 3);
      const tilt = kind === 'tilted lines' ? rng.range(1, 4) * (rng.chance(0.5) ? 1 : -1) : 0;
      const theta = ((tilt + (kind === 'vertical lines' ? 90 : 0)) * Math.PI) / 180;
      const phase = `2*PI*((Y*${Math.cos(theta).toFixed(4)}+X*${Math.sin(theta).toFixed(4)})/${period.toFixed(2)}+${speed.toFixed(2)}*T)`;
      spec.params.stripes = `${kind}, period ${period.toFixed(1)} px, ±${amp.toFixed(0)} levels${tilt ? `, tilt ${tilt.toFixed(1)}°` : ''}`;
      const lines = `geq=lum='clip(lum(X,Y)+${amp.toFixed(1)}*sin(${phase}),0,255)':cb='cb(X,Y)':cr='cr(X,Y)'`;
      const o = rng.chance(0.85) ? `,${osd(ctx)}` : '';
      return rng.chance(0.5)
        ? `${framing(ctx, source, false)}${sensor(ctx, noise)}${o},format=yuv444p,${lines}`
        : `${framing(ctx, source, false)}${sensor(ctx, noise)},format=yuv444p,${lines}${o}`;
    }
    case 'shaking': {
      // The pole or the mount shakes (wind, traffic, a loose bracket): the whole picture jumps by
      // several pixels between frames.
      const amp = rng.range(5, 18) * (spec.width / 640);
      const f1 = rng.range(1.3, 4);
      const f2 = rng.range(3, 7);
      spec.params.shaking = `±${amp.toFixed(1)} px at ${f1.toFixed(1)} + ${f2.toFixed(1)} Hz`;
      return `${jitterFraming(ctx, source, amp, f1, f2)}${sensor(ctx, noise)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
    case 'scene-change': {
      // The camera was turned or moved: it shows another part of its scene, closer (zoomed in on
      // a side of what it used to show), or another scene altogether.
      const others = ctx.others.filter((o) => o.id !== source.id && o.group !== source.group);
      if (others.length > 0 && rng.chance(0.4)) {
        const other = rng.pick(others);
        spec.viewSource = other.id;
        spec.params.turned = `now showing ${other.id}`;
        return `${framing(ctx, other, false)}${sensor(ctx, noise)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
      }
      spec.view = { zoom: rng.range(1.7, 2.6), fx: rng.chance(0.5) ? rng.range(0, 0.1) : rng.range(0.9, 1), fy: rng.range(0, 1) };
      spec.params.turned = `view ×${spec.view.zoom.toFixed(2)} at ${spec.view.fx.toFixed(2)},${spec.view.fy.toFixed(2)}`;
      if (source.kind === 'video') {
        const { zoom, fx, fy } = spec.view;
        const w = Math.round(spec.width * zoom);
        const h = Math.round(spec.height * zoom);
        return `fps=${spec.fps},scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${spec.width}:${spec.height}:x=(iw-${spec.width})*${fx.toFixed(3)}:y=(ih-${spec.height})*${fy.toFixed(3)}${sensor(ctx, noise)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
      }
      return `${framing(ctx, source, false)}${sensor(ctx, noise)}${rng.chance(0.85) ? `,${osd(ctx)}` : ''}`;
    }
    case 'no-video': {
      const texts = ['NO VIDEO', 'VIDEO LOSS', 'NO SIGNAL', 'No Video', 'Video Loss', 'NO VIDEO INPUT', 'Signal lost'];
      const blue = rng.chance(0.5);
      const bg = blue
        ? rgbHex(rng.range(0, 40), rng.range(0, 70), rng.range(140, 255))
        : rgbHex(...([rng.int(0, 16)].flatMap((v) => [v, v, v]) as [number, number, number]));
      const text = rng.pick(texts);
      const fs = Math.round(rng.range(18, 44) * (spec.height / 360));
      const withText = !blue || rng.chance(0.7);
      let chain = `color=c=${bg}:s=${spec.width}x${spec.height}:r=${spec.fps}`;
      if (withText) {
        const file = textFile(ctx, 'card', text);
        chain += `,drawtext=fontfile=${rng.pick([FONT, FONT_BOLD])}:textfile=${file}:fontsize=${fs}:fontcolor=${rng.pick(['white', 'white', '0xd0d0d0', 'yellow'])}:x=(w-tw)/2+${Math.round(rng.range(-0.06, 0.06) * spec.width)}:y=(h-th)/2+${Math.round(rng.range(-0.06, 0.06) * spec.height)}`;
      }
      if (rng.chance(0.4)) {
        const file = textFile(ctx, 'ch', `CH${String(rng.int(1, 32)).padStart(2, '0')}`);
        chain += `,drawtext=fontfile=${FONT}:textfile=${file}:fontsize=${Math.round(16 * (spec.height / 360))}:fontcolor=white:x=8:y=h-th-8`;
      }
      // Some NVRs keep their own clock running over the card.
      const nvrClock = rng.chance(0.3);
      if (nvrClock) chain += `,${osd(ctx, { clock: true, name: false })}`;
      spec.params.card = `${blue ? 'blue' : 'black'} ${bg}${withText ? `, "${text}" ${fs}px` : ', no text'}${nvrClock ? ', NVR clock ticking' : ''}`;
      return chain;
    }
  }
}

/** The faults of the set's first version, in its order (their clips keep their ids and parameters). */
export const FIRST_FAULTS: readonly PictureFault[] = ['no-video', 'black', 'frozen', 'blurred', 'occluded', 'colour-cast'];
/** The faults added with the camera's reference, and their hard negatives. */
export const LATER_FAULTS: readonly PictureFault[] = ['scene-change', 'overexposed', 'noise', 'stripes', 'shaking'];
const LATER_TRANSFORMS: readonly Transform[] = ['bright', 'vibration'];

/** The videos: their length (s) and how many slots (normal, hard negative, 3 faults) each gives,
 * cut at different times; a photo gives one. The long real CCTV video gives the most. */
const VIDEOS: Record<string, { seconds: number; slots: number }> = {
  'cctv-pedestrians': { seconds: 79.5, slots: 6 },
  'city-night-video': { seconds: 7.6, slots: 1 },
};

/** The set's clips (no files): per slot a normal picture, a hard negative made from it, and three
 * faults taking turns over PICTURE_FAULTS so that every fault meets every kind of scene. */
export function planFieldSet(opts: { sources: readonly Source[]; seed: number; seconds?: number; parts?: readonly Part[] }): FieldClipSpec[] {
  const seconds = opts.seconds ?? 3;
  const rng = new Rng(seededRandom(opts.seed * 7919 + 101));
  const split = splitSources(opts.sources, opts.seed);
  const specs: FieldClipSpec[] = [];
  // The clips of the first six faults come from `rng`, the reference pictures and the later faults
  // from `later`: adding those left the first clips as they were (same ids, same parameters).
  const later = new Rng(seededRandom(opts.seed * 7919 + 202));
  // Faults take turns per part, so both parts get every fault about equally often.
  const faultTurn: Record<Part, number> = { tuning: 0, 'held-out': 0 };
  const laterTurn: Record<Part, number> = { tuning: 0, 'held-out': 0 };
  let transformTurn = 0;
  let laterTransformTurn = 0;
  const photosOf = (part: Part): Source[] => opts.sources.filter((s) => s.kind === 'photo' && split.get(s.group) === part);
  const make = (
    rng: Rng,
    source: Source,
    c: { cls: ClipClass; transform: Transform | null; role?: 'reference' },
    id: string,
    part: Part,
    offset: number,
  ): FieldClipSpec => {
    // 1080p main stream only from sources at least that sharp (upscaling would blur them).
    const main = source.width >= 1900 && Math.min(source.width, (source.height * 16) / 9) >= 1900 && rng.chance(0.2);
    const codec = rng.chance(0.6) ? 'h264' : 'h265';
    const fps = main ? rng.pick([10, 15, 20, 25]) : rng.pick([5, 8, 10, 12, 15]);
    const kbps = main ? rng.int(2048, 4096) : rng.int(256, 768);
    const spec: FieldClipSpec = {
      id,
      cls: c.cls,
      labels: c.cls === 'normal' ? [] : [c.cls],
      part,
      source: source.id,
      group: source.group,
      negative:
        c.cls !== 'normal' || c.role ? null : c.transform ? (c.transform === 'haze' ? 'haze' : c.transform) : (NEGATIVE_OF_CATEGORY[source.category] ?? null),
      codec,
      stream: main ? 'main' : 'sub',
      width: main ? 1920 : 640,
      height: main ? 1080 : 360,
      fps,
      kbps,
      seconds,
      offset,
      params: {},
      desc: '',
      graph: '',
      card: c.cls === 'no-video',
      texts: {},
      role: c.role ?? 'probe',
      camera: source.id,
    };
    const ctx: ClipCtx = { rng, spec, others: photosOf(part) };
    const chain = c.cls === 'normal' ? normalGraph(ctx, source, c.transform) : faultGraph(ctx, source, c.cls);
    spec.graph = spec.card ? `${chain},format=yuv420p[v]` : `[0:v]${chain},format=yuv420p[v]`;
    const p = Object.entries(spec.params)
      .map(([key, v]) => `${key} ${v}`)
      .join('; ');
    const what = c.role === 'reference' ? `reference of ${source.id} (${source.scene})` : c.cls === 'no-video' ? 'NVR card' : `${source.id} (${source.scene})`;
    spec.desc = `${what}${spec.negative ? ` [hard negative: ${spec.negative}]` : ''}; ${codec} ${spec.width}x${spec.height} ${fps} fps ${kbps} kbit/s${offset ? `; from ${offset} s` : ''}; ${p}`;
    return spec;
  };
  for (const source of opts.sources) {
    const part = split.get(source.group)!;
    const video = VIDEOS[source.id] ?? { seconds, slots: 1 };
    const slots = source.kind === 'video' ? video.slots : 1;
    const usable = Math.max(0, video.seconds - seconds - 0.2);
    for (let slot = 0; slot < slots; slot++) {
      const offset = source.kind === 'video' ? Number((((slot + rng.range(0.1, 0.9)) * usable) / slots).toFixed(2)) : 0;
      // A video's people and leaves move: it cannot be the still scene.
      const transforms = TRANSFORMS_FOR[source.category].filter((t) => source.kind === 'photo' || t !== 'still');
      const transform = transforms[transformTurn++ % transforms.length];
      const classes: Array<{ cls: ClipClass; transform: Transform | null }> = [
        { cls: 'normal', transform: null },
        { cls: 'normal', transform },
      ];
      for (let f = 0; f < 3; f++) classes.push({ cls: FIRST_FAULTS[faultTurn[part]++ % FIRST_FAULTS.length], transform: null });
      const slotId = `${source.id}${slots > 1 ? `-${slot + 1}` : ''}`;
      for (const [n, c] of classes.entries()) specs.push(make(rng, source, c, `${slotId}-${n}-${c.cls}${c.transform ? `-${c.transform}` : ''}`, part, offset));
      // The later faults, and a hard negative of theirs, at the same moment of the same camera.
      const laterClasses: Array<{ cls: ClipClass; transform: Transform | null }> = [
        { cls: 'normal', transform: LATER_TRANSFORMS[laterTransformTurn++ % LATER_TRANSFORMS.length] },
      ];
      for (let f = 0; f < 2; f++) laterClasses.push({ cls: LATER_FAULTS[laterTurn[part]++ % LATER_FAULTS.length], transform: null });
      for (const [n, c] of laterClasses.entries())
        specs.push(make(later, source, c, `${slotId}-${n + classes.length}-${c.cls}${c.transform ? `-${c.transform}` : ''}`, part, offset));
    }
    // The camera's reference: an ordinary picture of it at another moment (another pan, noise,
    // OSD; for a video, another time).
    const refOffset = source.kind === 'video' ? Number(later.range(0, usable).toFixed(2)) : 0;
    specs.push(make(later, source, { cls: 'normal', transform: null, role: 'reference' }, `${source.id}-reference`, part, refOffset));
  }
  return opts.parts ? specs.filter((s) => opts.parts!.includes(s.part)) : specs;
}

// ---- building -----------------------------------------------------------------------------------

/** The photo cropped to 16:9 and scaled once to the clip size plus the pan margin (a PNG), so that
 * every clip of it does not decode a 12-megapixel JPEG per frame. With a view (a camera turned):
 * the part of the photo it shows now, enlarged. */
async function preparePhoto(source: Source, width: number, height: number, dir: string, view?: FieldClipSpec['view']): Promise<string> {
  const m = Math.round(PAN_MARGIN * (width / 640));
  const out = join(dir, `${preparedName(source.id, width, view)}.png`);
  if (existsSync(out)) return out;
  const tmp = `${out}.part.png`;
  const [w, h] = [width + m, height + m];
  const zoomed = view
    ? `scale=${Math.round(w * view.zoom)}:${Math.round(h * view.zoom)}:force_original_aspect_ratio=increase:flags=lanczos,crop=${w}:${h}:x=(iw-${w})*${view.fx.toFixed(3)}:y=(ih-${h})*${view.fy.toFixed(3)}`
    : `scale=${w}:${h}:force_original_aspect_ratio=increase:flags=lanczos,crop=${w}:${h}`;
  await runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', source.path, '-vf', `${zoomed},format=rgb24`, '-frames:v', '1', tmp], dir);
  renameSync(tmp, out);
  return out;
}

function preparedName(id: string, width: number, view?: FieldClipSpec['view']): string {
  return view ? `${id}-${width}-view-${view.zoom.toFixed(2)}-${view.fx.toFixed(2)}-${view.fy.toFixed(2)}` : `${id}-${width}`;
}

/** The occluder as an RGBA picture: the object's colour with a little texture and shading, a soft
 * outline, out of focus (it sits on the lens). */
async function renderOccluder(spec: FieldClipSpec, dir: string): Promise<string> {
  const o = spec.occluder!;
  const out = join(dir, `${spec.id}-occluder.png`);
  const d = `(hypot((X/W-${o.cx.toFixed(4)})/${o.rx.toFixed(4)},(Y/H-${o.cy.toFixed(4)})/${o.ry.toFixed(4)})/(1+${o.wobble.toFixed(4)}*sin(3*atan2(Y/H-${o.cy.toFixed(4)},X/W-${o.cx.toFixed(4)})+${o.phase.toFixed(4)})))`;
  // Shading: lighter towards the picture's centre (the object's rim catches the light).
  const shade = `(0.75+0.35*(1-min(1,hypot(X/W-0.5,Y/H-0.5)*1.6)))`;
  const alpha = `255*${o.alpha.toFixed(3)}*clip((1-${d})/${o.soft.toFixed(3)}+0.5,0,1)`;
  const graph =
    `color=c=${rgbHex(...o.rgb)}:s=${spec.width}x${spec.height}:d=1,noise=alls=${Math.round(o.texture)}:allf=u,format=rgba,` +
    `geq=r='r(X,Y)*${shade}':g='g(X,Y)*${shade}':b='b(X,Y)*${shade}':a='${alpha}',gblur=sigma=${o.defocus.toFixed(1)}`;
  await runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', graph, '-frames:v', '1', out], dir);
  return out;
}

function encoderArgs(spec: FieldClipSpec): string[] {
  const gop = String(spec.fps * 2);
  const rate = [`-b:v`, `${spec.kbps}k`, '-maxrate', `${spec.kbps}k`, '-bufsize', `${spec.kbps}k`];
  if (spec.codec === 'h264')
    return [
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-profile:v',
      'main',
      ...rate,
      '-g',
      gop,
      '-keyint_min',
      gop,
      '-sc_threshold',
      '0',
      '-bf',
      '0',
      '-threads',
      '1',
    ];
  return [
    '-c:v',
    'libx265',
    '-preset',
    'ultrafast',
    '-b:v',
    `${spec.kbps}k`,
    '-x265-params',
    `keyint=${gop}:min-keyint=${gop}:scenecut=0:bframes=0:vbv-maxrate=${spec.kbps}:vbv-bufsize=${spec.kbps}:pools=1:frame-threads=1:log-level=error`,
    '-tag:v',
    'hvc1',
  ];
}

/** Builds the clips (one .mp4 each) into dir, a few ffmpeg processes at a time. */
export async function buildFieldSet(
  specs: readonly FieldClipSpec[],
  sources: readonly Source[],
  opts: { dir: string; concurrency?: number; reuse?: boolean },
): Promise<FieldClip[]> {
  const byId = new Map(sources.map((s) => [s.id, s]));
  const { packages } = missingSources(sources.filter((s) => specs.some((c) => c.source === s.id && !c.card)));
  if (packages.length) {
    throw new Error(`field set: source files missing; install their packages first: scripts/picture-sources.sh (or apt-get install ${packages.join(' ')})`);
  }
  const prep = join(opts.dir, 'prepared');
  mkdirSync(prep, { recursive: true });
  // Prepared photos first, one per source, size and view (clips of the same source would race for it).
  const needed = new Map<string, { source: Source; width: number; height: number; view?: FieldClipSpec['view'] }>();
  const shown = (s: FieldClipSpec): Source => byId.get(s.viewSource ?? s.source)!;
  for (const s of specs) {
    const src = shown(s);
    if (!s.card && src.kind === 'photo') needed.set(preparedName(src.id, s.width, s.view), { source: src, width: s.width, height: s.height, view: s.view });
  }
  await pool([...needed.values()], opts.concurrency ?? 2, (n) => preparePhoto(n.source, n.width, n.height, prep, n.view));
  return pool(specs, opts.concurrency ?? 2, async (spec) => {
    const path = join(opts.dir, `${spec.id}.mp4`);
    const clip: FieldClip = { ...spec, path };
    if (opts.reuse && existsSync(path)) return clip;
    for (const [name, content] of Object.entries(spec.texts)) writeFileSync(join(opts.dir, name), content);
    const source = shown(spec);
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
    if (spec.card) {
      args.push('-f', 'lavfi', '-i', `nullsrc=s=16x16:r=${spec.fps}`);
    } else if (source.kind === 'photo') {
      args.push(
        '-loop',
        '1',
        '-framerate',
        String(spec.fps),
        '-t',
        String(spec.seconds),
        '-i',
        join(prep, `${preparedName(source.id, spec.width, spec.view)}.png`),
      );
    } else {
      args.push('-ss', String(spec.offset), '-t', String(spec.seconds), '-i', source.path);
    }
    if (spec.occluder) args.push('-loop', '1', '-framerate', String(spec.fps), '-t', String(spec.seconds), '-i', await renderOccluder(spec, opts.dir));
    args.push(
      '-filter_complex',
      spec.graph,
      '-map',
      '[v]',
      '-t',
      String(spec.seconds),
      '-an',
      '-pix_fmt',
      'yuv420p',
      ...encoderArgs(spec),
      '-movflags',
      '+faststart',
      path,
    );
    await runFfmpeg(args, opts.dir);
    return clip;
  });
}

// ---- report ----

/** One line per fault (precision / recall) and the false-fault rate: the short form of a report. */
export function formatSummaryLine(e: ReturnType<typeof summarise>, title: string): string {
  const faults = PICTURE_FAULTS.map((f) => `${f} ${pct(e.perFault[f].precision)}/${pct(e.perFault[f].recall)}`).join(', ');
  return `${title}: false faults on normal ${e.normal.withFault}/${e.normal.clips} (${pct(e.normal.clips ? e.normal.withFault / e.normal.clips : 0)}); precision/recall: ${faults}`;
}

export interface FieldOutcome extends ClipOutcome {
  part: Part;
  negative: HardNegative | null;
  source: string;
  codec: string;
  stream: string;
}

/** What each hard negative was taken for: per kind, its normal clips and the faults reported on them. */
export function hardNegativeTable(
  outcomes: readonly FieldOutcome[],
): Map<string, { clips: number; clean: number; faults: Partial<Record<PictureFault, number>> }> {
  const rows = new Map<string, { clips: number; clean: number; faults: Partial<Record<PictureFault, number>> }>();
  for (const o of outcomes) {
    if (o.cls !== 'normal') continue;
    const key = o.negative ?? 'ordinary scene';
    const row = rows.get(key) ?? { clips: 0, clean: 0, faults: {} };
    row.clips++;
    if (o.detected.length === 0) row.clean++;
    for (const f of o.detected) row.faults[f] = (row.faults[f] ?? 0) + 1;
    rows.set(key, row);
  }
  return new Map([...rows].sort(([a], [b]) => a.localeCompare(b)));
}

export function formatFieldReport(outcomes: readonly FieldOutcome[], meta: { seed: number }): string {
  const lines: string[] = [];
  for (const part of ['tuning', 'held-out'] as const) {
    const mine = outcomes.filter((o) => o.part === part);
    if (mine.length === 0) continue;
    const e = summarise(mine);
    lines.push(formatReport(e, `field-like set, ${part} part (seed ${meta.seed}, ${new Set(mine.map((o) => o.source)).size} sources)`, { misjudged: false }));
    lines.push('');
    lines.push('hard negatives (normal pictures): clips, clean, faults reported');
    for (const [kind, row] of hardNegativeTable(mine)) {
      const faults = Object.entries(row.faults)
        .map(([f, n]) => `${f} ${n}`)
        .join(', ');
      lines.push(`  ${kind.padEnd(15)} ${String(row.clips).padStart(3)} ${String(row.clean).padStart(4)}   ${faults || '—'}`);
    }
    lines.push('');
    lines.push('by encoding: clips, judged right');
    for (const key of ['h264 sub', 'h265 sub', 'h264 main', 'h265 main']) {
      const these = mine.filter((o) => `${o.codec} ${o.stream}` === key);
      const right = these.filter((o) => o.labels.join() === o.detected.join()).length;
      if (these.length) lines.push(`  ${key.padEnd(10)} ${String(these.length).padStart(3)}  ${pct(right / these.length)}`);
    }
    lines.push('');
  }
  const wrong = outcomes.filter((o) => o.labels.join() !== o.detected.join());
  lines.push(`misjudged clips (${wrong.length} of ${outcomes.length}):`);
  for (const o of wrong) lines.push(`  [${o.part}] ${o.id}: detected [${o.detected.join(', ')}] — ${o.desc}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      part: { type: 'string', default: 'all' },
      frames: { type: 'string', default: '6' },
      seconds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '2' },
      sources: { type: 'string' },
      dir: { type: 'string' },
      reuse: { type: 'boolean', default: false },
      scores: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      save: { type: 'string' },
    },
  });
  const seed = Number(values.seed);
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  if (!['all', 'tuning', 'held-out'].includes(values.part)) throw new Error(`--part ${values.part}: use tuning, held-out or all`);
  const parts: Part[] = values.part === 'all' ? ['tuning', 'held-out'] : [values.part as Part];
  const sources = readSources(values.sources ?? DEFAULT_MANIFEST);
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'camgate-field-set-'));
  mkdirSync(dir, { recursive: true });
  const keep = values.dir !== undefined;
  try {
    const t0 = performance.now();
    const specs = planFieldSet({ sources, seed, seconds, parts });
    const clips = await buildFieldSet(specs, sources, { dir, concurrency, reuse: values.reuse });
    const t1 = performance.now();
    const e = await evaluate(clips, { frames: Number(values.frames), seconds, concurrency });
    const t2 = performance.now();
    const byId = new Map(clips.map((c) => [c.id, c]));
    const outcomes: FieldOutcome[] = e.outcomes.map((o) => {
      const c = byId.get(o.id)!;
      return { ...o, part: c.part, negative: c.negative, source: c.source, codec: c.codec, stream: c.stream };
    });
    if (values.scores) console.log(scoresCsv(e));
    console.log(formatFieldReport(outcomes, { seed }));
    // The same probes judged as for cameras without a reference (absolute thresholds only).
    const bare = rejudge(outcomes, {}, { references: false }) as FieldOutcome[];
    for (const part of parts) {
      const mine = bare.filter((o) => o.part === part);
      console.log(`\n${formatSummaryLine(summarise(mine), `without references, ${part} part`)}`);
    }
    if (values.save) writeFileSync(values.save, JSON.stringify({ seed, outcomes }));
    const sub = outcomes.filter((o) => o.stream === 'sub');
    const all = summarise(outcomes);
    const subE = summarise(sub);
    console.log(
      `\ndiagnosis CPU per probe (6 frames at 640x360): all clips p50 ${all.cpuMs.p50.toFixed(2)} / p95 ${all.cpuMs.p95.toFixed(2)} ms; sub-stream clips p50 ${subE.cpuMs.p50.toFixed(2)} / p95 ${subE.cpuMs.p95.toFixed(2)} ms; single frame p50 ${all.cpuSingleFrameMs.p50.toFixed(2)} / p95 ${all.cpuSingleFrameMs.p95.toFixed(2)} ms${e.cpuReferenceMs ? `; reference probes (a camera's first) p50 ${e.cpuReferenceMs.p50.toFixed(2)} / p95 ${e.cpuReferenceMs.p95.toFixed(2)} ms` : ''}`,
    );
    console.log(
      `built ${clips.length} clips (${CLIP_CLASSES.map((c) => `${c} ${clips.filter((x) => x.cls === c).length}`).join(', ')}) in ${((t1 - t0) / 1000).toFixed(1)} s, evaluated in ${((t2 - t1) / 1000).toFixed(1)} s; ${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; thresholds ${JSON.stringify(DEFAULT_DIAGNOSIS_THRESHOLDS)}; ffmpeg ${ffmpegBinary()}`,
    );
    if (values.json) {
      console.log(
        JSON.stringify({
          seed,
          clips: outcomes.map((o) => ({ id: o.id, part: o.part, cls: o.cls, negative: o.negative, detected: o.detected, scores: o.scores })),
        }),
      );
    }
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
