// Sorted, disjoint interval lists [start, end) in epoch ms: the union that turns a site's messages
// into its evidence of life, and the intersections and overlaps the figures are measured with.

export interface Interval {
  start: number;
  end: number;
}

/** The union of interval lists, sorted and disjoint (touching intervals join). */
export function union(...lists: ReadonlyArray<readonly Interval[]>): Interval[] {
  const all = lists
    .flat()
    .filter((i) => i.end > i.start)
    .sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of all) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ start: i.start, end: i.end });
  }
  return out;
}

/** The intersection of two sorted, disjoint lists. */
export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const start = Math.max(a[i].start, b[j].start);
    const end = Math.min(a[i].end, b[j].end);
    if (end > start) out.push({ start, end });
    if (a[i].end < b[j].end) i++;
    else j++;
  }
  return out;
}

export function measure(list: readonly Interval[]): number {
  let total = 0;
  for (const i of list) total += i.end - i.start;
  return total;
}

/** Measures how much of successive, non-decreasing spans a sorted list covers, walking the list
 * once: the spans of one camera's timeline against its known time. */
export class OverlapCursor {
  private index = 0;

  constructor(private readonly list: readonly Interval[]) {}

  overlap(start: number, end: number): number {
    while (this.index < this.list.length && this.list[this.index].end <= start) this.index++;
    let total = 0;
    for (let k = this.index; k < this.list.length && this.list[k].start < end; k++) {
      total += Math.min(end, this.list[k].end) - Math.max(start, this.list[k].start);
    }
    return total;
  }
}
