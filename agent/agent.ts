// The long-running site agent: the one place that wires the inventory, the durable outbox, the
// MQTT uplink (commands), health monitoring (cameras), the box watch (host metrics, alarms) and
// video: one ffmpeg supervisor behind relays to the centre, the live view and picture probes.
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { countCameras } from './inventory/cameras';
import { loadKey } from './credentials/key';
import { deviceOrSiteCredentials, KeyProvider, siteDefaultCredentials } from './credentials/store';
import { loadDrivers, DriversApi } from '../drivers/api';
import { FileBdSeqStore } from './uplink/bdseq';
import { brokerSettings } from './uplink/connection';
import { agentHandlers, UplinkHandlerDeps } from './commands/site';
import { openOutbox, SqliteOutbox } from './uplink/outbox';
import { Uplink } from './uplink/uplink';
import type { Credentials } from '../drivers/types';
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
import { relayHandlers } from './commands/relay';
import { LivePulls } from './video/live/live-pull';
import { startWebServer, type RunningWebServer } from './web/server';
import { viewAuditEvent } from './web/view-audit';
import { checkWebBinding } from './web/auth';
import { inventorySource } from './web/cameras';
import { keyframeRequester } from './video/live/keyframe';
import { encoderChangedEvent, keyframeIntervalKeeper } from './video/live/keyframe-interval';
import { notAvailable, type CommandHandlers } from './uplink/commands';
import type { MetricsSample } from '../contract';
import type { AgentConfig } from './config/schema';
import type { Logger } from '../lib/log';
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
}

