// A report as one printable HTML page: A4 landscape (the tables of cameras are wide) with print CSS, Chinese headings with English beside,
// cells below their target marked (red, and ▼ so a black-and-white print shows it too), the
// header row of every table repeated on each printed page. Nothing external and no script: its
// one stylesheet is inline and allowed by its hash in the Content-Security-Policy sent with it
// (REPORT_HTML_CSP), so the page opens under the strictest policy and prints from any browser.
import { createHash } from 'node:crypto';
import type { Report } from './assemble';
import type { Bilingual } from './period';
import { localTime } from './labels';
import { headingLines, reportSections, valueText, type Cell, type CellKind, type Section } from './sections';

const STYLE = `
@page { size: A4 landscape; margin: 12mm 12mm 13mm; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: #111; font-size: 9.5pt; line-height: 1.35;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; }
main { max-width: 273mm; margin: 0 auto; padding: 8mm 0 10mm; }
h1 { font-size: 16pt; margin: 0; color: #14325a; }
.subtitle { margin: 1pt 0 8pt; color: #444; }
h2 { font-size: 11.5pt; margin: 13pt 0 4pt; padding-bottom: 2pt; color: #14325a; border-bottom: 1.5pt solid #14325a; break-after: avoid; }
.en { font-weight: normal; color: #555; font-size: 0.85em; }
table { border-collapse: collapse; width: 100%; }
table.meta { width: auto; }
table.meta th { text-align: left; font-weight: normal; color: #333; padding: 1pt 16pt 1pt 0; vertical-align: top; }
table.meta td { padding: 1pt 0; }
table.data { font-size: 8pt; }
table.data th, table.data td { border: 0.5pt solid #98a3b0; padding: 1.5pt 2.5pt; vertical-align: top; word-break: keep-all; overflow-wrap: break-word; }
table.data thead th { background: #e4eaf2; text-align: left; font-weight: bold; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.below { background: #fde2e2; color: #b00020; font-weight: bold; }
td.below::before { content: "\\25BC\\00A0"; }
.notice { border: 1pt solid #b00020; color: #b00020; padding: 3pt 6pt; margin: 6pt 0; }
.notes ul { margin: 0; padding-left: 13pt; }
.notes li { margin: 1pt 0; }
.legend { font-size: 8pt; color: #444; margin: 2pt 0 0; }
.empty { color: #444; margin: 2pt 0; }
footer { margin-top: 12pt; font-size: 7.5pt; color: #666; border-top: 0.5pt solid #bbb; padding-top: 3pt; }
@media print { main { max-width: none; padding: 0; } body { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
`;

/** The policy the page is served with: its own stylesheet (by hash) and nothing else. */
export const REPORT_HTML_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function heading(name: Bilingual): string {
  return `${escapeHtml(name.zh)} <span class="en">${escapeHtml(name.en)}</span>`;
}

function cellHtml(cell: Cell, kind: CellKind): string {
  const text = valueText(cell.value, kind);
  const classes = [kind === 'text' ? '' : 'num', cell.below ? 'below' : ''].filter((c) => c !== '');
  return `<td${classes.length > 0 ? ` class="${classes.join(' ')}"` : ''}>${escapeHtml(text)}</td>`;
}

function sectionHtml(section: Section): string {
  const head = section.columns.map((c) => `<th>${escapeHtml(c.name.zh)}<br><span class="en">${escapeHtml(c.name.en)}</span></th>`).join('');
  const body =
    section.rows.length === 0
      ? `<p class="empty">（${heading(section.empty)}）</p>`
      : `<table class="data"><thead><tr>${head}</tr></thead><tbody>\n${section.rows
          .map((row) => `<tr>${row.map((cell, i) => cellHtml(cell, section.columns[i].kind)).join('')}</tr>`)
          .join('\n')}\n</tbody></table>`;
  return `<section id="${section.key}"><h2>${heading(section.name)}</h2>\n${body}</section>`;
}

export function renderHtml(report: Report): string {
  const meta = headingLines(report)
    .map((line) => `<tr><th>${heading(line.name)}</th><td>${escapeHtml(line.value)}</td></tr>`)
    .join('\n');
  const notice = report.period.partial
    ? `<p class="notice">本期尚未结束，数据截至 ${escapeHtml(localTime(report.computedThrough, report.period.timezone))} <span class="en">The period is not over: these figures will change.</span></p>`
    : '';
  const notes = report.notes.map((n) => `<li>${escapeHtml(n.zh)}<br><span class="en">${escapeHtml(n.en)}</span></li>`).join('\n');
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${report.title.zh} ${report.title.en}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(report.title.zh)}</h1>
<p class="subtitle">${escapeHtml(report.title.en)}</p>
${notice}
<table class="meta"><tbody>
${meta}
</tbody></table>
<p class="legend">红底 ▼ 标注为未达标 <span class="en">Red cells marked ▼ are below their target.</span></p>
</header>
<section class="notes"><h2>${heading({ zh: '说明', en: 'Notes' })}</h2><ul>
${notes}
</ul></section>
${reportSections(report).map(sectionHtml).join('\n')}
<footer>camgate central · ${escapeHtml(localTime(report.generatedAt, report.period.timezone))}</footer>
</main>
</body>
</html>
`;
}
