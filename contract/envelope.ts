// The envelope every payload carries, and the two ways a payload travels (docs/mqtt.md).
// `seq` belongs to the outbox: builders of outbox payloads return them without it (the outbox
// adds it when it stores the message, and `historical` when it replays one); payloads published
// directly carry `seq: null`.
import { randomUUID } from 'node:crypto';

export const SCHEMA_VERSION = 1;

export const PAYLOAD_KINDS = ['state', 'birth', 'meta', 'status', 'event', 'metrics', 'reply'] as const;
export type PayloadKind = (typeof PAYLOAD_KINDS)[number];

/** A moment as the builders accept it; payloads carry it as ISO 8601 UTC. */
export type Moment = Date | number | string;

export function newMessageId(): string {
  return randomUUID();
}

export function isoTime(at: Moment): string {
  if (typeof at === 'string') return at;
  return (typeof at === 'number' ? new Date(at) : at).toISOString();
}

/** A payload as built, before the outbox gives it a `seq` (or `direct` a null one). */
export type Unsequenced<P> = Omit<P, 'seq' | 'historical'>;

export function envelope<K extends PayloadKind, B extends object>(kind: K, site: string, observedAt: Moment, body: B, messageId = newMessageId()) {
  return { schemaVersion: SCHEMA_VERSION as typeof SCHEMA_VERSION, kind, messageId, site, observedAt: isoTime(observedAt), ...body };
}

/** For a direct publish (not through the outbox): seq is null. */
export function direct<T extends object>(payload: T): T & { seq: null } {
  return { ...payload, seq: null };
}
