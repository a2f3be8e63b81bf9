// Lists cut into pieces: a multi-row statement takes a bounded number of rows, so that its
// parameters stay under the drivers' limits (SQLite 32,766, PostgreSQL 65,535).

/** `items` in consecutive pieces of at most `size` (the last may be shorter). */
export function inChunks<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`inChunks: size must be a positive integer, not ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
