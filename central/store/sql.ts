// SQL that SQLite and PostgreSQL spell differently, spelled once in a form both accept.
import { sql, type RawBuilder } from 'kysely';

/** The smaller of a column and a value (SQLite's scalar min(), PostgreSQL's least()). */
export function smallerOf(column: string, value: number): RawBuilder<number> {
  return sql<number>`case when ${sql.ref(column)} < ${value} then ${sql.ref(column)} else ${value} end`;
}

/** The larger of a column and a value (SQLite's scalar max(), PostgreSQL's greatest()). */
export function largerOf(column: string, value: number): RawBuilder<number> {
  return sql<number>`case when ${sql.ref(column)} > ${value} then ${sql.ref(column)} else ${value} end`;
}

/** largerOf, or the column unchanged when there is no value. */
export function largerOfKnown(column: string, value: number | null | undefined): RawBuilder<number> {
  return value === null || value === undefined ? sql<number>`${sql.ref(column)}` : largerOf(column, value);
}

/** smallerOf, or the column unchanged when there is no value. */
export function smallerOfKnown(column: string, value: number | null | undefined): RawBuilder<number> {
  return value === null || value === undefined ? sql<number>`${sql.ref(column)}` : smallerOf(column, value);
}
