// Text that comes from outside (MQTT commands, devices, files people edit): bounded before it is
// echoed into a reply or a log line, and decoded as UTF-8 only when it is UTF-8.
import { isUtf8 } from 'node:buffer';

const ELLIPSIS = '…';

/**
 * `text` cut to at most `max` characters (UTF-16 units), ending in "…" and saying how much was
 * left out when it was cut; never splits a surrogate pair. For echoing outside text into replies
 * and logs, where one sender must not be able to make a line of megabytes.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `${ELLIPSIS} (${text.length - max} more characters)`;
  let end = Math.max(0, max - note.length);
  // A high surrogate at the cut would leave half a character.
  if (end > 0 && /[\uD800-\uDBFF]/.test(text[end - 1])) end--;
  return text.slice(0, end) + note;
}

/** Where a byte sequence stops being UTF-8: 1-based line and column (in bytes) and the byte. */
export interface Utf8Problem {
  offset: number;
  line: number;
  column: number;
  byte: number;
}

/** Length of the valid UTF-8 sequence at `i`, or 0 when the bytes there are not UTF-8 (overlong
 * forms, surrogates and code points above U+10FFFF included). */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i];
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < bytes.length && bytes[i + k] >= lo && bytes[i + k] <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** The first place `bytes` is not UTF-8, or undefined when all of it is. */
export function findInvalidUtf8(bytes: Uint8Array): Utf8Problem | undefined {
  if (isUtf8(bytes)) return undefined;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < bytes.length;) {
    const n = sequenceLength(bytes, i);
    if (n === 0) return { offset: i, line, column: i - lineStart + 1, byte: bytes[i] };
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
    i += n;
  }
  return undefined;
}

/**
 * The text of `bytes` when they are UTF-8 (a leading byte order mark dropped), else the first
 * problem. Never substitutes U+FFFD: a file in another encoding (GBK, Latin-1) is refused, not
 * silently garbled.
 */
export function decodeUtf8(bytes: Uint8Array): { ok: true; text: string } | { ok: false; problem: Utf8Problem } {
  const problem = findInvalidUtf8(bytes);
  if (problem) return { ok: false, problem };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return { ok: true, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
}

/** "byte 0xE9 at column 12" */
export function describeUtf8Problem(p: Utf8Problem): string {
  return `byte 0x${p.byte.toString(16).toUpperCase().padStart(2, '0')} at column ${p.column} is not UTF-8`;
}
