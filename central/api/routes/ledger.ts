// Sites and cameras as the central knows them now.
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { CAMERA_SORTS, CONDITIONS, getCamera, listCameras, listSites } from '../../ledger/queries';
import { CAMERA_EXPORT_FORMATS, CAMERA_HEADINGS, cameraCsv, cameraExportFileName, cameraPages, cameraXlsx } from '../../ledger/camera-export';
import { contentDisposition } from '../../reports/formats';
import type { Api, ApiDeps } from '../types';
import { Enum, Nullable } from '../../../lib/schema';
import { ErrorSchema } from './schemas';
import { cameraTimeline, HISTORY_MAX_MS, siteHistory } from '../../ledger/history';
import { dayBounds, dayOf, isDay } from '../../figures/days';
import { callerOf } from '../guard';

const StateSchema = Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('unknown')], {
  description: 'online (status online or degraded), offline, or unknown (no status yet, or the site gave no sign of life within staleAfterSec).',
});

const SiteSchema = Type.Object({
  site: Type.String(),
  name: Nullable(Type.String()),
  version: Nullable(Type.String({ description: 'Agent version from the latest birth.' })),
  connection: Type.String({ description: 'online, offline or unknown, from state messages and the Will.' }),
  connectionSince: Nullable(Type.String({ format: 'date-time' })),
  lastObserved: Type.String({ format: 'date-time', description: 'observedAt of the latest message of the site.' }),
  alive: Type.Boolean({ description: 'A message observed within staleAfterSec.' }),
  offlineNow: Type.Boolean({ description: 'Offline now: its connection is offline, or it sent nothing within staleAfterSec (not alive).' }),
  cameras: Type.Integer(),
});

const CameraSchema = Type.Object({
  site: Type.String(),
  camera: Type.String(),
  name: Nullable(Type.String()),
  class: Nullable(Type.Integer({ minimum: 1, maximum: 3 })),
  region: Nullable(Type.String()),
  owner: Nullable(Type.String()),
  latitude: Nullable(Type.Number()),
  longitude: Nullable(Type.Number()),
  manufacturer: Nullable(Type.String()),
  model: Nullable(Type.String()),
  firmware: Nullable(Type.String()),
  serial: Nullable(Type.String()),
  mainHeight: Nullable(Type.Integer()),
  state: StateSchema,
  condition: Type.Union([Type.Literal('offline'), Type.Literal('fault'), Type.Literal('unknown'), Type.Literal('online')], {
    description: 'What the camera needs now: its state, with fault for online with a picture fault (online but not intact).',
  }),
  status: Nullable(Type.String({ description: 'The latest status as sent: online, degraded, offline, unknown.' })),
  statusAt: Nullable(Type.String({ format: 'date-time' })),
  picture: Nullable(Type.String({ description: 'ok, fault, or none (no picture check).' })),
  faults: Type.Array(Type.String()),
  reason: Nullable(Type.String()),
  firstSeen: Type.String({ format: 'date-time' }),
  removedAt: Nullable(Type.String({ format: 'date-time' })),
});

const CameraQuerySchema = Type.Object(
  {
    site: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    state: Type.Optional(StateSchema),
    condition: Type.Optional(
      Enum(CONDITIONS, {
        type: 'string',
        description: 'What the camera needs now: offline, fault (online with a picture fault), unknown or online (no fault).',
      }),
    ),
    fault: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description:
          'A picture fault (no-video, black, overexposed, frozen, scene-change, occluded, blurred, colour-cast, noise, stripes, shaking, no-picture) or any.',
      }),
    ),
    class: Type.Optional(Type.Integer({ minimum: 1, maximum: 3 })),
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'A region path; regions below it are included.' })),
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    text: Type.Optional(Type.String({ maxLength: 128, description: 'Part of the camera id, name, site, model or serial (case-insensitive).' })),
    removed: Type.Optional(Type.Boolean({ description: 'Include removed cameras.', default: false })),
    sort: Type.Optional(
      Enum(CAMERA_SORTS, {
        type: 'string',
        description: 'The column to sort by (default site): cameras without a value come last either way; ties go by site, then camera id.',
      }),
    ),
    order: Type.Optional(Enum(['asc', 'desc'] as const, { type: 'string', description: 'asc (default) or desc.' })),
    format: Type.Optional(
      Enum(['json', ...CAMERA_EXPORT_FORMATS] as const, {
        type: 'string',
        description: 'json (default: one page, limit and offset), or csv / xlsx: every camera of the filter as an attachment (limit and offset do not apply).',
      }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 5000, default: 100 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
);

const NullableNumber = (description: string) => Nullable(Type.Number({ description }));
const SiteHistorySchema = Type.Object({
  site: Type.String(),
  latestMetrics: Nullable(
    Type.Record(Type.String(), Type.Unknown(), { description: "The site's latest metrics message as its agent sent it (docs/mqtt.md, metrics)." }),
  ),
  connections: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time' }),
      connection: Type.String({ description: 'online or offline.' }),
      reason: Nullable(Type.String({ description: 'Why: the state message, or the Will (the broker lost the connection).' })),
      bdSeq: Nullable(Type.Integer({ description: "The agent's connection number (Sparkplug's bdSeq)." })),
    }),
  ),
  metrics: Type.Array(
    Type.Object({
      hour: Type.String({ format: 'date-time', description: 'Start of the hour.' }),
      samples: Type.Integer(),
      loadAvgMax: NullableNumber('The highest 1-minute load average of the hour.'),
      cpuPercentMax: NullableNumber('The highest CPU use of the hour, percent.'),
      memFreeMinBytes: NullableNumber('The least free memory of the hour.'),
      diskFreePercentMin: NullableNumber('The least free disk of the hour, percent.'),
      temperatureMaxC: NullableNumber('The highest temperature of the hour.'),
      agentRssMaxBytes: NullableNumber("The agent's highest resident memory of the hour."),
      outboxDepthMax: NullableNumber('The deepest outbox of the hour (messages waiting for the uplink).'),
      outboxDroppedMax: NullableNumber('Messages the outbox had dropped under its quota, the highest count of the hour.'),
      camerasOfflineMax: NullableNumber('The most cameras offline at once in the hour.'),
    }),
    { description: 'The worst value of each hour, oldest first.' },
  ),
});

