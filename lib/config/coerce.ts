// Turns the strings of environment variables and flags into typed values, guided by the
// schema. A string that does not convert is returned unchanged, so validation reports it
// with the exact value the user gave ("abc") instead of a silently mangled NaN.
import type { ConfigKey } from './keys';

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** "a,b" and ["a", "b,c"] → ["a", "b", "c"]; blanks dropped. */
export function splitList(raw: string | string[]): string[] {
  const parts = Array.isArray(raw) ? raw : [raw];
  return parts
    .flatMap((p) => p.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function coerceString(key: ConfigKey, raw: string | string[] | boolean): unknown {
  if (typeof raw === 'boolean') return key.type === 'boolean' ? raw : String(raw);
  if (key.type === 'array') return splitList(raw);
  const text = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  switch (key.type) {
    case 'integer':
      return /^\s*-?\d+\s*$/.test(text) ? Number(text) : text;
    case 'number':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'boolean': {
      const word = text.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return text;
    }
    default:
      return text;
  }
}
