// The MQTT session: one connection at a time to the first broker URL that answers, our own
// reconnect loop (mqtt.js's is off), and the order of things on every connect:
//
//   1. subscribe to camgate/v1/{site}/cmd/+ (before the birth, so a command sent in answer to
//      the birth is not missed);
//   2. birth (bdSeq persisted and incremented once per connection; the Will carries it too);
//   3. state online (retained), then meta and status of every camera (retained), rebuilt from
//      current truth and published directly, not through the outbox: they are regenerated at
//      every connect, so a stored copy could only be older; the retained meta and status of
//      cameras removed from the ledger but not yet cleared at the broker are cleared first (an
//      empty retained payload);
//   4. the outbox backlog (everything committed before this connection), oldest first, marked
//      `historical: true` and never retained, through replay.ts with a bounded window.
//
// Live messages (enqueued during this connection) are published as soon as their enqueue is
// durable and go ahead of the backlog: while any live publish is pending the replay yields and
// resumes after it. A live message whose publish fails stays in the outbox and becomes backlog
// of the next connection. Every outbox message leaves the outbox only after its PUBACK.
import { EventEmitter } from 'node:events';
import { connect, IClientOptions, IClientPublishOptions, IPublishPacket, MqttClient } from 'mqtt';
import type { CameraRecord } from '../inventory/types';
import type { BdSeqStore } from './bdseq';
import type { CommandReply, IncomingCommand } from './commands';
import { BrokerSettings } from './connection';
import { markHistorical, payloadWithSeq } from './splice';
import { cameraMetaRecord, summarizeCamera } from './payloads';
import { replay } from './replay';
import type { Outbox, OutboxInput, OutboxMessage } from './types';
import { sleep, systemClock, type Clock, type TimerHandle } from '../../lib/clock';
import { waitAtMost } from '../../lib/deadline';
import { birthPayload, CameraStatus, direct, isoTime, isReplyTopic, metaPayload, statePayload, statusPayload, siteTopics, SiteTopics } from '../../contract';
import type { Logger } from '../../lib/log';
import { mapWithConcurrency } from '../../lib/concurrency';
import { clip } from '../../lib/text';
import { describeConnectError, reconnectDelay, urlForAttempt } from '../../lib/mqtt';

/** Current truth, read at every connect and rebirth. */
export interface SessionSnapshot {
  siteName?: string;
  cameras: CameraRecord[];
  statuses: CameraStatus[];
  /** Cameras removed from the ledger whose retained meta and status may still be at the broker. */
  removed?: string[];
}

export interface CommandSink {
  handle(req: IncomingCommand): Promise<CommandReply | undefined>;
}

export interface SessionOptions {
  site: string;
  broker: BrokerSettings;
  outbox: Outbox;
  bdSeq: BdSeqStore;
  version: string;
  bootId: string;
  snapshot(): SessionSnapshot;
  /** A snapshot's truth is at the broker (every publish of the connect burst or rebirth acknowledged). */
  truthPublished?(snapshot: SessionSnapshot): void;
  commands?: CommandSink;
  /** QoS 1 publishes in flight during replay and the connect-time burst. Default 64. */
  replayWindow?: number;
  /** Replay rate bound, messages/s; 0 or undefined = none. */
  replayMaxPerSec?: number;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
}

export interface SessionStatus {
  connected: boolean;
  url: string | null;
  bdSeq: number | null;
  /** Successful connections since start. */
  connects: number;
  lastError: string | null;
  /** The backlog of the current connection is being replayed. */
  replaying: boolean;
}

export interface SessionEvents {
  connected: [{ url: string; bdSeq: number; backlogUpTo: number }];
  disconnected: [{ url: string; bdSeq: number; error?: string }];
  'connect-error': [{ url: string; message: string; error: unknown }];
  'backlog-drained': [{ bdSeq: number; published: number }];
  /** A publish the broker refused with an error reason code (MQTT 5, e.g. 0x87 not authorized). */
  refused: [{ topic: string; seq: number | null; reasonCode: number; message: string }];
}

