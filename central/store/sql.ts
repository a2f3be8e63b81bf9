// SQL that SQLite and PostgreSQL spell differently, spelled once in a form both accept.
import { sql, type AliasedRawBuilder, type RawBuilder } from 'kysely';
import type { Dialect } from './open';

/** The smaller of two columns (SQLite's scalar min(), PostgreSQL's least()), e.g. a row's and the upsert's `excluded.` one. */
export function smallerOf(column: string, other: string): RawBuilder<number> {
  return sql<number>`case when ${sql.ref(column)} < ${sql.ref(other)} then ${sql.ref(column)} else ${sql.ref(other)} end`;
}

/** The larger of two columns (SQLite's scalar max(), PostgreSQL's greatest()). */
export function largerOf(column: string, other: string): RawBuilder<number> {
  return sql<number>`case when ${sql.ref(column)} > ${sql.ref(other)} then ${sql.ref(column)} else ${sql.ref(other)} end`;
}

/** largerOf where either may be NULL (unknown): the known one, or NULL when neither is. */
export function largerOfKnown(column: string, other: string): RawBuilder<number> {
  return sql<number>`case when ${sql.ref(other)} is null then ${sql.ref(column)} when ${sql.ref(column)} is null then ${sql.ref(other)} else ${largerOf(column, other)} end`;
}

/** smallerOf where either may be NULL (unknown): the known one, or NULL when neither is. */
export function smallerOfKnown(column: string, other: string): RawBuilder<number> {
  return sql<number>`case when ${sql.ref(other)} is null then ${sql.ref(column)} when ${sql.ref(column)} is null then ${sql.ref(other)} else ${smallerOf(column, other)} end`;
}

/** Rows one `rowsTable` carries at most: one parameter however many, the bound keeps a statement's size in check. */
export const ROWS_PER_JSON_TABLE = 5000;

/** The SQL type a value of a `rowsTable` column is (both databases know these names). */
export type ValueType = 'text' | 'bigint';

/**
 * Rows given as a table to join, e.g. in `update … from`, sent as one JSON parameter and taken
 * apart by the database (PostgreSQL's json_to_recordset, SQLite's json_each): a VALUES list took
 * a parameter and a cast per value, and PostgreSQL parsed and planned thousands of them per
 * statement (twice as slow for a batch's thousand alarm keys), while SQLite prepared a new
 * statement for every number of rows. `rows` must not be empty.
 */
export function rowsTable<R extends Record<string, string | number | null>, A extends string>(
  dialect: Dialect,
  rows: readonly R[],
  types: { [K in keyof R]: ValueType },
  alias: A,
): AliasedRawBuilder<R, A> {
  if (rows.length === 0) throw new Error(`rowsTable ${alias}: no rows (a table needs at least one)`);
  const columns = Object.keys(types) as Array<keyof R & string>;
  if (dialect === 'postgres') {
    // The replacer list keeps only these columns of each row.
    const json = JSON.stringify(rows, columns);
    const definition = sql.join(columns.map((c) => sql`${sql.ref(c)} ${sql.raw(types[c])}`));
    return sql<R>`(select * from json_to_recordset(cast(${json} as json)) as ${sql.ref(`${alias}_rows`)}(${definition}))`.as(alias);
  }
  // Each row as an array, its values taken by position: three times as fast in SQLite as by name.
  const json = JSON.stringify(rows.map((row) => columns.map((c) => row[c])));
  const names = sql.join(columns.map((c, i) => sql`value ->> ${sql.lit(i)} as ${sql.ref(c)}`));
  return sql<R>`(select ${names} from json_each(${json}))`.as(alias);
}