const TimelinePointSchema = Type.Object({
  at: Type.String({ format: 'date-time', description: 'observedAt of the status.' }),
  state: Type.String({ description: 'online, degraded, offline or unknown, as sent.' }),
  picture: Type.String({ description: 'ok, fault, or none (no picture check).' }),
  faults: Type.Array(Type.String()),
  reason: Nullable(Type.String()),
});
const Span = Type.Object({ from: Type.String({ format: 'date-time' }), to: Nullable(Type.String({ format: 'date-time' })) });
const CameraTimelineSchema = Type.Object({
  site: Type.String(),
  camera: Type.String(),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  initial: Nullable(TimelinePointSchema, { description: 'The status in force at `from`.' }),
  points: Type.Array(TimelinePointSchema),
  truncated: Type.Boolean({ description: 'More statuses than one answer holds: ask for a shorter span.' }),
  counted: Type.Array(Span, { description: 'When the camera was counted: from its first meta to its removal (to null: still counted).' }),
  evidence: Type.Array(Span, { description: "When its site gave evidence of life; outside these the camera's state is unknown." }),
  bands: Type.Array(
    Type.Object({
      from: Type.String({ format: 'date-time' }),
      to: Type.String({ format: 'date-time' }),
      state: Enum(['online', 'fault', 'offline', 'unknown', 'uncounted'] as const, {
        type: 'string',
        description:
          'uncounted (before its first meta or after its removal), unknown (no evidence of life, or no state), offline, fault (online with a picture fault) or online.',
      }),
      faults: Type.Array(Type.String(), { description: 'The picture faults of a fault band.' }),
    }),
    {
      description:
        'The span up to now cut into stretches of one state, as the figures count them (docs/metrics.md): the seconds of each state add up to what its figures measure.',
    },
  ),
});

