// The programme's reports (docs/reports.md): the daily statistics, the weekly bulletin and the
// monthly analysis of a region, as JSON, CSV, XLSX or a printable HTML page, within the caller's
// region scope exactly as /api/figures applies it.
import { Type, type Static } from '@sinclair/typebox';
import { Dictionary, Enum, Nullable } from '../../../lib/schema';
import type { Report } from '../../reports/assemble';
import { contentDisposition, REPORT_FORMATS, renderReport } from '../../reports/formats';
import { buildReport, ReportInputError } from '../../reports/load';
import { REPORT_KINDS } from '../../reports/period';
import { ApiError } from '../errors';
import { callerOf } from '../guard';
import type { Api, ApiDeps } from '../types';
import { FigureSchema } from './figures';
import { ErrorSchema } from './schemas';

const Bilingual = (description?: string) => Type.Object({ zh: Type.String(), en: Type.String() }, description ? { description } : {});
const Rate = (description: string) => Nullable(Type.Number({ minimum: 0, maximum: 1, description: `${description} (0–1; null when nothing to divide by).` }));
const Points = (description: string) => Nullable(Type.Number({ description: `${description}, percentage points; null when either period has none.` }));
const Day = Type.String({ description: 'YYYY-MM-DD, a local day in central.timezone.' });
const TargetKind = Enum(['online', 'intact', 'geoLabelled'] as const, { type: 'string' });

const RateLineSchema = Type.Object({
  key: Enum(['onlineRate', 'assessedOnlineRate', 'coverage', 'intactRate', 'geoLabelledRate', 'hdRate'] as const, { type: 'string' }),
  name: Bilingual(),
  value: Rate('This period'),
  previous: Rate('The previous period'),
  deltaPoints: Points('value − previous'),
  targets: Type.Array(
    Type.Object({
      class: Enum([1, 2, 3] as const, { type: 'integer' }),
      target: Type.Number({ description: 'Percent.' }),
      rate: Rate("The pooled rate of the class's cameras"),
      met: Nullable(Type.Boolean()),
    }),
    { description: 'Each class with a target for this rate (central.targets).' },
  ),
  met: Nullable(Type.Boolean({ description: 'Every class with a target meets it; null when none can be judged or the rate has no target.' })),
});

const CountLineSchema = Type.Object({
  key: Enum(['cameras', 'class1', 'class2', 'class3', 'unclassified', 'geoLabelled', 'hd'] as const, { type: 'string' }),
  name: Bilingual(),
  value: Type.Integer({ description: "At the period's end." }),
  previous: Nullable(Type.Integer()),
  delta: Nullable(Type.Integer()),
});

const CameraRef = {
  site: Type.String(),
  siteName: Nullable(Type.String()),
  camera: Type.String(),
  name: Nullable(Type.String()),
  region: Nullable(Type.String()),
};

