// When a picture probe gives a camera its reference (docs/health.md, Reference). Pure: the probe's
// result and what the camera has in, the reference to keep (or none) out.
import type { PictureReference, PictureResult } from './types';

/**
 * The reference this probe gives the camera, or null: a renewal asked for takes the probe's
 * picture whatever it shows (the installer says it is right: origin command); a camera without a
 * reference takes its first picture in which the diagnosis found no fault (origin
 * first-good-probe, to be confirmed by the installer). A probe without a picture gives none.
 */
export function referenceFromProbe(result: PictureResult, at: number, camera: { hasReference: boolean; renewRequested: boolean }): PictureReference | null {
  if (!result.ok || !result.diagnosis) return null;
  const takenAt = new Date(at).toISOString();
  if (camera.renewRequested) return { measures: result.diagnosis.measures, takenAt, origin: 'command' };
  if (!camera.hasReference && result.diagnosis.faults.length === 0) return { measures: result.diagnosis.measures, takenAt, origin: 'first-good-probe' };
  return null;
}
