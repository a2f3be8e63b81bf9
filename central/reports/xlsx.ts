// A report as an Excel workbook (exceljs): an overview sheet (the title, what, where, when, how
// complete, the notes), then one sheet per section. Every sheet starts with the title and the
// computed-at line, its header row frozen under them; rates are numbers formatted as percent,
// changes as signed points, durations as [h]:mm:ss, so the office can sort and sum them; cells
// below their target are red; columns are as wide as their text (a Chinese character counts two).
import { Workbook, type Worksheet } from 'exceljs';
import type { Report } from './assemble';
import { both, localTime } from './labels';
import { headingLines, reportSections, type CellKind, type Section } from './sections';

const SHEET_NAMES: Record<Section['key'] | 'overview', string> = {
  overview: '概况 Overview',
  rates: '主要指标 Rates',
  counts: '点位数量 Counts',
  ranking: '排名 Ranking',
  belowTarget: '未达标点位 Below target',
  withoutCoordinates: '未标注经纬度 No coordinates',
};

const NUMBER_FORMATS: Partial<Record<CellKind, string>> = {
  percent: '0.00%',
  points: '+0.00;-0.00;0.00',
  integer: '0',
  delta: '+0;-0;0',
  duration: '[h]:mm:ss',
};

const RED = 'FFC00000';
const BELOW_FILL = 'FFFDE2E2';
const HEADER_FILL = 'FFE4EAF2';
/** Rows above the header: the title, the computed-at line, a blank line. */
const TOP_ROWS = 3;

/** Width in spreadsheet characters: CJK and full-width forms take two. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += (ch.codePointAt(0) ?? 0) >= 0x2e80 ? 2 : 1;
  return width;
}

function widthOf(value: string | number | null, kind: CellKind): number {
  if (value === null) return 0;
  if (typeof value === 'string') return displayWidth(value);
  return kind === 'duration' ? 10 : kind === 'percent' || kind === 'points' ? 9 : String(value).length + 1;
}

function computedLine(report: Report): string {
  return `数据计算于 computed at ${localTime(report.computedAt, report.period.timezone)} · 报告生成于 generated at ${localTime(report.generatedAt, report.period.timezone)} · ${report.period.from} – ${report.period.to}${report.period.partial ? ' · 本期未结束 period not over' : ''}`;
}

function addTop(sheet: Worksheet, report: Report): void {
  // Not merged: a long line in a merged range is cut at its edge; alone it runs on over the empty
  // cells beside it, and the columns keep the widths of their tables.
  const title = sheet.addRow([`${report.title.zh}  ${report.title.en}`]);
  title.font = { bold: true, size: 14 };
  title.height = 22;
  const line = sheet.addRow([computedLine(report)]);
  line.font = { size: 9, color: { argb: 'FF555555' } };
  sheet.addRow([]);
}

function newSheet(workbook: Workbook, name: string, frozenRows: number): Worksheet {
  return workbook.addWorksheet(name, {
    views: [{ state: 'frozen', xSplit: 0, ySplit: frozenRows }],
    pageSetup: { paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 },
  });
}

function addOverview(workbook: Workbook, report: Report): void {
  const sheet = newSheet(workbook, SHEET_NAMES.overview, TOP_ROWS);
  addTop(sheet, report);
  for (const line of headingLines(report)) sheet.addRow([both(line.name), line.value]);
  sheet.addRow([]);
  for (const note of report.notes) {
    const row = sheet.addRow(['说明 note', `${note.zh}\n${note.en}`]);
    row.getCell(2).alignment = { wrapText: true, vertical: 'top' };
    row.getCell(1).alignment = { vertical: 'top' };
  }
  sheet.getColumn(1).width = 26;
  sheet.getColumn(2).width = 100;
}

function addSection(workbook: Workbook, report: Report, section: Section): void {
  const sheet = newSheet(workbook, SHEET_NAMES[section.key], TOP_ROWS + 1);
  addTop(sheet, report);
  const header = sheet.addRow(section.columns.map((c) => `${c.name.zh}\n${c.name.en}`));
  header.font = { bold: true };
  header.height = 30;
  header.eachCell((cell) => {
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: HEADER_FILL } };
    cell.alignment = { wrapText: true, vertical: 'middle' };
    cell.border = { bottom: { style: 'thin' } };
  });
  const widths = section.columns.map((c) => Math.max(displayWidth(c.name.zh), displayWidth(c.name.en)) + 2);
  if (section.rows.length === 0) sheet.addRow([`（${both(section.empty)}）`]);
  for (const cells of section.rows) {
    const row = sheet.addRow(
      cells.map((cell, i) => (typeof cell.value === 'number' && section.columns[i].kind === 'duration' ? cell.value / 86_400 : cell.value)),
    );
    cells.forEach((cell, i) => {
      const kind = section.columns[i].kind;
      const target = row.getCell(i + 1);
      const format = NUMBER_FORMATS[kind];
      if (format && typeof cell.value === 'number') target.numFmt = format;
      if (cell.below) {
        target.font = { bold: true, color: { argb: RED } };
        target.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: BELOW_FILL } };
      }
      widths[i] = Math.max(widths[i], widthOf(cell.value, kind) + 2);
    });
  }
  widths.forEach((w, i) => (sheet.getColumn(i + 1).width = Math.min(w, 60)));
}

export async function renderXlsx(report: Report): Promise<Buffer> {
  const workbook = new Workbook();
  workbook.creator = 'camgate central';
  workbook.created = new Date(report.generatedAt);
  workbook.title = `${report.title.zh} ${report.title.en}`;
  addOverview(workbook, report);
  for (const section of reportSections(report)) addSection(workbook, report, section);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
