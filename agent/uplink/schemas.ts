// The uplink's JSON Schemas (schemas/*.json), compiled once with ajv. Used to validate
// incoming commands at run time and every payload kind in the tests.
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import envelope from './schemas/envelope.json';
import state from './schemas/state.json';
import birth from './schemas/birth.json';
import meta from './schemas/meta.json';
import status from './schemas/status.json';
import event from './schemas/event.json';
import metrics from './schemas/metrics.json';
import reply from './schemas/reply.json';
import cmdRequest from './schemas/cmd-request.json';
import cmdPing from './schemas/cmd-ping.json';
import cmdRebirth from './schemas/cmd-rebirth.json';
import cmdProbeNow from './schemas/cmd-probe-now.json';
import cmdSnapshot from './schemas/cmd-snapshot.json';
import cmdCameraReboot from './schemas/cmd-camera-reboot.json';
import cmdCameraSetTime from './schemas/cmd-camera-set-time.json';
import cmdConfigGet from './schemas/cmd-config-get.json';
import cmdStreamStart from './schemas/cmd-stream-start.json';
import cmdStreamStop from './schemas/cmd-stream-stop.json';
import cmdStreamList from './schemas/cmd-stream-list.json';
import cmdThumbnail from './schemas/cmd-thumbnail.json';
import type { PayloadKind } from './payloads';

export const PAYLOAD_SCHEMAS: Record<PayloadKind, object> = { state, birth, meta, status, event, metrics, reply };

/** Argument schema of every command the agent knows, by command name. */
export const COMMAND_SCHEMAS: Record<string, object> = {
  ping: cmdPing,
  rebirth: cmdRebirth,
  'probe-now': cmdProbeNow,
  snapshot: cmdSnapshot,
  thumbnail: cmdThumbnail,
  'camera-reboot': cmdCameraReboot,
  'camera-set-time': cmdCameraSetTime,
  'config-get': cmdConfigGet,
  'stream-start': cmdStreamStart,
  'stream-stop': cmdStreamStop,
  'stream-list': cmdStreamList,
};

export const COMMAND_NAMES = Object.keys(COMMAND_SCHEMAS);

let ajv: Ajv | undefined;
const compiled = new Map<object, ValidateFunction>();

function instance(): Ajv {
  if (!ajv) {
    ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(ajv);
    ajv.addSchema(envelope);
  }
  return ajv;
}

function validator(schema: object): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = instance().compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

export interface Validation {
  ok: boolean;
  /** One line per problem, e.g. "/args/camera: must match pattern ...". */
  errors: string[];
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath || '(root)';
    if (e.keyword === 'additionalProperties') return `${where}: unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    return `${where}: ${e.message ?? e.keyword}`;
  });
}

function run(schema: object, value: unknown): Validation {
  const fn = validator(schema);
  const ok = fn(value) as boolean;
  return { ok, errors: ok ? [] : describeErrors(fn.errors) };
}

/** Validates an uplink payload (as an object, after JSON.parse) against its kind's schema. */
export function validatePayload(kind: PayloadKind, value: unknown): Validation {
  return run(PAYLOAD_SCHEMAS[kind], value);
}

export function validateCommandRequest(value: unknown): Validation {
  return run(cmdRequest, value);
}

/** Validates a command's `args`; undefined when the command is unknown. */
export function validateCommandArgs(name: string, args: unknown): Validation | undefined {
  const schema = Object.prototype.hasOwnProperty.call(COMMAND_SCHEMAS, name) ? COMMAND_SCHEMAS[name] : undefined;
  return schema ? run(schema, args) : undefined;
}
