// Import/export files for labels (CSV for spreadsheets, YAML for people and version control).
// Text in, text out: no file system here, so round trips are testable on strings.
import type { Scalar } from 'yaml';
import type { CameraRecord, LabelField } from '../inventory/types';
import { closest } from '../../lib/config';
import { FILE_COLUMN, formatLabel } from './fields';
import { LABEL_FIELDS } from './merge';
import { describeValue, type ImportRow } from './validate';
import { textOf } from '../../lib/redact';
import { decodeUtf8, describeUtf8Problem } from '../../lib/text';
import { escapeCsvCell, unescapeCsvCell } from '../../lib/csv-cell';

export type LabelFileFormat = 'csv' | 'yaml';

// The CSV and YAML packages are loaded when a file is read or written: the CLI registers the label
// commands in every process, `camgate run` among them, which never uses them.
const csvParse = () => require('csv-parse/sync') as typeof import('csv-parse/sync');
const csvStringify = () => require('csv-stringify/sync') as typeof import('csv-stringify/sync');
const yaml = () => require('yaml') as typeof import('yaml');

/** Context columns written on export for people to recognise cameras; ignored on import. */
export const REFERENCE_COLUMNS = ['device', 'channel', 'host', 'port', 'manufacturer', 'model', 'firmware', 'serial', 'mac'] as const;

const FIELD_OF_COLUMN = new Map<string, LabelField>(LABEL_FIELDS.map((f) => [FILE_COLUMN[f], f]));
const KNOWN_COLUMNS = ['id', ...LABEL_FIELDS.map((f) => FILE_COLUMN[f]), ...REFERENCE_COLUMNS];

export interface ParsedLabelFile {
  format: LabelFileFormat;
  rows: ImportRow[];
  /** File-level problems (bad syntax, unknown columns); when non-empty nothing may be imported. */
  problems: string[];
}

export function detectFormat(text: string, fileName?: string): LabelFileFormat {
  const ext = fileName?.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  if (ext === 'csv') return 'csv';
  if (ext === 'yaml' || ext === 'yml') return 'yaml';
  const first = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  return first !== undefined && /^(?:cameras\s*:|-(?:\s|$)|---)/.test(first.trim()) ? 'yaml' : 'csv';
}

function unknownColumnProblem(where: string, column: string): string {
  const hint = closest(column, KNOWN_COLUMNS);
  return `${where}: unknown column ${describeValue(column)}${hint ? `; did you mean ${hint}?` : ''} (known: ${KNOWN_COLUMNS.join(', ')})`;
}

/** 1-based line on which each CSV record starts (empty lines skipped, quoted newlines followed). */
export function recordStartLines(text: string): number[] {
  const starts: number[] = [];
  let line = 1;
  let inQuotes = false;
  let atRecordStart = true;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text[i];
    if (atRecordStart) {
      if (ch === '\n') {
        line++;
        continue;
      }
      if (ch === '\r') continue;
      starts.push(line);
      atRecordStart = false;
    }
    if (ch === '"') inQuotes = !inQuotes;
    else if (ch === '\n') {
      line++;
      if (!inQuotes) atRecordStart = true;
    }
  }
  return starts;
}

export function parseCsvLabels(text: string): ParsedLabelFile {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = csvParse().parse(text, { bom: true, info: true, skip_empty_lines: true, relax_column_count: true }) as never;
  } catch (err) {
    const e = err as Error & { lines?: number };
    return { format: 'csv', rows: [], problems: [`line ${e.lines ?? '?'}: ${e.message.replace(/ on line \d+$/, '')}`] };
  }
  if (records.length === 0)
    return { format: 'csv', rows: [], problems: ['the file is empty; expected a header line such as id,name,class,latitude,longitude,...'] };
  // csv-parse counts a CRLF inside quotes as two lines, so record start lines are found here.
  const starts = recordStartLines(text);
  const startLine = (r: { record: string[]; info: { lines: number } }) => starts[records.indexOf(r)] ?? r.info.lines;
  const header = records[0].record.map((c) => c.trim());
  const problems: string[] = [];
  const seen = new Set<string>();
  header.forEach((column) => {
    if (seen.has(column)) problems.push(`line ${startLine(records[0])}: column ${describeValue(column)} appears twice`);
    seen.add(column);
    if (!KNOWN_COLUMNS.includes(column)) problems.push(unknownColumnProblem(`line ${startLine(records[0])}`, column));
  });
  if (!header.includes('id'))
    problems.push(`line ${startLine(records[0])}: no "id" column; start from \`camgate cameras export\` so every row carries the camera id`);
  const rows: ImportRow[] = [];
  for (const r of records.slice(1)) {
    const line = startLine(r);
    if (r.record.length > header.length && r.record.slice(header.length).some((c) => c.trim() !== '')) {
      problems.push(`line ${line}: has ${r.record.length} cells but the header has ${header.length} columns; check for an unquoted comma`);
      continue;
    }
    const values: ImportRow['values'] = {};
    let id: string | null = null;
    header.forEach((column, i) => {
      const cell = unescapeCsvCell(r.record[i] ?? '');
      if (column === 'id') id = cell;
      const field = FIELD_OF_COLUMN.get(column);
      if (field) values[field] = cell;
    });
    rows.push({ line, id, values });
  }
  return { format: 'csv', rows, problems };
}