interface Connection {
  client: MqttClient;
  url: string;
  bdSeq: number;
  /** Highest outbox seq committed at CONNACK: at or below = backlog, above = live. */
  boundary: number;
  connected: boolean;
  ready: boolean;
  closed: boolean;
  readyWaiters: Array<() => void>;
  idleWaiters: Array<() => void>;
  livePending: number;
  /** Reject functions of publishes not yet acknowledged, failed when the connection closes. */
  inflight: Set<(err: Error) => void>;
  replaying: boolean;
  lastError?: unknown;
  connectTimer?: TimerHandle;
}

const CLOSED = () => new Error('connection closed');

export class UplinkSession extends EventEmitter<SessionEvents> {
  readonly topics: SiteTopics;
  private conn?: Connection;
  private attempt = 0;
  private connects = 0;
  private started = false;
  private stopping = false;
  private timer?: TimerHandle;
  private lastError: string | null = null;
  private ackQueue: number[] = [];
  private ackScheduled = false;
  private nextReplaySlot = 0;
  private backlogDone?: Promise<void>;

  constructor(private readonly options: SessionOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.topics = siteTopics(options.site);
  }

  private get log(): Logger | undefined {
    return this.options.logger;
  }

  private readonly clock: Clock;

  private now(): Date {
    return new Date(this.clock.now());
  }

