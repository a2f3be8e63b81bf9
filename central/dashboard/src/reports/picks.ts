// The reports page's period pickers — a day (<input type=date>, 2026-12-06), an ISO week
// (<input type=week>, 2026-W49) or a month (<input type=month>, 2026-11) — and the one day of
// each the page sends the API. The API alone decides which period a day falls in and whether it
// may be reported (central/reports/period.ts): these only translate the pickers' notation.
// Calendar arithmetic on UTC dates: no time zone is involved.

import type { ReportKind } from '../api/types';

/** What each picker holds. */
export interface Picks {
  day: string;
  week: string;
  month: string;
}

const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const WEEK = /^(\d{4})-W(\d{2})$/;
const MONTH = /^\d{4}-(?:0[1-9]|1[0-2])$/;

function utc(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}

function dayText(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Monday 0 … Sunday 6. */
function weekday(d: Date): number {
  return (d.getUTCDay() + 6) % 7;
}

/** The ISO week (Monday first; week 1 holds the year's first Thursday) a day is in: 2026-W49. */
export function isoWeekOf(day: string): string {
  const d = utc(day);
  const thursday = new Date(d.getTime() + (3 - weekday(d)) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The Monday of an ISO week (2026-W49 → 2026-11-30); undefined when it is no week (2025-W53). */
export function mondayOfWeek(week: string): string | undefined {
  const m = WEEK.exec(week);
  if (!m) return undefined;
  const jan4 = new Date(Date.UTC(Number(m[1]), 0, 4));
  const monday = dayText(jan4.getTime() - weekday(jan4) * DAY_MS + (Number(m[2]) - 1) * 7 * DAY_MS);
  return isoWeekOf(monday) === week ? monday : undefined;
}

/** The first day of a month (2026-11 → 2026-11-01); undefined when it is no month. */
export function firstOfMonth(month: string): string | undefined {
  return MONTH.test(month) ? `${month}-01` : undefined;
}

/** The month a day is in. */
export function monthOf(day: string): string {
  return day.slice(0, 7);
}

/** The pickers set to the day a report of each kind is usually asked for, from the central's
 * yesterday (the API's default day): yesterday, last week (the week of the day a week before
 * today), last month (the month of the day before the first of this one). */
export function defaultPicks(yesterday: string): Picks {
  const today = dayText(utc(yesterday).getTime() + DAY_MS);
  return {
    day: yesterday,
    week: isoWeekOf(dayText(utc(today).getTime() - 7 * DAY_MS)),
    month: monthOf(dayText(utc(`${monthOf(today)}-01`).getTime() - DAY_MS)),
  };
}

/** Every picker at the period holding a day (a report opened from its address). */
export function picksAround(day: string): Picks {
  return { day, week: isoWeekOf(day), month: monthOf(day) };
}

/** The pickers set to a period the API answered (its first day), the others kept. */
export function picksOf(kind: ReportKind, from: string, picks: Picks): Picks {
  switch (kind) {
    case 'daily':
      return { ...picks, day: from };
    case 'weekly':
      return { ...picks, week: isoWeekOf(from) };
    case 'monthly':
      return { ...picks, month: monthOf(from) };
  }
}

/** The day to send for a kind: the picked day, the Monday of the picked week, the first of the
 * picked month; a picker whose text is not its notation (a browser without week inputs shows a
 * text box) is named with the notation it wants. */
export function pickedDay(kind: ReportKind, picks: Picks): { day: string } | { wrong: 'day' | 'week' | 'month'; example: string } {
  switch (kind) {
    case 'daily':
      return DAY.test(picks.day) ? { day: picks.day } : { wrong: 'day', example: '2026-12-06' };
    case 'weekly': {
      const day = mondayOfWeek(picks.week.trim().toUpperCase());
      return day ? { day } : { wrong: 'week', example: '2026-W49' };
    }
    case 'monthly': {
      const day = firstOfMonth(picks.month.trim());
      return day ? { day } : { wrong: 'month', example: '2026-11' };
    }
  }
}
