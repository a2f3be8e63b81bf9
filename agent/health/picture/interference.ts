// Noise (snow) and stripes (interference) on the scene's luma. Pure.
//
// Noise: see noiseScore.
//
// Stripes: interference on a cable or a bad ground adds a pattern of lines or bars that is the
// same all across the picture. A scene's rows differ from each other in no regular way; the
// pattern makes the profile of row means (horizontal lines, rolling bars) or of column means
// (vertical lines) a sine wave. The profiles are taken in strips (a slightly tilted pattern stays
// in phase across a strip), their spectra averaged, and a stripe is a spectral line that stands
// far above its neighbours. The codec's block grid (4, 8 and 16 px) makes lines of its own and is
// left out.
import type { LumaPlane } from './luma';
import { median } from './median';

/** Noise blocks: this many samples of the sampling grid across (16 px at 640 × 360). */
const NOISE_BLOCK = 8;

/** Block means and standard deviations of the scene rows of a (grid) luma plane. */
function blockStats(p: LumaPlane): { mean: Float64Array; std: Float64Array } {
  const bx = Math.floor(p.width / NOISE_BLOCK);
  const by = Math.floor((p.bottom - p.top) / NOISE_BLOCK);
  const mean = new Float64Array(bx * by);
  const std = new Float64Array(bx * by);
  const n = NOISE_BLOCK * NOISE_BLOCK;
  for (let j = 0; j < by; j++) {
    for (let i = 0; i < bx; i++) {
      let sum = 0;
      let sq = 0;
      for (let y = p.top + j * NOISE_BLOCK, ye = y + NOISE_BLOCK; y < ye; y++) {
        for (let k = y * p.width + i * NOISE_BLOCK, ke = k + NOISE_BLOCK; k < ke; k++) {
          const v = p.y[k];
          sum += v;
          sq += v * v;
        }
      }
      const m = sum / n;
      mean[j * bx + i] = m;
      std[j * bx + i] = Math.sqrt(Math.max(0, sq / n - m * m));
    }
  }
  return { mean, std };
}

/**
 * Noise (snow) score, luma levels: how much the picture's 16 px blocks change between consecutive
 * frames beyond what they change together — the median absolute deviation of the blocks' change
 * of mean, over the flatter half of the blocks, median over the frame pairs (0 with one frame).
 * The encoder smooths fine sensor grain away (a sub stream's snow arrives as blotches of colour
 * and light), so noise is judged where it still shows: blotches that come and go every frame. A
 * scene stands still in most blocks (people and cars move through a few), a change of exposure
 * moves all blocks alike, sensor noise averages out in a block's mean, and a camera trembling by
 * a pixel changes the means of detailed blocks only (the flat ones are judged).
 */
export function noiseScore(planes: readonly LumaPlane[]): number {
  if (planes.length < 2) return 0;
  const stats = planes.map(blockStats);
  const pairs: number[] = [];
  for (let k = 1; k < stats.length; k++) {
    const a = stats[k - 1];
    const b = stats[k];
    const flatness = median(Array.from(a.std));
    const change: number[] = [];
    for (let i = 0; i < a.mean.length; i++) if (a.std[i] <= flatness) change.push(b.mean[i] - a.mean[i]);
    const common = median(change);
    pairs.push(median(change.map((c) => Math.abs(c - common))));
  }
  return median(pairs);
}

/** Grain blocks: this many pixels across, at full resolution; every GRAIN_ROW_STEP-th row. */
const GRAIN_BLOCK = 16;
const GRAIN_ROW_STEP = 4;

/** Per 16 px block of a full-resolution luma plane's scene rows: its standard deviation and its
 * fine texture (mean absolute step between neighbouring pixels), on every 4th row (snow is new in
 * every row; a quarter of them is enough, and cheap). */
export interface GrainBlocks {
  std: Float64Array;
  step: Float64Array;
}

