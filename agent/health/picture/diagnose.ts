// Picture diagnosis on small frames (pure: no I/O, no clock). Frames come from grab.ts (640×360
// RGB24, a few spread over seconds) but any size works, and one frame (a snapshot) is enough for
// everything but frozen.
//
// Each fault has one score on its own documented scale, computed from the frames only (the
// thresholds never change a score), and one threshold in DiagnosisThresholds it is compared with.
// Scores are sent to the central so thresholds can be tuned per site.
//
// Hierarchy: no-video suppresses black; no-video and black suppress frozen, blurred, occluded and
// colour-cast (a black picture is trivially frozen, flat and featureless). A blurred picture is
// flat almost everywhere, so with blurred, occluded needs the flat region to cover ≥ 90% of the
// picture (a covered lens). The other faults may coexist (a blurred picture can also be frozen).
//
// Cost: everything but blur works on a grid sampled about every (height / 180) pixels (every 2nd
// pixel of every 2nd row at 640×360: 57,600 samples a frame); blur needs full resolution. Up to
// three frames (first, middle, last) are analysed fully, all frames are compared for frozen.
// See docs/benchmarks.md for CPU figures and the labelled set the thresholds come from.
import type { Diagnosis, Frame, PictureFault, ReferenceMeasures } from '../types';
import { PICTURE_FAULTS } from '../types';
import { colourSnowScore, grainBlocks, grainScore, noiseScore, rollingBarsScore, stripesScore, type ColourBlocks, type GrainBlocks } from './interference';
import { OSD_BAND, lumaPlane, sceneRows, type LumaPlane } from './luma';
import { profilesOf, shakingScore } from './motion';
import { median } from './median';
import { REFERENCE_VERSION } from './reference';
import { layoutOf, meanLayout, sceneChange } from './scene';

/**
 * Thresholds, one per fault (config: health.diagnosis.*). Per-frame scores are the median over
 * the analysed frames. Scales and directions:
 *
 * - no-video (`noVideoMinArea`): score = share of the picture (0..1) that is the flat background of
 *   an NVR "no video" card: a uniform saturated blue screen (with or without text anywhere), or a
 *   dark screen whose bright text sits in the centre (cameras put their OSD at the edges). A card
 *   is background plus text only, and does not move (with several frames). 0 when the picture
 *   does not look like a card. Fault when score ≥ threshold.
 * - black (`blackMaxLevel`): score = brightness (0..255, max of R,G,B) that 95% of the picture stays
 *   at or under; OSD text covering up to 5% of the picture does not raise it.
 *   LOWER = darker: fault when score ≤ threshold (the only score where low is bad).
 * - frozen (`frozenMinStillArea`): score = share of the picture (0..1, in blocks of 1/18 of the
 *   height) that did not change between consecutive frames nor between the first and the last; 1 =
 *   nothing moved. A block changed when its mean absolute luma difference exceeds both 3 levels
 *   and 0.3 × its own standard deviation (a keyframe re-encoding a detailed still picture stays
 *   under). A ticking OSD clock changes ~1–3% of the picture. 0 with fewer than 2 frames (not
 *   judged), and 0 when the picture is live however still it stands: its frame-to-frame changes
 *   undo each other as new sensor noise does (changesUndone). Fault when score ≥ threshold.
 * - blurred (`blurredMinBlur`): score = blur (0..1): the share of the picture's fine edge contrast
 *   that survives being blurred again (the no-reference "blur effect" of Crété-Roffet et al.,
 *   2007: 0 = every edge is sharp, 1 = nothing left to lose), median over the more detailed half
 *   of 60 tiles, OSD bands (top and bottom 12%) left out. Focused pictures score ~0.1–0.27 at
 *   640×360. 0 when there is too little detail to judge. Fault when score ≥ threshold.
 * - occluded (`occludedMinArea`): score = share of the picture (0..1) covered by the largest
 *   connected region of flat blocks of one colour. Blocks cut by the region's edge do not count,
 *   so a box covering a third of the picture scores ~0.3. Fault when score ≥ threshold.
 * - colour-cast (`castMinImbalance`): score = how far one colour channel's highlights or shadows
 *   sit from the other two: the spread of the channels' 99.5th percentiles over the white level
 *   (the brightest of them, at least 128), or of their 0.5th percentiles over 160 levels,
 *   whichever is larger (0..1). A working camera's white balance keeps highlights and shadows
 *   near grey even in a green or brown scene; a lost, weakened or lifted channel does not. OSD
 *   bands and a large flat region (an occluder sets its own colour as the extremes) are left out.
 *   Fault when score ≥ threshold.
 */
export interface DiagnosisThresholds {
  noVideoMinArea: number;
  blackMaxLevel: number;
  frozenMinStillArea: number;
  blurredMinBlur: number;
  occludedMinArea: number;
  occludedMinRise: number;
  castMinImbalance: number;
  castMinShift: number;
  blurredMinRise: number;
  sceneChangeMin: number;
  overexposedMinArea: number;
  overexposedMinRise: number;
  overexposedMinBrighten: number;
  noiseMinLevel: number;
  noiseMinRise: number;
  stripesMinAmplitude: number;
  stripesMinRise: number;
  shakingMinShift: number;
}

export const DEFAULT_DIAGNOSIS_THRESHOLDS: Readonly<DiagnosisThresholds> = Object.freeze({
  noVideoMinArea: 0.8,
  blackMaxLevel: 32,
  frozenMinStillArea: 0.97,
  blurredMinBlur: 0.3,
  occludedMinArea: 0.25,
  occludedMinRise: 0.15,
  castMinImbalance: 0.24,
  castMinShift: 0.15,
  blurredMinRise: 0.12,
  sceneChangeMin: 0.7,
  overexposedMinArea: 0.5,
  overexposedMinRise: 0.25,
  overexposedMinBrighten: 80,
  noiseMinLevel: 2,
  noiseMinRise: 2,
  stripesMinAmplitude: 3,
  stripesMinRise: 2,
  shakingMinShift: 6.5,
});

