// Takes in what the sites publish: one MQTT connection to the broker, every message classified
// (classify.ts) and queued, the queue written in batches (writer.ts), one transaction each.
//
// Subscriptions. The low-volume retained topics (state, meta) are subscribed by every instance,
// without sharing: retained messages are never sent to a shared subscription, and every instance
// needs the whole ledger at start (writes are idempotent, so the copies cost nothing but a
// duplicate check). The busy topics (status, events, metrics, birth) go through an MQTT 5 shared
// subscription ($share/<group>/…), so several instances split them. After each connect a
// non-shared status subscription is held until the retained statuses have arrived, so a fresh
// instance knows every camera's current state at once.
//
// Delivery. The session is persistent (a stable client id, clean: false): while the central is
// down the broker queues its QoS 1 messages. A message is acknowledged (PUBACK) only when it is
// safe: when the batch holding it has committed, when it was refused (counted), or when another
// part of the central took it (acks.ts keeps them in arrival order). Until then the broker keeps
// it for the session, so a central killed mid-batch, or a database that fails, gets it again at
// the next connection (written once: the writer is idempotent by messageId). mqtt.js acknowledges
// a message before taking the next packet off the socket (its customHandleAcks only delays that,
// one message per transaction), so the PUBACK is held through its handleMessage hook and written
// later on the same connection. How many messages may wait for their commit is the broker's
// in-flight window: MQTT 5 Receive Maximum sent in CONNECT (ingest.receiveMaximum; Mosquitto
// uses max_inflight_messages for a client that sends none, and for MQTT 3.1.1 clients); a batch
// commits while the next ones arrive within it. A message the database refuses while it answers
// is counted as failed (its site's `write-failed` rejects, with the error and the message) and
// acknowledged: it must not hold the window forever. The window is not a hard bound (Mosquitto 2.0
// miscounts its quota once acknowledgements flow and sends past it), so ingest.queueMax still is:
// there the central stops taking packets off the socket (TCP holds them, then the broker) until
// half is written. Leaving the broker instead would have it send again everything held
// unacknowledged: a third of a 100,000-message backlog came twice that way. Only when reading
// stays stalled past half the keep-alive does the central leave (and return when half is
// written); what it held comes again and counts once.
import { hostname } from 'node:os';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { TOPIC_ROOT } from '../../contract';
import type { Clock, TimerHandle } from '../../lib/clock';
import type { Logger } from '../../lib/log';
import { LogLimiter } from '../../lib/log-limiter';
import { describeConnectError, readPem, topicMatchesFilter } from '../../lib/mqtt';
import { clip } from '../../lib/text';
import { letEventLoopRun } from '../../lib/concurrency';
import { CamgateError } from '../../lib/errors';
import type { CentralConfig } from '../config/schema';
import { classify, type Accepted, type Refused } from './classify';
import { preparePayloadValidators } from '../../contract/validate';
import type { IngestWriter, Received } from './writer';
import { HeldAcks, type Ack } from './acks';

export const FILTERS = {
  state: `${TOPIC_ROOT}/+/state`,
  meta: `${TOPIC_ROOT}/+/cameras/+/meta`,
  status: `${TOPIC_ROOT}/+/cameras/+/status`,
  birth: `${TOPIC_ROOT}/+/birth`,
  events: `${TOPIC_ROOT}/+/events`,
  metrics: `${TOPIC_ROOT}/+/metrics`,
};

/** A retained status snapshot is complete when none came for this long (or after SNAPSHOT_MAX_MS). */
const SNAPSHOT_QUIET_MS = 2000;
const SNAPSHOT_MAX_MS = 60_000;
/** MQTT 5 subscription identifier of the snapshot subscription: its copies of live messages are dropped (the shared one brings those). */
const SNAPSHOT_SUBSCRIPTION_ID = 1;
/** Deadlocks and serialisation failures between instances sharing PostgreSQL: the batch is retried. */
const RETRYABLE_PG_CODES = new Set(['40P01', '40001']);
const MAX_BATCH_RETRIES = 5;

