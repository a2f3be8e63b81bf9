// How numbers read on the pages. Rates come from the API as fractions 0–1 (or null when there is
// nothing to divide by); they are shown as percent with one decimal, never recomputed here.

export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`;
}

/**
 * A date-time of an ISO instant, short, in the central's time zone: the figures' days are its local
 * days, so an alarm at 23:45 UTC belongs to the next day in Asia/Shanghai, and a browser elsewhere
 * (or set to UTC) must not show it on the day before.
 */
export function when(iso: string | null | undefined, locale: string, timeZone: string | undefined, seconds = false): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(locale === 'zh' ? 'zh-CN' : 'en-GB', {
    dateStyle: 'short',
    timeStyle: seconds ? 'medium' : 'short',
    ...(timeZone ? { timeZone } : {}),
  });
}

/** YYYY-MM-DD of the day `days` before `day` (calendar arithmetic, no time zone involved). */
export function dayBefore(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}
