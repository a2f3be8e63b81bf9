// A report from the central's database: checks what was asked (kind, day, region) against the
// caller's scope and today, reads the measured days of the period and of the previous one
// through the figures engine and the names through the ledger, and hands them to the assembly.
// The API route and the CLI both ask here.
import type { Kysely } from 'kysely';
import type { CentralTables } from '../store/schema';
import { addDays, dayOf, isDay } from '../figures/days';
import { cameraTotals, computedState, type FigureConfig } from '../figures/query';
import { ledgerNames } from '../ledger/queries';
import { EVERYWHERE, regionPathProblem, scopeWithin, trimRegion, type RegionScope } from '../ledger/scope';
import { assembleReport, type Report } from './assemble';
import { periodProgress, previousReportPeriod, reportPeriod, type ReportKind } from './period';

export interface ReportRequest {
  kind: ReportKind;
  /** A local day (YYYY-MM-DD) in the period; default yesterday. */
  day?: string;
  /** A region path; default the caller's whole scope. */
  region?: string;
  /** The caller's region scope. */
  scope?: RegionScope;
}

/** A request that cannot be answered, naming the parameter (`day`, `region`) and the fix; the
 * API answers it as a 400 for that query parameter, the CLI as a usage error for that flag. */
export class ReportInputError extends Error {
  constructor(
    readonly parameter: 'day' | 'region',
    message: string,
  ) {
    super(message);
    this.name = 'ReportInputError';
  }
}

/** The region a report covers: the one asked for, narrowed to the caller's scope when it is
 * wider (a report of 浙江省 to a county's viewer is the county's report: it would show its part
 * as the whole), or the scope itself when none is asked. A region outside the scope stays as
 * asked and has no cameras, exactly like a region that does not exist. */
export function reportRegion(asked: string | undefined, scope: RegionScope): { region: string; narrowed: boolean } {
  const region = trimRegion(asked ?? '');
  if (region === '' || region === scope) return { region: scope, narrowed: false };
  if (scopeWithin(scope, region)) return { region: scope, narrowed: true };
  return { region, narrowed: false };
}

/** The day a report is of when none is given: yesterday, the last whole day. */
export function defaultReportDay(now: number, timezone: string): string {
  return addDays(dayOf(now, timezone), -1);
}

export async function buildReport(db: Kysely<CentralTables>, request: ReportRequest, config: FigureConfig, now: number): Promise<Report> {
  const today = dayOf(now, config.timezone);
  const day = request.day ?? defaultReportDay(now, config.timezone);
  if (!isDay(day)) throw new ReportInputError('day', `${JSON.stringify(day)} is not a calendar day: write YYYY-MM-DD, e.g. ${addDays(today, -1)}`);
  if (request.region !== undefined) {
    const problem = regionPathProblem(request.region, 'a region');
    if (problem) throw new ReportInputError('region', problem);
  }
  const period = reportPeriod(request.kind, day);
  const progress = periodProgress(period, today);
  if (!progress.begun) {
    throw new ReportInputError(
      'day',
      `${day} is in a period that has not begun (today is ${today} in ${config.timezone}): ask for a day up to today, or leave it out for yesterday`,
    );
  }
  const scope = request.scope ?? EVERYWHERE;
  const { region, narrowed } = reportRegion(request.region, scope);
  const previousPeriod = previousReportPeriod(request.kind, period);
  const selection = { region, scope };
  const current = await cameraTotals(db, { ...selection, from: period.from, to: progress.through, withCauses: true });
  const previous = await cameraTotals(db, { ...selection, ...previousPeriod });
  const computed = await computedState(db, period.from, progress.through);
  const names = await ledgerNames(
    db,
    current.map((c) => c.site),
  );
  return assembleReport({
    kind: request.kind,
    period,
    previousPeriod,
    progress,
    region,
    askedRegion: narrowed ? trimRegion(request.region ?? '') : undefined,
    current,
    previous,
    computed,
    names,
    generatedAt: now,
    config,
  });
}
