// TypeBox combinators that keep an emitted JSON Schema the plain draft-07 a reader in any
// language expects (enum rather than anyOf of consts, additionalProperties rather than patterns).
import { Type, type SchemaOptions, type Static, type TSchema } from '@sinclair/typebox';

/** `T` or JSON null. */
export const Nullable = <T extends TSchema>(schema: T, options: SchemaOptions = {}) => Type.Union([schema, Type.Null()], options);

/** One of fixed values, emitted as `enum`. */
export function Enum<const V extends readonly (string | number)[]>(values: V, options: SchemaOptions = {}) {
  return Type.Unsafe<V[number]>({ ...options, enum: [...values] });
}

/** A JSON object used as a map from any key to `value`. */
export function Dictionary<T extends TSchema>(value: T, options: SchemaOptions = {}) {
  return Type.Unsafe<Record<string, Static<T>>>({ ...options, type: 'object', additionalProperties: value });
}

/** Any JSON object (its fields are documented per case, not fixed by the schema). */
export const AnyObject = (options: SchemaOptions = {}) => Type.Unsafe<Record<string, unknown>>({ ...options, type: 'object' });

export const DateTime = (options: SchemaOptions = {}) => Type.String({ ...options, format: 'date-time' });
