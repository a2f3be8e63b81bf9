// The long-running site agent: the one place that wires the inventory, the durable outbox, the
// MQTT uplink (commands), video (one ffmpeg supervisor behind relays to the centre, the live view
// and picture probes), the box watch (host metrics, alarms), health monitoring and the live page.
//
// Each part is made by a named step that returns what it built and how to start and stop it.
// Parts start in the order listed in startAgent and stop in the reverse order: the page and the
// monitors first, then video (its last events still reach the outbox), then the uplink (it says
// goodbye to the broker), then the outbox.
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { countCameras } from './inventory/cameras';
import { LedgerWatch } from './inventory/changes';
import { loadKey } from './credentials/key';
import { deviceOrSiteCredentials, KeyProvider, siteDefaultCredentials } from './credentials/store';
import { loadDrivers, DriversApi } from '../drivers/api';
import type { Credentials } from '../drivers/types';
import { RtspGate } from '../drivers/rtsp/gate';
import type { CameraInput } from './ffmpeg/types';
import { FileBdSeqStore } from './uplink/bdseq';
import { brokerSettings } from './uplink/connection';
import { openOutbox, SqliteOutbox } from './uplink/outbox';
import { Uplink } from './uplink/uplink';
import { notAvailable, type CommandHandlers } from './uplink/commands';
import { cameraRemovedEvent, type MetricsExtras } from './uplink/payloads';
import { agentHandlers, UplinkHandlerDeps } from './commands/site';
import { relayHandlers } from './commands/relay';
import type { DeviceRecord } from './inventory/types';
import { withDeviceDriver } from './inventory/device-driver';
import { HealthMonitor, HealthProbes } from './health/monitor';
import { defaultHealthProbes } from './health/probes';
import { BoxWatch } from './health/box';
import { HostSampler } from './health/host/sample';
import { ProcessCpu } from './health/host/process';
import { LatencyStats } from './health/latency';
import { configuredFfmpegPath, locateFfmpeg, type LocatedFfmpeg } from './ffmpeg/locate';
import { FfmpegSupervisor, supervisorDefaults } from './ffmpeg/supervisor';
import { writeFfmpegWrapper } from './ffmpeg/launch';
import { RelayManager } from './video/relay/relays';
import { LivePulls } from './video/live/live-pull';
import { keyframeRequester } from './video/live/keyframe';
import { encoderChangedEvent, keyframeIntervalKeeper } from './video/live/keyframe-interval';
import { videoMetrics, type VideoParts } from './video/metrics';
import { startWebServer, type RunningWebServer } from './web/server';
import { loginLockedEvent, viewAuditEvent } from './web/view-audit';
import { checkWebBinding } from './web/auth';
import { inventorySource } from './web/cameras';
import type { EventBody } from '../contract';
import type { AgentConfig } from './config/schema';
import type { Logger } from '../lib/log';
import { systemClock, type Clock } from '../lib/clock';
import { CAMGATE_VERSION } from '../lib/version';

export const OUTBOX_FILE = 'outbox.db';

export interface AgentDeps {
  config: AgentConfig;
  logger: Logger;
  db: Database;
  /** Environment for CAMGATE_SECRET_KEY; default process.env. */
  env?: Record<string, string | undefined>;
  /** Credential key for stored device logins; default: CAMGATE_SECRET_KEY or <dataDir>/secret.key. */
  keyProvider?: KeyProvider;
  /** Device drivers for camera commands; default: drivers/ loaded at first use. */
  drivers?: Pick<DriversApi, 'openDriver'>;
  /** Health probes; default the real ones (agent/health/probes). */
  healthProbes?: HealthProbes;
  /** Host sampler; default HostSampler on the data directory. */
  hostSampler?: Pick<HostSampler, 'sample'>;
  /** ffmpeg; default located from video.ffmpegPath, FFMPEG_PATH, ffmpeg-static, PATH. null: none (video off). */
  ffmpeg?: LocatedFfmpeg | null;
  /** The one clock every part reads and waits on; default the system clock. */
  clock?: Clock;
}