export interface IngestStats {
  connected: boolean;
  /** Left the broker because the queue is full. */
  paused: boolean;
  received: number;
  written: number;
  duplicates: number;
  refused: number;
  queued: number;
  batches: number;
  /** Messages that could not be written although the database answered (a defect: logged as errors, counted as write-failed rejects). */
  failed: number;
  /** Messages received on this connection whose PUBACK waits for their commit (or for earlier ones). */
  unacknowledged: number;
}

/** A subscription of another part of the central on this connection (command replies). */
export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => void;

/** What another part of the central may do with the broker connection ingest holds. */
export interface BrokerSeam {
  readonly protocolVersion: 4 | 5;
  /** This instance's MQTT client id (unique per instance). */
  readonly clientId: string;
  /** Publishes at QoS 1; rejects at once while the central is not connected (nothing is queued for later). */
  publish(topic: string, payload: string, properties?: { responseTopic?: string; correlationData?: Buffer }): Promise<void>;
  /** Subscribes `filter` (QoS 1, not shared) now and after every reconnect; its messages go to `handler`, not to ingest. */
  subscribe(filter: string, handler: MessageHandler): void;
}

export interface IngestOptions {
  config: CentralConfig;
  writer: IngestWriter;
  clock: Clock;
  log: Logger;
  /** mqtt.js connect, replaceable in tests. */
  connect?: typeof connect;
}

export function defaultClientId(config: CentralConfig): string {
  return config.broker.clientId ?? `camgate-central-${hostname()}-${config.http.port}`.slice(0, 128);
}

function serversOf(urls: readonly string[]): NonNullable<IClientOptions['servers']> {
  return urls.map((u) => {
    const url = new URL(u);
    const protocol = url.protocol.slice(0, -1) as 'mqtt' | 'mqtts' | 'ws' | 'wss';
    const port = url.port ? Number(url.port) : protocol === 'mqtts' ? 8883 : protocol === 'ws' ? 80 : protocol === 'wss' ? 443 : 1883;
    return { host: url.hostname, port, protocol };
  });
}

/** mqtt.js options of the central's connection; throws CamgateError for unusable settings. */
export function clientOptions(config: CentralConfig): IClientOptions {
  const b = config.broker;
  if (b.urls.length === 0) throw new CamgateError('no broker: set broker.urls (--broker mqtt://host:1883)', 2);
  if ((b.cert && !b.key) || (!b.cert && b.key)) throw new CamgateError('broker.cert and broker.key go together (mutual TLS needs both)', 2);
  const ca = readPem('broker.ca', b.ca);
  const cert = readPem('broker.cert', b.cert);
  const key = readPem('broker.key', b.key);
  return {
    servers: serversOf(b.urls),
    protocolVersion: b.protocolVersion,
    clientId: defaultClientId(config),
    clean: false,
    ...(b.protocolVersion === 5
      ? {
          properties: {
            sessionExpiryInterval: b.sessionExpirySec,
            maximumPacketSize: config.ingest.maxPayloadBytes + 64 * 1024,
            receiveMaximum: config.ingest.receiveMaximum,
          },
        }
      : {}),
    keepalive: b.keepaliveSec,
    reconnectPeriod: b.reconnectMs,
    connectTimeout: 10_000,
    resubscribe: false,
    ...(b.username !== undefined ? { username: b.username } : {}),
    ...(b.password !== undefined ? { password: b.password } : {}),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    rejectUnauthorized: true,
  };
}

type Queued = Received & { ack: Ack | undefined };

/** Given to mqtt.js's handleMessage callback: no PUBACK now (HeldAcks sends it), take the next packet. */
const ACK_HELD = new Error('PUBACK held until the message is safe');