// ---- internal constants (not thresholds: they shape the measures) ------------------------------
/** Sampling grid: about this many rows whatever the frame height. */
const GRID_ROWS = 180;
/** Blocks (frozen, occlusion) are this fraction of the sampled height: 10×10 samples at 180 rows. */
const BLOCKS_PER_HEIGHT = 18;
/** A card background at or under this brightness is dark. */
const CARD_DARK_LEVEL = 48;
/** A pixel belongs to a card background within this max channel distance of its colour. */
const CARD_BG_TOLERANCE = 28;
/** Dark card: at least this share of the text ("ink", non-background pixels) is in the centre box. */
const CARD_CENTRED_INK = 0.6;
/** With several frames, a card must be at least this still (frozen score): it is an image. */
const CARD_MIN_STILL = 0.5;
/** Card text differs from the background by at least this much (max channel distance). */
const CARD_INK_CONTRAST = 80;
/** The ink is at most the second share of the picture (text, not a scene); a dark card needs at least the first. */
const CARD_MIN_INK = 0.0005;
const CARD_MAX_INK = 0.2;
/** Frozen: a block changed when its mean absolute luma difference exceeds this (codec noise stays under). */
const FROZEN_BLOCK_DELTA = 3;
/** Frozen: … or this share of the block's own luma standard deviation, whichever is larger. */
const FROZEN_REL_DELTA = 0.3;
/** Frozen: a picture whose changes undo each other at least this much (changesUndone) is live
 * (sensor noise new every frame), however still it stands. Frozen pictures of the field-like set's
 * tuning part stay above −0.12 and still scenes whose encoder kept some grain fall to −0.15 and
 * below. */
const FROZEN_LIVE_REVERSAL = -0.14;
/** Occlusion: a block is flat when its luma standard deviation is at most this. */
const FLAT_BLOCK_STD = 4;
/** Occlusion: blocks join a region when their mean colour is within this of the region's seed. */
const FLAT_COLOUR_TOLERANCE = 8;
/** Occlusion on a blurred picture: the flat region must cover at least this share. */
const OCCLUDED_WHEN_BLURRED = 0.9;
/** Colour cast: imbalance is relative to the picture's white level (brightest channel's 99th
 * percentile), but at least this, so that dim pictures do not magnify small differences. */
const CAST_MIN_WHITE = 128;
/** Colour cast: the shadows and highlights are the channels' CAST_TAIL and 1 − CAST_TAIL quantiles. */
const CAST_TAIL = 0.005;
/** Colour cast: shadow imbalance is in units of this many levels (a tint of n levels shows more in
 * the shadows than in the highlights; the set's lifted channels were missed when shadows were
 * measured against the white level like highlights). */
const CAST_SHADOW_SCALE = 160;
/** Colour cast: a flat region at least this large (the occlusion measure) is left out. */
const CAST_EXCLUDE_FLAT = 0.1;
/** Blur: 10 × 6 tiles; tiles whose mean luma step (levels per pixel) is under this are too flat to judge. */
const BLUR_TILES_X = 10;
const BLUR_TILES_Y = 6;
const BLUR_MIN_ACTIVITY = 0.5;
/** Blur: the frame's blur is the median over this share of the judged tiles, most detailed first. */
const BLUR_TOP_SHARE = 0.5;
/** Overexposed: a scene pixel is clipped bright at or above this luma. */
const CLIPPED_LEVEL = 245;
/** Overexposed against a reference by brightness: at least this share must be burnt out too (a
 * camera turned towards a brighter scene burns nothing out). */
const BRIGHTENED_MIN_CLIPPED = 0.1;
/** Frames analysed fully (first, middle, last); all frames are compared for frozen. */
const ANALYSED_FRAMES = 3;

/** Per-frame measures (exported for the benchmark and tests). */
export interface FrameMeasures {
  blackLevel: number;
  noVideo: number;
  occluded: number;
  cast: number;
  /** Colour balance: R, G, B highlights then shadows off their mean (colour-cast's scales). */
  balance: number[];
  blur: number;
  brightness: number;
  clipped: number;
  stripes: number;
  layout: number[];
}

/** The sampling grid of a frame: every `step`-th pixel of every `step`-th row. */
interface Grid {
  width: number;
  height: number;
  step: number;
  gw: number;
  gh: number;
  block: number;
  bx: number;
  by: number;
}

function gridOf(width: number, height: number): Grid {
  const step = Math.max(1, Math.round(height / GRID_ROWS));
  const gw = Math.ceil(width / step);
  const gh = Math.ceil(height / step);
  const block = Math.max(2, Math.round(gh / BLOCKS_PER_HEIGHT));
  return { width, height, step, gw, gh, block, bx: Math.ceil(gw / block), by: Math.ceil(gh / block) };
}

function checkFrame(f: Frame, i: number): void {
  if (!(f.width > 0 && f.height > 0) || f.data.length < f.width * f.height * 3) {
    throw new RangeError(`diagnose: frame ${i} is ${f.width}×${f.height} but has ${f.data.length} bytes (RGB24 needs ${f.width * f.height * 3})`);
  }
}

function percentile(hist: Uint32Array, total: number, p: number): number {
  const target = Math.max(1, Math.ceil(total * p));
  let acc = 0;
  for (let v = 0; v < hist.length; v++) {
    acc += hist[v];
    if (acc >= target) return v;
  }
  return hist.length - 1;
}

/** What one pass over the sampling grid collects. */
interface GridStats {
  n: number;
  /** Luma of the grid samples (row-major gw × gh): frozen compares these across frames. */
  luma: Uint8Array;
  vHist: Uint32Array;
  colourHist: Uint32Array;
  blockN: Uint32Array;
  blockY: Float64Array;
  blockYY: Float64Array;
  blockR: Float64Array;
  blockG: Float64Array;
  blockB: Float64Array;
}