export interface RunningAgent {
  uplink: Uplink;
  outbox: SqliteOutbox;
  /** Absent when health.enabled is false. */
  health?: HealthMonitor;
  box: BoxWatch;
  /** Absent when no ffmpeg was found (relays and live view then answer not-available). */
  video?: VideoParts;
  /** The live view page, once it listens (undefined when web.enabled is false). */
  web?: RunningWebServer;
  /** Resolves once the live view page listens, or has failed to (port taken…: logged as an error; the agent runs on without it). */
  ready: Promise<void>;
  stop(reason: string): Promise<void>;
}

/** One part of the running agent: started in the order of startAgent, stopped in reverse. */
interface Step {
  name: string;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

/** What every step may use: the configuration, the inventory, logins, drivers, one clock. */
interface Foundation {
  config: AgentConfig;
  siteId: string;
  db: Database;
  logger: Logger;
  clock: Clock;
  credentialsFor(device: DeviceRecord): Credentials | undefined;
  openDriver: UplinkHandlerDeps['openDriver'];
  /** The loopback RTSP gate every ffmpeg reaches a camera with a login through (listens from the first such input on; stopped last). */
  gate: RtspGate;
  /** What ffmpeg opens for a camera stream: its URL, or a gate link once the gate listens. */
  input: CameraInput;
  /** Events for the uplink, from parts made before it (it is bound once made). */
  events: { event(body: EventBody, observedAt?: Date): void };
}

function foundation(deps: AgentDeps, siteId: string, uplink: () => Uplink | undefined): Foundation {
  const { config, db, logger, env = process.env } = deps;
  let key: Buffer | undefined;
  const keys: KeyProvider = deps.keyProvider ?? (() => (key ??= loadKey({ dataDir: config.dataDir, env, create: false })));
  const siteDefault = siteDefaultCredentials(config.cameras);
  let drivers = deps.drivers;
  const clock = deps.clock ?? systemClock;
  const gate = new RtspGate({
    connectTimeoutMs: config.video.connectTimeoutMs,
    onRefused: (r) => logger.warn({ user: r.label, device: r.device, problem: 'basic-auth-refused' }, `${r.label}: ${r.message}`),
  });
  let listening: Promise<void> | undefined;
  return {
    config,
    siteId,
    db,
    logger,
    clock,
    credentialsFor: (device) => deviceOrSiteCredentials(db, device.id, keys, siteDefault),
    openDriver: (target, credentials, options) => (drivers ??= loadDrivers()).openDriver(target, credentials, options),
    gate,
    input: async (source) => {
      if (source.credentials) {
        listening ??= gate.listen().catch((err: Error) => {
          listening = undefined;
          throw new Error(`the agent's RTSP gate cannot listen on 127.0.0.1: ${err.message}`);
        });
        await listening;
      }
      return gate.input(source);
    },
    events: {
      event: (body, observedAt = new Date(clock.now())) => {
        const target = uplink();
        if (!target) return logger.error({ event: body.type }, 'event raised before the uplink exists; not recorded');
        target.event(body, observedAt).catch((err: unknown) => logger.error({ err, event: body.type, camera: body.camera }, `${body.type} event not recorded`));
      },
    },
  };
}

/** ffmpeg for the agent: located once at start; not found → video off with a warning (the agent still runs). */
function findFfmpeg(config: AgentConfig, env: Record<string, string | undefined>, logger: Logger): LocatedFfmpeg | null {
  try {
    // PATH from the process when the injected environment has none (tests pass only CAMGATE_* there).
    const found = locateFfmpeg({ configPath: configuredFfmpegPath(config), env: { PATH: process.env.PATH, ...env } });
    logger.info({ ffmpeg: found.path, via: found.via }, 'ffmpeg found');
    return found;
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'no ffmpeg: relays, the live view and picture probes are off (camgate doctor says more)');
    return null;
  }
}

function outboxStep(f: Foundation): Step & { outbox: SqliteOutbox } {
  const outbox = openOutbox({ file: join(f.config.dataDir, OUTBOX_FILE), quotaBytes: f.config.uplink.outboxQuotaMb * 1024 * 1024, clock: f.clock });
  return { name: 'outbox', outbox, stop: () => outbox.close() };
}

