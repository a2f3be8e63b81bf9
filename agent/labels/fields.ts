// Parsing and checking of single label values as people type them (flags, CSV cells, YAML
// scalars). Every problem says what is wrong and how to fix it. Pure.
import type { CameraClass, CameraLabels, LabelField } from '../inventory/types';
import { parseRegion } from './region';
import { trimEndChar } from '../../lib/text';

/** Column names in import/export files, in file order. */
export const FILE_COLUMN: Record<LabelField, string> = {
  name: 'name',
  class: 'class',
  latitude: 'latitude',
  longitude: 'longitude',
  region: 'region',
  owner: 'owner',
  notes: 'notes',
  installDate: 'install_date',
};

/** Flags of `camgate cameras set`. */
export const FLAG: Record<LabelField, string> = {
  name: '--name',
  class: '--class',
  latitude: '--lat',
  longitude: '--lon',
  region: '--region',
  owner: '--owner',
  notes: '--notes',
  installDate: '--install-date',
};

export const NAME_MAX = 100;
export const OWNER_MAX = 200;
export const NOTES_MAX = 2000;
export const REGION_PART_MAX = 64;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const bad = (problem: string): ParseResult<never> => ({ ok: false, problem });

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

function parseCoordinate(text: string, limit: number, example: string): ParseResult<number> {
  const expected = `must be a number from -${limit} to ${limit} in decimal degrees, e.g. ${example}`;
  if (/^[+-]?\d+,\d+$/.test(text)) return bad(`${expected} (use a dot as the decimal separator)`);
  if (/[°'"′″NSEW]/i.test(text)) return bad(`${expected} (convert degrees/minutes/seconds to decimal degrees)`);
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/.test(text)) return bad(expected);
  const value = Number(text);
  if (!Number.isFinite(value) || Math.abs(value) > limit) return bad(expected);
  // -0 would export as "0" and compare unequal on the next import.
  return ok(value === 0 ? 0 : value);
}

function isCalendarDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function parseDate(text: string): ParseResult<string> {
  const expected = 'must be a date as YYYY-MM-DD, e.g. 2024-05-01';
  // Spreadsheets rewrite 2024-05-01 as 2024/5/1 when a CSV is saved: accept that too.
  const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/.exec(text);
  if (!m) return bad(expected);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!isCalendarDate(y, mo, d)) return bad(`${expected} (${text} is not a calendar date)`);
  if (y < 1990 || y > 2100) return bad(`${expected} (year ${y} is out of range)`);
  return ok(`${m[1]}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
}

function parseText(text: string, max: number, multiline: boolean): ParseResult<string> {
  if (text.length > max) return bad(`is ${text.length} characters long; at most ${max}`);
  if (CONTROL.test(text)) return bad('contains control characters; remove them');
  if (!multiline && /[\r\n]/.test(text)) return bad('must be a single line');
  return ok(text);
}

/**
 * Parses one label from text. null or blank means "clear this label".
 * The returned value is what goes into the ledger.
 */
export function parseLabel<F extends LabelField>(field: F, raw: string | null): ParseResult<CameraLabels[F]> {
  if (raw === null || raw.trim() === '') return ok(null);
  const text = raw.trim();
  const r = (v: ParseResult<unknown>) => v as ParseResult<CameraLabels[F]>;
  switch (field) {
    case 'name':
      return r(parseText(text, NAME_MAX, false));
    case 'class':
      if (/^[123]$/.test(text)) return r(ok(Number(text) as CameraClass));
      return r(bad('must be 1, 2 or 3 (1 = key public areas, 2 = important industry sites, 3 = social units and residential compounds)'));
    case 'latitude':
      return r(parseCoordinate(text, 90, '30.2741'));
    case 'longitude':
      return r(parseCoordinate(text, 180, '120.1551'));
    case 'region': {
      const parsed = parseRegion(text);
      if (parsed.error) return r(bad(`${parsed.error}; write it as province/city/county/township/village`));
      const long = Object.values(parsed.parts!).find((p) => p !== null && p.length > REGION_PART_MAX);
      if (long) return r(bad(`level "${long.slice(0, 20)}..." is longer than ${REGION_PART_MAX} characters`));
      if (CONTROL.test(text) || /[\r\n]/.test(text)) return r(bad('must be a single line without control characters'));
      // Normalised form: spaces around "/" dropped, trailing empty levels removed.
      const normal = trimEndChar(
        text
          .split('/')
          .map((s) => s.trim())
          .join('/'),
        '/',
      );
      return r(ok(normal === '' ? null : normal));
    }
    case 'owner':
      return r(parseText(text, OWNER_MAX, false));
    case 'notes':
      return r(parseText(text, NOTES_MAX, true));
    case 'installDate':
      return r(parseDate(text));
  }
  return r(bad('is not a label'));
}

/** Formats a label for files and tables: the exact inverse of parseLabel. */
export function formatLabel(value: CameraLabels[LabelField]): string {
  return value === null || value === undefined ? '' : String(value);
}