export function grainBlocks(p: LumaPlane): GrainBlocks {
  const bx = Math.floor((p.width - 1) / GRAIN_BLOCK);
  const by = Math.floor((p.bottom - p.top) / GRAIN_BLOCK);
  const std = new Float64Array(bx * by);
  const step = new Float64Array(bx * by);
  const y = p.y;
  const n = (GRAIN_BLOCK / GRAIN_ROW_STEP) * GRAIN_BLOCK;
  for (let j = 0; j < by; j++) {
    const r0 = p.top + j * GRAIN_BLOCK;
    for (let i = 0; i < bx; i++) {
      let sum = 0;
      let sq = 0;
      let st = 0;
      for (let r = r0; r < r0 + GRAIN_BLOCK; r += GRAIN_ROW_STEP) {
        for (let k = r * p.width + i * GRAIN_BLOCK, ke = k + GRAIN_BLOCK; k < ke; k++) {
          const v = y[k];
          sum += v;
          sq += v * v;
          const d = v - y[k + 1];
          st += d < 0 ? -d : d;
        }
      }
      const m = sum / n;
      std[j * bx + i] = Math.sqrt(Math.max(0, sq / n - m * m));
      step[j * bx + i] = st / n;
    }
  }
  return { std, step };
}

/**
 * Fine snow (grain of 1–2 px) that a block's mean averages away: how much the fine texture of the
 * flatter half of the 16 px blocks changes between frames beyond what it changes everywhere — the
 * median absolute deviation of the blocks' change of mean step between neighbouring pixels, luma
 * levels, median over the frame pairs (full-resolution planes of a few frames; 0 with one). A
 * sub stream's encoder codes such snow in some blocks and smooths it away in others, differently
 * every frame, so a flat wall's texture comes and goes; a scene's own texture stays (a keyframe
 * sharpening it changes every block alike), and a camera trembling by a pixel leaves a flat
 * block's texture as it was.
 */
export function grainScore(blocks: readonly GrainBlocks[]): number {
  if (blocks.length < 2) return 0;
  const pairs: number[] = [];
  for (let k = 1; k < blocks.length; k++) {
    const a = blocks[k - 1];
    const b = blocks[k];
    const flatness = median(a.std);
    const change: number[] = [];
    for (let i = 0; i < a.std.length; i++) if (a.std[i] <= flatness) change.push(b.step[i] - a.step[i]);
    const common = median(change);
    pairs.push(median(change.map((c) => Math.abs(c - common))));
  }
  return median(pairs);
}

/** Colour of a frame's blocks (the diagnosis' sampling-grid blocks of the scene rows): each
 * block's luma standard deviation and its mean R − G and B − G. */
export interface ColourBlocks {
  std: Float64Array;
  /** Mean luma. */
  y: Float64Array;
  rg: Float64Array;
  bg: Float64Array;
}

/** Colour snow: only blocks whose light changed at most this much (luma levels, beyond the whole
 * picture's change) count: a scene that moves (a pan, colour bars scrolling, a car) changes a
 * block's light with its tint; snow changes the tint of blocks whose light stays. */
const COLOUR_SNOW_STEADY_LIGHT = 4;

/** Colour snow is counted at this fraction of its change of R − G and B − G: the scale on which
 * it compares with the luma measures (normal pictures of the field-like set's tuning part change
 * their blocks' colour by up to 2 levels, snow by 3.8 and more). */
const COLOUR_SNOW_SCALE = 1 / 1.5;

/**
 * Colour snow, luma levels (COLOUR_SNOW_SCALE): how much the colour of the flatter half of the
 * blocks changes between frames beyond what it changes everywhere — the median absolute deviation
 * of the blocks' change of mean R − G or B − G (the larger), over those whose light stayed
 * (COLOUR_SNOW_STEADY_LIGHT), median over the frame pairs (0 with one frame, and for a pair where
 * fewer than a quarter of them stayed). A weak or disturbed signal on a colour camera snows in
 * colour: the encoder smooths the grain's light but its colour comes through as blotches of tint
 * that change every frame. A scene keeps its colours where its light stays, a change of exposure
 * or white balance moves every block alike, and sensor noise averages out in a block.
 */
