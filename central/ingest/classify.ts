// What one MQTT message from a site is, or why it is refused: pure, no I/O. Every payload is
// checked against the contract's schema; one whose `site` differs from its topic's is refused the
// same way; an empty payload on a camera's meta topic is the agent clearing its retained meta (the
// camera was removed; its status is cleared too). Nothing here throws on any input.
import {
  parseTopic,
  validatePayload,
  type BirthPayload,
  type EventPayload,
  type MetaPayload,
  type MetricsPayload,
  type PayloadKind,
  type StatePayload,
  type StatusPayload,
} from '../../contract';
import { clip } from '../../lib/text';

export type Accepted =
  | { kind: 'state'; site: string; payload: StatePayload }
  | { kind: 'birth'; site: string; payload: BirthPayload }
  | { kind: 'meta'; site: string; camera: string; payload: MetaPayload }
  | { kind: 'meta-cleared'; site: string; camera: string }
  | { kind: 'status'; site: string; camera: string; payload: StatusPayload }
  | { kind: 'event'; site: string; payload: EventPayload }
  | { kind: 'metrics'; site: string; payload: MetricsPayload };

/** Why a message was refused: a short code, counted per site, and one bounded line for the log. */
export interface Refused {
  site: string;
  /** write-failed is not classify's: the writer could not store an accepted message (subscriber.ts). */
  reason: 'too-large' | 'not-json' | 'invalid' | 'wrong-site' | 'unknown-topic' | 'wrong-kind' | 'write-failed';
  detail: string;
}

export type Classified = { ok: true; message: Accepted } | { ok: false; refused: Refused } | { ok: true; message: undefined };

const TOPIC_KINDS: Record<string, PayloadKind> = { state: 'state', birth: 'birth', meta: 'meta', status: 'status', events: 'event', metrics: 'metrics' };

/** Site of a topic that is not a valid one of ours: its third level when there is one (for counting). */
function siteOfTopic(topic: string): string {
  const level = topic.split('/')[2];
  return level && level.length <= 64 ? level : '(unknown)';
}

export function classify(topic: string, payload: Buffer, maxBytes: number): Classified {
  const parsed = parseTopic(topic);
  if (!parsed) return { ok: false, refused: { site: siteOfTopic(topic), reason: 'unknown-topic', detail: `not a topic of the contract: ${clip(topic, 200)}` } };
  // Commands and replies travel the same tree: not the central's to ingest.
  if (parsed.kind === 'cmd' || parsed.kind === 'reply') return { ok: true, message: undefined };
  const site = parsed.site;
  if (payload.length > maxBytes)
    return { ok: false, refused: { site, reason: 'too-large', detail: `${payload.length} bytes on ${topic} (limit ingest.maxPayloadBytes = ${maxBytes})` } };
  if (parsed.kind === 'meta' && payload.length === 0) return { ok: true, message: { kind: 'meta-cleared', site, camera: parsed.camera } };
  // A removed camera's retained status cleared with it: nothing to take in (the meta says it all).
  if (parsed.kind === 'status' && payload.length === 0) return { ok: true, message: undefined };
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, refused: { site, reason: 'not-json', detail: `${topic}: ${clip((err as Error).message, 200)}` } };
  }
  const kind = TOPIC_KINDS[parsed.kind];
  const check = validatePayload(kind, value);
  if (!check.ok) return { ok: false, refused: { site, reason: 'invalid', detail: `${topic}: ${check.errors.join('; ')}` } };
  const body = value as { site: string; kind: string; camera?: string };
  if (body.site !== site)
    return { ok: false, refused: { site, reason: 'wrong-site', detail: `${topic}: the payload says site ${JSON.stringify(clip(body.site, 64))}` } };
  if ((parsed.kind === 'meta' || parsed.kind === 'status') && body.camera !== parsed.camera) {
    return {
      ok: false,
      refused: { site, reason: 'wrong-kind', detail: `${topic}: the payload is about camera ${JSON.stringify(clip(String(body.camera), 128))}` },
    };
  }
  switch (parsed.kind) {
    case 'state':
      return { ok: true, message: { kind: 'state', site, payload: value as StatePayload } };
    case 'birth':
      return { ok: true, message: { kind: 'birth', site, payload: value as BirthPayload } };
    case 'meta':
      return { ok: true, message: { kind: 'meta', site, camera: parsed.camera, payload: value as MetaPayload } };
    case 'status':
      return { ok: true, message: { kind: 'status', site, camera: parsed.camera, payload: value as StatusPayload } };
    case 'events':
      return { ok: true, message: { kind: 'event', site, payload: value as EventPayload } };
    case 'metrics':
      return { ok: true, message: { kind: 'metrics', site, payload: value as MetricsPayload } };
  }
}
