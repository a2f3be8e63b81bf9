// The region tree of GET /api/regions (a flat list, each row naming its parent) as the rows a
// tree-table shows: a row is shown when every region above it is expanded. Rows keep the API's
// order (by path), so children follow their parent.

export interface RegionNode {
  region: string;
  parent: string | null;
  depth: number;
}

/** The regions that have regions below them. */
export function withChildren(rows: readonly RegionNode[]): Set<string> {
  const out = new Set<string>();
  for (const r of rows) if (r.parent !== null) out.add(r.parent);
  return out;
}

/** The rows shown: the top ones (no parent in the list: a scoped user's tree starts at its
 * province, which is above its scope), and those whose ancestors in the list are all expanded. */
export function shownRows<T extends RegionNode>(rows: readonly T[], expanded: ReadonlySet<string>): T[] {
  const known = new Set(rows.map((r) => r.region));
  const shown = new Set<string>();
  const out: T[] = [];
  for (const r of rows) {
    const top = r.parent === null || !known.has(r.parent);
    if (top || (shown.has(r.parent!) && expanded.has(r.parent!))) {
      shown.add(r.region);
      out.push(r);
    }
  }
  return out;
}

/** What is expanded when the page opens: each region that is alone at its level, down to the
 * first level with more than one (a city user sees its counties at once). */
export function initiallyExpanded(rows: readonly RegionNode[]): Set<string> {
  const children = new Map<string | null, RegionNode[]>();
  const known = new Set(rows.map((r) => r.region));
  for (const r of rows) {
    const parent = r.parent !== null && known.has(r.parent) ? r.parent : null;
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const out = new Set<string>();
  let level = children.get(null) ?? [];
  while (level.length === 1) {
    out.add(level[0].region);
    level = children.get(level[0].region) ?? [];
  }
  return out;
}