export function colourSnowScore(blocks: readonly ColourBlocks[]): number {
  if (blocks.length < 2) return 0;
  const pairs: number[] = [];
  for (let k = 1; k < blocks.length; k++) {
    const a = blocks[k - 1];
    const b = blocks[k];
    const flatness = median(a.std);
    const light: number[] = [];
    for (let i = 0; i < a.std.length; i++) if (a.std[i] <= flatness) light.push(b.y[i] - a.y[i]);
    const commonLight = median(light);
    const rg: number[] = [];
    const bg: number[] = [];
    for (let i = 0; i < a.std.length; i++) {
      if (a.std[i] > flatness || Math.abs(b.y[i] - a.y[i] - commonLight) > COLOUR_SNOW_STEADY_LIGHT) continue;
      rg.push(b.rg[i] - a.rg[i]);
      bg.push(b.bg[i] - a.bg[i]);
    }
    if (rg.length < light.length / 4) {
      pairs.push(0);
      continue;
    }
    const spread = (c: number[]): number => {
      const common = median(c);
      return median(c.map((v) => Math.abs(v - common)));
    };
    pairs.push(Math.max(spread(rg), spread(bg)) * COLOUR_SNOW_SCALE);
  }
  return median(pairs);
}

/** Strips for the row profile (across) and bands for the column profile (down). */
const ROW_STRIPS = 8;
const COL_BANDS = 3;
/** A spectral line stands out when it is this many times the median of its neighbourhood. */
const LINE_PROMINENCE = 8;
/** Neighbourhood of a line, in bins either side (the line's own two neighbours left out). */
const LINE_NEIGHBOURS = 8;
/** Shortest and longest periods judged, px (at 640 × 360): fine lines to rolling hum bars. */
const MIN_PERIOD = 3;
/** The longest period judged on one frame: a sixth of the profile (longer ones are the scene's
 * own large shapes, or a test card's bars; rolling hum bars are judged by rollingBarsScore). */
const MAX_PERIOD_SHARE = 1 / 6;
/** The codec's block grid periods (px), left out. */
const CODEC_PERIODS = [4, 8, 16];

/** A line with a harmonic (or sub-harmonic) holding this share of its power is not interference. */
const HARMONIC_SHARE = 0.1;
const HARMONICS = [2, 3, 1 / 2, 1 / 3];
const MIN_HARMONIC_BIN = 5;
/** More than this many lines of at least PATTERN_LINE_SHARE of the strongest's amplitude: a pattern. */
const MAX_LINES = 3;
const PATTERN_LINE_SHARE = 0.3;

/** Mean power spectrum of profiles (each of length n, mean removed), bins 0..n/2. */
function meanSpectrum(profiles: readonly Float64Array[], n: number): Float64Array {
  const half = n >> 1;
  const power = new Float64Array(half + 1);
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / n);
    sin[i] = Math.sin((2 * Math.PI * i) / n);
  }
  // The input is real: samples i and n − i share a cosine and have opposite sines, so the
  // transform runs over their sum and difference (half the products). With n even, bin half − k
  // has the cosines and sines of bin k with the odd samples' sign flipped: both bins come from
  // the same four sums (half the products again). The direct transform's cost was the largest of
  // all measures.
  const even = (n & 1) === 0;
  const pairs = even ? half - 1 : half;
  const sum = new Float64Array(pairs + 1);
  const diff = new Float64Array(pairs + 1);
  for (const p of profiles) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += p[i];
    mean /= n;
    const v0 = p[0] - mean;
    const vh = even ? p[half] - mean : 0;
    for (let i = 1; i <= pairs; i++) {
      sum[i] = p[i] - mean + (p[n - i] - mean);
      diff[i] = p[i] - mean - (p[n - i] - mean);
    }
    const last = even ? half >> 1 : half;
    for (let k = even ? 0 : 1; k <= last; k++) {
      let ce = 0;
      let co = 0;
      let se = 0;
      let so = 0;
      const step = (2 * k) % n;
      for (let i = 1, idx = k; i <= pairs; i += 2) {
        co += sum[i] * cos[idx];
        so += diff[i] * sin[idx];
        idx += step;
        if (idx >= n) idx -= n;
      }
      for (let i = 2, idx = step; i <= pairs; i += 2) {
        ce += sum[i] * cos[idx];
        se += diff[i] * sin[idx];
        idx += step;
        if (idx >= n) idx -= n;
      }
      if (k >= 1) {
        const re = v0 + (k & 1 ? -vh : vh) + ce + co;
        const im = se + so;
        power[k] += (re * re + im * im) / profiles.length;
      }
      const k2 = half - k;
      if (even && k2 !== k) {
        const re = v0 + (k2 & 1 ? -vh : vh) + ce - co;
        const im = se - so;
        power[k2] += (re * re + im * im) / profiles.length;
      }
    }
  }
  return power;
}

