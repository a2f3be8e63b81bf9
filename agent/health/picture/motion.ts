// Shaking: how the whole picture moves between the probe's frames. Pure.
//
// Global motion by integral projections (the column and row means of the scene's luma, as video
// stabilisers estimate it cheaply): a camera that moves shifts every column of its picture by the
// same amount, so the column profile of one frame matches the next one's at that shift. The
// profiles are taken in three bands (columns) and three strips (rows) apart: a camera movement
// moves them all alike, people or cars moving through (or a test card's moving parts) do not,
// and a pair of frames whose parts disagree is not counted as a movement of the camera.
import type { LumaPlane } from './luma';
import { median } from './median';

const PARTS = 3;
/** Parts agree on a movement when their shifts are within this many pixels (at 640 wide). */
const AGREEMENT_PX = 2;

export interface Profiles {
  /** Per horizontal band of the scene: the mean luma of each column. */
  cols: Float64Array[];
  /** Per vertical strip: the mean luma of each scene row. */
  rows: Float64Array[];
}

/** Column and row profiles of three bands and three strips of one frame's luma, on the sampling
 * grid the diagnosis keeps anyway (every second pixel of every second row at 640 × 360: a shaking
 * camera moves by several pixels, 2 px steps do). */
export function profilesOf(luma: LumaPlane): Profiles {
  const { width, top, bottom, y } = luma;
  const h = bottom - top;
  const cols = Array.from({ length: PARTS }, () => new Float64Array(width));
  const rows = Array.from({ length: PARTS }, () => new Float64Array(h));
  const counts = new Uint32Array(PARTS);
  // Strip s is columns [edge[s], edge[s + 1]).
  const edge = new Uint32Array(PARTS + 1);
  for (let s = 0; s <= PARTS; s++) edge[s] = s === PARTS ? width : Math.ceil((s * width) / PARTS);
  for (let r = 0; r < h; r++) {
    const band = Math.min(PARTS - 1, Math.floor((r * PARTS) / h));
    const col = cols[band];
    const base = (top + r) * width;
    for (let s = 0; s < PARTS; s++) {
      let sum = 0;
      for (let x = edge[s], end = edge[s + 1]; x < end; x++) {
        const l = y[base + x];
        col[x] += l;
        sum += l;
      }
      rows[s][r] = sum / (edge[s + 1] - edge[s]);
    }
    counts[band]++;
  }
  for (let b = 0; b < PARTS; b++) for (let x = 0; x < width; x++) cols[b][x] /= Math.max(1, counts[b]);
  return { cols, rows };
}

/** The shift s (|s| ≤ range) at which b[i + s] best matches a[i] (least mean absolute difference,
 * each profile's mean removed: a change of exposure is not a movement). */
function bestShift(a: Float64Array, b: Float64Array, range: number): number {
  const n = a.length;
  if (n <= 2 * range + 8) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let best = 0;
  let bestCost = Infinity;
  for (let s = -range; s <= range; s++) {
    let cost = 0;
    for (let i = range; i < n - range; i++) {
      // Math.abs: no branch to mispredict.
      cost += Math.abs(a[i] - ma - (b[i + s] - mb));
    }
    // Ties (a flat picture) go to the smallest movement.
    if (cost < bestCost - 1e-9 || (Math.abs(cost - bestCost) <= 1e-9 && Math.abs(s) < Math.abs(best))) {
      bestCost = cost;
      best = s;
    }
  }
  return best;
}

/** The shift all parts agree on (their median); or, when one part alone disagrees (people or
 * cars moving through it, a flat sky that matches anywhere), the mean of the two that agree; null
 * when no two agree (local motion everywhere). */
function agreedShift(a: readonly Float64Array[], b: readonly Float64Array[], range: number, tolerance: number): number | null {
  const shifts = a.map((p, i) => bestShift(p, b[i], range)).sort((x, y) => x - y);
  if (shifts[shifts.length - 1] - shifts[0] <= tolerance) return shifts[shifts.length >> 1];
  if (shifts.length !== 3) return null;
  const low = shifts[1] - shifts[0];
  const high = shifts[2] - shifts[1];
  if (Math.min(low, high) > tolerance) return null;
  return low <= high ? (shifts[0] + shifts[1]) / 2 : (shifts[1] + shifts[2]) / 2;
}

/**
 * Shaking score: how irregularly the whole picture moves, in pixels at 640 wide: the median, over
 * consecutive frame-to-frame movements of the camera, of how much the movement changed (0 with
 * fewer than 3 frames, or when no two consecutive movements are the camera's). A shaking camera's
 * picture jumps one way, then another; a steady pan (a PTZ camera on its tour, a scrolling test
 * card) moves the same amount every time and scores ~0.
 */
export function shakingScore(profiles: readonly Profiles[]): number {
  if (profiles.length < 3) return 0;
  // The profiles may be of a sampling grid: a step is (width / their length) px of the frame.
  const scale = 640 / profiles[0].cols[0].length;
  const rangeX = Math.max(4, Math.round(profiles[0].cols[0].length / 16));
  const rangeY = Math.max(3, Math.round(profiles[0].rows[0].length / 8));
  const tolerance = Math.max(1, Math.round(AGREEMENT_PX / scale));
  const moves: Array<[number, number] | null> = [];
  for (let k = 1; k < profiles.length; k++) {
    const dx = agreedShift(profiles[k - 1].cols, profiles[k].cols, rangeX, tolerance);
    const dy = agreedShift(profiles[k - 1].rows, profiles[k].rows, rangeY, tolerance);
    moves.push(dx === null || dy === null ? null : [dx, dy]);
  }
  const jerks: number[] = [];
  for (let k = 1; k < moves.length; k++) {
    const a = moves[k - 1];
    const b = moves[k];
    if (a && b) jerks.push(Math.hypot(b[0] - a[0], b[1] - a[1]) * scale);
  }
  return median(jerks);
}
