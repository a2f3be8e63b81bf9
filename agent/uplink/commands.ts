// Commands from the central (camgate/v1/{site}/cmd/{name}) → validated → handler → reply.
// Transport-free: the session hands in the topic, raw payload and MQTT 5 properties and
// publishes the reply this returns, so every rule here is unit-tested without a broker.
//
// Rules: only topics under this site's own prefix are acted on (anything else is ignored and
// logged); a payload that is not JSON or does not match cmd-request.json is a `malformed`
// reply; an unknown name is `unknown-command`; args failing cmd-{name}.json are
// `invalid-args`; a handler that throws gives `failed` (or its CommandError code); a handler
// slower than the timeout gives `timeout`. Nothing a sender does crashes the agent.
import {
  CommandError,
  isoTime,
  ReplyErrorCode,
  replyPayload,
  COMMAND_NAMES,
  validateCommandArgs,
  validateCommandRequest,
  isUnderSite,
  siteTopics,
  SiteTopics,
  TOPIC_ROOT,
} from '../../contract';
import type { Logger } from '../../lib/log';
import { systemClock, type Clock, type TimerHandle } from '../../lib/clock';

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
export const AUDITED_COMMANDS = new Set(['rebirth', 'camera-reboot', 'camera-set-time', 'stream-start', 'stream-stop', 'snapshot']);

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
  clock?: Clock;
  logger?: Logger;
  audit?: (entry: AuditEntry) => void;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

export class CommandDispatcher {
  private readonly topics: SiteTopics;
  private readonly cmdPrefix: string;

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
      this.options.logger?.warn({ topic: req.topic }, "ignored a message outside this site's command topics");
      return undefined;
    }
    const name = req.topic.slice(this.cmdPrefix.length);
    let requestId: string | null = null;
    let correlationId: string | null = null;
    let replyTo: string | undefined;

    const reply = (
      ok: boolean,
      body: { result?: Record<string, unknown>; error?: { code: ReplyErrorCode; message: string } },
      topicOverride?: string,
    ): CommandReply => {
      const topic = topicOverride ?? this.replyTopic(req.responseTopic ?? replyTo);
      const payload = replyPayload(this.options.site, { command: name, requestId, correlationId, ok, ...body }, isoTime(this.now()));
      return { topic, payload, ...(req.correlationData ? { correlationData: req.correlationData } : {}) };
    };
    const fail = (code: ReplyErrorCode, message: string) => {
      this.options.logger?.warn({ command: name, requestId, code }, `command refused: ${message}`);
      return reply(false, { error: { code, message } });
    };

    if (req.correlationData && req.correlationData.length > 0) correlationId = correlationText(req.correlationData);

    let request: Record<string, unknown>;
    try {
      const text = typeof req.payload === 'string' ? req.payload : req.payload.toString('utf8');
      const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('malformed', 'the payload must be a JSON object');
      request = parsed as Record<string, unknown>;
    } catch (err) {
      return fail('malformed', `the payload is not JSON: ${(err as Error).message}`);
    }
    // Pick up what routing needs even from a request that fails validation, so the error reaches the sender.
    if (typeof request.messageId === 'string') requestId = request.messageId;
    if (typeof request.correlationId === 'string') correlationId = request.correlationId;
    if (typeof request.replyTo === 'string') replyTo = request.replyTo;

    const chosen = req.responseTopic ?? replyTo;
    if (chosen !== undefined && !isUnderSite(chosen, this.options.site)) {
      return reply(
        false,
        {
          error: {
            code: 'bad-reply-topic',
            message: `reply topic ${JSON.stringify(chosen)} is not under ${this.topics.prefix}; replying on ${this.topics.reply}`,
          },
        },
        this.topics.reply,
      );
    }

    const envelopeCheck = validateCommandRequest(request);
    if (!envelopeCheck.ok) return fail('malformed', `invalid command request: ${envelopeCheck.errors.join('; ')}`);
    if (request.site !== undefined && request.site !== this.options.site) {
      return fail('malformed', `request is addressed to site ${JSON.stringify(request.site)}, this is "${this.options.site}"`);
    }

    const args = (request.args ?? {}) as Record<string, unknown>;
    const argsCheck = validateCommandArgs(name, args);
    if (!argsCheck) return fail('unknown-command', `unknown command "${name}"; known: ${COMMAND_NAMES.join(', ')}`);
    if (!argsCheck.ok) return fail('invalid-args', `invalid arguments for ${name}: ${argsCheck.errors.join('; ')}`);

    const handler = this.options.handlers[name];
    const id = requestId as string;
    let outcome: CommandReply;
    if (!handler) {
      outcome = fail('not-available', `not available yet: ${name}`);
    } else {
      outcome = await this.run(name, handler, args, id, reply, fail);
    }
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
    let timer: TimerHandle;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = this.clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const result = await Promise.race([handler(args, { command: name, requestId, signal: controller.signal }), deadline]);
      if (result === 'timeout') {
        controller.abort();
        return fail('timeout', `${name} did not finish within ${timeoutMs} ms`);
      }
      return reply(true, { result: result ?? {} });
    } catch (err) {
      if (err instanceof CommandError) return fail(err.code, err.message);
      this.options.logger?.error({ err, command: name }, 'command handler failed');
      return fail('failed', `${name} failed: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private replyTopic(requested: string | undefined): string {
    return requested !== undefined && isUnderSite(requested, this.options.site) ? requested : this.topics.reply;
  }
}

/** MQTT 5 correlation data is binary; shown in the payload as text when it is printable UTF-8, else base64. */
export function correlationText(data: Buffer): string {
  const text = data.toString('utf8');

  if (Buffer.from(text, 'utf8').equals(data) && !/[\u0000-\u0008\u000e-\u001f]/.test(text)) return text;
  return 'base64:' + data.toString('base64');
}
