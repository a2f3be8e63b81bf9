// Region scope (分层分级授权): every user and API token sees what lies within a region path prefix
// ('浙江省/杭州市/余杭区' sees that county and everything below it; '' sees everything). A camera is
// in scope when its region is; a site when at least one of its cameras is. What is out of scope is
// answered exactly like what does not exist. This module is the one owner of that rule: ledger
// queries, figures, alarms and the audit log filter through these helpers, in SQL and in code.
import { sql, type RawBuilder, type SqlBool } from 'kysely';

/** A region path prefix, '/'-joined, without a leading or trailing '/': '' = everything. */
export type RegionScope = string;

/** The scope of an unrestricted user. */
export const EVERYWHERE: RegionScope = '';

/** Longest region path accepted (the ledger filter's bound). */
export const MAX_REGION_LENGTH = 512;

/** A LIKE pattern that matches `text` literally (\ escapes). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A region path without the trailing '/' people sometimes type ('浙江省/杭州市/' → '浙江省/杭州市'). */
export function trimRegion(path: string): string {
  let region = path.trim();
  while (region.endsWith('/')) region = region.slice(0, -1);
  return region;
}

/** Why `text` is not a usable scope (undefined: it is); said so that the caller can fix it. */
export function scopeProblem(text: string): string | undefined {
  return regionPathProblem(text, 'a region scope');
}

/** Why `text` is not a region path (undefined: it is), `noun` naming what it is for ('a region'). */
export function regionPathProblem(text: string, noun: string): string | undefined {
  const path = trimRegion(text);
  if (path.length > MAX_REGION_LENGTH) return `${noun} is at most ${MAX_REGION_LENGTH} characters`;
  if (path.startsWith('/')) return `${noun} does not start with '/': write 浙江省/杭州市, or '' for everything`;
  if (path.split('/').some((part) => part.trim() === '' && path !== '')) return `${noun} has no empty parts ('a//b'): write 浙江省/杭州市`;
  if (/[\u0000-\u001f\u007f]/.test(path)) return `${noun} has no control characters`;
  return undefined;
}

/** Is `region` (a camera's, or a narrower scope) within `scope`? Pure: for checks in code. */
export function regionWithin(region: string | null, scope: RegionScope): boolean {
  if (scope === EVERYWHERE) return true;
  if (region === null) return false;
  const r = trimRegion(region);
  return r === scope || r.startsWith(`${scope}/`);
}

/** The levels a region path belongs to: 'a/b/c' → a, a/b, a/b/c (a camera counts in each). */
export function regionLevels(region: string | null): string[] {
  if (!region) return [];
  const parts = trimRegion(region)
    .split('/')
    .filter((p) => p !== '');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** Is `inner` at most as wide as `outer`? ('' is the widest.) */
export function scopeWithin(inner: RegionScope, outer: RegionScope): boolean {
  if (outer === EVERYWHERE) return true;
  if (inner === EVERYWHERE) return false;
  return regionWithin(inner, outer);
}

/** SQL: the region in `column` is `region` or below it. */
export function regionUnder(column: string, region: string): RawBuilder<SqlBool> {
  const r = trimRegion(region);
  return sql<SqlBool>`(${sql.ref(column)} = ${r} or ${sql.ref(column)} like ${likeLiteral(r) + '/%'} escape '\\')`;
}

/** SQL: the region in `column` is within `scope` (always true for EVERYWHERE; a NULL region is in no narrower scope). */
export function regionInScope(column: string, scope: RegionScope): RawBuilder<SqlBool> {
  return scope === EVERYWHERE ? sql<SqlBool>`1 = 1` : regionUnder(column, scope);
}

/** SQL: the site in `siteColumn` has at least one camera (removed or not) within `scope`. */
export function siteInScope(siteColumn: string, scope: RegionScope): RawBuilder<SqlBool> {
  if (scope === EVERYWHERE) return sql<SqlBool>`1 = 1`;
  return sql<SqlBool>`exists (select 1 from cameras as scope_cameras where scope_cameras.site_id = ${sql.ref(siteColumn)} and ${regionUnder('scope_cameras.region', scope)})`;
}

/** SQL: the camera named by `siteColumn` and `cameraColumn` is within `scope` (for tables that
 * refer to a camera: alarms, figures, audit records). */
export function cameraInScope(siteColumn: string, cameraColumn: string, scope: RegionScope): RawBuilder<SqlBool> {
  if (scope === EVERYWHERE) return sql<SqlBool>`1 = 1`;
  return sql<SqlBool>`exists (select 1 from cameras as scope_cameras where scope_cameras.site_id = ${sql.ref(siteColumn)} and scope_cameras.camera_id = ${sql.ref(cameraColumn)} and ${regionUnder('scope_cameras.region', scope)})`;
}