export function registerLedgerRoutes(app: Api, deps: ApiDeps): void {
  const staleAfterMs = deps.config.staleAfterSec * 1000;

  app.get(
    '/api/sites',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Every site (in scope) with its connection and camera count',
        tags: ['ledger'],
        querystring: Type.Object(
          { offlineNow: Type.Optional(Type.Boolean({ description: 'true: only the sites offline now; false: only the others.' })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(SiteSchema), 400: ErrorSchema },
      },
    },
    (request) => listSites(deps.db, deps.clock.now(), staleAfterMs, callerOf(request).scope, request.query.offlineNow),
  );

  app.get(
    '/api/cameras',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Cameras, filtered and sorted; a page as JSON, or every one of the filter as CSV or Excel',
        tags: ['ledger'],
        querystring: CameraQuerySchema,
        response: {
          200: {
            description: 'A page of the cameras, or with format csv / xlsx all of them as a file.',
            content: {
              'application/json': { schema: Type.Object({ total: Type.Integer(), items: Type.Array(CameraSchema) }) },
              'text/csv': { schema: Type.String({ description: `UTF-8 with a byte-order mark; the columns: ${CAMERA_HEADINGS.join(', ')}.` }) },
              'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) },
            },
          },
          400: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const filter = {
        site: q.site,
        state: q.state,
        condition: q.condition,
        fault: q.fault,
        class: q.class,
        region: q.region,
        owner: q.owner,
        text: q.text,
        includeRemoved: q.removed,
        sort: q.sort,
        order: q.order,
      };
      const now = deps.clock.now();
      const scope = callerOf(request).scope;
      if (q.format === 'csv' || q.format === 'xlsx') {
        const pages = cameraPages({ db: deps.db, filter, now, staleAfterMs, scope });
        const zone = deps.config.timezone;
        const name = cameraExportFileName(q.format, dayOf(now, zone));
        // A stream of the file, not the JSON the typed reply describes.
        const file = (reply as FastifyReply)
          .header('cache-control', 'private, no-store')
          .header('content-disposition', contentDisposition('attachment', name.fileName, name.asciiFileName));
        if (q.format === 'csv') return file.type('text/csv; charset=utf-8').send(cameraCsv(pages, zone));
        return file.type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet').send(cameraXlsx(pages, zone));
      }
      return listCameras(deps.db, { ...filter, limit: q.limit, offset: q.offset }, now, staleAfterMs, scope);
    },
  );

  app.get(
    '/api/cameras/:site/:camera',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'One camera, with its latest meta as the agent sent it',
        tags: ['ledger'],
        params: Type.Object({ site: Type.String({ minLength: 1, maxLength: 128 }), camera: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: Type.Intersect([CameraSchema, Type.Object({ meta: Type.Unknown() })]), 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { site, camera } = request.params;
      // Outside the caller's scope it is answered as missing: its existence is not told.
      const found = await getCamera(deps.db, site, camera, deps.clock.now(), staleAfterMs, callerOf(request).scope);
      if (!found) return reply.code(404).send({ error: 'not-found', message: `no camera ${camera} at site ${site} (GET /api/cameras lists them)` });
      return found;
    },
  );

  // today: the central's local day, which a browser in another time zone cannot tell.
  const dayOrToday = (text: string) => (text === 'today' ? dayOf(deps.clock.now(), deps.config.timezone) : text);
  const span = (q: { from?: string; to?: string }): { from: number; to: number } | string => {
    const to = q.to === undefined ? deps.clock.now() : instantOf(dayOrToday(q.to), deps.config.timezone, 'end');
    const from = q.from === undefined ? (typeof to === 'number' ? to - 86_400_000 : to) : instantOf(dayOrToday(q.from), deps.config.timezone, 'start');
    if (typeof from === 'string') return `querystring from: ${from}`;
    if (typeof to === 'string') return `querystring to: ${to}`;
    if (from >= to) return 'querystring from: must be before to';
    if (to - from > HISTORY_MAX_MS) return 'querystring from..to: at most a year at a time';
    return { from, to };
  };
  const SpanQuery = Type.Object(
    {
      from: Type.Optional(
        Type.String({ maxLength: 40, description: 'An ISO date-time, a local day YYYY-MM-DD (its start) or today; default 24 h before `to`.' }),
      ),
      to: Type.Optional(Type.String({ maxLength: 40, description: 'An ISO date-time, a local day YYYY-MM-DD (its end, included) or today; default now.' })),
    },
    { additionalProperties: false },
  );
  const Name = Type.String({ minLength: 1, maxLength: 128 });

  app.get(
    '/api/sites/:site/history',
    {
      config: { role: 'viewer' },
      schema: {
        summary: "A site's connection timeline (states, Wills) and its hourly metrics (the worst value of each hour)",
        tags: ['ledger'],
        params: Type.Object({ site: Name }),
        querystring: SpanQuery,
        response: { 200: SiteHistorySchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const range = span(request.query);
      if (typeof range === 'string') return reply.code(400).send({ error: 'bad-request', message: range });
      const found = await siteHistory(deps.db, request.params.site, range.from, range.to, callerOf(request).scope);
      if (!found) return reply.code(404).send({ error: 'not-found', message: `no site ${request.params.site} (GET /api/sites lists them)` });
      return found;
    },
  );

  app.get(
    '/api/cameras/:site/:camera/timeline',
    {
      config: { role: 'viewer' },
      schema: {
        summary: "One camera's statuses over a span, when it was counted and when its site gave evidence of life (docs/metrics.md)",
        tags: ['ledger'],
        params: Type.Object({ site: Name, camera: Name }),
        querystring: SpanQuery,
        response: { 200: CameraTimelineSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const range = span(request.query);
      if (typeof range === 'string') return reply.code(400).send({ error: 'bad-request', message: range });
      const { site, camera } = request.params;
      const found = await cameraTimeline(deps.db, site, camera, range.from, range.to, deps.clock.now(), callerOf(request).scope);
      if (!found) return reply.code(404).send({ error: 'not-found', message: `no camera ${camera} at site ${site} (GET /api/cameras lists them)` });
      return found;
    },
  );
}

/** An instant from an ISO date-time, or a local day's start or end; or why not. */
export function instantOf(text: string, zone: string, edge: 'start' | 'end'): number | string {
  if (isDay(text)) {
    const bounds = dayBounds(text, zone);
    return edge === 'start' ? bounds.start : bounds.end;
  }
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(ms) ? `"${text}" is neither an ISO date-time (2026-12-01T08:00:00+08:00), a day (2026-12-01) nor today` : ms;
}
