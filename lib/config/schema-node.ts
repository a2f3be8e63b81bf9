// The subset of JSON Schema (draft-07) a configuration schema uses, plus our x- annotations.
// A configuration is described once, as a TypeBox schema (a JSON Schema object at run time):
// keys, flags, variables, defaults, validation and the published schema file all come from it.

export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean;
  items?: SchemaNode;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  examples?: unknown[];
  /** Masked by `config show` and never logged. */
  'x-secret'?: boolean;
  /** Human phrase for what a valid value looks like, when the constraints alone read badly (patterns). */
  'x-expected'?: string;
  /** Friendly extra flag, e.g. "--site" for site.id. */
  'x-flag-alias'?: string;
  /** Extra environment variable, e.g. CAMGATE_PASSWORD for cameras.password. */
  'x-env-alias'?: string;
}

/** Keywords of ours that ajv must accept in strict mode. */
export const CUSTOM_KEYWORDS = ['x-secret', 'x-expected', 'x-flag-alias', 'x-env-alias'];

/**
 * The schema as a configuration *file* may be written: every key optional. The typed schema
 * marks keys that always have a value (a default, or an object) as required, so the TypeScript
 * type of the effective configuration says which keys code may read without a check; a file
 * need not repeat them.
 */
export function fileSchema<T>(schema: T): T {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'required') continue;
      out[k] = k === 'default' || k === 'examples' ? v : strip(v);
    }
    return out;
  };
  return strip(schema) as T;
}