/** How far bin k stands above the median of its neighbourhood (its own two neighbours left out). */
function prominence(power: Float64Array, k: number, half: number): number {
  const around: number[] = [];
  for (let j = k - LINE_NEIGHBOURS; j <= k + LINE_NEIGHBOURS; j++) {
    if (j < 1 || j > half || Math.abs(j - k) <= 1) continue;
    around.push(power[j]);
  }
  if (around.length < 4) return 0;
  around.sort((x, y) => x - y);
  const floor = around[around.length >> 1];
  return floor > 0 ? power[k] / floor : Infinity;
}

/** Amplitude (levels) of the strongest line that stands out of a spectrum of length-n profiles. */
function strongestLine(power: Float64Array, n: number): number {
  const half = n >> 1;
  const kMin = Math.max(2, Math.ceil(1 / MAX_PERIOD_SHARE));
  const kMax = Math.min(half, Math.floor(n / MIN_PERIOD));
  const codecBins = new Set<number>();
  for (const period of CODEC_PERIODS) {
    const k = Math.round(n / period);
    for (let d = -1; d <= 1; d++) codecBins.add(k + d);
  }
  const lines: number[] = [];
  let best = 0;
  for (let k = kMin; k <= kMax; k++) {
    if (codecBins.has(k)) continue;
    if (power[k] < power[k - 1] || (k < half && power[k] < power[k + 1])) continue;
    if (prominence(power, k, half) < LINE_PROMINENCE) continue;
    // A sine of amplitude A over n samples has |X(k)| = A·n/2.
    const amplitude = (2 * Math.sqrt(power[k])) / n;
    lines.push(amplitude);
    // Interference is close to a sine: a pattern with strong harmonics (a grid of thin lines, the
    // bars of a test card, blinds) is drawn, not induced. Its lines at 2k, 3k (or k/2, k/3: k is
    // itself a harmonic) stand out too, and carry a good share of the power.
    const harmonic = HARMONICS.some((m) => {
      const j = Math.round(k * m);
      // The lowest bins carry the scene's own slope (1/f), not lines.
      if (j < MIN_HARMONIC_BIN || j > half) return false;
      let peak = j;
      for (const c of [j - 1, j + 1]) if (c >= MIN_HARMONIC_BIN && c <= half && power[c] > power[peak]) peak = c;
      return power[peak] > HARMONIC_SHARE * power[k] && prominence(power, peak, half) >= LINE_PROMINENCE;
    });
    if (!harmonic && amplitude > best) best = amplitude;
  }
  // Many lines of similar strength are a drawn pattern (a test card's bars, a fence), not one
  // interfering signal.
  if (lines.filter((a) => a >= PATTERN_LINE_SHARE * best).length > MAX_LINES) return 0;
  return best;
}

/** Stripes score: the amplitude (luma levels) of the strongest regular line pattern across the
 * picture, horizontal or vertical; 0 when none stands out. */
