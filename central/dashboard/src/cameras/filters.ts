// The cameras table's filters, sort and page as they live in the page's address (so a link or a
// reload shows the same list) and as they go to GET /api/cameras. Values the API would refuse are
// dropped when read from an address, so a hand-edited link still opens a list.

export const CONDITIONS = ['online', 'fault', 'offline', 'unknown'] as const;
export type ConditionFilter = (typeof CONDITIONS)[number];
export const CLASSES = ['1', '2', '3'] as const;
/** The columns the API sorts by that the table shows. */
export const SORTABLE = ['site', 'camera', 'name', 'class', 'region', 'owner', 'statusAt'] as const;
export type SortColumn = (typeof SORTABLE)[number];
export const PAGE_SIZE = 50;

export interface CameraFilters {
  condition?: ConditionFilter;
  /** A picture fault name, or 'any'. */
  fault?: string;
  class?: (typeof CLASSES)[number];
  region?: string;
  site?: string;
  owner?: string;
  text?: string;
  sort: SortColumn;
  order: 'asc' | 'desc';
  /** 0-based page. */
  page: number;
}

export const NO_FILTERS: CameraFilters = { sort: 'site', order: 'asc', page: 0 };

type QueryValue = string | null | undefined | Array<string | null>;

function first(value: QueryValue): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === null || v === undefined) return undefined;
  const trimmed = v.trim();
  return trimmed === '' ? undefined : trimmed;
}

function oneOf<T extends string>(values: readonly T[], value: string | undefined): T | undefined {
  return value !== undefined && (values as readonly string[]).includes(value) ? (value as T) : undefined;
}

/** The filters an address holds (vue-router's route.query). */
export function filtersFromQuery(query: Record<string, QueryValue>): CameraFilters {
  const page = Number(first(query.page) ?? '1');
  return {
    condition: oneOf(CONDITIONS, first(query.condition)),
    fault: first(query.fault),
    class: oneOf(CLASSES, first(query.class)),
    region: first(query.region),
    site: first(query.site),
    owner: first(query.owner),
    text: first(query.text),
    sort: oneOf(SORTABLE, first(query.sort)) ?? 'site',
    order: first(query.order) === 'desc' ? 'desc' : 'asc',
    page: Number.isInteger(page) && page >= 1 ? page - 1 : 0,
  };
}

/** The address of these filters: only what differs from the defaults, the page counted from 1. */
export function filtersToQuery(f: CameraFilters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['condition', 'fault', 'class', 'region', 'site', 'owner', 'text'] as const) {
    const value = f[key]?.trim();
    if (value) out[key] = value;
  }
  if (f.sort !== 'site') out.sort = f.sort;
  if (f.order !== 'asc') out.order = f.order;
  if (f.page > 0) out.page = String(f.page + 1);
  return out;
}

/** The filters and sort as GET /api/cameras takes them, without paging (the export's too). */
export function apiFilter(f: CameraFilters): Record<string, string> {
  const query = filtersToQuery(f);
  delete query.page;
  return query;
}

/** One page of the list as GET /api/cameras takes it. */
export function apiPage(f: CameraFilters): Record<string, string | number> {
  return { ...apiFilter(f), limit: PAGE_SIZE, offset: f.page * PAGE_SIZE };
}

/** A click on a column's heading: that column ascending, or the other way when it is sorted already; back to the first page. */
export function sortedBy(f: CameraFilters, column: SortColumn): CameraFilters {
  const order = f.sort === column && f.order === 'asc' ? 'desc' : 'asc';
  return { ...f, sort: column, order, page: 0 };
}