function gridStats(f: Frame, g: Grid): GridStats {
  const nb = g.bx * g.by;
  const s: GridStats = {
    n: g.gw * g.gh,
    luma: new Uint8Array(g.gw * g.gh),
    vHist: new Uint32Array(256),
    colourHist: new Uint32Array(4096),
    blockN: new Uint32Array(nb),
    blockY: new Float64Array(nb),
    blockYY: new Float64Array(nb),
    blockR: new Float64Array(nb),
    blockG: new Float64Array(nb),
    blockB: new Float64Array(nb),
  };
  const { luma, vHist, colourHist, blockN, blockY, blockYY, blockR, blockG, blockB } = s;
  const d = f.data;
  const rowStride = f.width * 3;
  const pxStride = g.step * 3;
  for (let gy = 0; gy < g.gh; gy++) {
    const brow = ((gy / g.block) | 0) * g.bx;
    const rowStart = gy * g.step * rowStride;
    for (let bxi = 0; bxi < g.bx; bxi++) {
      const gx0 = bxi * g.block;
      const gx1 = Math.min(g.gw, gx0 + g.block);
      let sy = 0;
      let syy = 0;
      let sr = 0;
      let sg = 0;
      let sb = 0;
      let k = gy * g.gw + gx0;
      let j = rowStart + gx0 * pxStride;
      for (let gx = gx0; gx < gx1; gx++, j += pxStride, k++) {
        const r = d[j];
        const gg = d[j + 1];
        const b = d[j + 2];
        const l = (77 * r + 150 * gg + 29 * b + 128) >> 8;
        luma[k] = l;
        vHist[Math.max(r, gg, b)]++;
        colourHist[((r & 0xf0) << 4) | (gg & 0xf0) | (b >> 4)]++;
        sy += l;
        syy += l * l;
        sr += r;
        sg += gg;
        sb += b;
      }
      const bi = brow + bxi;
      blockN[bi] += gx1 - gx0;
      blockY[bi] += sy;
      blockYY[bi] += syy;
      blockR[bi] += sr;
      blockG[bi] += sg;
      blockB[bi] += sb;
    }
  }
  return s;
}

/** Just the grid's luma (for frozen, on frames not otherwise analysed). */
function gridLuma(f: Frame, g: Grid): Uint8Array {
  const luma = new Uint8Array(g.gw * g.gh);
  const d = f.data;
  const rowStride = f.width * 3;
  const pxStride = g.step * 3;
  let k = 0;
  for (let gy = 0; gy < g.gh; gy++) {
    let j = gy * g.step * rowStride;
    for (let gx = 0; gx < g.gw; gx++, j += pxStride, k++) luma[k] = (77 * d[j] + 150 * d[j + 1] + 29 * d[j + 2] + 128) >> 8;
  }
  return luma;
}

/** No-video card score of one frame (see DiagnosisThresholds.noVideoMinArea). */
function noVideoScore(f: Frame, g: Grid, s: GridStats): number {
  // Dominant colour: the fullest 4-bit-per-channel bin, refined to the mean of its samples.
  let best = 0;
  for (let i = 1; i < 4096; i++) if (s.colourHist[i] > s.colourHist[best]) best = i;
  if (s.colourHist[best] < s.n * 0.3) return 0;
  const d = f.data;
  const rowStride = f.width * 3;
  const pxStride = g.step * 3;
  let mr = 0;
  let mg = 0;
  let mb = 0;
  let cnt = 0;
  for (let gy = 0; gy < g.gh; gy++) {
    let j = gy * g.step * rowStride;
    for (let gx = 0; gx < g.gw; gx++, j += pxStride) {
      if ((((d[j] & 0xf0) << 4) | (d[j + 1] & 0xf0) | (d[j + 2] >> 4)) === best) {
        mr += d[j];
        mg += d[j + 1];
        mb += d[j + 2];
        cnt++;
      }
    }
  }
  mr /= cnt;
  mg /= cnt;
  mb /= cnt;
  const blue = mb >= 80 && mb - Math.max(mr, mg) >= 50;
  const dark = Math.max(mr, mg, mb) <= CARD_DARK_LEVEL;
  if (!blue && !dark) return 0;
  const x0 = g.gw * 0.15;
  const x1 = g.gw * 0.85;
  const y0 = g.gh * 0.2;
  const y1 = g.gh * 0.8;
  // Text ("ink") on a card stands out from it (white on black or blue); a dark night scene's
  // non-background pixels are mostly close to the background.
  let bg = 0;
  let ink = 0;
  let inkCentre = 0;
  let other = 0;
  for (let gy = 0; gy < g.gh; gy++) {
    const inRows = gy >= y0 && gy < y1;
    let j = gy * g.step * rowStride;
    for (let gx = 0; gx < g.gw; gx++, j += pxStride) {
      const r = d[j];
      const gg = d[j + 1];
      const b = d[j + 2];
      const dist = Math.max(Math.abs(r - mr), Math.abs(gg - mg), Math.abs(b - mb));
      if (dist <= CARD_BG_TOLERANCE) bg++;
      else if (dist >= CARD_INK_CONTRAST) {
        ink++;
        if (inRows && gx >= x0 && gx < x1) inkCentre++;
      } else other++;
    }
  }
  // A card is its background and bright text, nothing else: anti-aliased text edges are about
  // the only in-between pixels it has (thin strokes: many). A scene is mostly in-between.
  if (other > 5 * ink + s.n * 0.01) return 0;
  const bgShare = bg / s.n;
  const inkShare = ink / s.n;
  if (inkShare > CARD_MAX_INK) return 0;
  if (blue) return bgShare; // a blue screen, text or none, centred or in a corner
  if (inkShare < CARD_MIN_INK) return 0;
  return inkCentre / ink >= CARD_CENTRED_INK ? bgShare : 0;
}