export function stripesScore(p: LumaPlane): number {
  const { width, y, top, bottom } = p;
  const h = bottom - top;
  if (width < 64 || h < 64) return 0;
  // Row profiles, one per vertical strip.
  const stripW = Math.floor(width / ROW_STRIPS);
  const rowProfiles: Float64Array[] = [];
  for (let s = 0; s < ROW_STRIPS; s++) {
    const prof = new Float64Array(h);
    for (let r = 0; r < h; r++) {
      let sum = 0;
      const base = (top + r) * width + s * stripW;
      for (let x = 0; x < stripW; x += 2) sum += y[base + x];
      prof[r] = sum / Math.ceil(stripW / 2);
    }
    rowProfiles.push(prof);
  }
  // Column profiles, one per horizontal band.
  const bandH = Math.floor(h / COL_BANDS);
  const colProfiles: Float64Array[] = [];
  for (let b = 0; b < COL_BANDS; b++) {
    const prof = new Float64Array(width);
    for (let r = top + b * bandH; r < top + (b + 1) * bandH; r += 2) {
      const base = r * width;
      for (let x = 0; x < width; x++) prof[x] += y[base + x];
    }
    const rows = Math.ceil(bandH / 2);
    for (let x = 0; x < width; x++) prof[x] /= rows;
    colProfiles.push(prof);
  }
  return Math.max(strongestLine(meanSpectrum(rowProfiles, h), h), strongestLine(meanSpectrum(colProfiles, width), width));
}

/** Rolling bars: periods judged, in rows of the grid plane (60–200 px at 360 high). */
const BAR_MIN_PERIOD_SHARE = 1 / 6;
const BAR_MAX_PERIOD_SHARE = 0.55;
/** A frame-to-frame change of the row profile is a rolling bar when one sine explains this share of it. */
const BAR_MIN_EXPLAINED = 0.6;

/**
 * Rolling hum bars (a ground loop on an analogue link): wide light and dark bands that roll up or
 * down the picture. On one frame they look like the scene's own large shapes; between two frames
 * the scene stays and the bands move, so the change of the row profile is one sine. Score: the
 * bands' amplitude in luma levels (a lower bound), median over the frame pairs; 0 when the change
 * is not one sine (people moving, a change of exposure) or with one frame.
 */
export function rollingBarsScore(planes: readonly LumaPlane[]): number {
  if (planes.length < 2) return 0;
  const profile = (p: LumaPlane): Float64Array => {
    const out = new Float64Array(p.bottom - p.top);
    for (let r = p.top; r < p.bottom; r++) {
      let sum = 0;
      for (let i = r * p.width, end = i + p.width; i < end; i++) sum += p.y[i];
      out[r - p.top] = sum / p.width;
    }
    return out;
  };
  const profiles = planes.map(profile);
  const n = profiles[0].length;
  // The changes between consecutive frames first, then each period's sines once for all of them.
  const changes: Array<{ d: Float64Array; total: number }> = [];
  for (let k = 1; k < profiles.length; k++) {
    const d = new Float64Array(n);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += d[i] = profiles[k][i] - profiles[k - 1][i];
    mean /= n;
    let total = 0;
    for (let i = 0; i < n; i++) total += (d[i] -= mean) ** 2;
    if (total > 0) changes.push({ d, total });
  }
  const best = new Float64Array(changes.length);
  if (changes.length > 0) {
    const cp = new Float64Array(n);
    const sp = new Float64Array(n);
    for (let period = Math.round(n * BAR_MIN_PERIOD_SHARE); period <= Math.round(n * BAR_MAX_PERIOD_SHARE); period++) {
      for (let i = 0; i < n; i++) {
        const a = (2 * Math.PI * i) / period;
        cp[i] = Math.cos(a);
        sp[i] = Math.sin(a);
      }
      for (let j = 0; j < changes.length; j++) {
        const { d, total } = changes[j];
        let c = 0;
        let s = 0;
        for (let i = 0; i < n; i++) {
          c += d[i] * cp[i];
          s += d[i] * sp[i];
        }
        const explained = (2 * (c * c + s * s)) / n / total;
        if (explained >= BAR_MIN_EXPLAINED) best[j] = Math.max(best[j], Math.sqrt(c * c + s * s) / n);
      }
    }
  }
  // A pair whose profiles did not change at all scores 0.
  const scores = [...best, ...new Array<number>(profiles.length - 1 - changes.length).fill(0)];
  return median(scores);
}
