// The duty desk's alarms: the list (filters, newest first, a cursor), one alarm, a camera's
// alarms, and the acknowledgement, which is audited. docs/alarms.md.
import { Type } from '@sinclair/typebox';
import { Enum, Nullable } from '../../../lib/schema';
import { acknowledgeAlarm, decodeCursor, getAlarm, listAlarms, type AlarmFilter } from '../../alarms/queries';
import { ALARM_KINDS, ALARM_STATES } from '../../alarms/rules';
import { actorOf } from '../actor';
import { callerOf } from '../guard';
import type { Api, ApiDeps } from '../types';
import { ErrorSchema } from './schemas';

const AlarmSchema = Type.Object({
  id: Type.String(),
  site: Type.String(),
  camera: Nullable(Type.String(), { description: 'null for an alarm of the site itself (site-offline, disk-low, outbox-dropping).' }),
  kind: Enum(ALARM_KINDS, { type: 'string' }),
  state: Enum(ALARM_STATES, { type: 'string' }),
  openedAt: Type.String({ format: 'date-time', description: 'observedAt of the first fault.' }),
  openedBy: Type.String({ description: 'What was seen: the evidence that opened it.' }),
  lastFaultAt: Type.String({ format: 'date-time', description: 'observedAt of the latest fault seen.' }),
  detail: Type.Record(Type.String(), Type.Unknown(), { description: 'Facts of the fault (faults, streams, free disk, …).' }),
  historical: Type.Boolean({ description: 'Learned from replayed data after it was already over (opened and cleared during an outage).' }),
  acknowledgedAt: Nullable(Type.String({ format: 'date-time' })),
  acknowledgedBy: Nullable(Type.String()),
  note: Nullable(Type.String()),
  clearedAt: Nullable(Type.String({ format: 'date-time', description: 'observedAt of the all-clear.' })),
  clearedBy: Nullable(Type.String({ description: 'What cleared it (a status, a connection, camera removed).' })),
});

const AlarmListSchema = Type.Object({
  items: Type.Array(AlarmSchema),
  next: Nullable(Type.String({ description: 'Pass as cursor for the next page; null on the last.' })),
});

const IdField = Type.String({ minLength: 1, maxLength: 64 });
const SiteField = Type.String({ minLength: 1, maxLength: 128 });
const TimeField = (description: string) => Type.String({ format: 'date-time', description });

const AlarmQuerySchema = Type.Object(
  {
    state: Type.Optional(
      Enum([...ALARM_STATES, 'active'] as const, { type: 'string', description: 'open, acknowledged, cleared, or active (open or acknowledged).' }),
    ),
    kind: Type.Optional(Enum(ALARM_KINDS, { type: 'string' })),
    site: Type.Optional(SiteField),
    camera: Type.Optional(SiteField),
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'A region path; regions below it are included.' })),
    from: Type.Optional(TimeField('Alarms in force at or after this time (not cleared before it).')),
    to: Type.Optional(TimeField('Alarms opened before this time.')),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The next value of the previous page.' })),
  },
  { additionalProperties: false },
);

const CameraAlarmQuerySchema = Type.Object(
  {
    state: AlarmQuerySchema.properties.state,
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    cursor: AlarmQuerySchema.properties.cursor,
  },
  { additionalProperties: false },
);

class BadRequest extends Error {
  readonly statusCode = 400;
}

function cursorOf(text: string | undefined): AlarmFilter['cursor'] {
  if (text === undefined) return undefined;
  const cursor = decodeCursor(text);
  if (!cursor) throw new BadRequest('querystring cursor: not a cursor this API returned (pass the next value of the previous page as it is)');
  return cursor;
}

export function registerAlarmRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/alarms',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Alarms, newest first, filtered',
        tags: ['alarms'],
        querystring: AlarmQuerySchema,
        response: { 200: AlarmListSchema, 400: ErrorSchema },
      },
    },
    (request) => {
      const q = request.query;
      const from = q.from === undefined ? undefined : Date.parse(q.from);
      const to = q.to === undefined ? undefined : Date.parse(q.to);
      if (from !== undefined && to !== undefined && from >= to) throw new BadRequest('querystring from: must be before to');
      return listAlarms(deps.db, {
        state: q.state,
        kind: q.kind,
        site: q.site,
        camera: q.camera,
        region: q.region,
        scope: callerOf(request).scope,
        from,
        to,
        limit: q.limit,
        cursor: cursorOf(q.cursor),
      });
    },
  );

  app.get(
    '/api/alarms/:id',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'One alarm',
        tags: ['alarms'],
        params: Type.Object({ id: IdField }),
        response: { 200: AlarmSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const alarm = await getAlarm(deps.db, request.params.id, callerOf(request).scope);
      if (!alarm) return reply.code(404).send({ error: 'not-found', message: `no alarm ${request.params.id} (GET /api/alarms lists them)` });
      return alarm;
    },
  );

  app.post(
    '/api/alarms/:id/ack',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Acknowledge an alarm: someone is on it (it stays until the all-clear); audited',
        tags: ['alarms'],
        params: Type.Object({ id: IdField }),
        body: Type.Object(
          { note: Type.Optional(Type.String({ maxLength: 1000, description: 'What is being done about it.' })) },
          { additionalProperties: false },
        ),
        response: { 200: AlarmSchema, 404: ErrorSchema, 409: ErrorSchema, 400: ErrorSchema },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const note = request.body.note ?? null;
      const at = deps.clock.now();
      const result = await acknowledgeAlarm(deps.db, request.params.id, actor.name, note, at, callerOf(request).scope);
      if (!result.ok) {
        if (result.why === 'not-found')
          return reply.code(404).send({ error: 'not-found', message: `no alarm ${request.params.id} (GET /api/alarms lists them)` });
        const message =
          result.why === 'cleared'
            ? `alarm ${request.params.id} was cleared at ${result.alarm?.clearedAt ?? '?'}: there is nothing left to acknowledge`
            : `alarm ${request.params.id} was already acknowledged by ${result.alarm?.acknowledgedBy ?? '?'} at ${result.alarm?.acknowledgedAt ?? '?'}`;
        return reply.code(409).send({ error: 'conflict', message });
      }
      const a = result.alarm;
      await deps.audit.record({
        action: 'alarm-ack',
        actor: actor.name,
        address: actor.address,
        at,
        site: a.site,
        ...(a.camera ? { camera: a.camera } : {}),
        outcome: 'ok',
        detail: { alarm: a.id, kind: a.kind, note },
      });
      return a;
    },
  );

  app.get(
    '/api/cameras/:site/:camera/alarms',
    {
      config: { role: 'viewer' },
      schema: {
        summary: "One camera's alarms, newest first",
        tags: ['alarms'],
        params: Type.Object({ site: SiteField, camera: SiteField }),
        querystring: CameraAlarmQuerySchema,
        response: { 200: AlarmListSchema, 400: ErrorSchema },
      },
    },
    (request) =>
      listAlarms(deps.db, {
        site: request.params.site,
        camera: request.params.camera,
        scope: callerOf(request).scope,
        state: request.query.state,
        limit: request.query.limit,
        cursor: cursorOf(request.query.cursor),
      }),
  );
}
