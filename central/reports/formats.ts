// The formats a report is delivered in, and what goes with each: its media type, whether a
// browser saves it or shows it, and a file name that says the kind, the region and the period.
import type { Report } from './assemble';
import { renderCsv } from './csv';
import { REPORT_HTML_CSP, renderHtml } from './html';
import { KIND_NAMES } from './period';
import { renderXlsx } from './xlsx';

export const REPORT_FORMATS = ['json', 'csv', 'xlsx', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(text: string): text is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(text);
}

export interface RenderedReport {
  body: string | Buffer;
  contentType: string;
  fileName: string;
  /** The file name in ASCII, for clients that read no UTF-8 name. */
  asciiFileName: string;
  /** attachment: saved as a file; inline: shown (the printable page). */
  disposition: 'attachment' | 'inline';
  /** Headers the body needs beside its type (the page's Content-Security-Policy). */
  headers: Record<string, string>;
}

const CONTENT_TYPES: Record<ReportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  html: 'text/html; charset=utf-8',
};

/** Characters no file system takes in a name, and controls. */
const UNSAFE_IN_NAME = /[\\/:*?"<>|\u0000-\u001f\u007f]/g;

/** 周通报-weekly_浙江省-杭州市-余杭区_2026-12-07_2026-12-13.xlsx; with `ascii`, the name for
 * clients that read no UTF-8 name: weekly_2026-12-07_2026-12-13.xlsx (a region without Latin
 * letters leaves nothing to keep). */
export function reportFileName(report: Report, format: ReportFormat, ascii = false): string {
  const { from, to } = report.period;
  const period = report.kind === 'daily' ? from : report.kind === 'monthly' ? from.slice(0, 7) : `${from}_${to}`;
  if (ascii) {
    const region = report.region.path
      .replace(/[^\w/.-]/g, '')
      .split('/')
      .filter((p) => p !== '')
      .join('-');
    return [report.kind, region, period].filter((p) => p !== '').join('_') + `.${format}`;
  }
  const region = report.region.path === '' ? '全部辖区-all-regions' : report.region.path.split('/').join('-');
  return `${KIND_NAMES[report.kind].zh}-${report.kind}_${region}_${period}.${format}`.replace(UNSAFE_IN_NAME, '-');
}

/** Content-Disposition with the UTF-8 name (RFC 6266, RFC 5987) and the ASCII one beside it. */
export function contentDisposition(disposition: 'attachment' | 'inline', fileName: string, asciiName: string): string {
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${asciiName}"; filename*=UTF-8''${encoded}`;
}

export async function renderReport(report: Report, format: ReportFormat): Promise<RenderedReport> {
  const common = { contentType: CONTENT_TYPES[format], fileName: reportFileName(report, format), asciiFileName: reportFileName(report, format, true) };
  switch (format) {
    case 'json':
      return { ...common, body: JSON.stringify(report, null, 2) + '\n', disposition: 'inline', headers: {} };
    case 'csv':
      return { ...common, body: renderCsv(report), disposition: 'attachment', headers: {} };
    case 'xlsx':
      return { ...common, body: await renderXlsx(report), disposition: 'attachment', headers: {} };
    case 'html':
      return { ...common, body: renderHtml(report), disposition: 'inline', headers: { 'content-security-policy': REPORT_HTML_CSP } };
  }
}
