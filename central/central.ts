// The central service: the one place that wires its parts. The database opens (and migrates)
// The central service: the one place that wires its parts. The database opens (and migrates)
// first, then the writer ingest writes through, then ingest (the broker connection) with the
// command client and the live views riding on it, then the figures' refresher, then the HTTP API.
// They stop in the reverse order: the API stops answering, commands waiting for replies give up,
// ingest leaves the broker and writes what it had queued, the refresher finishes its round, the
// database closes last.
import type { connect } from 'mqtt';
import { systemClock, type Clock } from '../lib/clock';
import type { Logger } from '../lib/log';
import { CommandClient } from './commands/client';
import { LiveViews } from './live/views';
import { mediaProblems } from './live/templates';
import { AuditLog } from './audit/log';
import type { CentralConfig } from './config/schema';
import { createApi } from './api/server';
import type { Api } from './api/types';
import { CamgateError, EXIT_USAGE } from '../lib/errors';
import { checkTimeZone, dayFinder } from './figures/days';
import { FiguresRefresher } from './figures/refresher';
import { AlarmStore } from './alarms/store';
import { SilenceCheck } from './alarms/silence';
import { defaultClientId, Ingest } from './ingest/subscriber';
import { IngestWriter } from './ingest/writer';
import { openCentralDb, type CentralDb } from './store/open';
import { loadOutlines } from './map/outlines';
import { FiguresCache } from './figures/cache';
import { warmOverview } from './figures/warm';

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
  figures: FiguresRefresher;
  commands: CommandClient | undefined;
  live: LiveViews | undefined;
  silence: SilenceCheck | undefined;
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

function alarmStore(deps: CentralDeps, db: CentralDb): AlarmStore {
  const { kinds, diskLowPercent } = deps.config.alarms;
  return new AlarmStore({ dialect: db.dialect, kinds: new Set(kinds), diskLowPercent });
}

function startIngest(deps: CentralDeps, db: CentralDb, clock: Clock, alarms: AlarmStore): Ingest | undefined {
  if (deps.ingest === false) return undefined;
  const zone = deps.config.timezone;
  const writer = new IngestWriter(db, {
    staleAfterMs: deps.config.staleAfterSec * 1000,
    dayOf: dayFinder(zone),
    follower: alarms,
    writer: defaultClientId(deps.config),
  });
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

function startFigures(deps: CentralDeps, db: CentralDb, clock: Clock, cache: FiguresCache): FiguresRefresher {
  const refresher = new FiguresRefresher({
    measured: () => warmOverview(db.db, deps.config, cache, clock.now()),
    db: db.db,
    dialect: db.dialect,
    clock,
    log: deps.logger.child({ part: 'figures' }),
    timezone: deps.config.timezone,
    settleMs: deps.config.staleAfterSec * 1000,
    everyMs: deps.config.figures.refreshSec * 1000,
    todayEveryMs: deps.config.figures.todayRefreshSec * 1000,
  });
  return refresher;
}

interface Messaging {
  commands: CommandClient;
  live: LiveViews;
}

function startMessaging(deps: CentralDeps, ingest: Ingest, clock: Clock, audit: AuditLog): Messaging {
  const log = deps.logger.child({ part: 'commands' });
  const commands = new CommandClient({
    broker: ingest,
    clock,
    log,
    timeoutMs: deps.config.commands.timeoutMs,
    slowTimeoutMs: deps.config.commands.slowTimeoutMs,
  });
  commands.start();
  const live = new LiveViews({
    media: deps.config.media,
    clock,
    log: deps.logger.child({ part: 'live' }),
    audit: (entry) => void audit.record(entry),
    send: (site, name, args) => commands.send(site, name, args),
  });
  return { commands, live };
}

async function startApi(
  deps: CentralDeps,
  db: CentralDb,
  ingest: Ingest | undefined,
  messaging: Messaging | undefined,
  figures: FiguresRefresher,
  figuresCache: FiguresCache,
  clock: Clock,
  audit: AuditLog,
  mapOutlines: string | undefined,
): Promise<{ api: Api; url: string }> {
  const idle = { connected: false, paused: false, received: 0, written: 0, duplicates: 0, refused: 0, queued: 0, batches: 0, failed: 0, unacknowledged: 0 };
  const api = await createApi({
    config: deps.config,
    db: db.db,
    dialect: db.dialect,
    clock,
    log: deps.logger.child({ part: 'api' }),
    ingestStats: () => ingest?.stats() ?? idle,
    refreshFigures: () => figures.refresh(),
    figuresCache,
    mapOutlines,
    ...(messaging ? { commands: messaging.commands, live: messaging.live } : {}),
    audit,
  });
  const url = await api.listen({ host: deps.config.http.host, port: deps.config.http.port });
  deps.logger.info({ url }, 'central: API listening');
  return { api, url };
}

export async function startCentral(deps: CentralDeps): Promise<RunningCentral> {
  const zoneProblem = checkTimeZone(deps.config.timezone);
  if (zoneProblem) throw new CamgateError(`central.timezone: ${zoneProblem}; set central.timezone (CAMGATE_CENTRAL_TIMEZONE) to one`, EXIT_USAGE);
  const clock = deps.clock ?? systemClock;
  const problems = mediaProblems(deps.config.media);
  if (problems.length > 0) throw new CamgateError(`central: ${problems.join('; ')}`, EXIT_USAGE);
  const mapOutlines = loadOutlines(deps.config.map.regionsGeoJson);
  const db = await openDatabase(deps);
  let ingest: Ingest | undefined;
  let figures: FiguresRefresher | undefined;
  let messaging: Messaging | undefined;
  let silence: SilenceCheck | undefined;
  try {
    const audit = new AuditLog(db.db, clock);
    const alarms = alarmStore(deps, db);
    ingest = startIngest(deps, db, clock, alarms);
    messaging = ingest ? startMessaging(deps, ingest, clock, audit) : undefined;
    silence = startSilenceCheck(deps, db, clock, alarms, ingest);
    const figuresCache = new FiguresCache();
    figures = startFigures(deps, db, clock, figuresCache);
    const { api, url } = await startApi(deps, db, ingest, messaging, figures, figuresCache, clock, audit, mapOutlines);
    // Measuring starts once the API listens: a first round over a month of history without
    // figures takes a while, and the API must not wait for it to start.
    figures.start();
    return {
      db,
      ingest,
      figures,
      commands: messaging?.commands,
      live: messaging?.live,
      silence,
      api,
      audit,
      url,
      async stop() {
        // Requests waiting for a reply answer 503 at once, so closing the API does not wait for them.
        messaging?.live.stop();
        messaging?.commands.stop();
        await api.close();
        await silence?.stop();
        await ingest?.stop();
        await figures?.stop();
        await db.close();
      },
    };
  } catch (err) {
    messaging?.live.stop();
    messaging?.commands.stop();
    await silence?.stop();
    await ingest?.stop();
    await figures?.stop();
    await db.close();
    throw err;
  }
}
