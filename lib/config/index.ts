// Configuration from one schema: defaults < YAML file < environment < flags, validated, with a
// flag and an environment variable generated for every key.
export { ConfigSpec, configSchemaDocument, MASK, type LoadConfigOptions, type LoadedConfig } from './spec';
export type { ConfigKey, LeafType } from './keys';
export { describeExpected, envForPath, flagForPath, kebab, screamingSnake } from './keys';
export { getPath, setPath, isPlainObject, type FlagValue, type PlainObject, type EnvNames } from './layers';
export { coerceString, splitList } from './coerce';
export { closest, editDistance } from './suggest';
export { describeSource, type ConfigSource } from './sources';
export { CUSTOM_KEYWORDS, fileSchema, type SchemaNode } from './schema-node';