/** mqtt.js writes a packet on the current connection; it has no public call to acknowledge later. */
interface PacketSender {
  _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode: number }): void;
}

function siteAndCamera(m: Accepted): string {
  return 'camera' in m ? `${m.site}\u0000${m.camera}` : `${m.site}\u0000`;
}

/** Did this message come through that subscription alone? */
function onlyThrough(packet: IPublishPacket, subscriptionId: number): boolean {
  const ids = packet.properties?.subscriptionIdentifier;
  if (ids === undefined) return false;
  return Array.isArray(ids) ? ids.length > 0 && ids.every((id) => id === subscriptionId) : ids === subscriptionId;
}

export class Ingest implements BrokerSeam {
  private client: MqttClient | undefined;
  private readonly routes: Array<{ filter: string; handler: MessageHandler }> = [];
  private readonly queue: Queued[] = [];
  private readonly refusals = new Map<string, { refused: Refused; at: number; count: number }>();
  private readonly limiter: LogLimiter;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private paused = false;
  /** mqtt.js's go-ahead for the next packet, held while the queue is full. */
  private stalled: (() => void) | undefined;
  private stallTimer: TimerHandle = undefined;
  private connected = false;
  private snapshotTimer: TimerHandle = undefined;
  private snapshotStarted = 0;
  private lastRetainedStatus = 0;
  private dbDownSince: number | undefined;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly counts = { received: 0, written: 0, duplicates: 0, refused: 0, batches: 0, failed: 0 };
  private readonly shared: boolean;
  private readonly acks: HeldAcks;
  /** Packets whose PUBACK is held: mqtt.js calls handleMessage right after emitting them. */
  private readonly holding = new WeakSet<IPublishPacket>();

  constructor(private readonly options: IngestOptions) {
    this.limiter = new LogLimiter(options.clock);
    const b = options.config.broker;
    this.shared = b.protocolVersion === 5 && b.shareGroup !== '';
    this.acks = new HeldAcks((messageId) => {
      const client = this.client;
      if (client?.connected) (client as unknown as PacketSender)._sendPacket({ cmd: 'puback', messageId, reasonCode: 0 });
    });
  }

  get protocolVersion(): 4 | 5 {
    return this.options.config.broker.protocolVersion;
  }

  get clientId(): string {
    return defaultClientId(this.options.config);
  }