export interface RunningAgent {
  uplink: Uplink;
  outbox: SqliteOutbox;
  /** Absent when health.enabled is false. */
  health?: HealthMonitor;
  box: BoxWatch;
  /** Absent when no ffmpeg was found (relays and live view then answer not-available). */
  video?: { supervisor: FfmpegSupervisor; relays: RelayManager; pulls: LivePulls };
  /** The live view page, once it listens (undefined when web.enabled is false). */
  web?: RunningWebServer;
  /** Resolves once the live view page listens, or has failed to (port taken…: logged as an error; the agent runs on without it). */
  ready: Promise<void>;
  stop(reason: string): Promise<void>;
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

export function startAgent({ config, logger, db, env = process.env, keyProvider, drivers, healthProbes, hostSampler, ffmpeg }: AgentDeps): RunningAgent {
  const siteId = config.site.id;
  if (!siteId) throw new Error('startAgent: site.id is not set');
  // A live view open to the LAN without a password is refused before anything starts.
  if (config.web.enabled) checkWebBinding(config.web);
  const cameras = countCameras(db);
  const version = CAMGATE_VERSION;
  let key: Buffer | undefined;
  const keys: KeyProvider = keyProvider ?? (() => (key ??= loadKey({ dataDir: config.dataDir, env, create: false })));
  let driverApi = drivers;
  const siteDefault = siteDefaultCredentials(config.cameras);
  const credentialsFor = (device: DeviceRecord): Credentials | undefined => deviceOrSiteCredentials(db, device.hasCredentials ? device.id : undefined, keys, siteDefault);
  const openDriver: UplinkHandlerDeps['openDriver'] = (target, credentials, options) => (driverApi ??= loadDrivers()).openDriver(target, credentials, options);
  let health: HealthMonitor | undefined;
  const latency = new LatencyStats();
  const processCpu = new ProcessCpu();
  let box: BoxWatch | undefined;

  const binary = ffmpeg === undefined ? findFfmpeg(config, env, logger) : ffmpeg;
  // Created before the uplink (its command handlers need them); events go to the uplink once it exists.
  let uplinkRef: Uplink | undefined;
  let video: RunningAgent['video'];
  if (binary) {
    const supervisor = new FfmpegSupervisor({ binary, defaults: supervisorDefaults(config.video), logger: logger.child({ component: 'ffmpeg' }) });
    const supervise = supervisor.supervise.bind(supervisor);
    const relays = new RelayManager({
      db,
      config: config.video,
      credentialsFor,
      supervise,
      sink: { event: (body, at) => uplinkRef!.event(body, at) },
      logger: logger.child({ component: 'relay' }),
    });
    const pulls = new LivePulls({
      supervise,
      resolve: inventorySource(db, credentialsFor),
      // ONVIF SetSynchronizationPoint at the start of a pull: the first picture need not wait a GOP.
      requestKeyframe: keyframeRequester(db, credentialsFor, openDriver, config.onvif.timeoutMs, {
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
        onChanged: (change) => {
          logger.info({ ...change }, 'live view: camera keyframe interval shortened');
          uplinkRef?.event(encoderChangedEvent(change), new Date()).catch((err: unknown) => logger.error({ err, camera: change.cameraId }, 'camera-encoder-changed event not recorded'));
        },
      }),
      config: config.web,
      mpeg1FfmpegPath: writeFfmpegWrapper(config.dataDir, binary),
      logger: logger.child({ component: 'live' }),
    });
    video = { supervisor, relays, pulls };
  }
  const videoHandlers = (): CommandHandlers => {
    if (video) return relayHandlers(video.relays);
    const why = notAvailable('no ffmpeg on this box: install ffmpeg or set video.ffmpegPath (camgate doctor tells what is missing)');
    return { 'stream-start': why, 'stream-stop': why, 'stream-list': why };
  };

  const outbox = openOutbox({ file: join(config.dataDir, OUTBOX_FILE), quotaBytes: config.uplink.outboxQuotaMb * 1024 * 1024 });
  const uplink = new Uplink({
    site: siteId,
    ...(config.site.name ? { siteName: config.site.name } : {}),
    version,
    db,
    outbox,
    broker: brokerSettings(config, siteId),
    bdSeq: FileBdSeqStore.inDataDir(config.dataDir),
    uplink: config.uplink,
    logger: logger.child({ component: 'uplink' }),
    handlers: (u) => ({
      ...agentHandlers({
        site: siteId,
        version,
        bootId: u.bootId,
        config,
        db,
        startedAt: u.startedAt,
        credentialsFor,
        openDriver,
        ...(config.health.enabled
          ? { health: { sweepNow: (ids, opts) => health!.sweepNow(ids, opts), thumbnail: (id) => health!.thumbnail(id) } }
          : {}),
        rebirth: () => u.session.rebirth(),
        session: () => {
          const s = u.session.status();
          return { bdSeq: s.bdSeq, connected: s.connected };
        },
      }),
      ...videoHandlers(),
    }),
    metricsExtras: async () => {
      const host = await box!.latest();
      const proc = processCpu.sample();
      const load = health?.load();
      return {
        host: { ...host, alarms: box!.activeAlarms },
        agent: { cpuPercent: Math.round(proc.cpuPercent * 100) / 100, ffmpegProcesses: video ? video.supervisor.count().total : (load?.ffmpegProcesses ?? 0) },
        ...(health && load ? { health: { ...health.counts(), probes: latency.snapshot(), inFlight: load.inFlight } } : {}),
        ...(video ? { video: videoMetrics(video) } : {}),
      };
    },
  });
  uplinkRef = uplink;
  box = new BoxWatch({
    sampler: hostSampler ?? new HostSampler({ dataDir: config.dataDir, logger: logger.child({ component: 'host' }) }),
    thresholds: config.health.host,
    everyMs: (config.uplink.metricsIntervalSec > 0 ? Math.min(config.uplink.metricsIntervalSec, 60) : 60) * 1000,
    sink: uplink,
    logger: logger.child({ component: 'box' }),
  });
  if (config.health.enabled) {
    health = new HealthMonitor({
      db,
      config: config.health,
      probes: healthProbes ?? defaultHealthProbes(config.health, config.health.diagnosis, video ? { spawn: video.supervisor.spawnOnce } : undefined),
      sink: uplink,
      credentialsFor,
      syncClock: (device, signal) =>
        withDeviceDriver(openDriver, device, credentialsFor(device), config.onvif.timeoutMs, async (driver) => {
          if (signal.aborted) throw new Error('cancelled');
          await driver.setTime(new Date());
        }),
      recordLatency: (kind, ms) => latency.record(kind, ms),
      logger: logger.child({ component: 'health' }),
    });
  }
  let ready: Promise<void> = Promise.resolve();
  if (config.web.enabled) {
    if (!video) {
      logger.warn('live view page not started: it needs ffmpeg (camgate doctor)');
    } else {
      ready = startWebServer({
        config: config.web,
        db,
        pulls: video.pulls,
        logger: logger.child({ component: 'web' }),
        healthOf: (id) => health?.status(id)?.state,
        // Who viewed what (安全使用审核): an audit event when a watch starts and when it ends.
        audit: (view) => {
          uplink.event(viewAuditEvent(view), new Date()).catch((err: unknown) => logger.error({ err, camera: view.camera }, 'live view audit event not recorded'));
        },
      }).then(
        // The page logs where it listens itself.
        (w) => {
          running.web = w;
        },
        // An unattended box keeps monitoring and reporting without its page: say why, loudly.
        (err: unknown) => {
          logger.error({ err: (err as Error).message }, `live view page not started: ${(err as Error).message}`);
        },
      );
    }
  }
  uplink.start();
  box.start();
  health?.start();
  logger.info(
    { site: { id: siteId, name: config.site.name }, cameras, dataDir: config.dataDir, brokers: config.broker.urls.length, outbox: outbox.stats().depth, version },
    'agent started',
  );
  let stopped = false;
  const running: RunningAgent = {
    uplink,
    outbox,
    ...(health ? { health } : {}),
    box,
    ...(video ? { video } : {}),
    ready,
    async stop(reason: string) {
      if (stopped) return;
      stopped = true;
      logger.info({ reason }, 'agent stopping');
      health?.stop();
      box?.stop();
      await ready.catch(() => undefined);
      // Viewers and relays first (their events still reach the outbox), then every ffmpeg left.
      await running.web?.close();
      await video?.pulls.close();
      await video?.relays.stopAll();
      await video?.supervisor.stopAll();
      await uplink.stop();
      await outbox.close();
    },
  };
  return running;
}

/** The video part of the metrics: ffmpeg processes by kind, relays with their stats, live pulls. */
export function videoMetrics({ supervisor, relays, pulls }: NonNullable<RunningAgent['video']>): NonNullable<MetricsSample['video']> {
  const usage = relays.usage();
  return {
    ffmpeg: supervisor.count().byKind,
    relayKbps: usage.usedKbps,
    budgetKbps: usage.budgetKbps,
    relays: relays.list().map((r) => ({
      streamId: r.streamId,
      camera: r.camera,
      stream: r.stream,
      target: r.target,
      mode: r.mode,
      state: r.state,
      fps: r.fps,
      bitrateKbps: r.bitrateKbps,
      restarts: r.restarts,
      ...(r.lastError ? { lastError: r.lastError } : {}),
    })),
    live: pulls.list().map((p) => ({ camera: p.cameraId, stream: p.stream, mode: p.mode, viewers: p.viewers, state: p.state, dropped: p.dropped })),
  };
}
