// How numbers read on the pages. Rates come from the API as fractions 0–1 (or null when there is
// nothing to divide by); they are shown as percent with one decimal, never recomputed here.

export function percent(rate: number | null | undefined, decimals = 1): string {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(decimals)}%`;
}

/** A change in percentage points, signed, as the reports write it ("+1.25", "-4.17"). */
export function points(delta: number | null | undefined): string {
  if (delta === null || delta === undefined) return '—';
  const rounded = Math.round(delta * 100) / 100;
  return `${rounded > 0 ? '+' : ''}${rounded.toFixed(2)}`;
}

/** A signed count change ("+2", "-1", "0"). */
export function countDelta(delta: number | null | undefined): string {
  return delta === null || delta === undefined ? '—' : `${delta > 0 ? '+' : ''}${delta}`;
}

/** Seconds as h:mm:ss ("26:00:00" for 26 hours), as the reports write a duration. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
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

/** Items as a list in the page's language: 在线率、完好率 / online rate, intact rate. */
export function listed(items: readonly string[], locale: string): string {
  return items.join(locale === 'zh' ? '、' : ', ');
}