  status(): SessionStatus {
    const c = this.conn;
    return {
      connected: !!c?.ready && !c.closed,
      url: c && c.connected ? c.url : null,
      bdSeq: c && c.connected ? c.bdSeq : null,
      connects: this.connects,
      lastError: this.lastError,
      replaying: !!c?.replaying,
    };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.options.broker.urls.length === 0) {
      this.log?.warn('uplink: no broker URLs configured (broker.urls): everything stays in the outbox until one is set');
      return;
    }
    this.schedule(0);
  }

  /**
   * Durably stores the message in the outbox, then (when connected) publishes it at once ahead
   * of any backlog. Resolves with its seq once it is durable; delivery follows at least once.
   */
  async enqueue(input: OutboxInput): Promise<number> {
    const seq = await this.options.outbox.enqueue(input);
    const conn = this.conn;
    if (conn && !conn.closed && seq > conn.boundary) void this.publishLive(conn, seq, input);
    return seq;
  }

  /** Publishes directly (QoS 1, not through the outbox) when connected; false when not connected or refused. */
  publishDirect(topic: string, payload: object, opts: { retain?: boolean; correlationData?: Buffer } = {}): Promise<boolean> {
    return this.sendDirect(topic, JSON.stringify(payload), opts);
  }

  /** Removes the broker's retained message on `topic` (an empty retained publish, QoS 1) when connected. */
  clearRetained(topic: string): Promise<boolean> {
    return this.sendDirect(topic, '', { retain: true });
  }

  private async sendDirect(topic: string, body: string, opts: { retain?: boolean; correlationData?: Buffer }): Promise<boolean> {
    const conn = this.conn;
    if (!conn || !conn.ready || conn.closed) return false;
    try {
      await this.publish(
        conn,
        topic,
        body,
        {
          qos: 1,
          retain: !!opts.retain,
          ...(opts.correlationData && this.options.broker.protocolVersion === 5 ? { properties: { correlationData: opts.correlationData } } : {}),
        },
        null,
      );
      return true;
    } catch (err) {
      this.log?.warn({ err, topic }, 'direct publish failed');
      return false;
    }
  }

  /** Publishes birth, state, meta and status again on the current connection (same bdSeq). */
  async rebirth(): Promise<number> {
    const conn = this.conn;
    // A rebirth asked for in answer to the birth arrives while the connect burst is still going out
    // (the command subscription comes first for that reason): it follows the burst.
    if (conn && conn.connected && !conn.ready && !conn.closed) await new Promise<void>((resolve) => conn.readyWaiters.push(resolve));
    if (!conn || !conn.ready || conn.closed) throw new Error('not connected');
    await this.publishCurrentTruth(conn, 'rebirth');
    return conn.bdSeq;
  }

  /** Resolves when the current connection's backlog replay has finished (drained, or stopped by a disconnect). */
  whenBacklogDone(): Promise<void> {
    return this.backlogDone ?? Promise.resolve();
  }

  /**
   * Clean shutdown: stops the replay, publishes state offline (reason "shutdown", retained),
   * disconnects. Messages not yet acknowledged stay in the outbox.
   */
  async stop(timeoutMs = 3000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.clock.clearTimeout(this.timer);
    const conn = this.conn;
    if (!conn) return;
    // Connected but still sending the connect burst: let it finish, so the shutdown state follows the birth.
    if (conn.connected && !conn.ready && !conn.closed) await waitAtMost(new Promise<void>((resolve) => conn.readyWaiters.push(resolve)), timeoutMs, this.clock);
    if (conn.ready && !conn.closed) {
      await waitAtMost(this.backlogDone ?? Promise.resolve(), timeoutMs, this.clock);
      const offline = statePayload(this.options.site, 'offline', { bdSeq: conn.bdSeq, observedAt: this.now(), reason: 'shutdown' });
      await waitAtMost(
        this.publish(conn, this.topics.state, JSON.stringify(offline), { qos: 1, retain: true }, null).catch(() => undefined),
        timeoutMs,
        this.clock,
      );
      this.flushAcks();
      await waitAtMost(new Promise<void>((resolve) => conn.client.end(false, {}, () => resolve())), timeoutMs, this.clock);
    }
    this.close(conn);
    conn.client.end(true);
  }

  // --- connection loop ---------------------------------------------------------------------

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.connectOnce(), delayMs);
  }

  private nextDelay(): number {
    const b = this.options.broker;
    return reconnectDelay(this.attempt, b.urls.length, b.reconnectMinMs, b.reconnectMaxMs, this.options.random);
  }

  private clientOptions(bdSeq: number): IClientOptions {
    const b = this.options.broker;
    const will = statePayload(this.options.site, 'offline', { bdSeq, observedAt: this.now(), reason: 'will' });
    return {
      protocolVersion: b.protocolVersion,
      clientId: b.clientId,
      clean: true,
      keepalive: b.keepaliveSec,
      connectTimeout: b.connectTimeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      // mqtt-packet's number cache is 65,536 two-byte Buffers built on the first packet: ~6 MB
      // of V8 heap kept for good (and marked by every full GC) to save a 2-byte allocation per
      // packet id. The agent sends a few packets a second at most (docs/benchmarks.md).
      writeCache: false,
      ...(b.username !== undefined ? { username: b.username } : {}),
      ...(b.password !== undefined ? { password: b.password } : {}),
      ...(b.ca ? { ca: b.ca } : {}),
      ...(b.cert ? { cert: b.cert } : {}),
      ...(b.key ? { key: b.key } : {}),
      rejectUnauthorized: true,
      ...(b.protocolVersion === 5 && b.maximumPacketSize ? { properties: { maximumPacketSize: b.maximumPacketSize } } : {}),
      will: { topic: this.topics.state, payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true },
    };
  }

  private connectOnce(): void {
    if (this.stopping) return;
    const url = urlForAttempt(this.options.broker.urls, this.attempt);
    this.attempt++;
    // The bdSeq this connection will have; persisted only once the broker accepts it.
    const bdSeq = this.options.bdSeq.current() + 1;
    let client: MqttClient;
    try {
      client = connect(url, this.clientOptions(bdSeq));
    } catch (err) {
      const message = describeConnectError(err, url);
      this.lastError = message;
      this.log?.warn({ url }, `uplink: ${message}`);
      this.emit('connect-error', { url, message, error: err });
      this.schedule(this.nextDelay());
      return;
    }
    const conn: Connection = {
      client,
      url,
      bdSeq,
      boundary: Number.POSITIVE_INFINITY,
      connected: false,
      ready: false,
      closed: false,
      readyWaiters: [],
      idleWaiters: [],
      livePending: 0,
      inflight: new Set(),
      replaying: false,
    };
    this.conn = conn;
    // mqtt.js has its own connect timeout; this one also covers a TLS handshake that hangs.
    conn.connectTimer = this.clock.setTimeout(() => {
      if (!conn.connected && !conn.closed) {
        conn.lastError = new Error('connect timeout');
        client.end(true);
        this.onClose(conn);
      }
    }, this.options.broker.connectTimeoutMs + 1000);
    client.on('error', (err) => {
      conn.lastError = err;
      if (conn.connected) this.log?.warn({ err, url }, 'uplink: connection error');
    });
    client.on('connect', () => {
      void this.onConnect(conn).catch((err) => {
        this.log?.error({ err, url }, 'uplink: connect sequence failed; reconnecting');
        client.end(true);
        this.onClose(conn);
      });
    });
    client.on('message', (topic, payload, packet) => void this.onMessage(conn, topic, payload, packet));
    client.on('close', () => this.onClose(conn));
  }

  private onClose(conn: Connection): void {
    if (conn.closed) return;
    const wasConnected = conn.connected;
    this.close(conn);
    conn.client.end(true);
    if (this.stopping) return;
    if (wasConnected) {
      const error = conn.lastError ? describeConnectError(conn.lastError, conn.url) : undefined;
      this.log?.warn({ url: conn.url, bdSeq: conn.bdSeq, error }, 'uplink: disconnected');
      this.emit('disconnected', { url: conn.url, bdSeq: conn.bdSeq, ...(error ? { error } : {}) });
      // Back to the first URL; the wait is the first backoff step, never zero (no hot loop).
      this.attempt = 0;
      const min = this.options.broker.reconnectMinMs;
      this.schedule(Math.round(min / 2 + ((this.options.random ?? Math.random)() * min) / 2));
    } else {
      const message = describeConnectError(conn.lastError ?? new Error('connection closed before CONNACK'), conn.url);
      this.lastError = message;
      this.log?.warn({ url: conn.url }, `uplink: ${message}`);
      this.emit('connect-error', { url: conn.url, message, error: conn.lastError });
      this.schedule(this.nextDelay());
    }
  }

  private close(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    this.clock.clearTimeout(conn.connectTimer);
    for (const reject of [...conn.inflight]) reject(CLOSED());
    conn.inflight.clear();
    for (const w of conn.readyWaiters.splice(0)) w();
    for (const w of conn.idleWaiters.splice(0)) w();
    if (this.conn === conn) this.conn = undefined;
  }

  private async onConnect(conn: Connection): Promise<void> {
    if (conn.closed) return;
    this.clock.clearTimeout(conn.connectTimer);
    conn.connected = true;
    // Persist the bdSeq before anything is published under it.
    conn.bdSeq = this.options.bdSeq.next();
    this.connects++;
    this.lastError = null;
    const stats = this.options.outbox.stats();
    conn.boundary = stats.newestSeq ?? 0;
    this.log?.info({ url: conn.url, bdSeq: conn.bdSeq, backlog: stats.depth }, 'uplink: connected');

    await new Promise<void>((resolve, reject) => {
      conn.client.subscribe(this.topics.commandFilter, { qos: 1 }, (err, granted) => {
        if (err) return reject(err);
        const refused = granted?.find((g) => g.qos >= 0x80);
        if (refused) this.log?.warn({ filter: this.topics.commandFilter, code: refused.qos }, 'uplink: broker refused the command subscription');
        resolve();
      });
    });
    await this.publishCurrentTruth(conn, 'connect');
    if (conn.closed) return;
    conn.ready = true;
    this.attempt = 0;
    for (const w of conn.readyWaiters.splice(0)) w();
    this.emit('connected', { url: conn.url, bdSeq: conn.bdSeq, backlogUpTo: conn.boundary });
    this.backlogDone = this.runBacklog(conn);
  }

  /** Birth, state online, then the removed cameras' meta and status cleared and meta and status of every camera. */
  private async publishCurrentTruth(conn: Connection, reason: 'connect' | 'rebirth'): Promise<void> {
    const site = this.options.site;
    const snap = this.options.snapshot();
    const at = this.now();
    const birth = birthPayload(site, {
      bdSeq: conn.bdSeq,
      bootId: this.options.bootId,
      version: this.options.version,
      ...(snap.siteName ? { siteName: snap.siteName } : {}),
      protocolVersion: this.options.broker.protocolVersion,
      observedAt: at,
      cameras: snap.cameras.map(summarizeCamera),
      reason,
    });
    const messages: Array<{ topic: string; payload: string; retain: boolean }> = [
      { topic: this.topics.birth, payload: JSON.stringify(birth), retain: false },
      { topic: this.topics.state, payload: JSON.stringify(statePayload(site, 'online', { bdSeq: conn.bdSeq, observedAt: at })), retain: true },
    ];
    const present = new Set(snap.cameras.map((c) => c.id));
    for (const id of snap.removed ?? []) {
      if (present.has(id)) continue;
      messages.push({ topic: this.topics.cameraMeta(id), payload: '', retain: true }, { topic: this.topics.cameraStatus(id), payload: '', retain: true });
    }
    for (const camera of snap.cameras) {
      messages.push({
        topic: this.topics.cameraMeta(camera.id),
        payload: JSON.stringify(direct(metaPayload(site, cameraMetaRecord(camera), isoTime(at)))),
        retain: true,
      });
    }
    for (const status of snap.statuses) {
      messages.push({
        topic: this.topics.cameraStatus(status.camera),
        payload: JSON.stringify(direct(statusPayload(site, status, isoTime(at)))),
        retain: true,
      });
    }
    const window = Math.max(1, this.options.replayWindow ?? 64);
    // Birth first and alone: nothing else goes out before the broker has it.
    const [birthMsg, ...rest] = messages;
    await this.publish(conn, birthMsg.topic, birthMsg.payload, { qos: 1, retain: false }, null);
    await mapWithConcurrency(rest, window, async (m) => {
      if (!conn.closed) await this.publish(conn, m.topic, m.payload, { qos: 1, retain: m.retain }, null);
    });
    if (conn.closed) return;
    try {
      this.options.truthPublished?.(snap);
    } catch (err) {
      this.log?.warn({ err }, 'uplink: could not record what the connect burst published');
    }
  }

  // --- publishing --------------------------------------------------------------------------

  /** One QoS 1 publish; resolves on PUBACK. A PUBACK with an error reason code resolves too
   * (the broker will never take that message: retrying would block the outbox forever) and is
   * reported as 'refused'. Rejects when the connection closes first. */
  private publish(conn: Connection, topic: string, payload: string, opts: IClientPublishOptions, seq: number | null): Promise<void> {
    if (conn.closed) return Promise.reject(CLOSED());
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const fail = (err: Error) => {
        if (done) return;
        done = true;
        conn.inflight.delete(fail);
        reject(err);
      };
      conn.inflight.add(fail);
      conn.client.publish(topic, payload, opts, (err) => {
        if (done) return;
        if (err && typeof (err as { code?: unknown }).code === 'number' && (err as { code: number }).code >= 0x80) {
          const reasonCode = (err as { code: number }).code;
          this.log?.error({ topic, seq, reasonCode }, `uplink: broker refused a publish: ${err.message}`);
          this.emit('refused', { topic, seq, reasonCode, message: err.message });
          done = true;
          conn.inflight.delete(fail);
          resolve();
          return;
        }
        if (err) return fail(err);
        done = true;
        conn.inflight.delete(fail);
        resolve();
      });
    });
  }

  private async publishLive(conn: Connection, seq: number, input: OutboxInput): Promise<void> {
    conn.livePending++;
    try {
      if (!conn.ready) await new Promise<void>((resolve) => conn.readyWaiters.push(resolve));
      if (conn.closed) return;
      const body = JSON.stringify(input.payload);
      const payload = payloadWithSeq(body, seq);
      await this.publish(conn, input.topic, payload, { qos: 1, retain: !!input.retain }, seq);
      this.queueAck(seq);
    } catch {
      // Not acknowledged: it stays in the outbox and goes out as backlog after the reconnect.
    } finally {
      conn.livePending--;
      if (conn.livePending === 0) for (const w of conn.idleWaiters.splice(0)) w();
    }
  }

  private queueAck(seq: number): void {
    this.ackQueue.push(seq);
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => this.flushAcks());
  }

  private flushAcks(): void {
    this.ackScheduled = false;
    if (this.ackQueue.length === 0) return;
    const seqs = this.ackQueue;
    this.ackQueue = [];
    try {
      this.options.outbox.ack(seqs);
    } catch (err) {
      // Not fatal: unacked messages are sent again later (same messageId).
      this.log?.error({ err }, 'uplink: outbox ack failed');
    }
  }

  private async publishHistorical(conn: Connection, msg: OutboxMessage): Promise<void> {
    const rate = this.options.replayMaxPerSec ?? 0;
    if (rate > 0) {
      const now = this.clock.now();
      const slot = Math.max(now, this.nextReplaySlot);
      this.nextReplaySlot = slot + 1000 / rate;
      if (slot > now) await sleep(this.clock, slot - now);
    }
    // Historical data never overwrites a retained value: the current one was just published.
    await this.publish(conn, msg.topic, markHistorical(msg.payload), { qos: 1, retain: false }, msg.seq);
  }

  private async runBacklog(conn: Connection): Promise<void> {
    const outbox = this.options.outbox;
    const view = {
      read: (afterSeq: number, limit: number) => outbox.read(afterSeq, limit).filter((m) => m.seq <= conn.boundary),
      ack: (seqs: readonly number[]) => outbox.ack(seqs),
    };
    let afterSeq = 0;
    let published = 0;
    conn.replaying = true;
    try {
      while (!conn.closed && !this.stopping) {
        if (conn.livePending > 0) await new Promise<void>((resolve) => conn.idleWaiters.push(resolve));
        if (conn.closed || this.stopping) break;
        const r = await replay({
          outbox: view,
          publish: (m) => this.publishHistorical(conn, m),
          window: Math.max(1, this.options.replayWindow ?? 64),
          afterSeq,
          shouldYield: () => conn.closed || this.stopping || conn.livePending > 0,
        });
        afterSeq = r.lastSeq;
        published += r.published;
        if (r.reason === 'drained') {
          this.log?.info({ bdSeq: conn.bdSeq, published }, 'uplink: backlog replayed');
          this.emit('backlog-drained', { bdSeq: conn.bdSeq, published });
          break;
        }
        if (r.reason === 'failed') {
          if (!conn.closed) this.log?.warn({ err: r.error }, 'uplink: backlog replay stopped');
          break;
        }
      }
    } finally {
      conn.replaying = false;
    }
  }

  // --- commands ----------------------------------------------------------------------------

  private async onMessage(conn: Connection, topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const sink = this.options.commands;
    if (!sink) return;
    const props = packet.properties;
    let reply: CommandReply | undefined;
    try {
      reply = await sink.handle({
        topic,
        payload,
        ...(props?.responseTopic ? { responseTopic: props.responseTopic } : {}),
        ...(props?.correlationData ? { correlationData: Buffer.from(props.correlationData) } : {}),
      });
    } catch (err) {
      this.log?.error({ error: clip(String((err as Error)?.message ?? err), 300), topic: clip(topic, 300) }, 'uplink: command dispatch failed');
      return;
    }
    if (!reply) return;
    // The dispatcher's rule, checked where the publish happens: a reply anywhere else (cmd/…, which
    // this client subscribes to, or the agent's own data topics) would be a forgery tool.
    if (!isReplyTopic(reply.topic, this.options.site)) {
      this.log?.error({ topic: clip(reply.topic, 300) }, 'uplink: a command reply addressed outside the reply topics was not sent');
      return;
    }
    if (conn.closed) {
      this.log?.warn({ topic: reply.topic }, 'uplink: connection closed before the command reply could be sent');
      return;
    }
    const opts: IClientPublishOptions = { qos: 1, retain: false };
    if (this.options.broker.protocolVersion === 5 && reply.correlationData) opts.properties = { correlationData: reply.correlationData };
    await this.publish(conn, reply.topic, JSON.stringify(reply.payload), opts, null).catch((err) => {
      this.log?.warn({ err, topic: reply?.topic }, 'uplink: command reply not delivered');
    });
  }
}
