// A day's bands (GET /api/cameras/:site/:camera/timeline: the API cuts them by the figures' rule)
// placed on a bar from the span's start to its end, in percent of its width, with a tick every
// hour. Nothing is decided here about what a stretch was: only where it is drawn.

export interface TimelineBand {
  from: string;
  to: string;
  state: string;
  faults: string[];
}

export interface PlacedBand extends TimelineBand {
  /** Percent of the bar from its left end. */
  left: number;
  width: number;
}

const HOUR = 3_600_000;

/** The bands within [spanFrom, spanTo), clipped to it, as positions on the bar. */
export function placeBands(bands: readonly TimelineBand[], spanFrom: string, spanTo: string): PlacedBand[] {
  const start = Date.parse(spanFrom);
  const length = Date.parse(spanTo) - start;
  if (!(length > 0)) return [];
  const at = (ms: number) => (Math.min(Math.max(ms - start, 0), length) / length) * 100;
  return bands.map((b) => ({ ...b, left: at(Date.parse(b.from)), width: at(Date.parse(b.to)) - at(Date.parse(b.from)) })).filter((b) => b.width > 0);
}

/** A tick at every whole hour from the span's start (its local midnight), labelled 00:00 … 24:00. */
export function hourTicks(spanFrom: string, spanTo: string): Array<{ left: number; label: string }> {
  const start = Date.parse(spanFrom);
  const length = Date.parse(spanTo) - start;
  if (!(length > 0)) return [];
  const ticks: Array<{ left: number; label: string }> = [];
  for (let h = 0; h * HOUR <= length; h++) ticks.push({ left: ((h * HOUR) / length) * 100, label: `${String(h).padStart(2, '0')}:00` });
  return ticks;
}
