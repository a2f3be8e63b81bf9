// Sends commands to sites over the contract's request/reply and waits for the answer. It rides on
// the broker connection ingest holds (BrokerSeam): one connection per instance. Every request
// carries its reply topic and correlation id twice: as MQTT 5 properties (responseTopic,
// correlationData) when the connection is MQTT 5, and in the payload (replyTo, correlationId),
// which is all MQTT 3.1.1 (the box's embedded broker) has. Replies come back on
// camgate/v1/{site}/reply/{instance}: a topic of this instance alone (never a shared subscription,
// which would hand a reply to another instance that does not wait for it).
import { randomUUID } from 'node:crypto';
import type { IPublishPacket } from 'mqtt';
import {
  COMMAND_ARGS_SCHEMAS,
  TOPIC_ROOT,
  parseTopic,
  siteTopics,
  validateCommandArgs,
  validatePayload,
  type CommandName,
  type CommandRequest,
  type ReplyPayload,
} from '../../contract';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/log';
import { clip } from '../../lib/text';
import type { BrokerSeam } from '../ingest/subscriber';
import { PendingReplies, type Settled } from './pending';

/** The commands the API sends. */
export const API_COMMANDS = [
  'ping',
  'probe-now',
  'snapshot',
  'thumbnail',
  'picture-reference',
  'camera-reboot',
  'camera-set-time',
  'stream-start',
  'stream-stop',
  'stream-list',
] as const satisfies readonly CommandName[];
export type ApiCommand = (typeof API_COMMANDS)[number];

/** Commands that wait on a camera over the network for longer than usual: commands.slowTimeoutMs. */
const SLOW_COMMANDS: ReadonlySet<string> = new Set(['snapshot', 'probe-now', 'camera-reboot', 'picture-reference']);

export function isApiCommand(name: string): name is ApiCommand {
  return (API_COMMANDS as readonly string[]).includes(name);
}

/** Why `args` are not what command `name` takes (the field named), or undefined. */
export function argsProblem(name: ApiCommand, args: unknown): string | undefined {
  const check = validateCommandArgs(name, args);
  if (!check || check.ok) return undefined;
  return `args of ${name}: ${check.errors.join('; ')} (the schema: contract/json/cmd-${name}.json)`;
}

/** The config key whose timeout applies to a command (named in a 504). */
export function timeoutKeyOf(name: string): string {
  return SLOW_COMMANDS.has(name) ? 'commands.slowTimeoutMs' : 'commands.timeoutMs';
}

/** A topic level naming this instance: its client id with anything a topic level cannot hold replaced. */
export function instanceSegment(clientId: string): string {
  return clip(clientId.replace(/[^\w.-]/g, '_'), 64) || 'central';
}

export interface CommandClientOptions {
  broker: BrokerSeam;
  clock: Clock;
  log: Logger;
  timeoutMs: number;
  slowTimeoutMs: number;
  newId?: () => string;
}

export interface SendOptions {
  /** Overrides the command's default deadline. */
  timeoutMs?: number;
}

export class CommandClient {
  private readonly pending: PendingReplies;
  private readonly instance: string;
  private readonly newId: () => string;
  private started = false;

  constructor(private readonly options: CommandClientOptions) {
    this.pending = new PendingReplies(options.clock);
    this.instance = instanceSegment(options.broker.clientId);
    this.newId = options.newId ?? randomUUID;
  }

  /** camgate/v1/{site}/reply/{instance} */
  replyTopic(site: string): string {
    return `${siteTopics(site).reply}/${this.instance}`;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.options.broker.subscribe(`${TOPIC_ROOT}/+/reply/${this.instance}`, (topic, payload, packet) => this.take(topic, payload, packet));
  }

  stop(): void {
    this.pending.cancelAll('the central is stopping');
  }

  timeoutOf(name: string): number {
    return SLOW_COMMANDS.has(name) ? this.options.slowTimeoutMs : this.options.timeoutMs;
  }

  /** Publishes the command and resolves with its reply, its timeout, or why it was not sent. Args must be checked (argsProblem) first. */
  async send(site: string, name: ApiCommand, args: Record<string, unknown>, options: SendOptions = {}): Promise<Settled> {
    if (!(name in COMMAND_ARGS_SCHEMAS)) throw new Error(`unknown command ${name}`);
    const topics = siteTopics(site);
    const messageId = this.newId();
    const replyTo = this.replyTopic(site);
    const request: CommandRequest = {
      schemaVersion: 1,
      messageId,
      site,
      sentAt: new Date(this.options.clock.now()).toISOString(),
      replyTo,
      correlationId: messageId,
      args,
    };
    const timeoutMs = options.timeoutMs ?? this.timeoutOf(name);
    const settled = this.pending.expect(messageId, site, name, timeoutMs);
    try {
      await this.options.broker.publish(topics.command(name), JSON.stringify(request), { responseTopic: replyTo, correlationData: Buffer.from(messageId) });
    } catch (err) {
      this.pending.cancel(messageId, (err as Error).message);
    }
    return settled;
  }

  private take(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const parsed = parseTopic(topic);
    let reply: ReplyPayload;
    try {
      const value: unknown = JSON.parse(payload.toString('utf8'));
      const check = validatePayload('reply', value);
      if (!check.ok) throw new Error(check.errors.join('; '));
      reply = value as ReplyPayload;
    } catch (err) {
      this.options.log.warn({ topic: clip(topic, 200) }, `commands: ignored a reply that is not one: ${clip((err as Error).message, 300)}`);
      return;
    }
    if (!parsed || parsed.kind !== 'reply' || parsed.site !== reply.site) {
      this.options.log.warn({ topic: clip(topic, 200), site: reply.site }, "commands: ignored a reply published under another site's topic");
      return;
    }
    const property = packet.properties?.correlationData;
    const ids = [reply.correlationId, reply.requestId, property ? property.toString('utf8') : null].filter((id): id is string => typeof id === 'string');
    if (!ids.some((id) => this.pending.settle(id, reply))) {
      this.options.log.debug(
        { site: reply.site, command: reply.command, requestId: reply.requestId },
        'commands: a reply nobody waits for (timed out, or sent before a restart)',
      );
    }
  }
}
