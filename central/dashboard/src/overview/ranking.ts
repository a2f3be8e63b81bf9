// Which regions the overview ranks: the first level of the tree with more than one region (a
// county user's tree starts at its province, then its city, then its county: the level below its
// own), best online rate first. The rates are the API's; this only picks and orders rows.

export interface RankRow {
  region: string;
  name: string;
  depth: number;
  figure: { onlineRate: number | null };
}

export function rankingLevel(rows: readonly RankRow[]): number | undefined {
  if (rows.length === 0) return undefined;
  const depths = [...new Set(rows.map((r) => r.depth))].sort((a, b) => a - b);
  for (const depth of depths) {
    if (rows.filter((r) => r.depth === depth).length > 1) return depth;
  }
  return depths[depths.length - 1];
}

export function rankRegions<T extends RankRow>(rows: readonly T[]): T[] {
  const level = rankingLevel(rows);
  if (level === undefined) return [];
  return rows
    .filter((r) => r.depth === level)
    .sort((a, b) => {
      const ra = a.figure.onlineRate ?? -1;
      const rb = b.figure.onlineRate ?? -1;
      return rb - ra || a.region.localeCompare(b.region);
    });
}
