// The long-running site agent: the one place that wires the inventory, the durable outbox, the
// MQTT uplink (commands), health monitoring (cameras) and the box watch (host metrics, alarms).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { AgentConfig } from './config/types';
import type { Logger } from './log';
import { countCameras } from './inventory/cameras';
import { loadKey } from './credentials/key';
import { getDeviceCredentials, KeyProvider } from './credentials/store';
import { loadDrivers, DriversApi } from './discovery/drivers-api';
import { FileBdSeqStore } from './uplink/bdseq';
import { brokerSettings } from './uplink/connection';
import { agentHandlers, UplinkHandlerDeps } from './uplink/handlers';
import { openOutbox, SqliteOutbox } from './uplink/outbox';
import { Uplink } from './uplink/uplink';
import type { Credentials } from '../drivers/types';
import type { DeviceRecord } from './inventory/types';
import { targetOfDevice } from './uplink/handlers';
import { HealthMonitor, HealthProbes } from './health/monitor';
import { defaultHealthProbes } from './health/probes';
import { BoxWatch } from './health/box';
import { HostSampler } from './health/host/sample';
import { ProcessCpu } from './health/host/process';
import { LatencyStats } from './health/latency';

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
}

export interface RunningAgent {
  uplink: Uplink;
  outbox: SqliteOutbox;
  /** Absent when health.enabled is false. */
  health?: HealthMonitor;
  box: BoxWatch;
  stop(reason: string): Promise<void>;
}

export function agentVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export function startAgent({ config, logger, db, env = process.env, keyProvider, drivers, healthProbes, hostSampler }: AgentDeps): RunningAgent {
  const siteId = config.site.id;
  if (!siteId) throw new Error('startAgent: site.id is not set');
  const cameras = countCameras(db);
  const version = agentVersion();
  let key: Buffer | undefined;
  const keys: KeyProvider = keyProvider ?? (() => (key ??= loadKey({ dataDir: config.dataDir, env, create: false })));
  let driverApi = drivers;
  const credentialsFor = (device: DeviceRecord): Credentials | undefined => {
    const own = device.hasCredentials ? getDeviceCredentials(db, device.id, keys) : undefined;
    if (own) return own;
    const { username, password } = config.cameras;
    return username === undefined && password === undefined ? undefined : { username: username ?? '', password: password ?? '' };
  };
  const openDriver: UplinkHandlerDeps['openDriver'] = (target, credentials, options) => (driverApi ??= loadDrivers()).openDriver(target, credentials, options);
  let health: HealthMonitor | undefined;
  const latency = new LatencyStats();
  const processCpu = new ProcessCpu();
  let box: BoxWatch | undefined;

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
    handlers: (u) =>
      agentHandlers({
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
    metricsExtras: async () => {
      const host = await box!.latest();
      const proc = processCpu.sample();
      const load = health?.load();
      return {
        host: { ...host, alarms: box!.activeAlarms },
        agent: { cpuPercent: Math.round(proc.cpuPercent * 100) / 100, ffmpegProcesses: load?.ffmpegProcesses ?? 0 },
        ...(health && load ? { health: { ...health.counts(), probes: latency.snapshot(), inFlight: load.inFlight } } : {}),
      };
    },
  });
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
      probes: healthProbes ?? defaultHealthProbes(config.health, config.health.diagnosis),
      sink: uplink,
      credentialsFor,
      syncClock: async (device, signal) => {
        const driver = openDriver(targetOfDevice(device), credentialsFor(device), { timeoutMs: config.onvif.timeoutMs });
        try {
          if (signal.aborted) throw new Error('cancelled');
          await driver.setTime(new Date());
        } finally {
          driver.close();
        }
      },
      recordLatency: (kind, ms) => latency.record(kind, ms),
      logger: logger.child({ component: 'health' }),
    });
  }
  uplink.start();
  box.start();
  health?.start();
  logger.info(
    { site: { id: siteId, name: config.site.name }, cameras, dataDir: config.dataDir, brokers: config.broker.urls.length, outbox: outbox.stats().depth, version },
    'agent started',
  );
  let stopped = false;
  return {
    uplink,
    outbox,
    ...(health ? { health } : {}),
    box,
    async stop(reason: string) {
      if (stopped) return;
      stopped = true;
      logger.info({ reason }, 'agent stopping');
      health?.stop();
      box?.stop();
      await uplink.stop();
      await outbox.close();
    },
  };
}
