// Builds configuration layers (defaults, file, environment, flags) and merges them in
// precedence order while remembering where each value came from. Pure.
import type { ConfigSource } from './sources';
import type { ConfigKey } from './keys';
import { coerceString } from './coerce';
import { closest } from './suggest';

export type PlainObject = Record<string, unknown>;

/** Names that reach an object's prototype when used as a key: never settings, refused in files
 * (yaml-file.ts, with the line) and never followed when layers are merged. */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export interface Layer {
  values: PlainObject;
  /** Dotted path → source, for every leaf (and every unknown key) this layer sets. */
  sources: Map<string, ConfigSource>;
}

export function isPlainObject(v: unknown): v is PlainObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function setPath(target: PlainObject, segments: string[], value: unknown): void {
  if (segments.some((s) => UNSAFE_KEYS.has(s))) throw new Error(`not a configuration path: ${segments.join('.')}`);
  let node = target;
  for (const s of segments.slice(0, -1)) {
    if (!Object.hasOwn(node, s) || !isPlainObject(node[s])) node[s] = {};
    node = node[s] as PlainObject;
  }
  node[segments[segments.length - 1]] = value;
}

export function getPath(source: unknown, segments: string[]): unknown {
  let node = source;
  for (const s of segments) {
    if (!isPlainObject(node) || !Object.hasOwn(node, s)) return undefined;
    node = node[s];
  }
  return node;
}

export function defaultsLayer(keys: readonly ConfigKey[]): Layer {
  const layer: Layer = { values: {}, sources: new Map() };
  for (const key of keys) {
    // Objects always exist so code can read config.site.id without optional chaining.
    for (let i = 1; i < key.segments.length; i++) {
      if (getPath(layer.values, key.segments.slice(0, i)) === undefined) setPath(layer.values, key.segments.slice(0, i), {});
    }
    if (key.default !== undefined) {
      setPath(layer.values, key.segments, structuredClone(key.default));
      layer.sources.set(key.path, { kind: 'default' });
    }
  }
  return layer;
}

/** Records a source for every leaf of a parsed file (lineOf gives the line of a path, if known). */
export function fileLayer(values: PlainObject, file: string, lineOf: (segments: string[]) => number | undefined): Layer {
  const sources = new Map<string, ConfigSource>();
  const walk = (node: PlainObject, prefix: string[]) => {
    for (const [name, value] of Object.entries(node)) {
      const p = [...prefix, name];
      if (isPlainObject(value)) walk(value, p);
      sources.set(p.join('.'), { kind: 'file', file, line: lineOf(p) });
    }
  };
  walk(values, []);
  return { values, sources };
}

export interface EnvLayerResult {
  layer: Layer;
  /** Unknown variables with the prefix, with a suggestion; reported as warnings (other tools share the prefix). */
  warnings: string[];
}

export interface EnvNames {
  /** Every key's variable starts with it, e.g. CAMGATE_. */
  prefix: string;
  /** Variables that share the prefix but are not config keys (CAMGATE_CONFIG, CAMGATE_SECRET_KEY). */
  nonKeys?: readonly string[];
  /** Prefixes of variables that belong to someone else and are not warned about (CAMGATE_TEST). */
  ignored?: readonly string[];
}

export function envLayer(env: Record<string, string | undefined>, keys: readonly ConfigKey[], names: EnvNames): EnvLayerResult {
  const layer: Layer = { values: {}, sources: new Map() };
  const known = new Set<string>(names.nonKeys ?? []);
  for (const key of keys) {
    // The alias first, so the generated name wins when both are set.
    for (const name of [key.envAlias, key.env]) {
      if (!name) continue;
      known.add(name);
      const raw = env[name];
      // An empty variable means "unset" (docker -e X= and shell exports leave them behind).
      if (raw === undefined || raw === '') continue;
      setPath(layer.values, key.segments, coerceString(key, raw));
      layer.sources.set(key.path, { kind: 'env', name });
    }
  }
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith(names.prefix) || known.has(name) || (names.ignored ?? []).some((p) => name.startsWith(p))) continue;
    const hint = closest(name, [...known]);
    warnings.push(`unknown environment variable ${name} ignored${hint ? ` (did you mean ${hint}?)` : ''}`);
  }
  return { layer, warnings };
}

export interface FlagValue {
  key: ConfigKey;
  raw: string | string[] | boolean;
  /** The flag as typed, for messages: "--site" or "--site.id". */
  flag: string;
}

export function flagLayer(flags: FlagValue[]): Layer {
  const layer: Layer = { values: {}, sources: new Map() };
  for (const f of flags) {
    setPath(layer.values, f.key.segments, coerceString(f.key, f.raw));
    layer.sources.set(f.key.path, { kind: 'flag', name: f.flag });
  }
  return layer;
}

function mergeInto(target: PlainObject, source: PlainObject): void {
  for (const [name, value] of Object.entries(source)) {
    // target["__proto__"] is Object.prototype: merging into it would change every object.
    if (UNSAFE_KEYS.has(name)) continue;
    const current = Object.hasOwn(target, name) ? target[name] : undefined;
    if (isPlainObject(value) && isPlainObject(current)) mergeInto(current, value);
    // Lists replace lists: a flag --discovery.ranges means "these ranges", not "these too".
    else target[name] = structuredClone(value);
  }
}

/** Later layers win. */
export function mergeLayers(layers: Layer[]): Layer {
  const merged: Layer = { values: {}, sources: new Map() };
  for (const layer of layers) {
    mergeInto(merged.values, layer.values);
    for (const [path, source] of layer.sources) {
      // A whole object replaced by a scalar (discovery: 5) makes the children's sources stale.
      for (const existing of [...merged.sources.keys()]) {
        if (existing.startsWith(path + '.') && !isPlainObject(getPath(layer.values, path.split('.')))) merged.sources.delete(existing);
      }
      merged.sources.set(path, source);
    }
  }
  return merged;
}
