// Commands from the central (camgate/v1/{site}/cmd/{name}) → validated → handler → reply.
// Transport-free: the session hands in the topic, raw payload and MQTT 5 properties and
// publishes the reply this returns, so every rule here is unit-tested without a broker.
//
// Rules: only topics under this site's own prefix are acted on (anything else is ignored and
// logged); a payload over the size cap is `too-large` before it is parsed; a payload that is not
// JSON or does not match cmd-request.json is a `malformed` reply; an unknown name is
// `unknown-command`; args failing cmd-{name}.json are `invalid-args`; a command of a name that
// already has `concurrency` runs going is `busy`; a handler that throws gives `failed` (or its
// CommandError code); a handler slower than the timeout gives `timeout` and its signal aborts.
// Replies go to camgate/v1/{site}/reply or below, never elsewhere. Nothing a sender does
// crashes the agent, and nothing it sends is echoed unbounded into a reply or a log line.
import {
  CommandError,
  isoTime,
  ReplyErrorCode,
  replyPayload,
  COMMAND_NAMES,
  validateCommandArgs,
  validateCommandRequest,
  isReplyTopic,
  siteTopics,
  SiteTopics,
  TOPIC_ROOT,
  REPLY_ID_MAX,
  CORRELATION_DATA_MAX,
} from '../../contract';
import type { Logger } from '../../lib/log';
import { systemClock, type Clock, type TimerHandle } from '../../lib/clock';
import { clip } from '../../lib/text';

export interface IncomingCommand {
  topic: string;
  payload: Buffer | string;
  /** MQTT 5 PUBLISH properties, when the request came over MQTT 5 and set them. */
  responseTopic?: string;
  correlationData?: Buffer;
}

export interface CommandReply {
  topic: string;
  payload: ReturnType<typeof replyPayload>;
  /** Echo for the MQTT 5 correlationData property. */
  correlationData?: Buffer;
}

export interface CommandContext {
  command: string;
  requestId: string;
  /** Aborted when the command's time is up. */
  signal: AbortSignal;
}

/** Returns the reply's `result`; throws CommandError (or anything) for an error reply. */
export type CommandHandler = (args: Record<string, unknown>, ctx: CommandContext) => Promise<Record<string, unknown>>;
export type CommandHandlers = Partial<Record<string, CommandHandler>>;

/** A handler for what is not built yet: a clear error reply instead of silence. */
export function notAvailable(what: string): CommandHandler {
  return async () => {
    throw new CommandError('not-available', `not available yet: ${what}`);
  };
}

/** Commands that change something: each one also produces an audit event (via the outbox). */
export const AUDITED_COMMANDS = new Set(['rebirth', 'camera-reboot', 'camera-set-time', 'stream-start', 'stream-stop', 'snapshot', 'picture-reference']);

export interface AuditEntry {
  command: string;
  requestId: string;
  camera?: string;
  ok: boolean;
  error?: { code: ReplyErrorCode; message: string };
  observedAt: string;
}

export interface DispatcherOptions {
  site: string;
  handlers: CommandHandlers;
  /** Per-command deadline; default 30 s. */
  timeoutMs?: number;
  /** Largest command payload, bytes; larger ones are refused unparsed. Default 64 KiB. */
  maxBytes?: number;
  /** Commands of one name that may run at once; one more is answered busy. Default 4. */
  concurrency?: number;
  clock?: Clock;
  logger?: Logger;
  audit?: (entry: AuditEntry) => void;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
export const DEFAULT_COMMAND_MAX_BYTES = 64 * 1024;
export const DEFAULT_COMMAND_CONCURRENCY = 4;

/** Longest outside text (a topic, a handler's error) quoted in a log line. */
const LOG_TEXT_MAX = 300;
/** Longest outside text quoted inside a reply's error message. */
const QUOTE_MAX = 100;

const quote = (text: string) => JSON.stringify(clip(text, QUOTE_MAX));

export class CommandDispatcher {
  private readonly topics: SiteTopics;
  private readonly cmdPrefix: string;
  /** Runs going per command name (a timed-out run counts until it ends, at most one more timeout). */
  private readonly running = new Map<string, number>();

  constructor(private readonly options: DispatcherOptions) {
    this.clock = options.clock ?? systemClock;
    this.topics = siteTopics(options.site);
    this.cmdPrefix = `${TOPIC_ROOT}/${options.site}/cmd/`;
  }

  private readonly clock: Clock;

  private now(): Date {
    return new Date(this.clock.now());
  }