  async publish(topic: string, payload: string, properties?: { responseTopic?: string; correlationData?: Buffer }): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) throw new Error('the central is not connected to the broker now (GET /api/health shows ingest.connected)');
    const props = this.protocolVersion === 5 && properties ? { properties } : {};
    await client.publishAsync(topic, payload, { qos: 1, ...props });
  }

  subscribe(filter: string, handler: MessageHandler): void {
    this.routes.push({ filter, handler });
    if (this.client && this.connected) this.subscribeRoute(this.client, filter);
  }

  private subscribeRoute(client: MqttClient, filter: string): void {
    client.subscribe(filter, { qos: 1 }, (err, granted) => {
      if (err || (granted ?? []).some((g) => g.qos > 2)) {
        this.options.log.error({ err: err?.message, filter }, 'ingest: the broker refused a subscription (does the ACL let the central read it?)');
      }
    });
  }

  stats(): IngestStats {
    return { connected: this.connected, paused: this.paused, queued: this.queue.length, unacknowledged: this.acks.held, ...this.counts };
  }

  /** Connects (and keeps reconnecting); returns at once: the API serves while the broker is away. */
  start(): void {
    // Compiled before the broker delivers: the first busy seconds would otherwise pay for it.
    preparePayloadValidators();
    const opts = clientOptions(this.options.config);
    const client = (this.options.connect ?? connect)(opts);
    this.client = client;
    client.handleMessage = (packet, callback) => {
      const next = this.holding.delete(packet) ? () => callback(ACK_HELD) : () => callback();
      // Leaving or stopping, the packets already read are taken so the connection can close.
      if (this.queue.length < this.options.config.ingest.queueMax || this.stopped || this.paused) next();
      else this.stallReading(next);
    };
    client.on('connect', (connack) => {
      this.connected = true;
      this.acks.connected();
      this.options.log.info({ sessionPresent: connack.sessionPresent, clientId: opts.clientId }, 'ingest: connected to the broker');
      this.subscribeAll(client);
    });
    client.on('close', () => {
      if (this.connected && !this.stopped && !this.paused) this.options.log.warn('ingest: disconnected from the broker; reconnecting');
      this.connected = false;
      // The stalled packet belonged to that connection: the broker sends it again.
      this.dropStall();
      this.acks.closed();
      this.endSnapshot(client, false);
    });
    client.on('error', (err) => {
      const url = this.options.config.broker.urls.join(', ');
      const code = (err as { code?: unknown }).code;
      const key = `connect:${typeof code === 'string' || typeof code === 'number' ? code : err.message}`;
      const gate = this.limiter.allow(key);
      if (gate.write) this.options.log.warn({ suppressed: gate.suppressed || undefined }, `ingest: ${describeConnectError(err, url)}`);
    });
    client.on('message', (topic, payload, packet) => this.take(topic, payload, packet));
  }

  /** Resolves once every message received so far is written (or refused). */
  async drained(): Promise<void> {
    if (this.queue.length === 0 && !this.flushing && this.refusals.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes what is queued (acknowledging it while still connected), then leaves the broker. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.releaseStall();
    const client = this.client;
    if (client) this.endSnapshot(client, false);
    await this.flushing;
    if (this.queue.length > 0 || this.refusals.size > 0) await this.flush();
    if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  private subscribeAll(client: MqttClient): void {
    const share = (filter: string) => (this.shared ? `$share/${this.options.config.broker.shareGroup}/${filter}` : filter);
    const subscriptions: Record<string, { qos: 1 }> = {
      [FILTERS.state]: { qos: 1 },
      [FILTERS.meta]: { qos: 1 },
      [share(FILTERS.status)]: { qos: 1 },
      [share(FILTERS.birth)]: { qos: 1 },
      [share(FILTERS.events)]: { qos: 1 },
      [share(FILTERS.metrics)]: { qos: 1 },
    };
    client.subscribe(subscriptions, (err, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos > 2);
      if (err || refused.length > 0) {
        this.options.log.error(
          { err: err?.message, refused: refused.map((g) => g.topic) },
          'ingest: the broker refused a subscription (does the ACL give the central read access to camgate/v1/#, and $share/# for shared subscriptions?)',
        );
      }
    });
    if (this.shared) this.startSnapshot(client);
    for (const route of this.routes) this.subscribeRoute(client, route.filter);
  }

  private startSnapshot(client: MqttClient): void {
    this.snapshotStarted = this.options.clock.now();
    this.lastRetainedStatus = this.snapshotStarted;
    client.subscribe(FILTERS.status, { qos: 1, properties: { subscriptionIdentifier: SNAPSHOT_SUBSCRIPTION_ID } }, () => this.checkSnapshot(client));
  }

  private checkSnapshot(client: MqttClient): void {
    const now = this.options.clock.now();
    if (now - this.lastRetainedStatus >= SNAPSHOT_QUIET_MS || now - this.snapshotStarted >= SNAPSHOT_MAX_MS) {
      this.endSnapshot(client, true);
      return;
    }
    this.snapshotTimer = this.options.clock.setTimeout(() => this.checkSnapshot(client), 250, { background: true });
  }

  private endSnapshot(client: MqttClient, unsubscribe: boolean): void {
    if (this.snapshotTimer !== undefined) this.options.clock.clearTimeout(this.snapshotTimer);
    this.snapshotTimer = undefined;
    if (unsubscribe && client.connected) client.unsubscribe(FILTERS.status);
  }

  private take(topic: string, payload: Buffer, packet: IPublishPacket): void {
    // Every QoS 1 message is held, even those settled at once, so the PUBACKs keep arrival order.
    let ack: Ack | undefined;
    if (packet.qos === 1 && packet.messageId !== undefined) {
      ack = this.acks.hold(packet.messageId);
      this.holding.add(packet);
    }
    // Stopping: what is queued is written and acknowledged, but each commit's PUBACKs let the
    // broker send more; left unacknowledged, these come again at the next start.
    if (this.stopped) return;
    const route = this.routes.find((r) => topicMatchesFilter(r.filter, topic));
    if (route) {
      route.handler(topic, payload, packet);
      this.acks.settle(ack);
      return;
    }
    if (!packet.retain && onlyThrough(packet, SNAPSHOT_SUBSCRIPTION_ID)) {
      this.acks.settle(ack);
      return;
    }
    const receivedAt = this.options.clock.now();
    this.counts.received++;
    if (packet.retain && topic.endsWith('/status')) this.lastRetainedStatus = receivedAt;
    const result = classify(topic, payload, this.options.config.ingest.maxPayloadBytes);
    if (!result.ok) {
      this.noteRefused(result.refused, receivedAt);
      this.acks.settle(ack);
    } else if (result.message) {
      this.queue.push({ message: result.message, receivedAt, retained: packet.retain, ack });
    } else {
      this.acks.settle(ack);
      return;
    }
    this.scheduleFlush();
  }

  private noteRefused(refused: Refused, at: number): void {
    this.counts.refused++;
    this.tally(refused, at);
  }

  /** Adds to the per-site, per-reason counts written with the next batch; logs a few a minute. */
  private tally(refused: Refused, at: number): void {
    const key = `${refused.site}\u0000${refused.reason}`;
    const known = this.refusals.get(key);
    if (known) {
      known.count++;
      known.refused = refused;
      known.at = at;
    } else if (this.refusals.size < 10_000) {
      this.refusals.set(key, { refused, at, count: 1 });
    }
    const gate = this.limiter.allow(key);
    if (gate.write) {
      this.options.log.warn(
        { site: clip(refused.site, 64), reason: refused.reason, suppressed: gate.suppressed || undefined },
        `ingest: refused a message: ${clip(refused.detail, 400)}`,
      );
    }
  }

  /**
   * The queue is full: mqtt.js takes no further packet off the socket until `next` is called, so
   * the broker's messages wait in TCP and at the broker, with nothing to send again later. Held
   * longer than half the keep-alive (a database that stopped answering), the central leaves the
   * broker instead, as a connection that reads nothing for long is dropped anyway.
   */
  private stallReading(next: () => void): void {
    this.stalled = next;
    const limitMs = (this.options.config.broker.keepaliveSec * 1000) / 2;
    this.stallTimer = this.options.clock.setTimeout(() => this.pause(), limitMs, { background: true });
  }

  /** Takes packets off the socket again. */
  private releaseStall(): void {
    const next = this.stalled;
    this.dropStall();
    next?.();
  }

  private dropStall(): void {
    if (this.stallTimer !== undefined) this.options.clock.clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.stalled = undefined;
  }

  private pause(): void {
    if (this.paused || !this.client) return;
    this.paused = true;
    this.options.log.warn(
      { queued: this.queue.length },
      'ingest: the database has held the queue full (ingest.queueMax) for half the keep-alive; leaving the broker, which queues for this session, until it catches up',
    );
    this.client.end(false);
    // mqtt.js closes the connection once the packet it is handling is done.
    this.releaseStall();
  }

  private resumeIfPaused(): void {
    if (this.stopped || this.queue.length > this.options.config.ingest.queueMax / 2) return;
    if (this.stalled) this.releaseStall();
    if (!this.paused) return;
    this.paused = false;
    this.options.log.info({ queued: this.queue.length }, 'ingest: caught up; back to the broker');
    this.client?.reconnect();
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    // One turn of the event loop first, so the messages of one socket read form one batch.
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0 || this.refusals.size > 0) {
        await this.writeRefusals();
        if (this.queue.length === 0) continue;
        const batch = this.queue.splice(0, this.options.config.ingest.batchMax);
        // One lock order for every instance (site, then camera): order does not matter to the writer.
        batch.sort((a, b) => (siteAndCamera(a.message) < siteAndCamera(b.message) ? -1 : siteAndCamera(a.message) > siteAndCamera(b.message) ? 1 : 0));
        const ok = await this.writeBatch(batch);
        if (!ok) {
          this.queue.unshift(...batch);
          await this.waitForDatabase();
          if (this.stopped && this.dbDownSince !== undefined) return;
        }
        this.resumeIfPaused();
        // SQLite answers synchronously: without a turn of the event loop between batches a long
        // queue held it for the whole backlog (no socket read, no PUBACK, no keepalive: the
        // broker dropped the connection; the API did not answer).
        await letEventLoopRun();
      }
    } finally {
      this.flushing = undefined;
      if (this.queue.length === 0 && this.refusals.size === 0) for (const w of this.idleWaiters.splice(0)) w();
      else if (!this.stopped) this.scheduleFlush();
    }
  }

  private async writeRefusals(): Promise<void> {
    if (this.refusals.size === 0) return;
    const items = [...this.refusals.values()];
    this.refusals.clear();
    try {
      await this.options.writer.refuse(items);
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'ingest: could not count refused messages');
    }
  }

  /** Writes a batch; false when the database did not answer (the batch is to be kept and retried). */
  private async writeBatch(batch: Queued[]): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.options.writer.write(batch);
        for (const q of batch) this.acks.settle(q.ack);
        this.counts.batches++;
        this.counts.written += result.written;
        this.counts.duplicates += result.duplicates;
        if (this.dbDownSince !== undefined) {
          this.options.log.info({ downMs: this.options.clock.now() - this.dbDownSince }, 'ingest: the database answers again');
          this.dbDownSince = undefined;
        }
        return true;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && RETRYABLE_PG_CODES.has(code) && attempt < MAX_BATCH_RETRIES) continue;
        if (!(await this.options.writer.ping())) {
          if (this.dbDownSince === undefined) {
            this.dbDownSince = this.options.clock.now();
            this.options.log.error(
              { err: (err as Error).message, queued: this.queue.length + batch.length },
              'ingest: the database does not answer; keeping the messages and retrying',
            );
          }
          return false;
        }
        if (batch.length === 1) {
          this.noteFailed(batch[0], err as Error);
          return true;
        }
        // The database answers, so one message is at fault: write them one by one to find it.
        for (const one of batch) await this.writeBatch([one]);
        return true;
      }
    }
  }

  /**
   * A message the database refuses while it answers (a defect, not an outage): written again it
   * would fail again and hold the broker's window for good, so it is counted with its site's
   * `write-failed` rejects (the error and the message as the example), logged, and acknowledged.
   */
  private noteFailed(q: Queued, err: Error): void {
    this.counts.failed++;
    const m = q.message;
    const id = m.kind === 'meta-cleared' ? `camera ${m.camera} cleared` : `messageId ${m.payload.messageId}`;
    const detail = `${m.kind} ${id} could not be written (${clip(err.message, 300)}): ${clip(JSON.stringify(m), 1500)}`;
    this.options.log.error({ err: err.message, kind: m.kind, site: m.site }, 'ingest: a message could not be written; counted as write-failed and dropped');
    this.tally({ site: m.site, reason: 'write-failed', detail }, q.receivedAt);
    this.acks.settle(q.ack);
  }

  private async waitForDatabase(): Promise<void> {
    const delay = Math.min(30_000, this.options.config.broker.reconnectMs);
    await new Promise<void>((resolve) => this.options.clock.setTimeout(resolve, delay));
  }
}
