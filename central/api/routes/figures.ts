// The programme's figures for any range of local days (docs/metrics.md), grouped as asked, and
// the region tree with the figures of every level.
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from '../../../lib/schema';
import { dayOf, daysBetween, isDay } from '../../figures/days';
import { figuresFor, GROUP_BYS, periodOf, regionTree } from '../../figures/query';
import { callerOf } from '../guard';
import type { Api, ApiDeps } from '../types';
import { ErrorSchema } from './schemas';

const Rate = (description: string) => Nullable(Type.Number({ minimum: 0, maximum: 1, description: `${description} (0–1; null when nothing to divide by).` }));

const TargetCheckSchema = Type.Object({
  met: Nullable(Type.Boolean({ description: 'Every class with a target meets it; null when none could be judged.' })),
  byClass: Type.Array(
    Type.Object({
      class: Type.Integer({ minimum: 1, maximum: 3 }),
      target: Type.Number({ description: 'Percent.' }),
      rate: Rate('The pooled rate of the cameras of this class'),
      met: Nullable(Type.Boolean()),
    }),
  ),
});

export const FigureSchema = Type.Object(
  {
    cameras: Type.Integer({ description: 'Cameras counted at some time in the period.' }),
    countedSeconds: Type.Integer(),
    knownSeconds: Type.Integer(),
    onlineSeconds: Type.Integer(),
    offlineSeconds: Type.Integer(),
    intactKnownSeconds: Type.Integer(),
    intactSeconds: Type.Integer(),
    faultSeconds: Type.Integer({ description: 'Online with a picture fault.' }),
    onlineRate: Rate('在线率: online / known seconds'),
    coverage: Rate('known / counted seconds'),
    assessedOnlineRate: Rate('online / counted seconds: unknown time counts against the camera'),
    intactRate: Rate('完好率: intact / known-for-this-rate seconds'),
    intactCoverage: Rate('known-for-this-rate / counted seconds'),
    meanOnlineRate: Rate("The mean of the cameras' own online rates"),
    meanIntactRate: Rate("The mean of the cameras' own intact rates"),
    atEnd: Type.Object({
      cameras: Type.Integer({ description: "Counted at the period's end." }),
      geoLabelled: Type.Integer(),
      geoLabelledRate: Rate('经纬度标注率'),
      hd: Type.Integer(),
      hdRate: Rate('高清率'),
      byClass: Type.Object({ class1: Type.Integer(), class2: Type.Integer(), class3: Type.Integer(), unclassified: Type.Integer() }),
    }),
    targets: Type.Object({ online: TargetCheckSchema, intact: TargetCheckSchema, geoLabelled: TargetCheckSchema }),
  },
  { description: 'One group of cameras over a period (docs/metrics.md).' },
);

const PeriodSchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  timezone: Type.String(),
  start: Type.String({ format: 'date-time' }),
  end: Type.String({ format: 'date-time' }),
});

const Day = (description: string) =>
  Type.Optional(
    Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: `${description} (YYYY-MM-DD, a local day in central.timezone; default today).` }),
  );

const RangeQuery = {
  from: Day('First day'),
  to: Day('Last day, included'),
  region: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Only cameras in this region path and below.' })),
  site: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  class: Type.Optional(Type.Integer({ minimum: 1, maximum: 3 })),
  owner: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
};

const FiguresQuerySchema = Type.Object(
  {
    ...RangeQuery,
    groupBy: Type.Union(
      GROUP_BYS.map((g) => Type.Literal(g)),
      {
        default: 'none',
        description:
          'none, camera, site, class, region (the level below `region`, or the top level), owner, or day: one group per measured day of the range (key YYYY-MM-DD), its figure what a request for that day alone answers; the total stays the range pooled.',
      },
    ),
  },
  { additionalProperties: false },
);

