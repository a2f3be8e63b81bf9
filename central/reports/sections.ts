// A report as the tables every format prints: the heading lines, then one table per section
// (rates, counts, ranking, cameras below target, cameras without coordinates), each column with
// its bilingual header and the kind of value it holds, each cell marked when it is below its
// target. CSV, XLSX and HTML write these same tables, each in its own way.
import type { Report } from './assemble';
import { both, causeName, className, CLASS_NAMES, countDeltaText, durationText, localTime, percentText, pointsText, RATE_NAMES, TARGET_NAMES } from './labels';
import { describeRuns, dayRuns, KIND_NAMES, type Bilingual } from './period';

/** How a column's values are written: text as is; percent a 0–1 rate; points a change in
 * percentage points; integer a count; delta a signed count; duration seconds. */
export type CellKind = 'text' | 'percent' | 'points' | 'integer' | 'delta' | 'duration';

export interface Column {
  name: Bilingual;
  kind: CellKind;
}

export interface Cell {
  value: string | number | null;
  /** Below its target: every format marks it. */
  below?: boolean;
}

export interface Section {
  key: 'rates' | 'counts' | 'ranking' | 'belowTarget' | 'withoutCoordinates';
  name: Bilingual;
  columns: Column[];
  rows: Cell[][];
  /** What an empty table means. */
  empty: Bilingual;
}

export interface HeadingLine {
  name: Bilingual;
  value: string;
}

/** A cell's value as text, written as its column's kind says. */
export function valueText(value: string | number | null, kind: CellKind): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  switch (kind) {
    case 'percent':
      return percentText(value);
    case 'points':
      return pointsText(value);
    case 'delta':
      return countDeltaText(value);
    case 'duration':
      return durationText(value);
    default:
      return String(value);
  }
}

const YES_NO = (met: boolean | null): string => (met === null ? '' : met ? '是 yes' : '否 no');

const col = (zh: string, en: string, kind: CellKind): Column => ({ name: { zh, en }, kind });

/** The lines under the title: what, where, when, how complete. */
export function headingLines(report: Report): HeadingLine[] {
  const p = report.period;
  const lines: HeadingLine[] = [
    { name: { zh: '报告', en: 'report' }, value: both(KIND_NAMES[report.kind]) },
    { name: { zh: '区域', en: 'region' }, value: report.region.path === '' ? both(report.region.name) : report.region.path },
    { name: { zh: '统计周期', en: 'period' }, value: `${p.from} – ${p.to} (${p.timezone})` },
    {
      name: { zh: '数据截至', en: 'figures through' },
      value: p.partial ? `${p.through}（本期未结束 period not over; ${localTime(report.computedThrough, p.timezone)}）` : p.through,
    },
    { name: { zh: '对比上期', en: 'compared with' }, value: `${report.previousPeriod.from} – ${report.previousPeriod.to}` },
    { name: { zh: '数据计算于', en: 'computed at' }, value: localTime(report.computedAt, p.timezone) },
    { name: { zh: '报告生成于', en: 'generated at' }, value: localTime(report.generatedAt, p.timezone) },
    { name: RATE_NAMES.coverage, value: percentText(report.coverage) || '—' },
    {
      name: { zh: '缺少数据的日期', en: 'days missing figures' },
      value: report.daysMissing.length === 0 ? '无 none' : describeRuns(dayRuns(report.daysMissing)),
    },
  ];
  return lines;
}

function targetsText(targets: Report['summary']['rates'][number]['targets']): string {
  return targets.map((t) => `${CLASS_NAMES[t.class].zh} ${t.target}%`).join(' / ');
}

/** A camera's region below the region its report ranks within ('仓前街道' in a report of 余杭区),
 * whole otherwise. */
function regionBelow(region: string | null, reportRegion: string): string {
  if (region === null) return '';
  if (reportRegion === '' || !region.startsWith(`${reportRegion}/`)) return region;
  return region.slice(reportRegion.length + 1);
}

function siteText(site: string, name: string | null): string {
  return name && name !== site ? `${name} (${site})` : site;
}

