// The median the picture measures share. Pure.

/** The median of the values that are numbers (NaN left out); 0 when there are none. */
export function median(values: ArrayLike<number>): number {
  // A typed array sorts numerically without a comparator call per comparison, NaN last.
  const v = Float64Array.from(values).sort();
  let n = v.length;
  while (n > 0 && Number.isNaN(v[n - 1])) n--;
  if (n === 0) return 0;
  const m = n >> 1;
  return n % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
