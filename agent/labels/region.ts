// Region paths: "province/city/county/township/village" (省/市/县/乡镇/村), the roll-up levels the
// programme reports by. Stored as separate columns so the central can group by any level.

export const REGION_LEVELS = ['province', 'city', 'county', 'township', 'village'] as const;
export type RegionLevel = (typeof REGION_LEVELS)[number];
export type RegionParts = Record<RegionLevel, string | null>;

/** "浙江省/杭州市/西湖区" → parts (missing lower levels null); trailing slashes ignored. */
export function parseRegion(path: string): { parts?: RegionParts; error?: string } {
  const segments = path.split('/').map((s) => s.trim());
  while (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  if (segments.length === 0) return { parts: emptyRegion() };
  if (segments.length > REGION_LEVELS.length) {
    return { error: `has ${segments.length} levels; at most ${REGION_LEVELS.length} (${REGION_LEVELS.join('/')})` };
  }
  const parts = emptyRegion();
  segments.forEach((s, i) => (parts[REGION_LEVELS[i]] = s === '' ? null : s));
  return { parts };
}

export function emptyRegion(): RegionParts {
  return { province: null, city: null, county: null, township: null, village: null };
}

/** Parts → "a/b/c" (empty middle levels kept as "", trailing ones dropped); null when all empty. */
export function formatRegion(parts: RegionParts): string | null {
  const values = REGION_LEVELS.map((l) => parts[l] ?? '');
  while (values.length > 0 && values[values.length - 1] === '') values.pop();
  return values.length === 0 ? null : values.join('/');
}
