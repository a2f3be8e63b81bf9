// The long-running site agent: opens the inventory, the durable outbox and the MQTT uplink, and
// answers the central's commands. Health monitoring (issue 4) attaches to `uplink` to report
// statuses and events.
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
import { agentHandlers } from './uplink/handlers';
import { openOutbox, SqliteOutbox } from './uplink/outbox';
import { Uplink } from './uplink/uplink';

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
}

export interface RunningAgent {
  uplink: Uplink;
  outbox: SqliteOutbox;
  stop(reason: string): Promise<void>;
}

export function agentVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export function startAgent({ config, logger, db, env = process.env, keyProvider, drivers }: AgentDeps): RunningAgent {
  const siteId = config.site.id;
  if (!siteId) throw new Error('startAgent: site.id is not set');
  const cameras = countCameras(db);
  const version = agentVersion();
  let key: Buffer | undefined;
  const keys: KeyProvider = keyProvider ?? (() => (key ??= loadKey({ dataDir: config.dataDir, env, create: false })));
  let driverApi = drivers;

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
        credentialsFor: (device) => {
          const own = device.hasCredentials ? getDeviceCredentials(db, device.id, keys) : undefined;
          if (own) return own;
          const { username, password } = config.cameras;
          return username === undefined && password === undefined ? undefined : { username: username ?? '', password: password ?? '' };
        },
        openDriver: (target, credentials, options) => (driverApi ??= loadDrivers()).openDriver(target, credentials, options),
        rebirth: () => u.session.rebirth(),
        session: () => {
          const s = u.session.status();
          return { bdSeq: s.bdSeq, connected: s.connected };
        },
      }),
  });
  uplink.start();
  logger.info(
    { site: { id: siteId, name: config.site.name }, cameras, dataDir: config.dataDir, brokers: config.broker.urls.length, outbox: outbox.stats().depth, version },
    'agent started',
  );
  let stopped = false;
  return {
    uplink,
    outbox,
    async stop(reason: string) {
      if (stopped) return;
      stopped = true;
      logger.info({ reason }, 'agent stopping');
      await uplink.stop();
      await outbox.close();
    },
  };
}