export const ReportSchema = Type.Object(
  {
    kind: Enum(REPORT_KINDS, { type: 'string' }),
    title: Bilingual(),
    region: Type.Object({ path: Type.String({ description: "The region reported on; '' is everything the caller sees." }), name: Bilingual() }),
    period: Type.Object({
      from: Day,
      to: Day,
      timezone: Type.String(),
      start: Type.String({ format: 'date-time' }),
      end: Type.String({ format: 'date-time' }),
      label: Bilingual(),
      partial: Type.Boolean({ description: 'Today falls in the period: it is not over, and its figures run only through `through`.' }),
      through: Day,
    }),
    previousPeriod: Type.Object({
      from: Day,
      to: Day,
      label: Bilingual(),
      hasFigures: Type.Boolean({ description: 'false: no change (Δ) is given.' }),
    }),
    generatedAt: Type.String({ format: 'date-time', description: 'When this report was put together.' }),
    computedAt: Nullable(
      Type.String({ format: 'date-time', description: "The oldest measurement among the period's days: a late backlog can still change a past day." }),
    ),
    computedThrough: Nullable(Type.String({ format: 'date-time', description: 'How far the last day was measured.' })),
    daysMissing: Type.Array(Day, { description: 'Days of the period up to `through` without figures.' }),
    coverage: Rate('Known / counted seconds of the region'),
    notes: Type.Array(Bilingual(), { description: 'What the reader must know: a period not over, days missing figures, no previous figures.' }),
    summary: Type.Object({
      figure: FigureSchema,
      previous: Nullable(FigureSchema),
      rates: Type.Array(RateLineSchema),
      counts: Type.Array(CountLineSchema),
    }),
    ranking: Type.Object({
      by: Enum(['region', 'site'] as const, { type: 'string', description: 'The regions one level below `within`, or its sites when it has none.' }),
      within: Type.String({ description: "The region whose parts are ranked: the report's own, or the first level below it that holds more than one region." }),
      rows: Type.Array(
        Type.Object({
          rank: Type.Integer({ minimum: 1, description: 'By online rate, then intact rate, highest first.' }),
          key: Type.String({ description: 'The region path or the site id.' }),
          name: Type.String(),
          figure: FigureSchema,
          delta: Type.Object({ onlineRate: Points('Online rate change'), intactRate: Points('Intact rate change') }),
          belowTarget: Type.Array(TargetKind, { description: 'The targets some class of this group misses.' }),
        }),
      ),
    }),
    belowTarget: Type.Array(
      Type.Object({
        ...CameraRef,
        class: Enum([1, 2, 3] as const, { type: 'integer' }),
        onlineRate: Rate('Its online rate'),
        intactRate: Rate('Its intact rate'),
        targets: Type.Object({ online: Nullable(Type.Number()), intact: Nullable(Type.Number()) }, { description: "Its class's targets, percent." }),
        misses: Type.Array(Enum(['online', 'intact'] as const, { type: 'string' })),
        countedSeconds: Type.Integer(),
        unknownSeconds: Type.Integer({ description: 'Counted seconds of unknown state (its site gave no sign of life).' }),
        offlineSeconds: Type.Integer(),
        faultSeconds: Type.Integer({ description: 'Online with a picture fault.' }),
        causes: Dictionary(Type.Integer(), { description: 'Known seconds not intact by cause (offline, black, frozen, no-video, …).' }),
        cause: Nullable(Type.String({ description: 'The cause with the most seconds.' })),
      }),
      { description: "Cameras whose own online or intact rate is below their class's target." },
    ),
    withoutCoordinates: Type.Array(
      Type.Object({
        ...CameraRef,
        class: Nullable(Type.Integer()),
        againstTarget: Type.Boolean({ description: 'Its class has a geo-labelled target.' }),
      }),
      { description: "Cameras counted at the period's end without latitude and longitude." },
    ),
  },
  { description: 'A report (docs/reports.md).' },
);

const ReportQuerySchema = Type.Object(
  {
    day: Type.Optional(Type.String({ maxLength: 32, description: 'A day in the period (YYYY-MM-DD, a local day in central.timezone); default yesterday.' })),
    region: Type.Optional(
      Type.String({
        maxLength: 512,
        description:
          "A region path (浙江省/杭州市/余杭区); default the caller's whole scope. Outside the scope: no cameras, as for a region that does not exist.",
      }),
    ),
    format: Type.Optional(Enum(REPORT_FORMATS, { type: 'string', default: 'json', description: 'json (default), csv, xlsx or html (printable).' })),
  },
  { additionalProperties: false },
);

export function registerReportRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/reports/:kind',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'A report: daily statistics, weekly bulletin (Monday–Sunday) or monthly analysis',
        description:
          'The rates against their targets with their change on the previous period, the ranking of the regions one level below (or the sites), the cameras below target with their cause, the cameras without coordinates. csv and xlsx come as attachments, html as a printable page.',
        tags: ['reports'],
        params: Type.Object({ kind: Enum(REPORT_KINDS, { type: 'string', description: 'daily, weekly or monthly.' }) }),
        querystring: ReportQuerySchema,
        response: {
          200: {
            description: 'The report in the format asked for.',
            content: {
              'application/json': { schema: ReportSchema },
              'text/csv': { schema: Type.String({ description: 'UTF-8 with a byte-order mark; sections under 【…】 lines.' }) },
              'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) },
              'text/html': { schema: Type.String({ description: 'A printable A4 page, no scripts.' }) },
            },
          },
          400: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { day, region, format = 'json' } = request.query;
      let report: Report;
      try {
        report = await buildReport(deps.db, { kind: request.params.kind, day, region, scope: callerOf(request).scope }, deps.config, deps.clock.now());
      } catch (err) {
        if (err instanceof ReportInputError) throw new ApiError(400, 'bad-request', `querystring ${err.parameter}: ${err.message}`);
        throw err;
      }
      void reply.header('cache-control', 'private, no-store');
      if (format === 'json') return report satisfies Static<typeof ReportSchema>;
      const rendered = await renderReport(report, format);
      void reply.type(rendered.contentType).header('content-disposition', contentDisposition(rendered.disposition, rendered.fileName, rendered.asciiFileName));
      for (const [name, value] of Object.entries(rendered.headers)) void reply.header(name, value);
      return reply.send(rendered.body);
    },
  );
}