/** Occlusion score of one frame: the largest connected flat single-colour region, share of the
 * picture; `region` marks its blocks. */
function occludedScore(s: GridStats, g: Grid): { score: number; region: Uint8Array } {
  const nb = g.bx * g.by;
  const flat = new Uint8Array(nb);
  const mr = new Float32Array(nb);
  const mg = new Float32Array(nb);
  const mb = new Float32Array(nb);
  for (let i = 0; i < nb; i++) {
    const c = s.blockN[i];
    if (c === 0) continue;
    const mean = s.blockY[i] / c;
    const variance = s.blockYY[i] / c - mean * mean;
    mr[i] = s.blockR[i] / c;
    mg[i] = s.blockG[i] / c;
    mb[i] = s.blockB[i] / c;
    if (variance <= FLAT_BLOCK_STD * FLAT_BLOCK_STD) flat[i] = 1;
  }
  const seen = new Uint8Array(nb);
  const stack = new Int32Array(nb);
  let best = 0;
  let bestSeed = -1;
  const tol = FLAT_COLOUR_TOLERANCE;
  for (let i = 0; i < nb; i++) {
    if (!flat[i] || seen[i]) continue;
    const sr = mr[i];
    const sg = mg[i];
    const sb = mb[i];
    let top = 0;
    stack[top++] = i;
    seen[i] = 1;
    let area = 0;
    while (top > 0) {
      const k = stack[--top];
      area += s.blockN[k];
      const kx = k % g.bx;
      for (let dir = 0; dir < 4; dir++) {
        let m: number;
        if (dir === 0) m = kx > 0 ? k - 1 : -1;
        else if (dir === 1) m = kx < g.bx - 1 ? k + 1 : -1;
        else if (dir === 2) m = k - g.bx;
        else m = k + g.bx < nb ? k + g.bx : -1;
        if (m < 0 || seen[m] || !flat[m]) continue;
        if (Math.abs(mr[m] - sr) > tol || Math.abs(mg[m] - sg) > tol || Math.abs(mb[m] - sb) > tol) continue;
        seen[m] = 1;
        stack[top++] = m;
      }
    }
    if (area > best) {
      best = area;
      bestSeed = i;
    }
  }
  // Mark the winning region again (cheap: blocks only).
  const region = new Uint8Array(nb);
  if (bestSeed >= 0) {
    const sr = mr[bestSeed];
    const sg = mg[bestSeed];
    const sb = mb[bestSeed];
    let top = 0;
    stack[top++] = bestSeed;
    region[bestSeed] = 1;
    while (top > 0) {
      const k = stack[--top];
      const kx = k % g.bx;
      const nbrs = [kx > 0 ? k - 1 : -1, kx < g.bx - 1 ? k + 1 : -1, k - g.bx, k + g.bx < nb ? k + g.bx : -1];
      for (const m of nbrs) {
        if (m < 0 || region[m] || !flat[m]) continue;
        if (Math.abs(mr[m] - sr) > tol || Math.abs(mg[m] - sg) > tol || Math.abs(mb[m] - sb) > tol) continue;
        region[m] = 1;
        stack[top++] = m;
      }
    }
  }
  return { score: best / s.n, region };
}

/** The blocks of `mask` and their 8 neighbours (a region's rim blocks are partly covered by it). */
function dilate(mask: Uint8Array, g: Grid): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let by = 0; by < g.by; by++) {
    for (let bx = 0; bx < g.bx; bx++) {
      if (!mask[by * g.bx + bx]) continue;
      for (let y = Math.max(0, by - 1); y <= Math.min(g.by - 1, by + 1); y++) {
        for (let x = Math.max(0, bx - 1); x <= Math.min(g.bx - 1, bx + 1); x++) out[y * g.bx + x] = 1;
      }
    }
  }
  return out;
}

/** Colour-cast score of one frame (see DiagnosisThresholds.castMinImbalance), on the grid outside
 * the OSD bands and outside `exclude` (the occluded region: a large flat object sets its own colour
 * as the picture's extremes). */
function castScore(f: Frame, g: Grid, exclude: Uint8Array | undefined): { cast: number; balance: number[] } {
  const rHist = new Uint32Array(256);
  const gHist = new Uint32Array(256);
  const bHist = new Uint32Array(256);
  const d = f.data;
  const rowStride = f.width * 3;
  const pxStride = g.step * 3;
  const y0 = Math.floor(g.gh * OSD_BAND);
  const y1 = Math.ceil(g.gh * (1 - OSD_BAND));
  let n = 0;
  for (let gy = y0; gy < y1; gy++) {
    const brow = ((gy / g.block) | 0) * g.bx;
    const rowStart = gy * g.step * rowStride;
    for (let bxi = 0; bxi < g.bx; bxi++) {
      if (exclude && exclude[brow + bxi]) continue;
      const gx0 = bxi * g.block;
      const gx1 = Math.min(g.gw, gx0 + g.block);
      for (let gx = gx0, j = rowStart + gx0 * pxStride; gx < gx1; gx++, j += pxStride) {
        rHist[d[j]]++;
        gHist[d[j + 1]]++;
        bHist[d[j + 2]]++;
      }
      n += gx1 - gx0;
    }
  }
  if (n < g.gw * 4) return { cast: 0, balance: [0, 0, 0, 0, 0, 0] }; // almost nothing left to judge
  const hists = [rHist, gHist, bHist];
  const hi = hists.map((h) => percentile(h, n, 1 - CAST_TAIL));
  const lo = hists.map((h) => percentile(h, n, CAST_TAIL));
  const white = Math.max(CAST_MIN_WHITE, Math.max(...hi));
  const hiSpread = (Math.max(...hi) - Math.min(...hi)) / white;
  const loSpread = (Math.max(...lo) - Math.min(...lo)) / CAST_SHADOW_SCALE;
  // The balance: each channel's highlight and shadow off the channels' mean, on the same scales.
  const hiMean = (hi[0] + hi[1] + hi[2]) / 3;
  const loMean = (lo[0] + lo[1] + lo[2]) / 3;
  const balance = [...hi.map((v) => (v - hiMean) / white), ...lo.map((v) => (v - loMean) / CAST_SHADOW_SCALE)];
  return { cast: Math.min(1, Math.max(hiSpread, loSpread)), balance };
}

