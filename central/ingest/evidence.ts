// Merged interval lists: a site's evidence of life is the union of [x, x + S] over the observedAt
// x of its messages, kept as disjoint, sorted intervals whatever order the messages come in.

export interface Interval {
  start: number;
  end: number;
}

/** The union of two interval lists, sorted and disjoint (touching intervals join). */
export function mergeEvidence(existing: readonly Interval[], added: readonly Interval[]): Interval[] {
  const all = [...existing, ...added].filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of all) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ start: i.start, end: i.end });
  }
  return out;
}
