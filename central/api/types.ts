// What every route module gets: the Fastify instance typed for TypeBox, and the service's parts.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/log';
import type { AuditLog } from '../audit/log';
import type { LoginThrottle } from '../auth/throttle';
import type { SessionStore } from '../auth/sessions';
import type { TokenStore } from '../auth/tokens';
import type { CentralConfig } from '../config/schema';
import type { CommandClient } from '../commands/client';
import type { IngestStats } from '../ingest/subscriber';
import type { LiveViews } from '../live/views';
import type { CentralTables } from '../store/schema';
import type { FiguresCache } from '../figures/cache';

export interface ApiDeps {
  config: CentralConfig;
  db: Kysely<CentralTables>;
  dialect: string;
  clock: Clock;
  log: Logger;
  ingestStats(): IngestStats;
  /** Measures what is stale now (the figures' refresher round), for a caller that needs current figures. */
  refreshFigures?(): Promise<unknown>;
  /** Sends commands to sites; absent when the central runs without a broker connection. */
  commands?: CommandClient;
  /** Live views from the centre; absent without a broker connection. */
  live?: LiveViews;
  /** Pooled figures kept while their days are unchanged; without one every request pools. */
  figuresCache?: FiguresCache;
  /** The one audit log of the central (other features record into it too). */
  audit: AuditLog;
  /** The region outlines' GeoJSON text (map.regionsGeoJson, checked at start); absent when none. */
  mapOutlines?: string;
  /** Where the built dashboard is (index.html and assets/); default beside the compiled central. */
  dashboardRoot?: string;
}

/** What the access routes (login, users, tokens) use beside the service's parts. */
export interface AccessDeps extends ApiDeps {
  sessions: SessionStore;
  tokens: TokenStore;
  throttle: LoginThrottle;
  /** Does any user exist? (Until one does, the API answers 503.) */
  hasUsers(): Promise<boolean>;
}

export type Api = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>; // eslint-disable-line @typescript-eslint/no-explicit-any
