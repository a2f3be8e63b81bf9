// Applying a label patch to current labels, and finding what actually changes. Pure.
import type { CameraLabels, LabelField, LabelPatch } from '../inventory/types';

export const LABEL_FIELDS: LabelField[] = ['name', 'class', 'latitude', 'longitude', 'region', 'owner', 'notes', 'installDate'];

export function labelsOf(source: CameraLabels): CameraLabels {
  const out = {} as Record<LabelField, unknown>;
  for (const f of LABEL_FIELDS) out[f] = source[f] ?? null;
  return out as unknown as CameraLabels;
}

export function applyPatch(current: CameraLabels, patch: LabelPatch): CameraLabels {
  const next = labelsOf(current) as unknown as Record<LabelField, unknown>;
  for (const f of LABEL_FIELDS) if (patch[f] !== undefined) next[f] = patch[f];
  return next as unknown as CameraLabels;
}

/** Only the fields of `patch` that differ from `current`. */
export function changedFields(current: CameraLabels, patch: LabelPatch): LabelPatch {
  const out: Record<string, unknown> = {};
  for (const f of LABEL_FIELDS) {
    if (patch[f] !== undefined && patch[f] !== (current[f] ?? null)) out[f] = patch[f];
  }
  return out;
}
