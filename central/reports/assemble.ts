// A report put together from what the figures engine gives (each camera's totals over the period
// and over the previous one, how far the days are measured) and the ledger's names: the rates
// against their targets with their change, the ranking of the regions one level down (or of the
// sites), the cameras below their class's target with the cause, the cameras without
// coordinates, and what the reader must know (a period not over, days without figures). Pure:
// the renderers (csv.ts, xlsx.ts, html.ts) write what this returns, the loader (load.ts) reads
// the database for it.
import { Pool, type CameraTotals, type Figure } from '../figures/pool';
import { periodOf, poolTotals, type ComputedState, type FigureConfig } from '../figures/query';
import type { LedgerNames } from '../ledger/queries';
import { regionLevels } from '../ledger/scope';
import { CAUSE_ORDER, COUNT_NAMES, localTime, RATE_NAMES, type CountKey, type RateKey, type TargetKind } from './labels';
import { describeRuns, dayRuns, KIND_NAMES, periodLabel, type Bilingual, type DayRange, type PeriodProgress, type ReportKind } from './period';

export interface ClassTarget {
  class: 1 | 2 | 3;
  /** Percent. */
  target: number;
  rate: number | null;
  met: boolean | null;
}

export interface RateLine {
  key: RateKey;
  name: Bilingual;
  value: number | null;
  previous: number | null;
  /** value − previous in percentage points; null when either is missing. */
  deltaPoints: number | null;
  /** The classes with a target for this rate (none for the rates without targets). */
  targets: ClassTarget[];
  /** Every class with a target meets it; null when none can be judged or the rate has no target. */
  met: boolean | null;
}

export interface CountLine {
  key: CountKey;
  name: Bilingual;
  /** At the period's end. */
  value: number;
  previous: number | null;
  delta: number | null;
}

export interface RankingRow {
  rank: number;
  /** The region path (by region) or the site id (by site). */
  key: string;
  name: string;
  figure: Figure;
  /** Change of the online and intact rates against the previous period, percentage points. */
  delta: { onlineRate: number | null; intactRate: number | null };
  /** The targets this group misses (some class of it below its target). */
  belowTarget: TargetKind[];
}

export interface CameraBelowTarget {
  site: string;
  siteName: string | null;
  camera: string;
  name: string | null;
  class: 1 | 2 | 3;
  region: string | null;
  onlineRate: number | null;
  intactRate: number | null;
  /** The class's targets, percent (null: none for this class). */
  targets: { online: number | null; intact: number | null };
  misses: Array<'online' | 'intact'>;
  countedSeconds: number;
  /** Counted seconds whose state is unknown (the site gave no sign of life). */
  unknownSeconds: number;
  offlineSeconds: number;
  /** Online with a picture fault. */
  faultSeconds: number;
  /** Known seconds not intact, by cause (offline, black, frozen, …). */
  causes: Record<string, number>;
  /** The cause with the most seconds. */
  cause: string | null;
}

export interface CameraWithoutCoordinates {
  site: string;
  siteName: string | null;
  camera: string;
  name: string | null;
  class: number | null;
  region: string | null;
  /** Its class has a geo-labelled target (class 1: 100%). */
  againstTarget: boolean;
}

export interface Report {
  kind: ReportKind;
  title: Bilingual;
  /** The region reported on: '' is everything the caller sees. */
  region: { path: string; name: Bilingual };
  period: DayRange & {
    timezone: string;
    start: string;
    end: string;
    label: Bilingual;
    /** Today falls in the period: the figures run only through `through`. */
    partial: boolean;
    through: string;
  };
  previousPeriod: DayRange & { label: Bilingual; hasFigures: boolean };
  /** When this report was put together (ISO). */
  generatedAt: string;
  /** The oldest measurement among the period's days (ISO): a late backlog can still change a past day. */
  computedAt: string | null;
  computedThrough: string | null;
  /** Days of the period up to `through` without figures. */
  daysMissing: string[];
  /** Known / counted seconds of the whole region. */
  coverage: number | null;
  notes: Bilingual[];
  summary: { figure: Figure; previous: Figure | null; rates: RateLine[]; counts: CountLine[] };
  /** The regions one level below `within` (or its sites), ranked. */
  ranking: { by: 'region' | 'site'; within: string; rows: RankingRow[] };
  belowTarget: CameraBelowTarget[];
  withoutCoordinates: CameraWithoutCoordinates[];
}

