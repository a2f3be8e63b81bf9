// Validators of the contract: every payload kind, the command request envelope, each command's args.
// Compiled on first use and kept (ajv compiles a schema once; validating is then cheap).
// What they check comes from outside (a central's commands, a site's payloads): validation stops at
// the first problem, and what the error quotes of the input is bounded, so a message built to
// fail a million times costs one error.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import type { PayloadKind } from './envelope';
import { CommandRequestSchema, isCommandName } from './commands';
import { COMMAND_SCHEMAS, PAYLOAD_SCHEMAS } from './schemas';
import { clip } from '../lib/text';

/** Longest problem line: a property name or an instance path quoted from the input is cut. */
const PROBLEM_MAX = 200;

export interface Validation {
  ok: boolean;
  /** One line per problem, e.g. "/args/camera: must match pattern ...". */
  errors: string[];
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = clip(e.instancePath || '(root)', PROBLEM_MAX / 2);
    if (e.keyword === 'additionalProperties')
      return `${where}: unknown property ${JSON.stringify(clip((e.params as { additionalProperty: string }).additionalProperty, PROBLEM_MAX / 2))}`;
    // A pattern says little to whoever sent the value: the schema's words for it, when it has them.
    const expected = (e.parentSchema as { 'x-expected'?: unknown } | undefined)?.['x-expected'];
    if (e.keyword === 'pattern' && typeof expected === 'string') return clip(`${where}: must be ${expected}`, PROBLEM_MAX);
    return clip(`${where}: ${e.message ?? e.keyword}`, PROBLEM_MAX);
  });
}

/** Compiled validators, one per schema object. */
export class ContractValidator {
  // allErrors off: ajv would otherwise build one error object per unknown key of a hostile `args`.
  // verbose: the failing schema is kept with the error, for its x-expected words.
  private readonly ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true, verbose: true });
  private readonly compiled = new Map<TSchema, ValidateFunction>();

  constructor() {
    // ajv-formats is loaded with the first validator: an agent that never gets a command needs none.
    (require('ajv-formats') as typeof import('ajv-formats').default)(this.ajv);
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

  /** Compiles every payload schema now (a few hundred ms), rather than at each kind's first message. */
  preparePayloads(): void {
    for (const schema of Object.values(PAYLOAD_SCHEMAS)) if (!this.compiled.has(schema)) this.compiled.set(schema, this.ajv.compile(schema));
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

/** The payload validators compiled ahead of the first messages (a receiver starting up calls it). */
export const preparePayloadValidators = (): void => validator().preparePayloads();
export const validatePayload = (kind: PayloadKind, value: unknown): Validation => validator().payload(kind, value);
export const validateCommandRequest = (value: unknown): Validation => validator().commandRequest(value);
export const validateCommandArgs = (name: string, args: unknown): Validation | undefined => validator().commandArgs(name, args);
