// Validates a merged configuration against its schema and turns ajv's errors into one line per
// problem that names the key, the bad value, where it came from and what is expected:
// `discovery.timeoutMs = "abc" (env CAMGATE_DISCOVERY_TIMEOUT_MS): expected an integer ≥ 100`.
import Ajv, { type ValidateFunction } from 'ajv';
import { CUSTOM_KEYWORDS, fileSchema, SchemaNode } from './schema-node';
import { allPaths, ConfigKey, describeExpected, findKey, schemaAt } from './keys';
import { closest } from './suggest';
import { ConfigSource, describeSource } from './sources';

/** "/broker/urls/0" → ["broker", "urls", "0"] (JSON Pointer unescaping included). */
function pointerSegments(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** ["broker", "urls", "0"] → "broker.urls[0]" */
function displayPath(segments: string[]): string {
  let out = '';
  for (const s of segments) out += /^\d+$/.test(s) ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

function keyPathOf(segments: string[]): string {
  return segments.filter((s) => !/^\d+$/.test(s)).join('.');
}

interface Described {
  schema: SchemaNode;
  keys: readonly ConfigKey[];
}

function isSecretPath(spec: Described, segments: string[]): boolean {
  return findKey(keyPathOf(segments), spec.keys)?.secret === true;
}

function showValue(value: unknown, secret: boolean): string {
  if (secret) return '***';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? text.slice(0, 77) + '...' : text;
}

function lookupSource(sources: Map<string, ConfigSource>, segments: string[]): ConfigSource | undefined {
  // An array item has no source of its own: use the array's.
  for (let n = segments.length; n > 0; n--) {
    const source = sources.get(keyPathOf(segments.slice(0, n)));
    if (source) return source;
  }
  return undefined;
}

function where(source: ConfigSource | undefined): string {
  return source && source.kind !== 'default' ? ` (${describeSource(source)})` : '';
}

function unknownKeyMessage(spec: Described, parent: string[], name: string, sources: Map<string, ConfigSource>): string {
  const segments = [...parent, name];
  const path = segments.join('.');
  const candidates = allPaths(spec.schema);
  let hint = closest(path, candidates);
  // A known key in the wrong section ("timeoutMs" at the top level): match on the last part.
  if (!hint) {
    const leaf = closest(
      name,
      candidates.map((c) => c.split('.').pop() as string),
    );
    if (leaf) hint = candidates.find((c) => c.endsWith('.' + leaf) || c === leaf);
  }
  return `${path}${where(sources.get(path))}: unknown key${hint ? `; did you mean ${hint}?` : ''}`;
}

function valueMessage(spec: Described, segments: string[], value: unknown, sources: Map<string, ConfigSource>): string {
  const node: SchemaNode | undefined = schemaAt(segments, spec.schema);
  const expected = node ? describeExpected(node) : 'a valid value';
  const source = lookupSource(sources, segments);
  let hint = '';
  // YAML reads 012345 as a number and yes as true: a password or id must then be quoted.
  if (node?.type === 'string' && source?.kind === 'file' && (typeof value === 'number' || typeof value === 'boolean')) {
    hint = ' (put it in quotes in the YAML file)';
  }
  return `${displayPath(segments)} = ${showValue(value, isSecretPath(spec, segments))}${where(source)}: expected ${expected}${hint}`;
}

/** Validates configurations of one schema (compiled once). */
export class ConfigValidator {
  private readonly validate: ValidateFunction;

  constructor(private readonly spec: Described) {
    const ajv = new Ajv({ allErrors: true, strict: true });
    for (const keyword of CUSTOM_KEYWORDS) ajv.addKeyword({ keyword });
    // Values are checked after defaults are merged in, against the schema a file is written to.
    this.validate = ajv.compile(fileSchema(spec.schema));
  }

  /** One message per problem, or [] when the config is valid. */
  problems(values: unknown, sources: Map<string, ConfigSource>): string[] {
    if (this.validate(values)) return [];
    const messages: string[] = [];
    const seen = new Set<string>();
    for (const error of this.validate.errors ?? []) {
      const segments = pointerSegments(error.instancePath);
      let message: string;
      let id: string;
      if (error.keyword === 'additionalProperties') {
        const name = String((error.params as { additionalProperty: string }).additionalProperty);
        id = [...segments, name].join('.');
        message = unknownKeyMessage(this.spec, segments, name, sources);
      } else {
        id = segments.join('.');
        message = valueMessage(this.spec, segments, valueAt(values, segments), sources);
      }
      // ajv may report several keywords for one value (type and enum): one line is enough.
      if (seen.has(id)) continue;
      seen.add(id);
      messages.push(message);
    }
    return messages;
  }
}

function valueAt(root: unknown, segments: string[]): unknown {
  let node = root;
  for (const s of segments) node = (node as Record<string, unknown> | undefined)?.[s];
  return node;
}
