// SQL that SQLite and PostgreSQL spell differently, spelled once in a form both accept.
import { sql, type AliasedRawBuilder, type RawBuilder } from 'kysely';

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

/** The SQL type a value of a `valuesTable` column is cast to (both databases know these names). */
export type ValueType = 'text' | 'bigint';

/**
 * Rows given as a table to join, e.g. in `update … from`: a VALUES list (whose columns both
 * databases name column1, column2, …) renamed to `types`' keys. Every value is cast, as
 * PostgreSQL would otherwise take a parameter for text. `rows` must not be empty.
 */
export function valuesTable<R extends Record<string, string | number | null>, A extends string>(
  rows: readonly R[],
  types: { [K in keyof R]: ValueType },
  alias: A,
): AliasedRawBuilder<R, A> {
  if (rows.length === 0) throw new Error(`valuesTable ${alias}: no rows (a VALUES list needs at least one)`);
  const columns = Object.keys(types) as Array<keyof R & string>;
  const names = sql.join(columns.map((c, i) => sql`${sql.ref(`column${i + 1}`)} as ${sql.ref(c)}`));
  const values = sql.join(rows.map((row) => sql`(${sql.join(columns.map((c) => sql`cast(${row[c]} as ${sql.raw(types[c])})`))})`));
  return sql<R>`(select ${names} from (values ${values}) as ${sql.ref(`${alias}_values`)})`.as(alias);
}
