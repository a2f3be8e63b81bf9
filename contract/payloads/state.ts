// camgate/v1/{site}/state: retained; online after every connect, offline as the MQTT Will or on a clean stop.
import { Type, type Static } from '@sinclair/typebox';
import { BdSeqField, Enum, envelopeFields } from '../fields';
import { direct, envelope, type Moment } from '../envelope';

export const StatePayloadSchema = Type.Object(
  {
    ...envelopeFields('state', 'direct'),
    state: Enum(['online', 'offline'] as const),
    bdSeq: BdSeqField,
    reason: Type.Optional(Enum(['will', 'shutdown'] as const)),
  },
  {
    title: 'camgate/v1/{site}/state',
    description: 'Retained. online after every connect; offline as the MQTT Will (reason "will") or on a clean shutdown (reason "shutdown").',
    additionalProperties: false,
  },
);
export type StatePayload = Static<typeof StatePayloadSchema>;
export type AgentState = StatePayload['state'];

/** The offline form is also the MQTT Will. */
export function statePayload(site: string, state: AgentState, opts: { bdSeq: number; observedAt: Moment; reason?: 'will' | 'shutdown' }): StatePayload {
  return direct(envelope('state', site, opts.observedAt, { state, bdSeq: opts.bdSeq, ...(opts.reason ? { reason: opts.reason } : {}) }));
}
