// camgate/v1/{site}/events: QoS 1 through the outbox; transitions, alarms and audit records.
import { Type, type Static } from '@sinclair/typebox';
import { AnyObject, CameraIdField, DateTime, Enum, envelopeFields, Nullable } from '../fields';
import { envelope, type Moment, type Unsequenced } from '../envelope';

export const EVENT_TYPES = [
  'camera-offline',
  'camera-online',
  'picture-fault',
  'picture-ok',
  'clock-drift',
  'clock-ok',
  'clock-synced',
  'camera-flapping',
  'onvif-fault',
  'onvif-ok',
  'stream-fault',
  'stream-ok',
  'disk-ok',
  'temperature-high',
  'temperature-ok',
  'stream-started',
  'stream-running',
  'stream-retrying',
  'stream-stopped',
  'stream-failed',
  'camera-encoder-changed',
  'disk-low',
  'audit',
  'outbox-drop',
  'camera-removed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const SEVERITIES = ['info', 'warning', 'alarm'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Classes of outbox messages, kept longest first: transitions, periodic statuses, metrics. */
export const OUTBOX_DROP_CLASSES = ['transition', 'periodic-status', 'metric'] as const;
export type OutboxDropClass = (typeof OUTBOX_DROP_CLASSES)[number];

export const OutboxDropDetailSchema = Type.Object({
  reason: Type.Literal('quota'),
  total: Type.Integer({ minimum: 0 }),
  dropped: Type.Array(
    Type.Object(
      {
        class: Enum(OUTBOX_DROP_CLASSES),
        count: Type.Integer({ minimum: 0 }),
        fromSeq: Type.Integer(),
        toSeq: Type.Integer(),
      },
      { additionalProperties: false },
    ),
  ),
});
export type OutboxDropDetail = Static<typeof OutboxDropDetailSchema>;

/** A camera taken out of the site's ledger (camgate cameras remove): its retained meta is cleared too. */
export const CameraRemovedDetailSchema = Type.Object({
  removedAt: DateTime({ description: 'When it was removed from the ledger (also the observedAt).' }),
  deviceId: Type.String({ description: 'The device the camera was a channel of.' }),
  name: Nullable(Type.String(), { description: 'Its name when it was removed.' }),
});
export type CameraRemovedDetail = Static<typeof CameraRemovedDetailSchema>;

export const EventPayloadSchema = Type.Object(
  {
    ...envelopeFields('event', 'outbox'),
    type: Enum(EVENT_TYPES),
    severity: Enum(SEVERITIES),
    camera: Type.Optional(CameraIdField),
    message: Type.String({ description: 'One line for people.' }),
    detail: AnyObject({ description: 'Type-specific facts (docs/mqtt.md).' }),
  },
  {
    title: 'camgate/v1/{site}/events',
    description: 'QoS 1, through the outbox: transitions and alarms.',
    additionalProperties: false,
    allOf: [
      { if: { properties: { type: { const: 'outbox-drop' } } }, then: { properties: { detail: OutboxDropDetailSchema } } },
      {
        if: { properties: { type: { const: 'camera-removed' } } },
        then: { required: ['camera'], properties: { camera: CameraIdField, detail: CameraRemovedDetailSchema } },
      },
    ],
  },
);
export type EventPayload = Static<typeof EventPayloadSchema>;

/** An event as producers raise it: the builder adds the envelope (and an empty detail). */
export interface EventBody {
  type: EventType;
  severity: Severity;
  camera?: string;
  message: string;
  detail?: Record<string, unknown>;
}

export function eventPayload(site: string, body: EventBody, observedAt: Moment): Unsequenced<EventPayload> {
  return envelope('event', site, observedAt, {
    type: body.type,
    severity: body.severity,
    ...(body.camera !== undefined ? { camera: body.camera } : {}),
    message: body.message,
    detail: body.detail ?? {},
  });
}
