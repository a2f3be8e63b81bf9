// One configuration described once: its schema (TypeBox, so the effective configuration has a
// type), the prefix of its environment variables, and everything derived from them: keys with
// their flags and variables, loading defaults < file < environment < flags, validation with
// messages that name the key, masking of secrets. The agent and the central each make one.
import type { Static, TSchema } from '@sinclair/typebox';
import { ConfigError } from '../errors';
import { allPaths, ConfigKey, configKeys, findKey } from './keys';
import { defaultsLayer, envLayer, EnvNames, fileLayer, FlagValue, flagLayer, getPath, Layer, mergeLayers, PlainObject, setPath } from './layers';
import { fileSchema, type SchemaNode } from './schema-node';
import type { ConfigSource } from './sources';
import { ConfigValidator } from './validate';
import { readYamlConfig } from './yaml-file';

export interface LoadConfigOptions {
  /** --config FILE (or its variable; the caller decides). */
  file?: string;
  env: Record<string, string | undefined>;
  flags?: FlagValue[];
}

export interface LoadedConfig<T> {
  config: T;
  /** Dotted key → where its effective value came from. */
  sources: Map<string, ConfigSource>;
  file?: string;
  /** Non-fatal findings (unknown variables with the prefix) for the caller to log. */
  warnings: string[];
}

/** Shown instead of a secret's value. */
export const MASK = '********';

export class ConfigSpec<S extends TSchema> {
  readonly schema: SchemaNode;
  readonly keys: readonly ConfigKey[];
  // Held weakly: a program loads its configuration once, and the compiled validator (with its ajv
  // instance, ~0.3 MB of heap) would otherwise stay for the life of a long-running agent.
  private validator?: WeakRef<ConfigValidator>;

  constructor(
    schema: S,
    readonly env: EnvNames,
  ) {
    this.schema = schema;
    this.keys = configKeys(this.schema, env.prefix);
  }

  /** The effective configuration: defaults < file < environment < flags, validated as a whole
   * so every problem is reported at once (ConfigError, one line each). */
  load(options: LoadConfigOptions): LoadedConfig<Static<S>> {
    const layers: Layer[] = [defaultsLayer(this.keys)];
    if (options.file) {
      let parsed;
      try {
        parsed = readYamlConfig(options.file);
      } catch (err) {
        throw new ConfigError((err as Error).message.split('\n'));
      }
      layers.push(fileLayer(parsed.values, options.file, parsed.lineOf));
    }
    const env = envLayer(options.env, this.keys, this.env);
    layers.push(env.layer);
    layers.push(flagLayer(options.flags ?? []));
    const merged = mergeLayers(layers);
    let validator = this.validator?.deref();
    if (!validator) {
      validator = new ConfigValidator(this);
      this.validator = new WeakRef(validator);
    }
    const issues = validator.problems(merged.values, merged.sources);
    if (issues.length > 0) throw new ConfigError(issues);
    return { config: merged.values, sources: merged.sources, file: options.file, warnings: env.warnings };
  }

  findKey(path: string): ConfigKey | undefined {
    return findKey(path, this.keys);
  }

  /** Every dotted path that may appear in a config, objects included. */
  paths(): string[] {
    return allPaths(this.schema);
  }

  /** The configuration as shown to people: secrets replaced, so `config show` output can be
   * pasted into a ticket or chat without leaking passwords. */
  masked(config: Static<S>): PlainObject {
    const copy = structuredClone(config) as PlainObject;
    for (const key of this.keys) {
      if (key.secret && getPath(copy, key.segments) !== undefined) setPath(copy, key.segments, MASK);
    }
    return copy;
  }

  /** Values of every secret key that is set, for log scrubbing. */
  secretValues(config: Static<S>): string[] {
    const out: string[] = [];
    for (const key of this.keys) {
      const value = getPath(config, key.segments);
      if (key.secret && typeof value === 'string' && value !== '') out.push(value);
    }
    return out;
  }

  /** The JSON Schema document a configuration file is written against (every key optional). */
  fileSchema(): SchemaNode {
    return fileSchema(this.schema);
  }
}

/** The text of a configuration's published JSON Schema file. */
export function configSchemaDocument(spec: ConfigSpec<TSchema>): string {
  const { $id, ...rest } = spec.fileSchema() as SchemaNode & { $id?: string };
  return JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...($id ? { $id } : {}), ...rest }, null, 2) + '\n';
}