/** One ffmpeg supervisor behind the relays to the centre and the live view's pulls. */
function videoStep(f: Foundation, binary: LocatedFfmpeg): Step & { video: VideoParts } {
  const { config, db, logger, clock, credentialsFor, openDriver } = f;
  const supervisor = new FfmpegSupervisor({ binary, defaults: supervisorDefaults(config.video), logger: logger.child({ component: 'ffmpeg' }), clock });
  const supervise = supervisor.supervise.bind(supervisor);
  const relays = new RelayManager({
    db,
    config: config.video,
    credentialsFor,
    input: f.input,
    supervise,
    sink: { event: async (body, at) => f.events.event(body, at) },
    logger: logger.child({ component: 'relay' }),
    clock,
  });
  const pulls = new LivePulls({
    supervise,
    resolve: inventorySource(db, credentialsFor),
    input: f.input,
    // ONVIF SetSynchronizationPoint at the start of a pull: the first picture need not wait a GOP.
    requestKeyframe: keyframeRequester(db, credentialsFor, openDriver, config.onvif.timeoutMs, {
      clock,
      onUnsupported: (device, reason) =>
        logger.info(
          { device: device.id, host: device.host, reason },
          config.web.maxKeyframeIntervalSec > 0
            ? 'live view: this camera ignores keyframe requests; its sub stream keyframe interval is kept short (web.maxKeyframeIntervalSec)'
            : 'live view: this camera ignores keyframe requests, so a first picture waits for its next scheduled keyframe (up to its I-frame interval); web.maxKeyframeIntervalSec: 1 lets the agent set its sub stream to a keyframe every second',
        ),
    }),
    // Opt-in (web.maxKeyframeIntervalSec): a sub stream's long GOP shortened before its first pull.
    prepare: keyframeIntervalKeeper(db, credentialsFor, openDriver, config.onvif.timeoutMs, {
      maxSec: config.web.maxKeyframeIntervalSec,
      clock,
      onChanged: (change) => {
        logger.info({ ...change }, 'live view: camera keyframe interval shortened');
        f.events.event(encoderChangedEvent(change));
      },
    }),
    config: config.web,
    mpeg1FfmpegPath: writeFfmpegWrapper(config.dataDir, binary),
    logger: logger.child({ component: 'live' }),
    clock,
  });
  return {
    name: 'video',
    video: { supervisor, relays, pulls },
    // Viewers and relays first (their last events still reach the outbox), then every ffmpeg left.
    stop: async () => {
      await pulls.close();
      await relays.stopAll();
      await supervisor.stopAll();
    },
  };
}

/** The relay commands, or a reply that says why there are none. */
function videoCommands(video: VideoParts | undefined): CommandHandlers {
  if (video) return relayHandlers(video.relays);
  const why = notAvailable('no ffmpeg on this box: install ffmpeg or set video.ffmpegPath (camgate doctor tells what is missing)');
  return { 'stream-start': why, 'stream-stop': why, 'stream-list': why };
}

interface UplinkInputs {
  outbox: SqliteOutbox;
  video?: VideoParts;
  /** The health monitor, once made (the commands use it; it is made after the uplink). */
  health: () => HealthMonitor | undefined;
  metricsExtras: () => Promise<MetricsExtras>;
}

function uplinkStep(f: Foundation, inputs: UplinkInputs): Step & { uplink: Uplink } {
  const { config, siteId, db, logger, clock, credentialsFor, openDriver } = f;
  const uplink = new Uplink({
    site: siteId,
    ...(config.site.name ? { siteName: config.site.name } : {}),
    version: CAMGATE_VERSION,
    db,
    outbox: inputs.outbox,
    broker: brokerSettings(config, siteId),
    bdSeq: FileBdSeqStore.inDataDir(config.dataDir),
    uplink: config.uplink,
    logger: logger.child({ component: 'uplink' }),
    clock,
    handlers: (u) => ({
      ...agentHandlers({
        site: siteId,
        version: CAMGATE_VERSION,
        bootId: u.bootId,
        config,
        db,
        startedAt: u.startedAt,
        clock,
        credentialsFor,
        openDriver,
        ...(config.health.enabled
          ? {
              health: {
                sweepNow: (ids, opts) => inputs.health()!.sweepNow(ids, opts),
                status: (id) => inputs.health()!.status(id),
                thumbnail: (id) => inputs.health()!.thumbnail(id),
                referenceOf: (id) => inputs.health()!.referenceOf(id),
                renewReference: (id, signal) => inputs.health()!.renewReference(id, signal),
                clearReference: (id) => inputs.health()!.clearReference(id),
              },
            }
          : {}),
        rebirth: () => u.session.rebirth(),
        session: () => {
          const s = u.session.status();
          return { bdSeq: s.bdSeq, connected: s.connected };
        },
      }),
      ...videoCommands(inputs.video),
    }),
    metricsExtras: inputs.metricsExtras,
  });
  return { name: 'uplink', uplink, start: () => uplink.start(), stop: () => uplink.stop() };
}

