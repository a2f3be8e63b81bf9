// camgate/v1/{site}/birth: first message of every connection and of every rebirth.
import { Type, type Static } from '@sinclair/typebox';
import { BdSeqField, CameraClass, CameraIdField, Enum, envelopeFields, Nullable } from '../fields';
import { direct, envelope, type Moment } from '../envelope';

export const CameraSummarySchema = Type.Object(
  {
    id: CameraIdField,
    name: Nullable(Type.String()),
    class: Nullable(CameraClass),
    geo: Type.Boolean({ description: 'latitude and longitude are set' }),
  },
  { additionalProperties: false },
);
export type CameraSummary = Static<typeof CameraSummarySchema>;

export const BirthPayloadSchema = Type.Object(
  {
    ...envelopeFields('birth', 'direct'),
    bdSeq: BdSeqField,
    bootId: Type.String({ minLength: 1, description: 'Random id of this agent process run; changes on every restart.' }),
    version: Type.String({ minLength: 1, description: 'camgate version.' }),
    siteName: Type.Optional(Type.String()),
    protocolVersion: Enum([4, 5] as const, { description: 'MQTT protocol of this connection: 4 = 3.1.1, 5 = MQTT 5.' }),
    reason: Enum(['connect', 'rebirth'] as const),
    cameras: Type.Object(
      {
        count: Type.Integer({ minimum: 0 }),
        items: Type.Array(CameraSummarySchema),
      },
      { additionalProperties: false },
    ),
  },
  {
    title: 'camgate/v1/{site}/birth',
    description: 'Sent first on every connect and on a rebirth command: who the agent is and which cameras it has.',
    additionalProperties: false,
  },
);
export type BirthPayload = Static<typeof BirthPayloadSchema>;

export interface BirthInfo {
  bdSeq: number;
  bootId: string;
  version: string;
  siteName?: string;
  protocolVersion: 4 | 5;
  observedAt: Moment;
  cameras: CameraSummary[];
  /** Why this birth was sent: a new connection, or a rebirth command. */
  reason: 'connect' | 'rebirth';
}

export function birthPayload(site: string, info: BirthInfo): BirthPayload {
  return direct(
    envelope('birth', site, info.observedAt, {
      bdSeq: info.bdSeq,
      bootId: info.bootId,
      version: info.version,
      ...(info.siteName ? { siteName: info.siteName } : {}),
      protocolVersion: info.protocolVersion,
      reason: info.reason,
      cameras: { count: info.cameras.length, items: info.cameras },
    }),
  );
}