/** Blur of one frame at full resolution (see DiagnosisThresholds.blurredMinBlur), on luma: the
 * codec's full-resolution signal (a single RGB channel carries the half-resolution chroma too,
 * which blurs the edges between coloured areas). */
function blurScore(p: LumaPlane): number {
  const { width, height, y } = p;
  if (width < 32 || height < 32) return 0;
  // Rows in the OSD bands (top and bottom) are left out: a camera's clock stays sharp on a blurred picture.
  const r0 = Math.max(5, p.top);
  const r1 = Math.min(height - 5, p.bottom);
  const tw = Math.ceil(width / BLUR_TILES_X);
  const th = Math.ceil((r1 - r0) / BLUR_TILES_Y);
  const nt = BLUR_TILES_X * BLUR_TILES_Y;
  // Per tile: sums of D_F and of V, both ×9 (integers). D_F = |Y(p) − Y(p−1)|; the 9-tap box
  // re-blur B has B(p) − B(p−1) = (Y(p+4) − Y(p−5)) / 9; V = max(0, D_F − D_B). Horizontal steps
  // on every 2nd row, vertical steps on every 2nd column of those rows: less work, the same
  // statistics.
  const sumF = new Float64Array(nt);
  const sumV = new Float64Array(nt);
  const cnt = new Float64Array(nt);
  const w4 = 4 * width;
  const w5 = 5 * width;
  for (let row = r0; row < r1; row += 2) {
    const base = row * width;
    const trow = (((row - r0) / th) | 0) * BLUR_TILES_X;
    for (let tx = 0; tx < BLUR_TILES_X; tx++) {
      const xa = Math.max(5, tx * tw);
      const xb = Math.min(width - 4, (tx + 1) * tw);
      let sf = 0;
      let sv = 0;
      let c = 0;
      // Branch-free absolute values and max(0, ·) (integers: x >> 31 is its sign): on a picture's
      // edges and noise the signs are unpredictable and mispredicted branches cost more than the
      // arithmetic.
      for (let p = base + xa, end = base + xb; p < end; p++) {
        const a = y[p] - y[p - 1];
        const b = y[p + 4] - y[p - 5];
        const f9 = 9 * ((a ^ (a >> 31)) - (a >> 31));
        const v = f9 - ((b ^ (b >> 31)) - (b >> 31));
        sf += f9;
        sv += v & ~(v >> 31);
      }
      c += Math.max(0, xb - xa);
      for (let p = base + tx * tw + (row & 1), end = base + Math.min(width, (tx + 1) * tw); p < end; p += 2) {
        const a = y[p] - y[p - width];
        const b = y[p + w4] - y[p - w5];
        const f9 = 9 * ((a ^ (a >> 31)) - (a >> 31));
        const v = f9 - ((b ^ (b >> 31)) - (b >> 31));
        sf += f9;
        sv += v & ~(v >> 31);
        c++;
      }
      const t = trow + tx;
      sumF[t] += sf;
      sumV[t] += sv;
      cnt[t] += c;
    }
  }
  const judged: Array<{ activity: number; blur: number }> = [];
  for (let t = 0; t < nt; t++) {
    if (cnt[t] === 0) continue;
    const activity = sumF[t] / 9 / cnt[t];
    if (activity < BLUR_MIN_ACTIVITY) continue;
    judged.push({ activity, blur: (sumF[t] - sumV[t]) / sumF[t] });
  }
  if (judged.length < 4) return 0;
  judged.sort((a, b) => b.activity - a.activity);
  const top = judged.slice(0, Math.max(4, Math.ceil(judged.length * BLUR_TOP_SHARE)));
  return median(top.map((t) => t.blur));
}

/** All measures of one frame (the blur and stripes parts at full resolution, the
 * rest on the sampling grid); `plane`: a buffer of width × height to compute the luma plane in. */
export function measureFrame(
  f: Frame,
  opts: { middle?: boolean; plane?: Uint8Array } = {},
): FrameMeasures & { luma: Uint8Array; grid: Grid; grain: GrainBlocks; colour: ColourBlocks } {
  const g = gridOf(f.width, f.height);
  const s = gridStats(f, g);
  const occ = occludedScore(s, g);
  const plane = lumaPlane(f, opts.plane);
  return {
    blackLevel: percentile(s.vHist, s.n, 0.95),
    noVideo: noVideoScore(f, g, s),
    occluded: occ.score,
    ...castScore(f, g, occ.score >= CAST_EXCLUDE_FLAT ? dilate(occ.region, g) : undefined),
    blur: blurScore(plane),
    ...brightnessOf(plane),
    // A pattern of lines is on every frame alike: the middle frame's spectra are enough (they
    // cost the most of all measures).
    stripes: (opts.middle ?? true) ? stripesScore(plane) : NaN,
    layout: layoutOf({ width: g.gw, height: g.gh, y: s.luma, ...sceneRows(g.gh) }),
    luma: s.luma,
    grid: g,
    grain: grainBlocks(plane),
    colour: colourBlocks(s, g),
  };
}