function boxStep(f: Foundation, uplink: Uplink, sampler: Pick<HostSampler, 'sample'> | undefined): Step & { box: BoxWatch } {
  const { config, logger, clock } = f;
  const box = new BoxWatch({
    sampler: sampler ?? new HostSampler({ dataDir: config.dataDir, logger: logger.child({ component: 'host' }), clock }),
    thresholds: config.health.host,
    everyMs: (config.uplink.metricsIntervalSec > 0 ? Math.min(config.uplink.metricsIntervalSec, 60) : 60) * 1000,
    sink: uplink,
    logger: logger.child({ component: 'box' }),
    clock,
  });
  return { name: 'box', box, start: () => box.start(), stop: () => box.stop() };
}

function healthStep(
  f: Foundation,
  uplink: Uplink,
  video: VideoParts | undefined,
  probes: HealthProbes | undefined,
  latency: LatencyStats,
): Step & { health: HealthMonitor } {
  const { config, db, logger, clock, credentialsFor, openDriver } = f;
  const health = new HealthMonitor({
    db,
    config: config.health,
    probes: probes ?? defaultHealthProbes(config.health, config.health.diagnosis, { ...(video ? { spawn: video.supervisor.spawnOnce } : {}), input: f.input }),
    sink: uplink,
    credentialsFor,
    syncClock: (device, signal) =>
      withDeviceDriver(openDriver, device, credentialsFor(device), config.onvif.timeoutMs, async (driver) => {
        if (signal.aborted) throw new Error('cancelled');
        await driver.setTime(new Date(clock.now()));
      }),
    recordLatency: (kind, ms) => latency.record(kind, ms),
    logger: logger.child({ component: 'health' }),
    clock,
  });
  return { name: 'health', health, start: () => health.start(), stop: () => health.stop() };
}

/** Ledger changes made while the agent runs (the CLI writes from another process): changed and new
 * cameras' metas reach the centre within seconds, a removal is announced (a durable event, the
 * retained meta and status cleared), and the health monitor picks new cameras up at once. */
function ledgerStep(f: Foundation, uplink: Uplink, health: () => HealthMonitor | undefined): Step & { ledger: LedgerWatch } {
  const { db, logger, clock } = f;
  const ledger = new LedgerWatch({
    db,
    sink: {
      connected: () => uplink.session.status().connected,
      metaChanged: (id) => uplink.metaChanged(id),
      cameraRemoved: (removal) => uplink.event(cameraRemovedEvent(removal), removal.removedAt),
      clearRetained: (id) => uplink.clearCamera(id),
    },
    onChange: () => health()?.refresh(),
    logger: logger.child({ component: 'ledger' }),
    clock,
  });
  return { name: 'ledger', ledger, start: () => ledger.start(), stop: () => ledger.stop() };
}

/** The live view page. It needs ffmpeg; a page that cannot listen is logged loudly and the agent
 * runs on without it (an unattended box keeps monitoring and reporting). */
function webStep(f: Foundation, video: VideoParts, health: () => HealthMonitor | undefined, running: { web?: RunningWebServer }): Step {
  const { config, db, logger, clock } = f;
  let server: RunningWebServer | undefined;
  return {
    name: 'web',
    start: () =>
      startWebServer({
        config: config.web,
        db,
        pulls: video.pulls,
        logger: logger.child({ component: 'web' }),
        clock,
        healthOf: (id) => health()?.status(id)?.state,
        // Who viewed what (安全使用审核): an audit event when a watch starts and when it ends.
        audit: (view) => f.events.event(viewAuditEvent(view)),
        // Password guessing: the lockout reaches the centre, not only the box's log.
        onLoginLocked: (lock) => f.events.event(loginLockedEvent(lock)),
      }).then(
        (w) => {
          server = w;
          running.web = w;
        },
        (err: unknown) => {
          logger.error({ err: (err as Error).message }, `live view page not started: ${(err as Error).message}`);
        },
      ),
    stop: () => server?.close(),
  };
}

