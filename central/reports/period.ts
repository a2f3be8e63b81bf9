// The periods of the programme's three reports: a day (日统计), the Monday–Sunday week that
// contains it (周通报), the calendar month that contains it (月分析); the period each is compared
// with; and how far a period has got by today. Pure: days are YYYY-MM-DD strings, local days of
// central.timezone, and `today` is given.
import { DateTime } from 'luxon';
import { addDays, monthOf, previousPeriod, weekOf } from '../figures/days';

export const REPORT_KINDS = ['daily', 'weekly', 'monthly'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export interface DayRange {
  from: string;
  to: string;
}

/** A text in the two languages every report carries side by side. */
export interface Bilingual {
  zh: string;
  en: string;
}

export const KIND_NAMES: Record<ReportKind, Bilingual> = {
  daily: { zh: '日统计', en: 'daily statistics' },
  weekly: { zh: '周通报', en: 'weekly bulletin' },
  monthly: { zh: '月分析', en: 'monthly analysis' },
};

export function isReportKind(text: string): text is ReportKind {
  return (REPORT_KINDS as readonly string[]).includes(text);
}

/** The period of a `kind` report that contains `day`. */
export function reportPeriod(kind: ReportKind, day: string): DayRange {
  switch (kind) {
    case 'daily':
      return { from: day, to: day };
    case 'weekly':
      return weekOf(day);
    case 'monthly':
      return monthOf(day);
  }
}

/** What a report is compared with: the day before, the week before, the calendar month before
 * (whatever its length: February is compared with January's 31 days, as rates allow). */
export function previousReportPeriod(kind: ReportKind, period: DayRange): DayRange {
  return kind === 'monthly' ? monthOf(addDays(period.from, -1)) : previousPeriod(period.from, period.to);
}

export interface PeriodProgress {
  /** The period has begun by today (a report of a period that has not is refused). */
  begun: boolean;
  /** Today falls in the period (or before its end): its figures are not final. */
  partial: boolean;
  /** The last day the figures can cover: the period's end, or today while it runs. */
  through: string;
}

export function periodProgress(period: DayRange, today: string): PeriodProgress {
  return { begun: period.from <= today, partial: period.to >= today, through: period.to < today ? period.to : today };
}

/** How a period is named in titles: the day, the ISO week (Monday first) with its days, or the month. */
export function periodLabel(kind: ReportKind, period: DayRange): Bilingual {
  const from = DateTime.fromISO(period.from, { zone: 'UTC' });
  switch (kind) {
    case 'daily':
      return { zh: `${from.year}年${from.month}月${from.day}日`, en: period.from };
    case 'weekly':
      return {
        zh: `${from.weekYear}年第${from.weekNumber}周（${period.from} 至 ${period.to}）`,
        en: `week ${from.weekNumber} of ${from.weekYear} (${period.from} to ${period.to})`,
      };
    case 'monthly':
      return { zh: `${from.year}年${from.month}月`, en: from.toFormat('yyyy-MM') };
  }
}

/** Runs of consecutive days, for saying which days lack figures without listing a month of them. */
export function dayRuns(days: readonly string[]): DayRange[] {
  const runs: DayRange[] = [];
  for (const day of [...days].sort()) {
    const last = runs[runs.length - 1];
    if (last && addDays(last.to, 1) === day) last.to = day;
    else runs.push({ from: day, to: day });
  }
  return runs;
}

export function describeRuns(runs: readonly DayRange[]): string {
  return runs.map((r) => (r.from === r.to ? r.from : `${r.from}..${r.to}`)).join(', ');
}
