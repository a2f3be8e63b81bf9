// Schema building blocks shared by every payload and command: the envelope's fields and ids.
import { Type, type SchemaOptions } from '@sinclair/typebox';
import { AnyObject, DateTime, Dictionary, Enum, Nullable } from '../lib/schema';

export { AnyObject, DateTime, Dictionary, Enum, Nullable };

export const SchemaVersionField = Type.Literal(1, { description: 'Version of the payload contract; consumers reject versions they do not know.' });

export const MessageIdField = Type.String({
  description: 'Unique id of this message (a UUID). A message delivered twice carries the same id.',
  minLength: 1,
  maxLength: 128,
});

/** Site ids become one MQTT topic level; the same rule as the agent's `site.id` config key. */
export const SITE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

export const SiteIdField = Type.String({ description: 'Site id (also the topic level after camgate/v1/).', pattern: SITE_ID_PATTERN });

export const OutboxSeqField = Nullable(Type.Integer({ minimum: 1 }), {
  description:
    'Outbox sequence: per site, strictly increasing in enqueue order, persistent across restarts. null for messages published directly (birth, state, connect-time meta/status, replies).',
});

/** Payloads that never go through the outbox carry seq null. */
export const DirectSeqField = Type.Null();

export const ObservedAtField = DateTime({ description: 'When the fact was observed (not when it was sent), ISO 8601 UTC.' });

export const HistoricalField = Type.Literal(true, {
  description: 'Present and true when the message is replayed from the outbox after an outage (enqueued before the current connection).',
});

/** A camera id: one MQTT topic level. */
export const CameraId = (options: SchemaOptions = {}) =>
  Type.String({ description: 'Camera id as in the inventory.', minLength: 1, maxLength: 128, pattern: '^[^+#/\\u0000-\\u001f]+$', ...options });

export const CameraIdField = CameraId();

export const BdSeqField = Type.Integer({
  description:
    'Birth/death sequence: incremented and persisted once per MQTT connection; the Will (offline state) carries the bdSeq of the connection it belongs to.',
  minimum: 0,
});

/** How a payload travels: through the durable outbox (seq assigned there) or published directly (seq null). */
export type Delivery = 'outbox' | 'direct';

/** The envelope fields of one payload kind. */
export function envelopeFields<K extends string, D extends Delivery>(kind: K, delivery: D) {
  return {
    schemaVersion: SchemaVersionField,
    kind: Type.Literal(kind),
    messageId: MessageIdField,
    site: SiteIdField,
    seq: (delivery === 'outbox' ? OutboxSeqField : DirectSeqField) as D extends 'outbox' ? typeof OutboxSeqField : typeof DirectSeqField,
    observedAt: ObservedAtField,
    historical: Type.Optional(HistoricalField),
  };
}

export const CameraClass = Enum([1, 2, 3] as const);
