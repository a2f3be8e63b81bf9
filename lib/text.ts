// Text from outside (device answers, peers, files people hand us) on its way into messages, logs
// and terminals. The one owner of two rules:
// - bounded: outside text is cut to a fixed size before anything else looks at it (regexes,
//   redaction, formatting), so what follows costs a bounded amount whatever was sent;
// - printable: control characters never reach a terminal raw. C0 (ESC starts every ANSI
//   sequence), DEL and C1 (0x9b is a one-character CSI to many terminals) are shown as \xNN.

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

/** The first `maxChars` characters, with a note of how much was cut. */
export function clip(text: string, maxChars: number = OUTSIDE_TEXT_MAX_CHARS): string {
  if (text.length <= maxChars) return text;
  const kept = head(text, maxChars);
  return `${kept}… (${text.length - kept.length} more characters cut)`;
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
