// The central service: the one place that wires its parts. The database opens (and migrates)
// first, then the writer ingest writes through, then ingest (the broker connection), then the
// HTTP API. They stop in the reverse order: the API stops answering, ingest leaves the broker and
// writes what it had queued, the database closes last.
import type { connect } from 'mqtt';
import { systemClock, type Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import { AuditLog } from './audit/log';
import type { CentralConfig } from './config/schema';
import { createApi } from './api/server';
import type { Api } from './api/types';
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
}

export interface RunningCentral {
  db: CentralDb;
  ingest: Ingest | undefined;
  api: Api;
  /** The audit log every feature records into. */
  audit: AuditLog;
  /** Where the API listens: http://host:port. */
  url: string;
  stop(): Promise<void>;
}

async function openDatabase(deps: CentralDeps): Promise<CentralDb> {
  const db = await openCentralDb(deps.config.db);
  deps.logger.info({ database: db.dialect, where: db.where }, 'central: database ready');
  return db;
}

function startIngest(deps: CentralDeps, db: CentralDb, clock: Clock): Ingest | undefined {
  if (deps.ingest === false) return undefined;
  const writer = new IngestWriter(db.db, { staleAfterMs: deps.config.staleAfterSec * 1000 });
  const ingest = new Ingest({ config: deps.config, writer, clock, log: deps.logger.child({ part: 'ingest' }), connect: deps.connect });
  ingest.start();
  return ingest;
}

async function startApi(deps: CentralDeps, db: CentralDb, ingest: Ingest | undefined, clock: Clock, audit: AuditLog): Promise<{ api: Api; url: string }> {
  const idle = { connected: false, paused: false, received: 0, written: 0, duplicates: 0, refused: 0, queued: 0, batches: 0, failed: 0 };
  const api = await createApi({
    config: deps.config,
    db: db.db,
    dialect: db.dialect,
    clock,
    log: deps.logger.child({ part: 'api' }),
    ingestStats: () => ingest?.stats() ?? idle,
    audit,
  });
  const url = await api.listen({ host: deps.config.http.host, port: deps.config.http.port });
  deps.logger.info({ url }, 'central: API listening');
  return { api, url };
}

export async function startCentral(deps: CentralDeps): Promise<RunningCentral> {
  const clock = deps.clock ?? systemClock;
  const db = await openDatabase(deps);
  let ingest: Ingest | undefined;
  try {
    ingest = startIngest(deps, db, clock);
    const audit = new AuditLog(db.db, clock);
    const { api, url } = await startApi(deps, db, ingest, clock, audit);
    return {
      db,
      ingest,
      api,
      audit,
      url,
      async stop() {
        await api.close();
        await ingest?.stop();
        await db.close();
      },
    };
  } catch (err) {
    await ingest?.stop();
    await db.close();
    throw err;
  }
}
