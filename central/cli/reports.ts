// camgate central report daily|weekly|monthly: a report from the service's database (--db,
// --config, as `camgate central` runs), written to --out or stdout. It reads what the central
// measured and does not measure on its own: a day without figures is named on stderr with the
// way to get it (a running central measures it within figures.refreshSec; --measure measures it
// now, the same idempotent round the service runs, safe beside a running central).
import { existsSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Argument, Option, type Command } from 'commander';
import { systemClock, type Clock } from '../../lib/clock';
import { UsageError } from '../../lib/errors';
import { createLogger } from '../../lib/log';
import { terminalSafe } from '../../lib/text';
import type { CentralConfig } from '../config/schema';
import { FiguresRefresher } from '../figures/refresher';
import { renderReport, REPORT_FORMATS, type ReportFormat } from '../reports/formats';
import { buildReport, ReportInputError } from '../reports/load';
import { describeRuns, dayRuns, REPORT_KINDS, type ReportKind } from '../reports/period';
import { isPostgresUrl, openCentralDb } from '../store/open';

export interface ReportCliIo {
  stdout: { write(chunk: string | Uint8Array): unknown };
  stderr: { write(chunk: string): unknown };
  stdoutIsTTY: boolean;
}

export interface ReportCliContext {
  io: ReportCliIo;
  /** The configuration as `camgate central` would run with it (--config, --db, variables). */
  loadConfig(): CentralConfig;
  clock?: Clock;
}

interface ReportOptions {
  day?: string;
  region?: string;
  format?: ReportFormat;
  out?: string;
  measure?: boolean;
}

const EXTENSIONS: Record<string, ReportFormat> = { '.csv': 'csv', '.xlsx': 'xlsx', '.html': 'html', '.htm': 'html', '.json': 'json' };

/** The format asked for, or the one --out's extension names, or CSV. */
export function chooseFormat(format: ReportFormat | undefined, out: string | undefined): ReportFormat {
  const extension = out === undefined ? '' : extname(out).toLowerCase();
  const byName = EXTENSIONS[extension] as ReportFormat | undefined;
  if (format !== undefined && byName !== undefined && format !== byName) {
    throw new UsageError(`--out ${out ?? ''} ends in ${extension} but --format is ${format}: make them agree (or leave --format out)`);
  }
  return format ?? byName ?? 'csv';
}

async function measureMissing(config: CentralConfig, db: Awaited<ReturnType<typeof openCentralDb>>, clock: Clock, io: ReportCliIo): Promise<void> {
  const refresher = new FiguresRefresher({
    db: db.db,
    dialect: db.dialect,
    clock,
    log: createLogger({ level: 'warn', format: 'pretty', destination: io.stderr }),
    timezone: config.timezone,
    settleMs: config.staleAfterSec * 1000,
    everyMs: config.figures.refreshSec * 1000,
    todayEveryMs: 0,
  });
  const round = await refresher.refresh();
  io.stderr.write(`camgate central: measured ${round.days.length} day(s) and ${round.siteDays} stale site day(s) in ${round.ms} ms\n`);
}

export function addReportCommands(program: Command, ctx: ReportCliContext): void {
  const { io } = ctx;
  program
    .command('report')
    .description("a report from the central's database: daily statistics, weekly bulletin (Monday–Sunday), monthly analysis (docs/reports.md)")
    .addArgument(new Argument('<kind>', 'which report').choices(REPORT_KINDS))
    .option('--day <day>', 'a day in the period, YYYY-MM-DD in central.timezone (default: yesterday)')
    .option('--region <path>', 'a region path, e.g. 浙江省/杭州市/余杭区 (default: everything)')
    .addOption(new Option('--format <format>', "what to write (default: --out's extension, else csv)").choices(REPORT_FORMATS))
    .option('--out <file>', 'write the report to this file (default: stdout)')
    .option('--measure', 'measure the days that have no figures yet before reporting (what a running central does within a minute)')
    .addHelpText(
      'after',
      `
Reads the database the service uses: give --db or --config as to camgate central.
  camgate central report weekly --day 2026-11-23 --region 浙江省/杭州市/余杭区 --out week.xlsx --db ./central.db`,
    )
    .action(async (kind: ReportKind, o: ReportOptions) => {
      const format = chooseFormat(o.format, o.out);
      if (format === 'xlsx' && o.out === undefined && io.stdoutIsTTY) {
        throw new UsageError('an XLSX report is a binary file, not for a terminal: write it with --out FILE.xlsx (or redirect stdout to a file)');
      }
      const config = ctx.loadConfig();
      // Opening a SQLite path that is not there would make an empty database and report no cameras.
      if (!isPostgresUrl(config.db) && config.db !== ':memory:' && !existsSync(config.db)) {
        throw new UsageError(`--db ${config.db}: no such database: give the one camgate central runs with (--db or --config)`);
      }
      const clock = ctx.clock ?? systemClock;
      const db = await openCentralDb(config.db);
      let rendered;
      let missing: string[];
      try {
        if (o.measure) await measureMissing(config, db, clock, io);
        const report = await buildReport(db.db, { kind, day: o.day, region: o.region }, config, clock.now()).catch((err: unknown) => {
          if (err instanceof ReportInputError) throw new UsageError(`--${err.parameter}: ${err.message}`);
          throw err;
        });
        missing = report.daysMissing;
        rendered = await renderReport(report, format);
      } finally {
        await db.close();
      }
      if (o.out !== undefined) {
        try {
          writeFileSync(o.out, rendered.body);
        } catch (err) {
          throw new UsageError(
            `--out ${o.out}: cannot write it (${(err as NodeJS.ErrnoException).code ?? String(err)}): check the folder exists and is writable`,
          );
        }
        io.stderr.write(terminalSafe(`camgate central: ${kind} report written to ${o.out} (${format}, ${rendered.body.length} bytes)`) + '\n');
      } else {
        io.stdout.write(rendered.body);
      }
      if (missing.length > 0) {
        io.stderr.write(
          terminalSafe(
            `camgate central: ${missing.length} day(s) of the period have no figures (${describeRuns(dayRuns(missing))}): before the first camera, or the central was not running to measure them. Run camgate central on this database (it measures them within figures.refreshSec), or add --measure to measure them now.`,
          ) + '\n',
        );
      }
    });
}
