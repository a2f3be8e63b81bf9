// A command's reply, published directly (seq null) on the request's reply topic.
import { Type, type Static } from '@sinclair/typebox';
import { AnyObject, Enum, envelopeFields, Nullable } from '../fields';
import { direct, envelope, type Moment } from '../envelope';
import { MAX_SEGMENT_LENGTH } from '../topics';
import { clip } from '../../lib/text';

/** Longest error message in a reply: a reply quotes what it refuses, and the sender chooses that. */
export const REPLY_MESSAGE_MAX = 1000;
/** Longest requestId and correlationId echoed (the request's own limits). */
export const REPLY_ID_MAX = 256;

export const REPLY_ERROR_CODES = [
  'malformed',
  'unknown-command',
  'invalid-args',
  'not-available',
  'failed',
  'timeout',
  'bad-reply-topic',
  // the camera refused its login
  'auth',
  // the camera did not answer (refused, no route)
  'unreachable',
  // the camera's answer was over the size cap, or the command itself is over uplink.commandMaxBytes
  'too-large',
  // the snapshot URI answered something that is not a JPEG
  'not-an-image',
  // stream-start: the relay would exceed the site's uplink budget (video.relay.budgetKbps)
  'over-budget',
  // uplink.commandConcurrency commands of this name are running already; stream-start:
  // video.relay.maxRelays reached, or the target is taken by another relay
  'busy',
] as const;
export type ReplyErrorCode = (typeof REPLY_ERROR_CODES)[number];

export const ReplyErrorSchema = Type.Object(
  { code: Enum(REPLY_ERROR_CODES), message: Type.String({ maxLength: REPLY_MESSAGE_MAX }) },
  { additionalProperties: false },
);
export type ReplyError = Static<typeof ReplyErrorSchema>;

export const ReplyPayloadSchema = Type.Object(
  {
    ...envelopeFields('reply', 'direct'),
    command: Type.String({ maxLength: MAX_SEGMENT_LENGTH }),
    requestId: Nullable(Type.String({ maxLength: REPLY_ID_MAX }), { description: 'messageId of the request, when it had one.' }),
    correlationId: Nullable(Type.String({ maxLength: REPLY_ID_MAX }), {
      description: "Echo of the request's correlationId (or MQTT 5 correlation data as text).",
    }),
    ok: Type.Boolean(),
    result: Type.Optional(AnyObject()),
    error: Type.Optional(ReplyErrorSchema),
  },
  {
    title: "command reply (on the request's reply topic)",
    description:
      "Reply to a command. Published directly (seq null) on the MQTT 5 responseTopic, else the request payload's replyTo, else camgate/v1/{site}/reply; MQTT 5 correlationData is echoed as a property, the payload's correlationId in the payload.",
    additionalProperties: false,
    allOf: [
      {
        if: { properties: { ok: { const: true } } },
        then: { required: ['result'], properties: { result: { type: 'object' } } },
        else: { required: ['error'], properties: { error: { type: 'object' } } },
      },
    ],
  },
);
export type ReplyPayload = Static<typeof ReplyPayloadSchema>;

export interface ReplyBody {
  command: string;
  requestId: string | null;
  correlationId: string | null;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: ReplyError;
}

/** A reply; the texts a sender chose (command name, ids, what an error quotes) are clipped to the
 * schema's limits, so a reply is never larger than its result. */
export function replyPayload(site: string, body: ReplyBody, observedAt: Moment): ReplyPayload {
  const id = (v: string | null) => (v === null ? null : clip(v, REPLY_ID_MAX));
  return direct(
    envelope('reply', site, observedAt, {
      command: clip(body.command, MAX_SEGMENT_LENGTH),
      requestId: id(body.requestId),
      correlationId: id(body.correlationId),
      ok: body.ok,
      ...(body.result !== undefined ? { result: body.result } : {}),
      ...(body.error !== undefined ? { error: { code: body.error.code, message: clip(body.error.message, REPLY_MESSAGE_MAX) } } : {}),
    }),
  );
}
