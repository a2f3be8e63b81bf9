// What every route module gets: the Fastify instance typed for TypeBox, and the service's parts.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/log';
import type { CentralConfig } from '../config/schema';
import type { IngestStats } from '../ingest/subscriber';
import type { CentralTables } from '../store/schema';

export interface ApiDeps {
  config: CentralConfig;
  db: Kysely<CentralTables>;
  dialect: string;
  clock: Clock;
  log: Logger;
  ingestStats(): IngestStats;
  /** Measures what is stale now (the figures' refresher round), for a caller that needs current figures. */
  refreshFigures?(): Promise<unknown>;
}

export type Api = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>; // eslint-disable-line @typescript-eslint/no-explicit-any
