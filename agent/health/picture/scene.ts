// The picture's layout and whether it still shows the camera's scene. Pure.
//
// The layout is the scene's luma averaged over LAYOUT_COLS × LAYOUT_ROWS blocks (OSD bands left
// out): coarse enough that defocus, sensor noise, compression and people walking through barely
// move it, fine enough that a camera turned by a few degrees or moved does. Two layouts are
// compared by normalised cross-correlation, which ignores gain and offset (dusk, night, haze, an
// IR lamp lighting the scene flat), at the best of a few block shifts (the pole sways, the camera
// was re-mounted a little).
import type { LumaPlane } from './luma';

export const LAYOUT_COLS = 32;
export const LAYOUT_ROWS = 14;
/** Shifts tried when comparing, in blocks (a block is 20 px across at 640 wide). */
const SHIFT_X = 2;
const SHIFT_Y = 1;
/** A layout flatter than this (standard deviation of its block means, levels) has no scene to compare. */
const MIN_LAYOUT_STD = 2;

/** Block means of the scene rows of a luma plane (or of the diagnosis's sampling grid: the same
 * means), rounded to 0.1 level: the stored form. */
export function layoutOf(p: LumaPlane): number[] {
  const out = new Array<number>(LAYOUT_COLS * LAYOUT_ROWS).fill(0);
  const h = p.bottom - p.top;
  const sums = new Float64Array(LAYOUT_COLS * LAYOUT_ROWS);
  const counts = new Uint32Array(LAYOUT_COLS * LAYOUT_ROWS);
  // Every second sample of every second row: a block's mean does not need more.
  for (let row = p.top; row < p.bottom; row += 2) {
    const by = Math.min(LAYOUT_ROWS - 1, Math.floor(((row - p.top) * LAYOUT_ROWS) / h));
    const base = row * p.width;
    for (let x = 0; x < p.width; x += 2) {
      const b = by * LAYOUT_COLS + Math.min(LAYOUT_COLS - 1, Math.floor((x * LAYOUT_COLS) / p.width));
      sums[b] += p.y[base + x];
      counts[b]++;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = counts[i] ? Math.round((sums[i] / counts[i]) * 10) / 10 : 0;
  return out;
}

/** The mean of several layouts (the analysed frames of one probe: people walking through fade). */
export function meanLayout(layouts: readonly number[][]): number[] {
  const out = new Array<number>(LAYOUT_COLS * LAYOUT_ROWS).fill(0);
  for (const l of layouts) for (let i = 0; i < out.length; i++) out[i] += l[i] / layouts.length;
  return out.map((v) => Math.round(v * 10) / 10);
}

function std(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / values.length);
}

/** Normalised cross-correlation of a and b where a is shifted by (dx, dy) blocks; over the overlap. */
function ncc(a: readonly number[], b: readonly number[], dx: number, dy: number): number {
  let n = 0;
  let sa = 0;
  let sb = 0;
  for (let y = Math.max(0, -dy); y < Math.min(LAYOUT_ROWS, LAYOUT_ROWS - dy); y++) {
    for (let x = Math.max(0, -dx); x < Math.min(LAYOUT_COLS, LAYOUT_COLS - dx); x++) {
      sa += a[(y + dy) * LAYOUT_COLS + x + dx];
      sb += b[y * LAYOUT_COLS + x];
      n++;
    }
  }
  const ma = sa / n;
  const mb = sb / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let y = Math.max(0, -dy); y < Math.min(LAYOUT_ROWS, LAYOUT_ROWS - dy); y++) {
    for (let x = Math.max(0, -dx); x < Math.min(LAYOUT_COLS, LAYOUT_COLS - dx); x++) {
      const va = a[(y + dy) * LAYOUT_COLS + x + dx] - ma;
      const vb = b[y * LAYOUT_COLS + x] - mb;
      ab += va * vb;
      aa += va * va;
      bb += vb * vb;
    }
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * How far a layout is from the reference's: 1 − the best normalised cross-correlation over the
 * shifts tried, clamped to 0..1 (0 = the same scene; an unrelated scene scores ~0.6–1). 0 when
 * either layout is too flat to say (a black or grey picture: other checks speak for it).
 */
export function sceneChange(layout: readonly number[], reference: readonly number[]): number {
  if (layout.length !== reference.length || std(layout) < MIN_LAYOUT_STD || std(reference) < MIN_LAYOUT_STD) return 0;
  let best = -1;
  for (let dy = -SHIFT_Y; dy <= SHIFT_Y; dy++) for (let dx = -SHIFT_X; dx <= SHIFT_X; dx++) best = Math.max(best, ncc(layout, reference, dx, dy));
  return Math.min(1, Math.max(0, 1 - best));
}
