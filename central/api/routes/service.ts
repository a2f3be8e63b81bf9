// The service itself: is it up (public, and saying nothing else), what has ingest done, which
// messages were refused.
import { Type } from '@sinclair/typebox';
import { CAMGATE_VERSION } from '../../../lib/version';
import { listRejects } from '../../ledger/queries';
import { callerOf } from '../guard';
import type { Api, ApiDeps } from '../types';

const IngestStatsSchema = Type.Object({
  connected: Type.Boolean({ description: 'Connected to the broker now.' }),
  paused: Type.Boolean({ description: 'Left the broker because the database is held up (the queue stayed at ingest.queueMax past half the keep-alive).' }),
  received: Type.Integer(),
  written: Type.Integer(),
  duplicates: Type.Integer({ description: 'Messages already taken in (same messageId): counted once.' }),
  refused: Type.Integer(),
  queued: Type.Integer(),
  batches: Type.Integer(),
  failed: Type.Integer({ description: 'Messages the database refused while it answered: counted as write-failed rejects, acknowledged.' }),
  unacknowledged: Type.Integer({ description: 'Messages of this connection whose PUBACK waits for their commit.' }),
});

export function registerServiceRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/health',
    {
      config: { role: 'public' },
      schema: {
        summary: 'Is the service up (for load balancers and monitors: no version, no figures)',
        tags: ['service'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/api/service',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Version, database, what ingest has done since start',
        tags: ['service'],
        response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String(), database: Type.String(), ingest: IngestStatsSchema }) },
      },
    },
    () => ({ status: 'ok' as const, version: CAMGATE_VERSION, database: deps.dialect, ingest: deps.ingestStats() }),
  );

  app.get(
    '/api/ingest/rejects',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Messages refused at ingest, counted per site and reason, with the latest example',
        tags: ['service'],
        response: {
          200: Type.Array(
            Type.Object({
              site: Type.String(),
              reason: Type.String({
                description: 'too-large, not-json, invalid, wrong-site, unknown-topic, wrong-kind, write-failed (the database refused an accepted message)',
              }),
              count: Type.Integer(),
              firstAt: Type.String({ format: 'date-time' }),
              lastAt: Type.String({ format: 'date-time' }),
              example: Type.String(),
            }),
          ),
        },
      },
    },
    (request) => listRejects(deps.db, callerOf(request).scope),
  );
}
