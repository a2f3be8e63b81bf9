// Every schema of the contract by payload kind and command name, and the JSON Schema documents
// they are published as (contract/json/, for consumers in any language; a test keeps the files
// equal to what this emits).
import type { TSchema } from '@sinclair/typebox';
import type { PayloadKind } from './envelope';
import { BirthPayloadSchema } from './payloads/birth';
import { EventPayloadSchema } from './payloads/event';
import { MetaPayloadSchema } from './payloads/meta';
import { MetricsPayloadSchema } from './payloads/metrics';
import { ReplyPayloadSchema } from './payloads/reply';
import { StatePayloadSchema } from './payloads/state';
import { StatusPayloadSchema } from './payloads/status';
import { COMMAND_ARGS_SCHEMAS, CommandRequestSchema, type CommandName } from './commands';

export const PAYLOAD_SCHEMAS: Record<PayloadKind, TSchema> = {
  state: StatePayloadSchema,
  birth: BirthPayloadSchema,
  meta: MetaPayloadSchema,
  status: StatusPayloadSchema,
  event: EventPayloadSchema,
  metrics: MetricsPayloadSchema,
  reply: ReplyPayloadSchema,
};

export const COMMAND_SCHEMAS: Record<CommandName, TSchema> = COMMAND_ARGS_SCHEMAS;

const SCHEMA_BASE = 'https://camgate.local/schema/uplink/';

function document(file: string, schema: TSchema): object {
  // A plain copy: TypeBox's own marks are symbols, which JSON.stringify drops anyway.
  return { $schema: 'http://json-schema.org/draft-07/schema#', $id: SCHEMA_BASE + file, ...(JSON.parse(JSON.stringify(schema)) as object) };
}

/** File name → JSON Schema document, for contract/json/. */
export function contractJsonDocuments(): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [kind, schema] of Object.entries(PAYLOAD_SCHEMAS)) out[`${kind}.json`] = document(`${kind}.json`, schema);
  out['cmd-request.json'] = document('cmd-request.json', CommandRequestSchema);
  for (const [name, schema] of Object.entries(COMMAND_SCHEMAS)) out[`cmd-${name}.json`] = document(`cmd-${name}.json`, schema);
  return out;
}