/** The colour of the grid's blocks in the scene rows (for colour snow). */
function colourBlocks(s: GridStats, g: Grid): ColourBlocks {
  const { top, bottom } = sceneRows(g.gh);
  const r0 = Math.ceil(top / g.block);
  const r1 = Math.floor(bottom / g.block);
  const n = Math.max(0, r1 - r0) * g.bx;
  const out: ColourBlocks = { std: new Float64Array(n), y: new Float64Array(n), rg: new Float64Array(n), bg: new Float64Array(n) };
  for (let i = 0, b = r0 * g.bx; i < n; i++, b++) {
    const c = s.blockN[b];
    if (c === 0) continue;
    const mean = s.blockY[b] / c;
    out.std[i] = Math.sqrt(Math.max(0, s.blockYY[b] / c - mean * mean));
    out.y[i] = mean;
    out.rg[i] = (s.blockR[b] - s.blockG[b]) / c;
    out.bg[i] = (s.blockB[b] - s.blockG[b]) / c;
  }
  return out;
}

/** Mean luma of the scene rows and the share of them clipped bright (luma ≥ CLIPPED_LEVEL). */
function brightnessOf(p: LumaPlane): { brightness: number; clipped: number } {
  let sum = 0;
  let clipped = 0;
  let n = 0;
  for (let row = p.top; row < p.bottom; row += 2) {
    for (let i = row * p.width, end = i + p.width; i < end; i += 2) {
      const v = p.y[i];
      sum += v;
      if (v >= CLIPPED_LEVEL) clipped++;
      n++;
    }
  }
  return { brightness: n ? sum / n : 0, clipped: n ? clipped / n : 0 };
}

/**
 * How a live scene's changes undo themselves: the correlation of the picture's change from one
 * frame to the next with its change to the frame after (scene rows of the sampled luma), the
 * largest (least negative) over the runs of three frames; 0 with fewer than three frames or
 * without changes.
 *
 * A still scene is live because its sensor noise is new every frame: what the encoder codes of one
 * frame's grain is replaced by the next frame's, so each change tends to undo the one before it
 * (−0.5 for pure noise). A frozen picture's frames change only as the encoder refines the same
 * picture, and one refinement does not undo the last (≈ 0). A keyframe re-codes either picture
 * from scratch and undoes the refinements before it, so it is the largest over the runs that
 * counts: a run without a keyframe in it shows what the picture does.
 */
function changesUndone(lumas: readonly Uint8Array[], g: Grid): number {
  if (lumas.length < 3) return 0;
  const { top, bottom } = sceneRows(g.gh);
  const start = top * g.gw;
  const end = bottom * g.gw;
  let most = -Infinity;
  for (let k = 1; k + 1 < lumas.length; k++) {
    const a = lumas[k - 1];
    const b = lumas[k];
    const c = lumas[k + 1];
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let p = start; p < end; p++) {
      const d1 = b[p] - a[p];
      const d2 = c[p] - b[p];
      sab += d1 * d2;
      saa += d1 * d1;
      sbb += d2 * d2;
    }
    most = Math.max(most, saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0);
  }
  return most;
}

/** Frozen score over the frames' sampled luma (see DiagnosisThresholds.frozenMinStillArea). */
function frozenScore(lumas: readonly Uint8Array[], g: Grid): number {
  if (lumas.length < 2) return 0;
  const nb = g.bx * g.by;
  const changed = new Uint8Array(nb);
  const sum = new Float64Array(nb);
  const sumA = new Float64Array(nb);
  const sumAA = new Float64Array(nb);
  const count = new Uint32Array(nb);
  const pairs: Array<[number, number]> = [];
  for (let k = 1; k < lumas.length; k++) pairs.push([k - 1, k]);
  if (lumas.length > 2) pairs.push([0, lumas.length - 1]);
  for (const [a, b] of pairs) {
    const ya = lumas[a];
    const yb = lumas[b];
    sum.fill(0);
    sumA.fill(0);
    sumAA.fill(0);
    count.fill(0);
    for (let gy = 0; gy < g.gh; gy++) {
      const brow = ((gy / g.block) | 0) * g.bx;
      for (let bxi = 0; bxi < g.bx; bxi++) {
        const gx0 = bxi * g.block;
        const gx1 = Math.min(g.gw, gx0 + g.block);
        let acc = 0;
        let sa = 0;
        let saa = 0;
        for (let p = gy * g.gw + gx0, end = gy * g.gw + gx1; p < end; p++) {
          const va = ya[p];
          const diff = va - yb[p];
          acc += diff < 0 ? -diff : diff;
          sa += va;
          saa += va * va;
        }
        sum[brow + bxi] += acc;
        sumA[brow + bxi] += sa;
        sumAA[brow + bxi] += saa;
        count[brow + bxi] += gx1 - gx0;
      }
    }
    for (let i = 0; i < nb; i++) {
      const c = count[i];
      if (c === 0) continue;
      // Codec noise (a keyframe re-encoding the same picture) grows with the block's detail;
      // motion moves the detail itself: compare with the block's own contrast too.
      const mean = sumA[i] / c;
      const std = Math.sqrt(Math.max(0, sumAA[i] / c - mean * mean));
      if (sum[i] > Math.max(FROZEN_BLOCK_DELTA, FROZEN_REL_DELTA * std) * c) changed[i] = 1;
    }
  }
  let changedN = 0;
  let total = 0;
  for (let i = 0; i < nb; i++) {
    total += count[i];
    if (changed[i]) changedN += count[i];
  }
  return total > 0 ? 1 - changedN / total : 0;
}

/** Scores of all faults, from the frames and (for scene-change) the camera's reference; and the
 * probe's measures in reference form. */
export function pictureScores(frames: readonly Frame[], reference?: ReferenceMeasures): { scores: Record<PictureFault, number>; measures: ReferenceMeasures } {
  if (frames.length === 0) throw new RangeError('diagnose: no frames');
  const analysis = new ProbeAnalysis(frames.length);
  for (const f of frames) analysis.add(f);
  return analysis.scores(reference);
}

