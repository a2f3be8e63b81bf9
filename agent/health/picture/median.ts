// The median the picture measures share. Pure.

/** The median of the values that are numbers (NaN left out); 0 when there are none. A typed copy
 * sorts natively (numeric order), several times faster than a comparator on the block lists the
 * measures pass. */
export function median(values: ArrayLike<number>): number {
  const v = Float64Array.from(values)
    .filter((x) => !Number.isNaN(x))
    .sort();
  if (v.length === 0) return 0;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