const FiguresResponseSchema = Type.Object({
  period: PeriodSchema,
  computedAt: Nullable(Type.String({ format: 'date-time', description: 'The oldest measurement among the days: a late backlog can still change a past day.' })),
  computedThrough: Nullable(Type.String({ format: 'date-time', description: 'How far the last day was measured (for today: when).' })),
  daysMissing: Type.Array(Type.String(), { description: 'Days of the range without figures (before the first camera, or not yet measured).' }),
  total: FigureSchema,
  groups: Type.Array(
    Type.Object({
      key: Type.String({ description: 'site/camera, site, class (1, 2, 3, unclassified), region path, owner or day (YYYY-MM-DD).' }),
      figure: FigureSchema,
      causes: Type.Optional(
        Type.Record(Type.String(), Type.Integer(), { description: 'By camera: known seconds not intact, by cause (offline, black, frozen, …).' }),
      ),
    }),
  ),
});

const RegionsResponseSchema = Type.Object({
  period: PeriodSchema,
  regions: Type.Array(
    Type.Object({
      region: Type.String({ description: 'The region path.' }),
      name: Type.String({ description: 'Its last level.' }),
      depth: Type.Integer({ minimum: 1 }),
      parent: Nullable(Type.String()),
      figure: FigureSchema,
    }),
  ),
});

/** The longest range one request may ask for. */
const MAX_DAYS = 400;

type RangeInput = Static<typeof FiguresQuerySchema>;

/** The range asked for, or why it cannot be answered. */
export function rangeOf(q: Pick<RangeInput, 'from' | 'to'>, today: string): { from: string; to: string } | { error: string } {
  const to = q.to ?? (q.from && q.from > today ? q.from : today);
  const from = q.from ?? to;
  for (const [name, day] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!isDay(day)) return { error: `querystring ${name}: "${day}" is not a calendar day (YYYY-MM-DD)` };
  }
  if (from > to) return { error: `querystring from (${from}) is after to (${to}): swap them` };
  if (daysBetween(from, to).length > MAX_DAYS) return { error: `querystring from..to spans more than ${MAX_DAYS} days: ask for a shorter range` };
  return { from, to };
}

export function registerFiguresRoutes(app: Api, deps: ApiDeps): void {
  const config = deps.config;
  const today = () => dayOf(deps.clock.now(), config.timezone);

  app.get(
    '/api/figures',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Figures for a range of days',
        description:
          'Online rate, coverage, assessed online rate, intact rate, geo-labelled and HD rates, class counts and targets, pooled over the cameras and grouped as asked.',
        tags: ['figures'],
        querystring: FiguresQuerySchema,
        response: { 200: FiguresResponseSchema, 400: ErrorSchema },
      },
    },
    async (request, reply) => {
      const range = rangeOf(request.query, today());
      if ('error' in range) return reply.code(400).send({ error: 'bad-request', message: range.error });
      const { groupBy, region, site, owner } = request.query;
      return figuresFor(
        deps.db,
        { ...range, groupBy, region, site, owner, class: request.query.class, scope: callerOf(request).scope },
        config,
        deps.figuresCache,
      );
    },
  );

  app.get(
    '/api/regions',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'The region tree with figures',
        description: 'Every region path at every level (浙江省, 浙江省/杭州市, …) with the figures of the cameras in it and below it.',
        tags: ['figures'],
        querystring: Type.Object({ from: RangeQuery.from, to: RangeQuery.to, region: RangeQuery.region }, { additionalProperties: false }),
        response: { 200: RegionsResponseSchema, 400: ErrorSchema },
      },
    },
    async (request, reply) => {
      const range = rangeOf(request.query, today());
      if ('error' in range) return reply.code(400).send({ error: 'bad-request', message: range.error });
      const regions = await regionTree(deps.db, { ...range, region: request.query.region, scope: callerOf(request).scope }, config, deps.figuresCache);
      return { period: periodOf(range.from, range.to, config.timezone), regions };
    },
  );
}
