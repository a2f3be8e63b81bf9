// A camera's reference picture in stored form: checking one read back from the database. Pure.
// What the measures mean: ReferenceMeasures (../types.ts); how they are compared: diagnose.ts.
import type { ReferenceMeasures } from '../types';
import { LAYOUT_COLS, LAYOUT_ROWS } from './scene';

/** Raised whenever what a measure means changes: references of another version are retaken. */
export const REFERENCE_VERSION = 2;

const NUMBER_FIELDS = ['blur', 'brightness', 'clipped', 'noise', 'stripes', 'still', 'flat'] as const;

/**
 * A stored reference's measures, or why it cannot be used (another version, damaged): the caller
 * then takes a new reference from the next good probe and says so.
 */
export function parseReference(value: unknown): { ok: true; measures: ReferenceMeasures } | { ok: false; why: string } {
  if (typeof value !== 'object' || value === null) return { ok: false, why: 'not an object' };
  const v = value as Record<string, unknown>;
  if (v.version !== REFERENCE_VERSION) return { ok: false, why: `made by another version of the diagnosis (${String(v.version)}, now ${REFERENCE_VERSION})` };
  for (const k of NUMBER_FIELDS) {
    if (typeof v[k] !== 'number' || !Number.isFinite(v[k])) return { ok: false, why: `${k} is not a number` };
  }
  const layout = v.layout;
  if (!Array.isArray(layout) || layout.length !== LAYOUT_COLS * LAYOUT_ROWS || !layout.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    return { ok: false, why: `layout is not ${LAYOUT_COLS * LAYOUT_ROWS} numbers` };
  }
  const balance = v.balance;
  if (!Array.isArray(balance) || balance.length !== 6 || !balance.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    return { ok: false, why: 'balance is not 6 numbers' };
  }
  return {
    ok: true,
    measures: {
      version: REFERENCE_VERSION,
      blur: v.blur as number,
      brightness: v.brightness as number,
      clipped: v.clipped as number,
      noise: v.noise as number,
      stripes: v.stripes as number,
      still: v.still as number,
      flat: v.flat as number,
      layout: layout as number[],
      balance: balance as number[],
    },
  };
}