/**
 * The analysis of one probe's frames, one frame at a time as they are decoded, so that a probe
 * never holds more than the frame being decoded and the one before it (the frames' memory was the
 * largest part of the agent's that depends on the cameras: docs/benchmarks.md). Up to three frames
 * (first, middle, last of the `expected`) are measured fully when they arrive; every frame leaves
 * its sampled luma for frozen, shaking, noise and rolling bars. The same scores as pictureScores
 * on all the frames at once, which is this.
 *
 * A frame's data must stay unchanged until the next frame is added (or scores() is called): a
 * probe that ends short of `expected` measures its last frame then.
 */
export class ProbeAnalysis {
  private readonly analysed: number[];
  private readonly middle: number;
  private readonly per: Array<ReturnType<typeof measureFrame>> = [];
  private readonly lumas: Uint8Array[] = [];
  private grid: Grid | undefined;
  private sameSize = true;
  private count = 0;
  private last: Frame | undefined;
  private lastMeasured = false;
  /** The full-resolution luma of the frame being measured, one buffer for the probe. */
  private plane: Uint8Array | undefined;

  constructor(readonly expected: number) {
    const n = Math.max(1, Math.floor(expected));
    // Up to three frames (first, middle, last) are analysed fully; every frame feeds frozen and shaking.
    this.analysed = n <= ANALYSED_FRAMES ? [...Array(n).keys()] : [0, n >> 1, n - 1];
    this.middle = this.analysed[this.analysed.length >> 1];
  }

  /** Frames added so far. */
  get frames(): number {
    return this.count;
  }

  add(f: Frame): void {
    const i = this.count;
    checkFrame(f, i);
    const first = this.grid;
    if (first && (f.width !== first.width || f.height !== first.height)) this.sameSize = false;
    this.count++;
    this.last = f;
    this.lastMeasured = this.analysed.includes(i);
    if (this.lastMeasured) {
      const m = this.measure(f, i === this.middle);
      this.grid ??= m.grid;
      if (this.sameSize) this.lumas.push(m.luma);
    } else if (this.sameSize && this.grid) {
      this.lumas.push(gridLuma(f, this.grid));
    }
  }

  private measure(f: Frame, middle: boolean): ReturnType<typeof measureFrame> {
    if (!this.plane || this.plane.length !== f.width * f.height) this.plane = new Uint8Array(f.width * f.height);
    const m = measureFrame(f, { middle, plane: this.plane });
    this.per.push(m);
    return m;
  }

