// Validators of the contract: every payload kind, the command request envelope, each command's args.
// Compiled on first use and kept (ajv compiles a schema once; validating is then cheap).
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import type { PayloadKind } from './envelope';
import { CommandRequestSchema, isCommandName } from './commands';
import { COMMAND_SCHEMAS, PAYLOAD_SCHEMAS } from './schemas';

export interface Validation {
  ok: boolean;
  /** One line per problem, e.g. "/args/camera: must match pattern ...". */
  errors: string[];
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath || '(root)';
    if (e.keyword === 'additionalProperties') return `${where}: unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    // A pattern says little to whoever sent the value: the schema's words for it, when it has them.
    const expected = (e.parentSchema as { 'x-expected'?: unknown } | undefined)?.['x-expected'];
    if (e.keyword === 'pattern' && typeof expected === 'string') return `${where}: must be ${expected}`;
    return `${where}: ${e.message ?? e.keyword}`;
  });
}

/** Compiled validators, one per schema object. */
export class ContractValidator {
  private readonly ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  private readonly compiled = new Map<TSchema, ValidateFunction>();

  constructor() {
    addFormats(this.ajv);
    this.ajv.addKeyword({ keyword: 'x-expected' });
  }

  check(schema: TSchema, value: unknown): Validation {
    let fn = this.compiled.get(schema);
    if (!fn) {
      fn = this.ajv.compile(schema);
      this.compiled.set(schema, fn);
    }
    const ok = fn(value);
    return { ok, errors: ok ? [] : describeErrors(fn.errors) };
  }

  /** An uplink payload (as an object, after JSON.parse) against its kind's schema. */
  payload(kind: PayloadKind, value: unknown): Validation {
    return this.check(PAYLOAD_SCHEMAS[kind], value);
  }

  commandRequest(value: unknown): Validation {
    return this.check(CommandRequestSchema, value);
  }

  /** A command's `args`; undefined when the command is unknown. */
  commandArgs(name: string, args: unknown): Validation | undefined {
    return isCommandName(name) ? this.check(COMMAND_SCHEMAS[name], args) : undefined;
  }
}

// The validators are pure functions of the schemas, so one shared, lazily built set serves every caller.
let shared: ContractValidator | undefined;
const validator = () => (shared ??= new ContractValidator());

export const validatePayload = (kind: PayloadKind, value: unknown): Validation => validator().payload(kind, value);
export const validateCommandRequest = (value: unknown): Validation => validator().commandRequest(value);
export const validateCommandArgs = (name: string, args: unknown): Validation | undefined => validator().commandArgs(name, args);
