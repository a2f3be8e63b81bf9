// Validation of label changes against the whole ledger: single edits (`cameras set`) and
// bulk imports. Checks each value, then the resulting state (latitude with longitude, unique
// names), and reports every problem with where it is and how to fix it. Pure.
import type { CameraLabels, LabelField, LabelPatch } from '../inventory/types';
import { FILE_COLUMN, FLAG, parseLabel } from './fields';
import { applyPatch, LABEL_FIELDS, labelsOf } from './merge';
import { clip } from '../../lib/text';

export interface CameraState {
  id: string;
  labels: CameraLabels;
}

export interface PlannedUpdate {
  id: string;
  patch: LabelPatch;
}

/** Names that look like generated ids would make `cameras set <id|name>` ambiguous. */
const ID_LIKE = /^cam-[0-9a-f]{10}(?:-ch\d+)?(?:-\d+)?$/;

/** How much of a value a problem quotes: enough to find it in the file. */
const QUOTED_VALUE_MAX_CHARS = 120;

/** A value as a problem quotes it: cut first (a cell may be megabytes), then JSON-quoted. */
export function describeValue(raw: string | null): string {
  return raw === null ? '(empty)' : JSON.stringify(clip(raw, QUOTED_VALUE_MAX_CHARS));
}

/** Problems in a camera's resulting labels that no single value shows. */
function stateProblems(labels: CameraLabels): Array<{ field: LabelField; message: string }> {
  const out: Array<{ field: LabelField; message: string }> = [];
  if ((labels.latitude === null) !== (labels.longitude === null)) {
    const missing: LabelField = labels.latitude === null ? 'latitude' : 'longitude';
    out.push({ field: missing, message: `latitude and longitude go together: give ${missing} too, or clear both` });
  }
  if (labels.name !== null && ID_LIKE.test(labels.name)) {
    out.push({ field: 'name', message: `name ${JSON.stringify(labels.name)} looks like a camera id; pick a descriptive name` });
  }
  return out;
}

/** `cameras set`: raw flag values (undefined = flag not given). Returns the patch or the problems. */
export function planSet(cameraId: string, raw: Partial<Record<LabelField, string>>, cameras: CameraState[]): { update?: PlannedUpdate; problems: string[] } {
  const problems: string[] = [];
  const patch: Record<string, unknown> = {};
  for (const field of LABEL_FIELDS) {
    const value = raw[field];
    if (value === undefined) continue;
    const parsed = parseLabel(field, value);
    if (parsed.ok) patch[field] = parsed.value;
    else problems.push(`${FLAG[field]} ${describeValue(value)}: ${parsed.problem}`);
  }
  if (problems.length > 0) return { problems };
  const current = cameras.find((c) => c.id === cameraId);
  if (!current) return { problems: [`no camera with id "${cameraId}"`] };
  const next = applyPatch(current.labels, patch);
  for (const p of stateProblems(next)) problems.push(p.field === 'name' ? `${FLAG.name}: ${p.message}` : p.message);
  if (next.name !== null && patch.name !== undefined) {
    const other = cameras.find((c) => c.id !== cameraId && c.labels.name === next.name);
    if (other) problems.push(`${FLAG.name} ${JSON.stringify(next.name)}: already the name of camera ${other.id}; names must be unique`);
    const idClash = cameras.find((c) => c.id === next.name && c.id !== cameraId);
    if (idClash) problems.push(`${FLAG.name} ${JSON.stringify(next.name)}: is the id of another camera`);
  }
  return problems.length > 0 ? { problems } : { update: { id: cameraId, patch: patch }, problems };
}

/** One data row of an import file: label columns as text (null = empty), and where it is. */
export interface ImportRow {
  /** 1-based line of the row in the file. */
  line: number;
  id: string | null;
  /** Only the label columns present in the file; absent columns leave labels unchanged. */
  values: Partial<Record<LabelField, string | null>>;
}

/** Bulk import: every row checked, all problems reported, nothing planned unless all are good. */
export function planImport(rows: ImportRow[], cameras: CameraState[]): { updates: PlannedUpdate[]; problems: string[] } {
  const problems: string[] = [];
  const byId = new Map(cameras.map((c) => [c.id, c]));
  const firstLineOf = new Map<string, number>();
  // Rows with a bad value still take part in the name check, so one run lists every problem.
  const planned: Array<{ row: ImportRow; update: PlannedUpdate; next: CameraLabels }> = [];

  for (const row of rows) {
    const at = `line ${row.line}`;
    if (row.id === null || row.id.trim() === '') {
      problems.push(`${at}: id is empty; every row needs the camera id from \`camgate cameras export\``);
      continue;
    }
    const id = row.id.trim();
    const camera = byId.get(id);
    if (!camera) {
      problems.push(`${at}: id ${describeValue(id)}: no such camera; check the id against \`camgate cameras list\``);
      continue;
    }
    if (firstLineOf.has(id)) {
      problems.push(`${at}: camera ${id} appears again (first on line ${firstLineOf.get(id)}); keep one row per camera`);
      continue;
    }
    firstLineOf.set(id, row.line);
    const patch: Record<string, unknown> = {};
    let rowOk = true;
    for (const field of LABEL_FIELDS) {
      if (!(field in row.values)) continue;
      const raw = row.values[field] ?? null;
      const parsed = parseLabel(field, raw);
      if (parsed.ok) patch[field] = parsed.value;
      else {
        problems.push(`${at} (camera ${id}): ${FILE_COLUMN[field]} = ${describeValue(raw)}: ${parsed.problem}`);
        rowOk = false;
      }
    }
    const next = applyPatch(camera.labels, patch);
    // Cross-field checks only make sense when every value of the row parsed.
    if (rowOk) for (const p of stateProblems(next)) problems.push(`${at} (camera ${id}): ${p.message}`);
    planned.push({ row, update: { id, patch: patch }, next });
  }

  // Names must be unique in the ledger as it will be after the import (swaps are fine).
  const finalName = new Map<string, { name: string | null; line?: number }>();
  for (const c of cameras) finalName.set(c.id, { name: labelsOf(c.labels).name });
  for (const p of planned) finalName.set(p.update.id, { name: p.next.name, line: p.row.line });
  const holders = new Map<string, string[]>();
  for (const [id, { name }] of finalName) if (name !== null) holders.set(name, [...(holders.get(name) ?? []), id]);
  const ids = new Set(cameras.map((c) => c.id));
  for (const p of planned) {
    const name = p.next.name;
    if (name === null || p.update.patch.name === undefined) continue;
    const at = `line ${p.row.line} (camera ${p.update.id})`;
    if (ids.has(name) && name !== p.update.id) problems.push(`${at}: name ${JSON.stringify(name)} is the id of another camera; pick another name`);
    const others = (holders.get(name) ?? []).filter((id) => id !== p.update.id);
    if (others.length === 0) continue;
    const where = others.map((id) => {
      const line = finalName.get(id)?.line;
      return line ? `camera ${id} on line ${line}` : `camera ${id} (not in this file; rename it here or pick another name)`;
    });
    problems.push(`${at}: name ${JSON.stringify(name)} is also given to ${where.join(', ')}; names must be unique`);
  }
  problems.sort((a, b) => lineOf(a) - lineOf(b));
  return problems.length > 0 ? { updates: [], problems } : { updates: planned.map((p) => p.update), problems };
}

function lineOf(problem: string): number {
  const m = /^line (\d+)/.exec(problem);
  return m ? Number(m[1]) : 0;
}