/** A scalar as the text the person wrote (so name: 007 stays "007", not 7). */
function scalarText(node: unknown): string | null | undefined {
  if (!yaml().isScalar(node)) return undefined;
  const s = node as Scalar & { source?: string };
  if (s.value === null) return null;
  if (typeof s.value === 'string') return s.value;
  return s.source ?? textOf(s.value);
}

export function parseYamlLabels(text: string): ParsedLabelFile {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const lineAt = (node: { range?: [number, number, number] | null } | null | undefined) => (node?.range ? lineCounter.linePos(node.range[0]).line : 0);
  if (doc.errors.length > 0) {
    return {
      format: 'yaml',
      rows: [],
      problems: doc.errors.map((e) => `line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`),
    };
  }
  let list: unknown = doc.contents;
  if (isMap(list)) {
    const pair = list.items.find((p) => isScalar(p.key) && p.key.value === 'cameras');
    list = pair?.value;
  }
  if (!isSeq(list))
    return { format: 'yaml', rows: [], problems: ['expected a list of cameras under "cameras:" (as written by `camgate cameras export --format yaml`)'] };
  const rows: ImportRow[] = [];
  const problems: string[] = [];
  for (const item of list.items) {
    const line = lineAt(item as never);
    if (!isMap(item)) {
      problems.push(`line ${line}: expected a camera (id: ..., name: ...), got ${isScalar(item) ? JSON.stringify(item.value) : 'a list'}`);
      continue;
    }
    const values: ImportRow['values'] = {};
    let id: string | null = null;
    let rowOk = true;
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const keyLine = lineAt(pair.key as never) || line;
      if (key === 'device') continue; // reference block written by export
      if (!KNOWN_COLUMNS.includes(key)) {
        problems.push(unknownColumnProblem(`line ${keyLine}`, key));
        rowOk = false;
        continue;
      }
      const value = pair.value === null ? null : scalarText(pair.value);
      if (value === undefined) {
        problems.push(`line ${keyLine}: ${key} must be a single value, not a list or mapping`);
        rowOk = false;
        continue;
      }
      if (key === 'id') id = value;
      const field = FIELD_OF_COLUMN.get(key);
      if (field) values[field] = value;
    }
    if (rowOk) rows.push({ line, id, values });
  }
  return { format: 'yaml', rows, problems };
}

export function parseLabelFile(text: string, fileName?: string): ParsedLabelFile {
  return detectFormat(text, fileName) === 'csv' ? parseCsvLabels(text) : parseYamlLabels(text);
}

/** A label file as read from disk: UTF-8 only, so a file saved in another encoding is refused
 * with its line instead of turning its names into replacement characters. */
export function parseLabelFileBytes(bytes: Buffer, fileName?: string): ParsedLabelFile {
  const decoded = decodeUtf8(bytes);
  if (decoded.ok) return parseLabelFile(decoded.text, fileName);
  const head = bytes.subarray(0, decoded.problem.offset).toString('utf8');
  return {
    format: detectFormat(head, fileName),
    rows: [],
    problems: [
      `line ${decoded.problem.line}: ${describeUtf8Problem(decoded.problem)}; save the file as UTF-8 (in Excel: Save As "CSV UTF-8 (Comma delimited)") and import it again`,
    ],
  };
}

function referenceValues(c: CameraRecord): Record<(typeof REFERENCE_COLUMNS)[number], string | number | null> {
  return {
    device: c.deviceId,
    channel: c.channel,
    host: c.device.host,
    port: c.device.port,
    manufacturer: c.device.manufacturer,
    model: c.device.model,
    firmware: c.device.firmware,
    serial: c.device.serial,
    mac: c.device.mac,
  };
}

export function exportCsv(cameras: CameraRecord[]): string {
  const columns = ['id', ...LABEL_FIELDS.map((f) => FILE_COLUMN[f]), ...REFERENCE_COLUMNS];
  const rows = cameras.map((c) => {
    const ref = referenceValues(c);
    return [c.id, ...LABEL_FIELDS.map((f) => formatLabel(c[f])), ...REFERENCE_COLUMNS.map((k) => (ref[k] === null ? '' : String(ref[k])))].map(escapeCsvCell);
  });
  return csvStringify().stringify([columns, ...rows], { record_delimiter: '\n' });
}

export function exportYaml(cameras: CameraRecord[], headerComment?: string): string {
  const doc = new (yaml().Document)({
    cameras: cameras.map((c) => {
      const item: Record<string, unknown> = { id: c.id };
      for (const f of LABEL_FIELDS) item[FILE_COLUMN[f]] = c[f];
      const ref = referenceValues(c);
      const device: Record<string, unknown> = {};
      // Inside the device block its id reads better as "id" than as "device".
      for (const k of REFERENCE_COLUMNS) if (ref[k] !== null) device[k === 'device' ? 'id' : k] = ref[k];
      item.device = device;
      return item;
    }),
  });
  doc.commentBefore =
    (headerComment ? ` ${headerComment}\n` : '') +
    ' Edit the labels and load them back with: camgate cameras import FILE\n' +
    ' class: 1 key public areas, 2 important industry sites, 3 social units and residential compounds.\n' +
    ' region: province/city/county/township/village. install_date: YYYY-MM-DD. null or empty clears a label;\n' +
    ' a label left out of an entry stays as it is. The "device" entries are for reference and ignored on import.';
  return doc.toString({ lineWidth: 0 });
}

export function exportLabels(cameras: CameraRecord[], format: LabelFileFormat, headerComment?: string): string {
  return format === 'csv' ? exportCsv(cameras) : exportYaml(cameras, headerComment);
}
