// Local days: the figures and reports count days in central.timezone (Asia/Shanghai by default),
// whatever the zone of the machine the central runs on. A day is written YYYY-MM-DD and covers
// [start, end) in epoch milliseconds; with daylight saving a day may be 23 or 25 hours long.
import { DateTime, IANAZone } from 'luxon';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export interface DayBounds {
  start: number;
  end: number;
}

/** null when `zone` is an IANA time zone luxon knows, else why not. */
export function checkTimeZone(zone: string): string | null {
  return IANAZone.isValidZone(zone) ? null : `"${zone}" is not an IANA time zone (for example Asia/Shanghai)`;
}

/** The local day of an instant. */
export function dayOf(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toISODate() as string;
}

/**
 * dayOf for one zone, for a stream of instants that mostly fall on a few days (ingest marks two
 * days a message): the bounds of the days last found are kept, so most instants are two
 * comparisons instead of a time zone conversion (which cost ingest several percent of its CPU).
 */
export function dayFinder(zone: string): (ms: number) => string {
  const known: Array<DayBounds & { day: string }> = [];
  return (ms) => {
    for (const d of known) if (ms >= d.start && ms < d.end) return d.day;
    const day = dayOf(ms, zone);
    known.unshift({ day, ...dayBounds(day, zone) });
    if (known.length > 4) known.pop();
    return day;
  };
}

/** Is `day` a real calendar date written YYYY-MM-DD? */
export function isDay(day: string): boolean {
  return DAY.test(day) && DateTime.fromISO(day, { zone: 'UTC' }).isValid;
}

export function dayBounds(day: string, zone: string): DayBounds {
  const start = DateTime.fromISO(day, { zone }).startOf('day');
  if (!start.isValid) throw new Error(`not a day: "${day}" (expected YYYY-MM-DD)`);
  return { start: start.toMillis(), end: start.plus({ days: 1 }).toMillis() };
}

export function addDays(day: string, n: number): string {
  return DateTime.fromISO(day, { zone: 'UTC' }).plus({ days: n }).toISODate() as string;
}

/** Every day from `from` to `to`, both included (empty when `to` is before `from`). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** The days before `day` a period of `length` days ending on it starts at: the previous period
 * of the same length, for comparisons. */
export function previousPeriod(from: string, to: string): { from: string; to: string } {
  const length = daysBetween(from, to).length;
  return { from: addDays(from, -length), to: addDays(from, -1) };
}

/** The Monday–Sunday week that contains `day` (offices in China count weeks from Monday). */
export function weekOf(day: string): { from: string; to: string } {
  const date = DateTime.fromISO(day, { zone: 'UTC' });
  const monday = date.minus({ days: date.weekday - 1 });
  return { from: monday.toISODate() as string, to: monday.plus({ days: 6 }).toISODate() as string };
}

/** The calendar month that contains `day`, first to last day. */
export function monthOf(day: string): { from: string; to: string } {
  const date = DateTime.fromISO(day, { zone: 'UTC' });
  return { from: date.startOf('month').toISODate() as string, to: date.endOf('month').toISODate() as string };
}