  /** Scores of all faults and the probe's measures (see pictureScores). */
  scores(reference?: ReferenceMeasures): { scores: Record<PictureFault, number>; measures: ReferenceMeasures } {
    if (this.count === 0 || !this.last) throw new RangeError('diagnose: no frames');
    // A probe cut short: its last frame stands for the last (and, if it never came, the middle).
    if (!this.lastMeasured) {
      this.measure(this.last, this.count <= this.middle);
      this.lastMeasured = true;
    }
    const per = this.per;
    const n = this.count;
    const sameSize = this.sameSize;
    let still = 0;
    let frozen = 0;
    let shaking = 0;
    let noise = 0;
    let bars = 0;
    if (sameSize && n >= 2 && this.grid) {
      const g = this.grid;
      const lumas = this.lumas;
      still = frozenScore(lumas, g);
      frozen = still > 0 && changesUndone(lumas, g) <= FROZEN_LIVE_REVERSAL ? 0 : still;
      const planes = lumas.map((y) => ({ width: g.gw, height: g.gh, y, ...sceneRows(g.gh) }));
      shaking = shakingScore(planes.map(profilesOf));
      // Coarse snow changes the blocks' light, fine snow their texture, colour snow their tint:
      // whichever shows most.
      noise = Math.max(noiseScore(planes), grainScore(per.map((m) => m.grain)), colourSnowScore(per.map((m) => m.colour)));
      bars = rollingBarsScore(planes);
    }
    // An NVR card is a still picture: with several frames, a moving one is not a card.
    const noVideo = n >= 2 && sameSize && still < CARD_MIN_STILL ? 0 : median(per.map((m) => m.noVideo));
    const measures: ReferenceMeasures = {
      version: REFERENCE_VERSION,
      blur: round3(median(per.map((m) => m.blur))),
      brightness: round3(median(per.map((m) => m.brightness))),
      clipped: round3(median(per.map((m) => m.clipped))),
      noise: round3(noise),
      still: round3(frozen),
      flat: round3(median(per.map((m) => m.occluded))),
      stripes: round3(Math.max(median(per.map((m) => m.stripes)), bars)),
      layout: meanLayout(per.map((m) => m.layout)),
      balance: [0, 1, 2, 3, 4, 5].map((i) => round3(median(per.map((m) => m.balance[i])))),
    };
    const scores: Record<PictureFault, number> = {
      'no-video': noVideo,
      black: median(per.map((m) => m.blackLevel)),
      overexposed: measures.clipped,
      frozen,
      'scene-change': reference ? sceneChange(measures.layout, reference.layout) : 0,
      occluded: median(per.map((m) => m.occluded)),
      blurred: measures.blur,
      'colour-cast': median(per.map((m) => m.cast)),
      noise: measures.noise,
      stripes: measures.stripes,
      shaking,
    };
    return { scores, measures };
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** How far one colour balance moved from another: the largest change of one channel's highlight
 * or shadow offset (colour-cast's scales). */
export function balanceShift(a: readonly number[], b: readonly number[]): number {
  let most = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) most = Math.max(most, Math.abs(a[i] - b[i]));
  return most;
}

/** Compares scores with thresholds (and, where the camera has one, with its reference's measures)
 * and applies the hierarchy; faults in PICTURE_FAULTS order. */
export function judge(
  scores: Record<PictureFault, number>,
  thresholds: Partial<DiagnosisThresholds> = {},
  reference?: ReferenceMeasures,
  measures?: ReferenceMeasures,
): PictureFault[] {
  const t = { ...DEFAULT_DIAGNOSIS_THRESHOLDS, ...thresholds };
  const noVideo = scores['no-video'] > 0 && scores['no-video'] >= t.noVideoMinArea;
  const black = !noVideo && scores.black <= t.blackMaxLevel;
  const found = new Set<PictureFault>();
  if (noVideo) found.add('no-video');
  if (black) found.add('black');
  if (!noVideo && !black) {
    // A measure the camera always had is its scene, not a fault: with a reference, the score must
    // also have risen from the reference's by the margin.
    const risen = (score: number, ref: number | undefined, margin: number): boolean => ref === undefined || score - ref >= margin;
    // A dark scene (night, a shaded yard) pushed several times brighter burns out only its lighter
    // parts, yet is as washed out as a day scene gone white: with a reference, a picture far
    // brighter than the camera's own with some of it burnt out is overexposed too.
    const brightened =
      reference !== undefined &&
      measures !== undefined &&
      measures.brightness - reference.brightness >= t.overexposedMinBrighten &&
      scores.overexposed >= BRIGHTENED_MIN_CLIPPED;
    const overexposed = (scores.overexposed >= t.overexposedMinArea && risen(scores.overexposed, reference?.clipped, t.overexposedMinRise)) || brightened;
    if (overexposed) found.add('overexposed');
    // A camera whose own normal picture stands as still (an empty room, no clock) cannot be told
    // from a frozen one by a few seconds of it: with such a reference frozen is not judged.
    // A picture burnt out to white is as trivially still as a black one.
    const judgeFrozen = !overexposed && (!reference || reference.still < t.frozenMinStillArea);
    if (judgeFrozen && scores.frozen > 0 && scores.frozen >= t.frozenMinStillArea) found.add('frozen');
    if (scores.blurred > 0 && scores.blurred >= t.blurredMinBlur && risen(scores.blurred, reference?.blur, t.blurredMinRise)) found.add('blurred');
    // A blurred picture is flat almost everywhere: its flat regions are an occlusion only when
    // they cover nearly all of it (a covered lens), not when they are the blur itself.
    const blurred = found.has('blurred');
    // A burnt-out picture is flat white: that is the overexposure, not something over the lens.
    // A sky or a fog bank is a flat region of the scene itself: with a reference, the flat region
    // must also have grown by the margin.
    const occludedArea = blurred ? Math.max(t.occludedMinArea, OCCLUDED_WHEN_BLURRED) : t.occludedMinArea;
    if (!overexposed && scores.occluded > 0 && scores.occluded >= occludedArea && risen(scores.occluded, reference?.flat, t.occludedMinRise))
      found.add('occluded');
    // An occluder or a burnt-out picture changes the layout without the camera moving.
    if (!found.has('occluded') && !overexposed && scores['scene-change'] >= t.sceneChangeMin) found.add('scene-change');
    // A scene of one colour (sky, grass, a sunset) has its own balance: with a reference, the
    // balance must also have moved from the reference's.
    const castMoved = !reference || !measures || balanceShift(measures.balance, reference.balance) >= t.castMinShift;
    // An occluder's own colour, or another scene's (the camera was turned), is not the camera's
    // colour balance gone wrong: occluded and scene-change suppress colour-cast.
    const castHidden = found.has('occluded') || found.has('scene-change');
    if (!castHidden && scores['colour-cast'] > 0 && scores['colour-cast'] >= t.castMinImbalance && castMoved) found.add('colour-cast');
    // Lines rolling through the picture move it and change it everywhere: that is the stripes.
    const stripes = scores.stripes >= t.stripesMinAmplitude && risen(scores.stripes, reference?.stripes, t.stripesMinRise);
    if (stripes) found.add('stripes');
    const shaking = !found.has('frozen') && !stripes && scores.shaking >= t.shakingMinShift;
    // A shaking picture changes everywhere every frame too: that is the shaking, not noise. The
    // gain that burns a picture out also lifts the sensor's own grain: that is the overexposure.
    if (!shaking && !stripes && !overexposed && scores.noise >= t.noiseMinLevel && risen(scores.noise, reference?.noise, t.noiseMinRise)) found.add('noise');
    if (shaking) found.add('shaking');
  }
  return PICTURE_FAULTS.filter((f) => found.has(f));
}

/** A probe's frames, all at once or analysed as they came. */
type ProbeFrames = readonly Frame[] | ProbeAnalysis;

const scoresOf = (frames: ProbeFrames, reference?: ReferenceMeasures): ReturnType<typeof pictureScores> =>
  frames instanceof ProbeAnalysis ? frames.scores(reference) : pictureScores(frames, reference);

/** Diagnoses the frames of one picture probe (one frame is fine: frozen and shaking are then not
 * judged), against the camera's reference when it has one (scene-change is judged only then). */
export function diagnose(frames: ProbeFrames, thresholds: Partial<DiagnosisThresholds> = {}, reference?: ReferenceMeasures): Diagnosis {
  const { scores, measures } = scoresOf(frames, reference);
  return { faults: judge(scores, thresholds, reference, measures), scores, measures };
}

/** Diagnoses the frames of a probe whose picture becomes the camera's reference (a renewal: the
 * installer says it is right): judged against its own measures, so only what is wrong whatever
 * the camera's normal remains (black, frozen, …). Its scene-change against itself is 0. */
export function diagnoseAsReference(frames: ProbeFrames, thresholds: Partial<DiagnosisThresholds> = {}): Diagnosis {
  const { scores, measures } = scoresOf(frames);
  return { faults: judge(scores, thresholds, measures, measures), scores, measures };
}
