// Text output helpers: tables for people, JSON for scripts. Everything printed passes the
// context's scrubber (see context.ts), so a secret cannot reach the terminal by accident.
import type TableClass from 'cli-table3';
import { jsonTerminalSafe } from '../../lib/text';

// cli-table3 (with its string-width helpers) is loaded when a command prints a table: every command
// is registered in every process, and `camgate run` prints none.
const Table = (): typeof TableClass => require('cli-table3') as typeof TableClass;

/** Borders without a rule between every row: dense lists stay readable on an 80-column terminal. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export function table(head: string[], rows: Array<Array<string | number>>, colWidths?: Array<number | null>): string {
  const t = new (Table())({ head, chars: COMPACT, style: { head: [], border: [] }, wordWrap: true, ...(colWidths ? { colWidths } : {}) });
  for (const r of rows) t.push(r.map((c) => String(c)));
  return t.toString() + '\n';
}

/** Two-column key/value table for `show` commands. */
export function keyValueTable(rows: Array<[string, string | number | null | undefined]>): string {
  const t = new (Table())({ chars: COMPACT, style: { head: [], border: [] }, wordWrap: true });
  for (const [k, v] of rows) t.push({ [k]: v === null || v === undefined || v === '' ? '-' : String(v) });
  return t.toString() + '\n';
}

/** JSON for scripts; DEL and C1 characters (which JSON.stringify leaves raw) as \u escapes. */
export function json(value: unknown): string {
  return jsonTerminalSafe(JSON.stringify(value, null, 2)) + '\n';
}

export function orDash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}
