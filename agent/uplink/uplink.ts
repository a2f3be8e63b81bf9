// The uplink as the rest of the agent sees it: producers call event()/status()/metrics()/
// metaChanged(); this turns them into contract payloads, sends QoS 1 data through the durable
// outbox and the session, answers commands, reports outbox drops as events and publishes
// metrics periodically.
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { listCameras, getCamera } from '../inventory/cameras';
import { markRemovals, removalsToClear } from '../inventory/changes';
import type { BdSeqStore } from './bdseq';
import { AuditEntry, CommandDispatcher, CommandHandlers } from './commands';
import type { BrokerSettings } from './connection';
import { cameraMetaRecord, dropEvent, MetricsExtras, statusFromInventory } from './payloads';
import { UplinkSession, type SessionSnapshot } from './session';
import { BACKGROUND, systemClock, type Clock, type TimerHandle } from '../../lib/clock';
import { DropClass, Outbox } from './types';
import { CameraStatus, EventBody, eventPayload, isoTime, metaPayload, MetricsSample, metricsPayload, statusPayload, direct } from '../../contract';
import type { AgentConfig } from '../config/schema';
import type { Logger } from '../../lib/log';

export interface UplinkOptions {
  site: string;
  siteName?: string;
  version: string;
  bootId?: string;
  db: Database;
  outbox: Outbox;
  broker: BrokerSettings;
  bdSeq: BdSeqStore;
  uplink: AgentConfig['uplink'];
  /** Command handlers by name; a missing one replies not-available. Built by the caller
   * (agentHandlers in handlers.ts) so it can close over this Uplink for rebirth and ping. */
  handlers?: (uplink: Uplink) => CommandHandlers;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
  /** Host, process and health figures added to every metrics payload (agent.ts wires them). */
  metricsExtras?: () => Promise<MetricsExtras> | MetricsExtras;
}

export class Uplink {
  readonly session: UplinkSession;
  readonly dispatcher: CommandDispatcher;
  readonly bootId: string;
  readonly startedAt: number;
  private readonly clock: Clock;
  private readonly statuses = new Map<string, CameraStatus>();
  private metricsTimer?: TimerHandle;
  private stopped = false;

