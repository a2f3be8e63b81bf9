// Region paths ('浙江省/杭州市/余杭区'): the levels of the programme's 分层分级 hierarchy, and the one
// rule of what is "in" a region — the region itself and every region below it.

/** A region path as given, without trailing slashes. */
export function normaliseRegion(region: string): string {
  let out = region;
  while (out.endsWith('/')) out = out.slice(0, -1);
  return out;
}

/** The levels a region path belongs to: 'a/b/c' → a, a/b, a/b/c. */
export function regionLevels(region: string | null): string[] {
  if (!region) return [];
  const parts = region.split('/').filter((p) => p !== '');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** Is `region` the region `prefix` or below it? ('' holds everything.) The SQL form of the same
 * rule is in queries.ts (`region = p OR region LIKE 'p/%'`). */
export function inRegion(region: string | null, prefix: string): boolean {
  if (prefix === '') return true;
  if (!region) return false;
  return region === prefix || region.startsWith(`${prefix}/`);
}