function causesText(causes: Record<string, number>): string {
  return Object.entries(causes)
    .filter(([, s]) => s > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .map(([cause, s]) => `${causeName(cause).zh} ${cause} ${durationText(s)}`)
    .join('; ');
}

export function reportSections(report: Report): Section[] {
  const noCameras = { zh: '本期没有点位', en: 'no cameras in this period' };
  const counted = report.summary.figure.cameras > 0;
  const rates: Section = {
    key: 'rates',
    name: { zh: '主要指标', en: 'Rates against targets' },
    columns: [
      col('指标', 'rate', 'text'),
      col('本期', 'this period', 'percent'),
      col('上期', 'previous', 'percent'),
      col('变化(百分点)', 'Δ (points)', 'points'),
      col('目标', 'target', 'text'),
      col('达标', 'met', 'text'),
    ],
    rows: report.summary.rates.map((r) => [
      { value: both(r.name) },
      { value: r.value, below: r.met === false },
      { value: r.previous },
      { value: r.deltaPoints },
      { value: targetsText(r.targets) },
      { value: YES_NO(r.met), below: r.met === false },
    ]),
    empty: { zh: '无', en: 'none' },
  };
  // Each class with a target, on its own line: which class misses is what an office acts on.
  for (const r of report.summary.rates) {
    for (const t of r.targets) {
      rates.rows.push([
        { value: `  ${CLASS_NAMES[t.class].zh}${r.name.zh} ${CLASS_NAMES[t.class].en} ${r.name.en}` },
        { value: t.rate, below: t.met === false },
        { value: null },
        { value: null },
        { value: `${t.target}%` },
        { value: YES_NO(t.met), below: t.met === false },
      ]);
    }
  }
  const counts: Section = {
    key: 'counts',
    name: { zh: '点位数量（期末）', en: "Cameras at the period's end" },
    columns: [col('项目', 'item', 'text'), col('本期', 'this period', 'integer'), col('上期', 'previous', 'integer'), col('变化', 'Δ', 'delta')],
    rows: report.summary.counts.map((c) => [{ value: both(c.name) }, { value: c.value }, { value: c.previous }, { value: c.delta }]),
    empty: { zh: '无', en: 'none' },
  };
  const bySite = report.ranking.by === 'site';
  const ranking: Section = {
    key: 'ranking',
    name: {
      zh: `${bySite ? '站点排名' : '下级区域排名'}${report.ranking.within === report.region.path ? '' : `（${report.ranking.within}）`}`,
      en: `${bySite ? 'Ranking of the sites' : 'Ranking of the regions below'}${report.ranking.within === report.region.path ? '' : ` (${report.ranking.within})`}`,
    },
    columns: [
      col('排名', 'rank', 'integer'),
      bySite ? col('站点', 'site', 'text') : col('区域', 'region', 'text'),
      col('点位', 'cameras', 'integer'),
      col(RATE_NAMES.onlineRate.zh, RATE_NAMES.onlineRate.en, 'percent'),
      col('在线率变化', 'Δ online (points)', 'points'),
      col(RATE_NAMES.intactRate.zh, RATE_NAMES.intactRate.en, 'percent'),
      col('完好率变化', 'Δ intact (points)', 'points'),
      col(RATE_NAMES.assessedOnlineRate.zh, RATE_NAMES.assessedOnlineRate.en, 'percent'),
      col(RATE_NAMES.coverage.zh, RATE_NAMES.coverage.en, 'percent'),
      col(RATE_NAMES.geoLabelledRate.zh, RATE_NAMES.geoLabelledRate.en, 'percent'),
      col(RATE_NAMES.hdRate.zh, RATE_NAMES.hdRate.en, 'percent'),
      col('未达标', 'below target', 'text'),
    ],
    rows: report.ranking.rows.map((r) => {
      const misses = new Set(r.belowTarget);
      return [
        { value: r.rank },
        { value: bySite ? siteText(r.key, r.name === r.key ? null : r.name) : r.name },
        { value: r.figure.atEnd.cameras },
        { value: r.figure.onlineRate, below: misses.has('online') },
        { value: r.delta.onlineRate },
        { value: r.figure.intactRate, below: misses.has('intact') },
        { value: r.delta.intactRate },
        { value: r.figure.assessedOnlineRate },
        { value: r.figure.coverage },
        { value: r.figure.atEnd.geoLabelledRate, below: misses.has('geoLabelled') },
        { value: r.figure.atEnd.hdRate },
        { value: r.belowTarget.map((k) => both(TARGET_NAMES[k])).join('; '), below: r.belowTarget.length > 0 },
      ];
    }),
    empty: noCameras,
  };
  const belowTarget: Section = {
    key: 'belowTarget',
    name: { zh: '未达标点位', en: "Cameras below their class's target" },
    columns: [
      col('站点', 'site', 'text'),
      col('点位', 'camera', 'text'),
      col('名称', 'name', 'text'),
      col('类别', 'class', 'text'),
      col('区域', 'region', 'text'),
      col(RATE_NAMES.onlineRate.zh, RATE_NAMES.onlineRate.en, 'percent'),
      col('在线率目标', 'online target', 'text'),
      col(RATE_NAMES.intactRate.zh, RATE_NAMES.intactRate.en, 'percent'),
      col('完好率目标', 'intact target', 'text'),
      col('离线时长', 'offline', 'duration'),
      col('故障时长', 'picture fault', 'duration'),
      col('未知时长', 'unknown', 'duration'),
      col('主要原因', 'main cause', 'text'),
      col('原因明细', 'causes', 'text'),
    ],
    rows: report.belowTarget.map((c) => [
      { value: siteText(c.site, c.siteName) },
      { value: c.camera },
      { value: c.name ?? '' },
      { value: both(CLASS_NAMES[c.class]) },
      { value: regionBelow(c.region, report.ranking.within) },
      { value: c.onlineRate, below: c.misses.includes('online') },
      { value: c.targets.online === null ? '' : `${c.targets.online}%` },
      { value: c.intactRate, below: c.misses.includes('intact') },
      { value: c.targets.intact === null ? '' : `${c.targets.intact}%` },
      { value: c.offlineSeconds },
      { value: c.faultSeconds },
      { value: c.unknownSeconds },
      { value: c.cause === null ? '' : both(causeName(c.cause)) },
      { value: causesText(c.causes) },
    ]),
    empty: counted ? { zh: '全部点位达标', en: "every camera meets its class's targets" } : noCameras,
  };
  const withoutCoordinates: Section = {
    key: 'withoutCoordinates',
    name: { zh: '未标注经纬度点位', en: 'Cameras without coordinates' },
    columns: [
      col('站点', 'site', 'text'),
      col('点位', 'camera', 'text'),
      col('名称', 'name', 'text'),
      col('类别', 'class', 'text'),
      col('区域', 'region', 'text'),
      col('计入考核', 'against a target', 'text'),
    ],
    rows: report.withoutCoordinates.map((c) => [
      { value: siteText(c.site, c.siteName) },
      { value: c.camera },
      { value: c.name ?? '' },
      { value: both(className(c.class)) },
      { value: regionBelow(c.region, report.ranking.within) },
      { value: YES_NO(c.againstTarget), below: c.againstTarget },
    ]),
    empty: counted ? { zh: '全部点位已标注', en: 'every camera has coordinates' } : noCameras,
  };
  return [rates, counts, ranking, belowTarget, withoutCoordinates];
}