  /** The reply to send, or undefined when the message is not one of this site's commands (ignored). */
  async handle(req: IncomingCommand): Promise<CommandReply | undefined> {
    if (typeof req.topic !== 'string' || !req.topic.startsWith(this.cmdPrefix)) {
      this.options.logger?.warn({ topic: clip(String(req.topic), LOG_TEXT_MAX) }, "ignored a message outside this site's command topics");
      return undefined;
    }
    const name = req.topic.slice(this.cmdPrefix.length);
    let requestId: string | null = null;
    let correlationId: string | null = null;
    let replyTo: string | undefined;
    let correlationData = req.correlationData;

    const reply = (
      ok: boolean,
      body: { result?: Record<string, unknown>; error?: { code: ReplyErrorCode; message: string } },
      topicOverride?: string,
    ): CommandReply => {
      const topic = topicOverride ?? this.replyTopic(req.responseTopic ?? replyTo);
      const payload = replyPayload(this.options.site, { command: name, requestId, correlationId, ok, ...body }, isoTime(this.now()));
      return { topic, payload, ...(correlationData ? { correlationData } : {}) };
    };
    const fail = (code: ReplyErrorCode, message: string) => {
      const out = reply(false, { error: { code, message } });
      this.options.logger?.warn({ command: clip(name, LOG_TEXT_MAX), requestId, code }, `command refused: ${out.payload.error?.message ?? code}`);
      return out;
    };

    if (correlationData && correlationData.length > CORRELATION_DATA_MAX) {
      const length = correlationData.length;
      correlationData = undefined;
      return fail('malformed', `MQTT 5 correlation data of ${length} bytes; at most ${CORRELATION_DATA_MAX}`);
    }
    if (correlationData && correlationData.length > 0) correlationId = correlationText(correlationData);

    const size = typeof req.payload === 'string' ? Buffer.byteLength(req.payload) : req.payload.length;
    const maxBytes = this.options.maxBytes ?? DEFAULT_COMMAND_MAX_BYTES;
    // Before parsing: JSON.parse and the schema check cost memory in proportion to the input.
    if (size > maxBytes) {
      const head = peekRequest(req.payload);
      requestId = head.messageId ?? null;
      correlationId = head.correlationId ?? correlationId;
      replyTo = head.replyTo;
      return fail('too-large', `the command is ${size} bytes; at most ${maxBytes} (uplink.commandMaxBytes)`);
    }

    let request: Record<string, unknown>;
    try {
      const text = typeof req.payload === 'string' ? req.payload : req.payload.toString('utf8');
      const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('malformed', 'the payload must be a JSON object');
      request = parsed as Record<string, unknown>;
    } catch (err) {
      return fail('malformed', `the payload is not JSON: ${clip((err as Error).message, QUOTE_MAX)}`);
    }
    // Pick up what routing needs even from a request that fails validation, so the error reaches
    // the sender; ids longer than the request schema allows are not echoed.
    if (typeof request.messageId === 'string' && request.messageId.length <= REPLY_ID_MAX) requestId = request.messageId;
    if (typeof request.correlationId === 'string' && request.correlationId.length <= REPLY_ID_MAX) correlationId = request.correlationId;
    if (typeof request.replyTo === 'string') replyTo = request.replyTo;

    const chosen = req.responseTopic ?? replyTo;
    if (chosen !== undefined && !isReplyTopic(chosen, this.options.site)) {
      return reply(
        false,
        {
          error: {
            code: 'bad-reply-topic',
            message: `reply topic ${quote(chosen)} is not ${this.topics.reply} or a topic below it; replying on ${this.topics.reply}`,
          },
        },
        this.topics.reply,
      );
    }

    const envelopeCheck = validateCommandRequest(request);
    if (!envelopeCheck.ok) return fail('malformed', `invalid command request: ${envelopeCheck.errors.join('; ')}`);
    if (request.site !== undefined && request.site !== this.options.site) {
      // The envelope check made it a string (a site id).
      return fail('malformed', `request is addressed to site ${quote(request.site as string)}, this is "${this.options.site}"`);
    }

    const args = (request.args ?? {}) as Record<string, unknown>;
    const argsCheck = validateCommandArgs(name, args);
    if (!argsCheck) return fail('unknown-command', `unknown command ${quote(name)}; known: ${COMMAND_NAMES.join(', ')}`);
    if (!argsCheck.ok) return fail('invalid-args', `invalid arguments for ${name}: ${argsCheck.errors.join('; ')}`);

    const handler = this.options.handlers[name];
    const id = requestId as string;
    const limit = Math.max(1, this.options.concurrency ?? DEFAULT_COMMAND_CONCURRENCY);
    // Refused at once rather than queued: a queue would grow with the sender's rate, and each
    // queued command would run after its sender stopped waiting. Nothing ran, so nothing is audited.
    if (handler && (this.running.get(name) ?? 0) >= limit) {
      return fail(
        'busy',
        `${limit} ${name} command${limit === 1 ? ' is' : 's are'} running already (uplink.commandConcurrency); try again when one has answered`,
      );
    }
    const outcome = handler ? await this.run(name, handler, args, id, reply, fail) : fail('not-available', `not available yet: ${name}`);
    if (AUDITED_COMMANDS.has(name) && this.options.audit) {
      const p = outcome.payload;
      try {
        this.options.audit({
          command: name,
          requestId: id,
          ...(typeof args.camera === 'string' ? { camera: args.camera } : {}),
          ok: p.ok,
          ...(p.error ? { error: p.error } : {}),
          observedAt: p.observedAt,
        });
      } catch (err) {
        this.options.logger?.error({ err, command: name }, 'audit of a command failed');
      }
    }
    return outcome;
  }

