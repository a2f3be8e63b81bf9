// The audit log (admin): who did what, from where, when, newest first, within the reader's scope.
import { Type } from '@sinclair/typebox';
import { Enum, Nullable } from '../../../lib/schema';
import { AUDIT_OUTCOMES } from '../../audit/log';
import { callerOf } from '../guard';
import type { Api, ApiDeps } from '../types';
import { ErrorSchema } from './schemas';

const AuditRecordSchema = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  origin: Enum(['central', 'site'] as const, { type: 'string', description: 'central: done here; site: an agent’s own audit event.' }),
  actor: Type.String({ description: 'A user, "token <name> of <user>", or a site page’s user or client.' }),
  address: Nullable(Type.String()),
  action: Type.String({
    description:
      'login, login-locked, logout, user-create, user-change, password-change, user-remove, token-create, token-revoke, live-view, web-login-locked …',
  }),
  site: Nullable(Type.String()),
  camera: Nullable(Type.String()),
  outcome: Type.String({ description: 'ok, denied or failed (an agent may send another).' }),
  detail: Type.Record(Type.String(), Type.Unknown()),
});

export function registerAuditRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/audit',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'The audit log, newest first, filtered; pages through "next"',
        tags: ['access'],
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time', description: 'At or after this time.' })),
            to: Type.Optional(Type.String({ format: 'date-time', description: 'Before this time.' })),
            actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            action: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            outcome: Type.Optional(
              Enum(AUDIT_OUTCOMES, { type: 'string', description: 'ok, denied or failed: e.g. action=login&outcome=failed lists the wrong passwords.' }),
            ),
            site: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            camera: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The "next" of the previous page.' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(AuditRecordSchema), next: Nullable(Type.String()) }), 400: ErrorSchema },
      },
    },
    async (request, reply) => {
      const q = request.query;
      try {
        return await deps.audit.list(
          {
            from: q.from !== undefined ? Date.parse(q.from) : undefined,
            to: q.to !== undefined ? Date.parse(q.to) : undefined,
            actor: q.actor,
            action: q.action,
            outcome: q.outcome,
            site: q.site,
            camera: q.camera,
            limit: q.limit,
            cursor: q.cursor,
          },
          callerOf(request).scope,
        );
      } catch (err) {
        if (err instanceof RangeError) return reply.code(400).send({ error: 'bad-request', message: err.message });
        throw err;
      }
    },
  );
}