  constructor(private readonly options: UplinkOptions) {
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.bootId = options.bootId ?? randomUUID();
    const handlers = options.handlers ? options.handlers(this) : {};
    this.dispatcher = new CommandDispatcher({
      site: options.site,
      handlers,
      timeoutMs: options.uplink.commandTimeoutMs,
      maxBytes: options.uplink.commandMaxBytes,
      concurrency: options.uplink.commandConcurrency,
      clock: this.clock,
      ...(options.logger ? { logger: options.logger } : {}),
      audit: (entry) => void this.audit(entry),
    });
    this.session = new UplinkSession({
      site: options.site,
      broker: options.broker,
      outbox: options.outbox,
      bdSeq: options.bdSeq,
      version: options.version,
      bootId: this.bootId,
      snapshot: () => this.snapshot(),
      // The burst cleared the retained metas of removed cameras: the ledger watch need not.
      truthPublished: (snap) => markRemovals(options.db, snap.removed ?? [], 'cleared'),
      commands: this.dispatcher,
      replayWindow: options.uplink.replayWindow,
      replayMaxPerSec: options.uplink.replayMaxPerSec,
      ...(options.logger ? { logger: options.logger } : {}),
      clock: this.clock,
      ...(options.random ? { random: options.random } : {}),
    });
    options.outbox.onDrop((report) => {
      void this.event(dropEvent(report)).catch((err) => options.logger?.error({ err }, 'uplink: could not record an outbox-drop event'));
    });
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  start(): void {
    this.session.start();
    const every = this.options.uplink.metricsIntervalSec;
    if (every > 0) {
      const tick = () => {
        this.metricsTimer = this.clock.setTimeout(
          () => {
            if (this.stopped) return;
            void this.metrics().catch((err) => this.options.logger?.warn({ err }, 'uplink: metrics not recorded'));
            tick();
          },
          every * 1000,
          BACKGROUND,
        );
      };
      tick();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.clearTimeout(this.metricsTimer);
    await this.session.stop();
  }

  /** Current truth for the connect-time burst: every camera's meta, and its latest status; the
   * removed cameras whose retained meta is still to be cleared. */
  snapshot(): SessionSnapshot {
    const cameras = listCameras(this.options.db);
    const statuses = cameras.map((c) => this.statuses.get(c.id) ?? statusFromInventory(c));
    const removed = removalsToClear(this.options.db);
    return { ...(this.options.siteName ? { siteName: this.options.siteName } : {}), cameras, statuses, ...(removed.length > 0 ? { removed } : {}) };
  }

  /** A transition or alarm: durable, QoS 1, on camgate/v1/{site}/events. Resolves with its seq once durable. */
  event(body: EventBody, observedAt: Date | number | string = this.now()): Promise<number> {
    return this.session.enqueue({
      topic: this.session.topics.events,
      payload: eventPayload(this.options.site, body, isoTime(observedAt)),
      dropClass: DropClass.Transition,
    });
  }

  /**
   * A camera's latest health: remembered for the next connect, and sent retained through the
   * outbox. `periodic` (a routine re-check with no change) may be dropped under the quota;
   * a change of state is a transition.
   */
  status(status: CameraStatus, opts: { periodic?: boolean; observedAt?: Date | number | string } = {}): Promise<number> {
    this.statuses.set(status.camera, status);
    return this.session.enqueue({
      topic: this.session.topics.cameraStatus(status.camera),
      payload: statusPayload(this.options.site, status, isoTime(opts.observedAt ?? this.now())),
      retain: true,
      dropClass: opts.periodic ? DropClass.PeriodicStatus : DropClass.Transition,
    });
  }

  /** Host and agent metrics, through the outbox (dropped first under the quota). */
  async metrics(): Promise<number> {
    const sample = this.sampleMetrics();
    const extras = this.options.metricsExtras ? await this.options.metricsExtras() : {};
    const merged: MetricsSample = {
      ...sample,
      host: { ...sample.host, ...extras.host },
      agent: { ...sample.agent, ...extras.agent },
      ...(extras.health ? { health: extras.health } : {}),
      ...(extras.video ? { video: extras.video } : {}),
    };
    return this.session.enqueue({
      topic: this.session.topics.metrics,
      payload: metricsPayload(this.options.site, merged, isoTime(this.now())),
      dropClass: DropClass.Metric,
    });
  }

  /**
   * A camera's ledger record changed: publish its meta now if connected (retained, direct).
   * When not connected nothing is stored: the next connect publishes every meta from the
   * inventory anyway.
   */
  async metaChanged(cameraId: string): Promise<boolean> {
    const camera = getCamera(this.options.db, cameraId);
    if (!camera) return false;
    return this.session.publishDirect(
      this.session.topics.cameraMeta(camera.id),
      direct(metaPayload(this.options.site, cameraMetaRecord(camera), isoTime(this.now()))),
      { retain: true },
    );
  }

  /**
   * A camera left the ledger: its retained meta and status are cleared now if connected (true
   * once the broker acknowledged both). When not, false: the next connect clears them (the
   * snapshot lists the removed cameras not cleared yet).
   */
  async clearCamera(cameraId: string): Promise<boolean> {
    this.statuses.delete(cameraId);
    const topics = this.session.topics;
    const cleared = await Promise.all([this.session.clearRetained(topics.cameraMeta(cameraId)), this.session.clearRetained(topics.cameraStatus(cameraId))]);
    return cleared.every(Boolean);
  }

  sampleMetrics(): MetricsSample {
    const mem = process.memoryUsage();
    let outbox: MetricsSample['outbox'];
    try {
      outbox = this.options.outbox.stats();
    } catch {
      outbox = null;
    }
    const s = this.session.status();
    let cameras: number;
    try {
      cameras = (this.options.db.prepare('SELECT COUNT(*) AS n FROM cameras').get() as { n: number }).n;
    } catch {
      cameras = 0;
    }
    return {
      host: { loadAvg1: os.loadavg()[0], memTotalBytes: os.totalmem(), memFreeBytes: os.freemem(), uptimeSec: Math.round(os.uptime()), cpus: os.cpus().length },
      agent: {
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        externalBytes: mem.external,
        arrayBuffersBytes: mem.arrayBuffers,
        uptimeSec: Math.round(process.uptime()),
        cameras,
      },
      outbox,
      uplink: { connected: s.connected, bdSeq: s.bdSeq, connects: s.connects, url: s.url },
    };
  }

  private async audit(entry: AuditEntry): Promise<void> {
    try {
      await this.event(
        {
          type: 'audit',
          severity: 'info',
          ...(entry.camera ? { camera: entry.camera } : {}),
          message: `command ${entry.command} ${entry.ok ? 'done' : `failed (${entry.error?.code})`}`,
          detail: { action: 'command', command: entry.command, requestId: entry.requestId, ok: entry.ok, ...(entry.error ? { error: entry.error } : {}) },
        },
        entry.observedAt,
      );
    } catch (err) {
      this.options.logger?.error({ err }, 'uplink: audit event not recorded');
    }
  }
}
