// Flattens a configuration schema into the list of leaf keys, each with its generated flag and
// environment variable. Pure: everything the CLI and the loader need comes from here, so adding
// a key to the schema is the only step to get its flag and variable.
import type { SchemaNode } from './schema-node';

export type LeafType = 'string' | 'integer' | 'number' | 'boolean' | 'array';

export interface ConfigKey {
  /** Dotted path, e.g. "discovery.timeoutMs". */
  path: string;
  segments: string[];
  type: LeafType;
  schema: SchemaNode;
  description: string;
  default?: unknown;
  secret: boolean;
  /** Generated flag, e.g. "--discovery.timeout-ms". */
  flag: string;
  /** Generated environment variable, e.g. "CAMGATE_DISCOVERY_TIMEOUT_MS". */
  env: string;
  flagAlias?: string;
  envAlias?: string;
  /** What a valid value looks like, for error messages: "an integer ≥ 100". */
  expected: string;
}

/** timeoutMs → timeout-ms */
export function kebab(segment: string): string {
  return segment.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** timeoutMs → TIMEOUT_MS */
export function screamingSnake(segment: string): string {
  return segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export function flagForPath(segments: string[]): string {
  return '--' + segments.map(kebab).join('.');
}

/** ["discovery", "timeoutMs"] with prefix CAMGATE_ → CAMGATE_DISCOVERY_TIMEOUT_MS */
export function envForPath(segments: string[], envPrefix: string): string {
  return envPrefix + segments.map(screamingSnake).join('_');
}

/** A human phrase for the values a schema node accepts. */
export function describeExpected(node: SchemaNode): string {
  if (node['x-expected']) return node['x-expected'];
  if (node.enum) return `one of ${node.enum.map(String).join(', ')}`;
  switch (node.type) {
    case 'integer':
    case 'number': {
      const noun = node.type === 'integer' ? 'an integer' : 'a number';
      if (node.minimum !== undefined && node.maximum !== undefined) {
        return `${noun} ≥ ${node.minimum} (at most ${node.maximum})`;
      }
      if (node.minimum !== undefined) return `${noun} ≥ ${node.minimum}`;
      if (node.maximum !== undefined) return `${noun} ≤ ${node.maximum}`;
      return noun;
    }
    case 'boolean':
      return 'true or false';
    case 'array':
      return `a list, each item ${node.items ? describeExpected(node.items) : 'a value'}`;
    case 'object':
      return 'a mapping of keys';
    case 'string':
    default: {
      let text = node.minLength ? 'a non-empty string' : 'a string';
      if (node.maxLength !== undefined) text += ` of at most ${node.maxLength} characters`;
      return text;
    }
  }
}

function collect(node: SchemaNode, segments: string[], envPrefix: string, out: ConfigKey[]): void {
  if (node.type === 'object' && node.properties) {
    for (const [name, child] of Object.entries(node.properties)) collect(child, [...segments, name], envPrefix, out);
    return;
  }
  const type = (node.type ?? 'string') as LeafType;
  out.push({
    path: segments.join('.'),
    segments,
    type,
    schema: node,
    description: node.description ?? '',
    default: node.default,
    secret: node['x-secret'] === true,
    flag: flagForPath(segments),
    env: envForPath(segments, envPrefix),
    flagAlias: node['x-flag-alias'],
    envAlias: node['x-env-alias'],
    expected: describeExpected(node),
  });
}

export function configKeys(schema: SchemaNode, envPrefix: string): ConfigKey[] {
  const out: ConfigKey[] = [];
  collect(schema, [], envPrefix, out);
  return out;
}

/** Every dotted path that may appear in a config, objects included (for "did you mean"). */
export function allPaths(schema: SchemaNode): string[] {
  const out: string[] = [];
  const walk = (node: SchemaNode, prefix: string[]) => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const p = [...prefix, name];
      out.push(p.join('.'));
      if (child.type === 'object') walk(child, p);
    }
  };
  walk(schema, []);
  return out;
}

export function findKey(path: string, keys: readonly ConfigKey[]): ConfigKey | undefined {
  return keys.find((k) => k.path === path);
}

/** The schema node at a dotted path (objects too), or undefined. */
export function schemaAt(segments: string[], schema: SchemaNode): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const s of segments) {
    if (!node) return undefined;
    if (node.type === 'array') node = node.items;
    else node = node.properties?.[s];
  }
  return node;
}