/** Host, process, health and video figures added to every metrics payload. */
function metricsExtras(parts: {
  box: () => BoxWatch;
  health: () => HealthMonitor | undefined;
  video?: VideoParts;
  latency: LatencyStats;
  processCpu: ProcessCpu;
}) {
  return async (): Promise<MetricsExtras> => {
    const box = parts.box();
    const health = parts.health();
    const host = await box.latest();
    const proc = parts.processCpu.sample();
    const load = health?.load();
    return {
      host: { ...host, alarms: box.activeAlarms },
      agent: {
        cpuPercent: Math.round(proc.cpuPercent * 100) / 100,
        ffmpegProcesses: parts.video ? parts.video.supervisor.count().total : (load?.ffmpegProcesses ?? 0),
      },
      ...(health && load ? { health: { ...health.counts(), probes: parts.latency.snapshot(), inFlight: load.inFlight } } : {}),
      ...(parts.video ? { video: videoMetrics(parts.video) } : {}),
    };
  };
}

export function startAgent(deps: AgentDeps): RunningAgent {
  const { config, logger, db, env = process.env } = deps;
  const siteId = config.site.id;
  if (!siteId) throw new Error('startAgent: site.id is not set');
  // A live view open to the LAN without a password is refused before anything starts.
  if (config.web.enabled) checkWebBinding(config.web);

  // Made in the order their inputs need; started as listed in `steps`.
  let uplink: Uplink | undefined;
  let health: HealthMonitor | undefined;
  let box: BoxWatch | undefined;
  const f = foundation(deps, siteId, () => uplink);
  const latency = new LatencyStats({ clock: f.clock });
  const outbox = outboxStep(f);
  const binary = deps.ffmpeg === undefined ? findFfmpeg(config, env, logger) : deps.ffmpeg;
  const video = binary ? videoStep(f, binary) : undefined;
  const uplinkPart = uplinkStep(f, {
    outbox: outbox.outbox,
    video: video?.video,
    health: () => health,
    metricsExtras: metricsExtras({ box: () => box!, health: () => health, video: video?.video, latency, processCpu: new ProcessCpu() }),
  });
  uplink = uplinkPart.uplink;
  const boxPart = boxStep(f, uplink, deps.hostSampler);
  box = boxPart.box;
  const healthPart = config.health.enabled ? healthStep(f, uplink, video?.video, deps.healthProbes, latency) : undefined;
  health = healthPart?.health;
  const ledgerPart = ledgerStep(f, uplink, () => health);
  if (config.web.enabled && !video) logger.warn('live view page not started: it needs ffmpeg (camgate doctor)');
  const running: { web?: RunningWebServer } = {};
  const web = config.web.enabled && video ? webStep(f, video.video, () => health, running) : undefined;

  // The gate stops last: every ffmpeg reading a camera through it is gone by then.
  const gate: Step = { name: 'rtsp-gate', stop: () => f.gate.close() };
  const steps: Step[] = [gate, outbox, uplinkPart, ...(video ? [video] : []), boxPart, ...(healthPart ? [healthPart] : []), ledgerPart, ...(web ? [web] : [])];
  const started = steps.map((step) => Promise.resolve(step.start?.()));
  const ready = Promise.all(started).then(() => undefined);
  logger.info(
    {
      site: { id: siteId, name: config.site.name },
      cameras: countCameras(db),
      dataDir: config.dataDir,
      brokers: config.broker.urls.length,
      outbox: outbox.outbox.stats().depth,
      version: CAMGATE_VERSION,
    },
    'agent started',
  );

  let stopping: Promise<void> | undefined;
  const agent: RunningAgent = {
    uplink,
    outbox: outbox.outbox,
    ...(health ? { health } : {}),
    box,
    ...(video ? { video: video.video } : {}),
    get web() {
      return running.web;
    },
    ready,
    stop(reason: string) {
      stopping ??= (async () => {
        logger.info({ reason }, 'agent stopping');
        // A part that is still starting (the page binding its port) finishes first.
        await ready.catch(() => undefined);
        for (const step of [...steps].reverse()) {
          try {
            await step.stop?.();
          } catch (err) {
            logger.error({ err, part: step.name }, `agent: stopping ${step.name} failed; stopping the rest`);
          }
        }
      })();
      return stopping;
    },
  };
  return agent;
}