export interface ReportInput {
  kind: ReportKind;
  period: DayRange;
  previousPeriod: DayRange;
  progress: PeriodProgress;
  /** The region reported on ('' = all the caller sees). */
  region: string;
  /** The region asked for, when the caller's scope narrowed it to `region`. */
  askedRegion?: string;
  /** Each camera's totals over [period.from, progress.through], with causes. */
  current: CameraTotals[];
  /** Each camera's totals over the previous period. */
  previous: CameraTotals[];
  /** How far the days of [period.from, progress.through] are measured. */
  computed: ComputedState;
  names: LedgerNames;
  generatedAt: number;
  config: FigureConfig;
}

const seconds = (ms: number) => Math.round(ms / 1000);

/** now − before in percentage points (rates are 0–1). */
export function deltaPoints(now: number | null, before: number | null): number | null {
  return now === null || before === null ? null : (now - before) * 100;
}

/** The cause with the most seconds; a tie goes to the cause named first in CAUSE_ORDER (offline first). */
export function dominantCause(causes: Readonly<Record<string, number>> | undefined): string | null {
  const order = (cause: string) => {
    const i = CAUSE_ORDER.indexOf(cause);
    return i === -1 ? CAUSE_ORDER.length : i;
  };
  let best: string | null = null;
  for (const [cause, ms] of Object.entries(causes ?? {})) {
    if (ms <= 0) continue;
    const current = best === null ? 0 : (causes?.[best] ?? 0);
    if (best === null || ms > current || (ms === current && (order(cause) < order(best) || (order(cause) === order(best) && cause < best)))) best = cause;
  }
  return best;
}

const RATES: Array<{ key: RateKey; target?: TargetKind; of(f: Figure): number | null }> = [
  { key: 'onlineRate', target: 'online', of: (f) => f.onlineRate },
  { key: 'assessedOnlineRate', of: (f) => f.assessedOnlineRate },
  { key: 'coverage', of: (f) => f.coverage },
  { key: 'intactRate', target: 'intact', of: (f) => f.intactRate },
  { key: 'geoLabelledRate', target: 'geoLabelled', of: (f) => f.atEnd.geoLabelledRate },
  { key: 'hdRate', of: (f) => f.atEnd.hdRate },
];

const COUNTS: Array<{ key: CountKey; of(f: Figure): number }> = [
  { key: 'cameras', of: (f) => f.atEnd.cameras },
  { key: 'class1', of: (f) => f.atEnd.byClass.class1 },
  { key: 'class2', of: (f) => f.atEnd.byClass.class2 },
  { key: 'class3', of: (f) => f.atEnd.byClass.class3 },
  { key: 'unclassified', of: (f) => f.atEnd.byClass.unclassified },
  { key: 'geoLabelled', of: (f) => f.atEnd.geoLabelled },
  { key: 'hd', of: (f) => f.atEnd.hd },
];

export function rateLines(figure: Figure, previous: Figure | null): RateLine[] {
  return RATES.map(({ key, target, of }) => {
    const value = of(figure);
    const before = previous ? of(previous) : null;
    const check = target ? figure.targets[target] : undefined;
    return {
      key,
      name: RATE_NAMES[key],
      value,
      previous: before,
      deltaPoints: deltaPoints(value, before),
      targets: check ? check.byClass : [],
      met: check ? check.met : null,
    };
  });
}

export function countLines(figure: Figure, previous: Figure | null): CountLine[] {
  return COUNTS.map(({ key, of }) => {
    const before = previous ? of(previous) : null;
    return { key, name: COUNT_NAMES[key], value: of(figure), previous: before, delta: before === null ? null : of(figure) - before };
  });
}

function lastPart(path: string): string {
  const parts = path.split('/');
  return parts[parts.length - 1];
}

export function regionName(path: string): Bilingual {
  return path === '' ? { zh: '全部辖区', en: 'all regions' } : { zh: lastPart(path), en: lastPart(path) };
}

/** Higher rates first; a group without a rate after every group with one. */
function byRateDescending(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return b - a;
}

function missedTargets(figure: Figure): TargetKind[] {
  return (['online', 'intact', 'geoLabelled'] as const).filter((k) => figure.targets[k].met === false);
}

/** The level a ranking compares: the regions one level below `region`, passing down through
 * levels that hold a single region (a report of everything a city sees would rank its one
 * province otherwise), or the sites when no camera lies below. */
