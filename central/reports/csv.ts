// A report as CSV for spreadsheets: UTF-8 with a byte-order mark (without it Excel in a Chinese
// locale reads UTF-8 as GBK and garbles every heading), CRLF line ends, the title and heading
// lines first, then each section under a 【…】 line with its bilingual header row, a blank line
// between sections. Text cells that a spreadsheet would run as a formula are escaped.
import { stringify } from 'csv-stringify/sync';
import { escapeCsvCell } from '../../lib/csv-cell';
import type { Report } from './assemble';
import { both } from './labels';
import { headingLines, reportSections, valueText } from './sections';

export function renderCsv(report: Report): string {
  const rows: string[][] = [[escapeCsvCell(report.title.zh)], [escapeCsvCell(report.title.en)]];
  for (const line of headingLines(report)) rows.push([both(line.name), escapeCsvCell(line.value)]);
  for (const note of report.notes) rows.push(['说明 note', escapeCsvCell(note.zh), escapeCsvCell(note.en)]);
  for (const section of reportSections(report)) {
    rows.push([]);
    rows.push([`【${both(section.name)}】`]);
    rows.push(section.columns.map((c) => both(c.name)));
    if (section.rows.length === 0) rows.push([`（${both(section.empty)}）`]);
    for (const row of section.rows)
      rows.push(row.map((cell, i) => (typeof cell.value === 'string' ? escapeCsvCell(cell.value) : valueText(cell.value, section.columns[i].kind))));
  }
  return stringify(rows, { bom: true, record_delimiter: 'windows' });
}
