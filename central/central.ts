// The central service: the one place that wires its parts. The database opens (and migrates)
// first, then the writer ingest writes through, then ingest (the broker connection), then the
// HTTP API. They stop in the reverse order: the API stops answering, ingest leaves the broker and
// writes what it had queued, the database closes last.
import type { connect } from 'mqtt';
import { systemClock, type Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import type { CentralConfig } from './config/schema';
import { createApi } from './api/server';
import type { Api } from './api/types';
import { AlarmStore } from './alarms/store';
import { SilenceCheck } from './alarms/silence';
import type { AuditEntry } from './api/types';
import { Ingest } from './ingest/subscriber';
import { IngestWriter } from './ingest/writer';
import { openCentralDb, type CentralDb } from './store/open';

export interface CentralDeps {
  config: CentralConfig;
  logger: Logger;
  clock?: Clock;
  /** mqtt.js connect (tests may wrap it). */
  connect?: typeof connect;
  /** false: no broker connection (an API over an existing database). */
  ingest?: boolean;
  /** Where acknowledgements and other audited acts go (default: nowhere). */
  audit?: (entry: AuditEntry) => void | Promise<void>;
}

export interface RunningCentral {
  db: CentralDb;
  ingest: Ingest | undefined;
  silence: SilenceCheck | undefined;
  api: Api;
  /** Where the API listens: http://host:port. */
  url: string;
  stop(): Promise<void>;
}

async function openDatabase(deps: CentralDeps): Promise<CentralDb> {
  const db = await openCentralDb(deps.config.db);
  deps.logger.info({ database: db.dialect, where: db.where }, 'central: database ready');
  return db;
}

function alarmStore(deps: CentralDeps, db: CentralDb): AlarmStore {
  const { kinds, diskLowPercent } = deps.config.alarms;
  return new AlarmStore({ dialect: db.dialect, kinds: new Set(kinds), diskLowPercent });
}

function startIngest(deps: CentralDeps, db: CentralDb, clock: Clock, alarms: AlarmStore): Ingest | undefined {
  if (deps.ingest === false) return undefined;
  const writer = new IngestWriter(db.db, { staleAfterMs: deps.config.staleAfterSec * 1000, follower: alarms });
  const ingest = new Ingest({ config: deps.config, writer, clock, log: deps.logger.child({ part: 'ingest' }), connect: deps.connect });
  ingest.start();
  return ingest;
}

/** Sites gone silent get their site-offline alarm (only with ingest: without it all is silent). */
function startSilenceCheck(deps: CentralDeps, db: CentralDb, clock: Clock, alarms: AlarmStore, ingest: Ingest | undefined): SilenceCheck | undefined {
  if (!ingest || !deps.config.alarms.kinds.includes('site-offline')) return undefined;
  const check = new SilenceCheck({
    db: db.db,
    store: alarms,
    clock,
    log: deps.logger.child({ part: 'alarms' }),
    staleAfterMs: deps.config.staleAfterSec * 1000,
    intervalMs: deps.config.alarms.checkIntervalSec * 1000,
    listening: () => {
      const s = ingest.stats();
      return s.connected && !s.paused;
    },
  });
  check.start();
  return check;
}

async function startApi(deps: CentralDeps, db: CentralDb, ingest: Ingest | undefined, clock: Clock): Promise<{ api: Api; url: string }> {
  const idle = { connected: false, paused: false, received: 0, written: 0, duplicates: 0, refused: 0, queued: 0, batches: 0, failed: 0 };
  const api = await createApi({
    config: deps.config,
    db: db.db,
    dialect: db.dialect,
    clock,
    log: deps.logger.child({ part: 'api' }),
    ingestStats: () => ingest?.stats() ?? idle,
    ...(deps.audit ? { audit: deps.audit } : {}),
  });
  const url = await api.listen({ host: deps.config.http.host, port: deps.config.http.port });
  deps.logger.info({ url }, 'central: API listening');
  return { api, url };
}

export async function startCentral(deps: CentralDeps): Promise<RunningCentral> {
  const clock = deps.clock ?? systemClock;
  const db = await openDatabase(deps);
  let ingest: Ingest | undefined;
  let silence: SilenceCheck | undefined;
  try {
    const alarms = alarmStore(deps, db);
    ingest = startIngest(deps, db, clock, alarms);
    silence = startSilenceCheck(deps, db, clock, alarms, ingest);
    const { api, url } = await startApi(deps, db, ingest, clock);
    return {
      db,
      ingest,
      silence,
      api,
      url,
      async stop() {
        await api.close();
        await silence?.stop();
        await ingest?.stop();
        await db.close();
      },
    };
  } catch (err) {
    await silence?.stop();
    await ingest?.stop();
    await db.close();
    throw err;
  }
}