export function rankingLevel(current: readonly CameraTotals[], region: string, config: FigureConfig): { by: 'region' | 'site'; within: string } {
  let within = region;
  for (;;) {
    const depth = within === '' ? 0 : within.split('/').length;
    if (!current.some((c) => regionLevels(c.region).length > depth)) return { by: 'site', within };
    const groups = poolTotals(current, 'region', within, config).groups;
    if (groups.length !== 1 || groups[0].key === within || groups[0].key === '') return { by: 'region', within };
    within = groups[0].key;
  }
}

/** The regions (or sites) of the ranking level, by online rate, then intact rate (highest
 * first), then name, each with its change against the previous period and the targets it misses. */
export function rankGroups(
  current: readonly CameraTotals[],
  previous: readonly CameraTotals[],
  region: string,
  names: Pick<LedgerNames, 'sites'>,
  config: FigureConfig,
): Report['ranking'] {
  const { by, within } = rankingLevel(current, region, config);
  const before = new Map(poolTotals(previous, by, within, config).groups.map((g) => [g.key, g.figure]));
  const nameOf = (key: string): string => {
    if (by === 'site') return names.sites.get(key) ?? key;
    if (key === '') return '未设区域 no region';
    // Cameras of the region itself, beside those of the regions below it.
    return key === within ? `${lastPart(key)}（本级 itself）` : lastPart(key);
  };
  const rows = poolTotals(current, by, within, config)
    .groups.map((g) => {
      const prior = before.get(g.key) ?? null;
      return {
        rank: 0,
        key: g.key,
        name: nameOf(g.key),
        figure: g.figure,
        delta: {
          onlineRate: deltaPoints(g.figure.onlineRate, prior?.onlineRate ?? null),
          intactRate: deltaPoints(g.figure.intactRate, prior?.intactRate ?? null),
        },
        belowTarget: missedTargets(g.figure),
      };
    })
    .sort(
      (a, b) =>
        byRateDescending(a.figure.onlineRate, b.figure.onlineRate) ||
        byRateDescending(a.figure.intactRate, b.figure.intactRate) ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
  rows.forEach((row, i) => (row.rank = i + 1));
  return { by, within, rows };
}

/** Cameras whose own online or intact rate is below their class's target (classes without a
 * target are never below it), lowest online rate first within each class. */
export function camerasBelowTarget(current: readonly CameraTotals[], names: LedgerNames, config: FigureConfig): CameraBelowTarget[] {
  const out: CameraBelowTarget[] = [];
  for (const c of current) {
    if (c.class !== 1 && c.class !== 2 && c.class !== 3) continue;
    // The camera as a group of one: its rates judged by the same rule as any group's.
    const figure = new Pool().add(c).figure(config.targets, config.hdMinHeight);
    const misses = (['online', 'intact'] as const).filter((k) => figure.targets[k].met === false);
    if (misses.length === 0) continue;
    const causes = Object.fromEntries(Object.entries(c.causes ?? {}).map(([cause, ms]) => [cause, seconds(ms)]));
    out.push({
      site: c.site,
      siteName: names.sites.get(c.site) ?? null,
      camera: c.camera,
      name: names.cameras.get(`${c.site}/${c.camera}`) ?? null,
      class: c.class,
      region: c.region,
      onlineRate: figure.onlineRate,
      intactRate: figure.intactRate,
      targets: { online: config.targets.online[`class${c.class}`] ?? null, intact: config.targets.intact[`class${c.class}`] ?? null },
      misses,
      countedSeconds: seconds(c.countedMs),
      unknownSeconds: seconds(c.countedMs - c.knownMs),
      offlineSeconds: seconds(c.offlineMs),
      faultSeconds: seconds(c.faultMs),
      causes,
      cause: dominantCause(c.causes),
    });
  }
  return out.sort(
    (a, b) =>
      a.class - b.class ||
      -byRateDescending(a.onlineRate, b.onlineRate) ||
      -byRateDescending(a.intactRate, b.intactRate) ||
      (a.site < b.site ? -1 : a.site > b.site ? 1 : 0) ||
      (a.camera < b.camera ? -1 : 1),
  );
}

/** Cameras counted at the period's end without latitude and longitude. */
export function camerasWithoutCoordinates(current: readonly CameraTotals[], names: LedgerNames, config: FigureConfig): CameraWithoutCoordinates[] {
  const rank = (cls: number | null) => cls ?? 4;
  return current
    .filter((c) => c.presentAtEnd && !c.hasCoordinates)
    .map((c) => ({
      site: c.site,
      siteName: names.sites.get(c.site) ?? null,
      camera: c.camera,
      name: names.cameras.get(`${c.site}/${c.camera}`) ?? null,
      class: c.class,
      region: c.region,
      againstTarget: (c.class === 1 || c.class === 2 || c.class === 3) && config.targets.geoLabelled[`class${c.class}`] !== undefined,
    }))
    .sort((a, b) => rank(a.class) - rank(b.class) || (a.site < b.site ? -1 : a.site > b.site ? 1 : 0) || (a.camera < b.camera ? -1 : 1));
}

function notesFor(input: ReportInput, hasPrevious: boolean, cameras: number): Bilingual[] {
  const notes: Bilingual[] = [];
  const { progress, computed } = input;
  if (input.askedRegion !== undefined) {
    notes.push({
      zh: `所请求的区域 ${input.askedRegion} 超出您的权限范围，本报告只统计您可见的 ${input.region}。`,
      en: `You asked for ${input.askedRegion}; your scope is ${input.region}, so this report covers it alone.`,
    });
  }
  const zone = input.config.timezone;
  if (progress.partial) {
    const until = computed.computedThrough === null ? progress.through : localTime(computed.computedThrough, zone);
    notes.push({
      zh: `本期尚未结束：数据截至 ${until}，期末数据会继续变化。`,
      en: `The period is not over: figures through ${until}; they will change until it ends.`,
    });
  }
  if (cameras === 0) {
    notes.push({ zh: '本区域（在您的权限范围内）本期没有点位。', en: 'No cameras were counted in this region (within your scope) in this period.' });
  }
  if (computed.daysMissing.length > 0) {
    const runs = describeRuns(dayRuns(computed.daysMissing));
    notes.push({
      zh: `${computed.daysMissing.length} 天没有统计数据（${runs}）：当天尚无点位，或中心服务未运行；运行 camgate central 后会在一分钟内补算。`,
      en: `${computed.daysMissing.length} day(s) have no figures (${runs}): no camera yet, or the central was not running; a running central measures them within a minute.`,
    });
  }
  if (!hasPrevious) {
    notes.push({ zh: '上期没有统计数据，不计算环比变化。', en: 'The previous period has no figures: no change (Δ) is given.' });
  }
  notes.push({
    zh: `数据计算于 ${localTime(computed.computedAt, zone)}；迟到的补传数据仍可能改变已过去的日期。`,
    en: `Figures measured at ${localTime(computed.computedAt, zone)}; a late backlog can still change a past day.`,
  });
  return notes;
}

export function assembleReport(input: ReportInput): Report {
  const { config, kind, region } = input;
  const total = poolTotals(input.current, 'none', region, config).total;
  const hasPrevious = input.previous.length > 0;
  const previous = hasPrevious ? poolTotals(input.previous, 'none', region, config).total : null;
  const bounds = periodOf(input.period.from, input.period.to, config.timezone);
  const label = periodLabel(kind, input.period);
  const name = regionName(region);
  return {
    kind,
    title: {
      zh: `${name.zh} 视频监控${KIND_NAMES[kind].zh} ${label.zh}`,
      en: `${name.en}: camera ${KIND_NAMES[kind].en}, ${label.en}`,
    },
    region: { path: region, name },
    period: { ...bounds, label, partial: input.progress.partial, through: input.progress.through },
    previousPeriod: { ...input.previousPeriod, label: periodLabel(kind, input.previousPeriod), hasFigures: hasPrevious },
    generatedAt: new Date(input.generatedAt).toISOString(),
    computedAt: input.computed.computedAt,
    computedThrough: input.computed.computedThrough,
    daysMissing: input.computed.daysMissing,
    coverage: total.coverage,
    notes: notesFor(input, hasPrevious, total.cameras),
    summary: { figure: total, previous, rates: rateLines(total, previous), counts: countLines(total, previous) },
    ranking: rankGroups(input.current, input.previous, region, input.names, config),
    belowTarget: camerasBelowTarget(input.current, input.names, config),
    withoutCoordinates: camerasWithoutCoordinates(input.current, input.names, config),
  };
}
