// A picture diagnosis as the probes return one, for tests of what consumes it (state, monitor,
// commands): every fault's score present, the given faults found.
import { PICTURE_FAULTS, type Diagnosis, type PictureFault } from '../../agent/health/types';
import { REFERENCE_VERSION } from '../../agent/health/picture/reference';
import { LAYOUT_COLS, LAYOUT_ROWS } from '../../agent/health/picture/scene';

export function fakeDiagnosis(faults: PictureFault[] = [], scores: Partial<Record<PictureFault, number>> = {}): Diagnosis {
  const all = Object.fromEntries(PICTURE_FAULTS.map((f) => [f, 0])) as Record<PictureFault, number>;
  // A clean picture is bright enough not to be black.
  all.black = 120;
  return {
    faults,
    scores: { ...all, ...scores },
    measures: {
      version: REFERENCE_VERSION,
      blur: scores.blurred ?? 0.15,
      brightness: 110,
      clipped: scores.overexposed ?? 0,
      noise: scores.noise ?? 2,
      stripes: scores.stripes ?? 0,
      still: 0.5,
      flat: 0,
      balance: [0, 0, 0, 0, 0, 0],
      layout: Array.from({ length: LAYOUT_COLS * LAYOUT_ROWS }, (_, i) => 60 + ((i * 37) % 120)),
    },
  };
}
