// Text from outside (MQTT commands, device answers, peers, files people hand us) on its way into
// replies, messages, logs and terminals. The one owner of three rules:
// - bounded: outside text is cut to a fixed size before anything else looks at it (regexes,
//   redaction, formatting), so what follows costs a bounded amount whatever was sent;
// - printable: control characters never reach a terminal raw. C0 (ESC starts every ANSI
//   sequence), DEL and C1 (0x9b is a one-character CSI to many terminals) are shown as \xNN;
// - decoded as UTF-8 only when it is UTF-8 (files in another encoding are refused, not garbled).
import { isUtf8 } from 'node:buffer';

/** How much of one piece of outside text any message keeps ("a few KB"). */
export const OUTSIDE_TEXT_MAX_CHARS = 2048;

/** One device-supplied value as stored and shown (manufacturer, model, profile name, scope...):
 * ONVIF's own limits are 64 characters for names and tokens, so honest values fit many times over. */
export const DEVICE_FIELD_MAX_CHARS = 1024;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROL_BUT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function hex(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

const WORD_END = /[\s"'<>]/;

/**
 * The first `maxChars` characters, never ending in half a surrogate pair, nor in half a URL: a
 * URL cut inside its user:password has lost the "@" by which redaction finds it, so a last word
 * holding "://" is dropped whole.
 */
function head(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const last = text.charCodeAt(maxChars - 1);
  const kept = text.slice(0, last >= 0xd800 && last <= 0xdbff ? maxChars - 1 : maxChars);
  let wordStart = kept.length;
  while (wordStart > 0 && !WORD_END.test(kept[wordStart - 1])) wordStart--;
  return kept.includes('://', wordStart) ? kept.slice(0, wordStart) : kept;
}

const cutNote = (n: number) => `… (${n} more characters cut)`;

/**
 * At most `maxChars` characters of `text`, the note of how much was cut included: one sender must
 * not make a reply or a log line of megabytes. Never ends in half a character or half a URL.
 */
export function clip(text: string, maxChars: number = OUTSIDE_TEXT_MAX_CHARS): string {
  if (text.length <= maxChars) return text;
  const kept = head(text, Math.max(0, maxChars - cutNote(text.length).length));
  return kept + cutNote(text.length - kept.length);
}

/** Every control character (line breaks and tabs too) as \xNN. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, hex);
}

/** For a terminal that shows several lines of ours: line breaks and tabs stay, every other
 * control character becomes \xNN (no escape sequence, no carriage-return overprinting). */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL_BUT_LAYOUT, hex);
}

/** JSON text as JSON.stringify wrote it, with DEL and C1 (which it leaves raw) as \u00NN escapes:
 * the same value to a parser, nothing a terminal acts on. */
export function jsonTerminalSafe(json: string): string {
  return json.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Outside text as one printable line of at most `maxChars`: cut first, then whitespace runs
 * folded to one space and control characters shown as \xNN; "…" ends a line that was cut. */
export function printableLine(text: string, maxChars: number = OUTSIDE_TEXT_MAX_CHARS): string {
  const cut = text.length > maxChars;
  const flat = escapeControls(head(text, maxChars).replace(/\s+/g, ' ')).trim();
  return cut || flat.length > maxChars ? `${head(flat, maxChars - 1)}…` : flat;
}

/** A device-supplied field as stored: cut to DEVICE_FIELD_MAX_CHARS (printing escapes it later). */
export function deviceField(text: string): string {
  return clip(text, DEVICE_FIELD_MAX_CHARS);
}

/** `text` without `char` repeated at its end (a loop, not /c+$/, which is quadratic on long runs). */
export function trimEndChar(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end--;
  return text.slice(0, end);
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
