// Noise (snow) and stripes (interference) on the scene's luma. Pure.
//
// Noise: Immerkær's fast noise estimate (1996) — the mean absolute response of a 3×3 mask that
// cancels every plane and every straight edge — per tile, and the picture's noise is its quieter
// tiles' level: texture raises the response of busy tiles, noise raises all of them.
//
// Stripes: interference on a cable or a bad ground adds a pattern of lines or bars that is the
// same all across the picture. A scene's rows differ from each other in no regular way; the
// pattern makes the profile of row means (horizontal lines, rolling bars) or of column means
// (vertical lines) a sine wave. The profiles are taken in strips (a slightly tilted pattern stays
// in phase across a strip), their spectra averaged, and a stripe is a spectral line that stands
// far above its neighbours. The codec's block grid (4, 8 and 16 px) makes lines of its own and is
// left out.
import type { LumaPlane } from './luma';

const NOISE_TILES_X = 10;
const NOISE_TILES_Y = 6;
/** The picture's noise is this quantile of its tiles' noise (the quieter tiles). */
const NOISE_QUANTILE = 0.25;

/** Noise score: the sensor/cable noise's standard deviation in luma levels (0..). */
export function noiseScore(p: LumaPlane): number {
  const { width, y, top, bottom } = p;
  if (width < 32 || bottom - top < 32) return 0;
  const tw = Math.ceil((width - 2) / NOISE_TILES_X);
  const th = Math.ceil((bottom - top - 2) / NOISE_TILES_Y);
  const nt = NOISE_TILES_X * NOISE_TILES_Y;
  const sum = new Float64Array(nt);
  const cnt = new Float64Array(nt);
  for (let row = top + 1; row < bottom - 1; row += 2) {
    const t0 = (((row - top - 1) / th) | 0) * NOISE_TILES_X;
    const up = (row - 1) * width;
    const mid = row * width;
    const down = (row + 1) * width;
    for (let x = 1; x < width - 1; x++) {
      const v =
        y[up + x - 1] -
        2 * y[up + x] +
        y[up + x + 1] -
        2 * (y[mid + x - 1] - 2 * y[mid + x] + y[mid + x + 1]) +
        y[down + x - 1] -
        2 * y[down + x] +
        y[down + x + 1];
      const t = t0 + (((x - 1) / tw) | 0);
      sum[t] += v < 0 ? -v : v;
      cnt[t]++;
    }
  }
  const sigmas: number[] = [];
  for (let t = 0; t < nt; t++) if (cnt[t] > 0) sigmas.push((Math.sqrt(Math.PI / 2) / 6) * (sum[t] / cnt[t]));
  if (sigmas.length === 0) return 0;
  sigmas.sort((a, b) => a - b);
  return sigmas[Math.min(sigmas.length - 1, Math.floor(sigmas.length * NOISE_QUANTILE))];
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
const MAX_PERIOD_SHARE = 0.5;
/** The codec's block grid periods (px), left out. */
const CODEC_PERIODS = [4, 8, 16];

/** A line with a harmonic (or sub-harmonic) holding this share of its power is not interference. */
const HARMONIC_SHARE = 0.1;
const HARMONICS = [2, 3, 1 / 2, 1 / 3];

/** The largest power within a bin of k (0 outside the spectrum, and for k < 2). */
function bandPower(power: Float64Array, k: number, half: number): number {
  let best = 0;
  for (let j = k - 1; j <= k + 1; j++) if (j >= 2 && j <= half && power[j] > best) best = power[j];
  return best;
}

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
  for (const p of profiles) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += p[i];
    mean /= n;
    for (let k = 1; k <= half; k++) {
      let re = 0;
      let im = 0;
      for (let i = 0, idx = 0; i < n; i++, idx = (idx + k) % n) {
        const v = p[i] - mean;
        re += v * cos[idx];
        im -= v * sin[idx];
      }
      power[k] += (re * re + im * im) / profiles.length;
    }
  }
  return power;
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
  let best = 0;
  for (let k = kMin; k <= kMax; k++) {
    if (codecBins.has(k)) continue;
    if (power[k] < power[k - 1] || (k < half && power[k] < power[k + 1])) continue;
    const around: number[] = [];
    for (let j = k - LINE_NEIGHBOURS; j <= k + LINE_NEIGHBOURS; j++) {
      if (j < 1 || j > half || Math.abs(j - k) <= 1) continue;
      around.push(power[j]);
    }
    if (around.length < 4) continue;
    around.sort((a, b) => a - b);
    const floor = around[around.length >> 1];
    if (power[k] < LINE_PROMINENCE * floor) continue;
    // Interference is close to a sine: a pattern with strong harmonics (a grid of thin lines, the
    // bars of a test card, blinds) is drawn, not induced. Its lines at 2k, 3k (or k/2, k/3: k is
    // itself a harmonic) carry power too.
    if (HARMONICS.some((m) => bandPower(power, Math.round(k * m), half) > HARMONIC_SHARE * power[k])) continue;
    // A sine of amplitude A over n samples has |X(k)| = A·n/2.
    const amplitude = (2 * Math.sqrt(power[k])) / n;
    if (amplitude > best) best = amplitude;
  }
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