  private async run(
    name: string,
    handler: CommandHandler,
    args: Record<string, unknown>,
    requestId: string,
    reply: (ok: boolean, body: { result?: Record<string, unknown> }) => CommandReply,
    fail: (code: ReplyErrorCode, message: string) => CommandReply,
  ): Promise<CommandReply> {
    const controller = new AbortController();
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.running.set(name, (this.running.get(name) ?? 0) + 1);
    let released = false;
    let grace: TimerHandle;
    const release = () => {
      if (released) return;
      released = true;
      this.clock.clearTimeout(grace);
      const left = (this.running.get(name) ?? 1) - 1;
      if (left > 0) this.running.set(name, left);
      else this.running.delete(name);
    };
    let timer: TimerHandle;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = this.clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    let work: Promise<Record<string, unknown>>;
    try {
      work = Promise.resolve(handler(args, { command: name, requestId, signal: controller.signal }));
    } catch (err) {
      work = Promise.reject(err);
    }
    // The slot is free once the work has really ended, so a flood cannot pile work up behind
    // answered timeouts; a handler that ignores its aborted signal holds it one timeout longer.
    work.then(release, release);
    try {
      const result = await Promise.race([work, deadline]);
      if (result === 'timeout') {
        controller.abort(new Error(`${name} did not finish within ${timeoutMs} ms`));
        grace = this.clock.setTimeout(release, timeoutMs);
        return fail('timeout', `${name} did not finish within ${timeoutMs} ms`);
      }
      return reply(true, { result: result ?? {} });
    } catch (err) {
      if (err instanceof CommandError) return fail(err.code, err.message);
      const message = clip(String((err as Error)?.message ?? err), LOG_TEXT_MAX);
      this.options.logger?.error({ command: name, error: message }, 'command handler failed');
      return fail('failed', `${name} failed: ${message}`);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private replyTopic(requested: string | undefined): string {
    return requested !== undefined && isReplyTopic(requested, this.options.site) ? requested : this.topics.reply;
  }
}

/** How much of a refused, oversized payload is searched for its ids. */
const PEEK_BYTES = 4096;
const PEEKED = ['messageId', 'correlationId', 'replyTo'] as const;
/** "field": "a JSON string" — the alternatives never overlap, so matching stays linear. */
const PEEK_PATTERNS = PEEKED.map((field) => [field, new RegExp(`"${field}"\\s*:\\s*("(?:[^"\\\\]|\\\\.){0,${REPLY_ID_MAX * 2}}")`)] as const);

/**
 * The request's messageId, correlationId and replyTo when they appear as plain strings in the
 * first few KiB of a payload too large to parse, so the too-large reply still reaches its sender
 * and names the request. A best effort: fields later in the payload are not found.
 */
export function peekRequest(payload: Buffer | string): Partial<Record<(typeof PEEKED)[number], string>> {
  const head = typeof payload === 'string' ? payload.slice(0, PEEK_BYTES) : payload.subarray(0, PEEK_BYTES).toString('utf8');
  const out: Partial<Record<(typeof PEEKED)[number], string>> = {};
  for (const [field, pattern] of PEEK_PATTERNS) {
    const m = pattern.exec(head);
    if (!m) continue;
    try {
      const value: unknown = JSON.parse(m[1]);
      if (typeof value === 'string' && value.length <= REPLY_ID_MAX) out[field] = value;
    } catch {
      /* not a JSON string after all: left out */
    }
  }
  return out;
}

/** MQTT 5 correlation data is binary; shown in the payload as text when it is printable UTF-8, else base64. */
export function correlationText(data: Buffer): string {
  const text = data.toString('utf8');

  if (Buffer.from(text, 'utf8').equals(data) && !/[\u0000-\u0008\u000e-\u001f]/.test(text)) return text;
  return 'base64:' + data.toString('base64');
}
