// What every route module gets: the Fastify instance typed for TypeBox, and the service's parts.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/log';
import type { CentralConfig } from '../config/schema';
import type { IngestStats } from '../ingest/subscriber';
import type { CentralTables } from '../store/schema';

/** One thing someone did through the API that the audit log keeps. */
export interface AuditEntry {
  action: string;
  actor: string;
  /** When (the central's clock), epoch ms. */
  at: number;
  /** What it was done to, e.g. alarm:<id>. */
  target: string;
  detail?: Record<string, unknown>;
}

export interface ApiDeps {
  config: CentralConfig;
  db: Kysely<CentralTables>;
  dialect: string;
  clock: Clock;
  log: Logger;
  ingestStats(): IngestStats;
  /** Records an audit entry (default: nothing is recorded). */
  audit?(entry: AuditEntry): void | Promise<void>;
}

export type Api = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>; // eslint-disable-line @typescript-eslint/no-explicit-any
