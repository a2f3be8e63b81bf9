// Typed access to config/schema.json, the single documented source of every config key.
import schemaJson from '../../config/schema.json';

/** The subset of JSON Schema (draft-07) that config/schema.json uses, plus our x- annotations. */
export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
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

export const configSchema = schemaJson as unknown as SchemaNode;

/** Keywords of ours that ajv must accept in strict mode. */
export const CUSTOM_KEYWORDS = ['x-secret', 'x-expected', 'x-flag-alias', 'x-env-alias'];
