// camgate central: the central service's command line. main(argv) returns the exit code (0 ok,
// 1 runtime failure, 2 usage or validation error) and never calls process.exit, so tests run it
// in-process.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { addConfigOptions, configFlagValues } from '../../lib/config/flags';
import { CamgateError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../lib/errors';
import { systemClock } from '../../lib/clock';
import { chooseLogFormat, createLogger } from '../../lib/log';
import { redactText, SecretScrubber } from '../../lib/redact';
import { waitForStopSignal } from '../../lib/signals';
import { terminalSafe } from '../../lib/text';
import { CAMGATE_VERSION } from '../../lib/version';
import { startCentral, type CentralDeps } from '../central';
import { centralConfig } from '../config/spec';
import { promptHidden } from './prompt';
import { addReportCommands, type ReportCliIo } from './reports';
import { addUserCommands, firstAdminAtStart, type UserCliIo } from './users';

export interface CentralCliIo extends UserCliIo, ReportCliIo {
  stdout: { write(chunk: string | Uint8Array): unknown };
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
  stderrIsTTY: boolean;
  stderrHasColors: boolean;
  /** Resolves with the signal name once the service should stop, or 'cancelled' once `cancel` aborts. */
  waitForStop(cancel?: AbortSignal): Promise<string>;
}

export function processIo(): CentralCliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutIsTTY: process.stdout.isTTY === true,
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
    stderrHasColors: process.stderr.isTTY === true && process.stderr.hasColors(),
    stdinIsTTY: process.stdin.isTTY === true,
    readStdinLine: () => Promise.resolve(readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? ''),
    promptSecret: (question) => promptHidden(question, process.stdin, process.stderr),
    waitForStop: waitForStopSignal,
  };
}

const HELP_FOOTER = `
Configuration: defaults < --config FILE (or CAMGATE_CENTRAL_CONFIG) < CAMGATE_CENTRAL_* variables
< flags. Every key has a flag and a variable: staleAfterSec is --stale-after-sec and
CAMGATE_CENTRAL_STALE_AFTER_SEC.

The broker password: prefer CAMGATE_CENTRAL_BROKER_PASSWORD (flags show in process lists).
A PostgreSQL URL's password: prefer PGPASSWORD or ~/.pgpass to putting it in --db.

Exit codes: 0 ok, 1 runtime failure, 2 usage or validation error.`;

export interface MainOptions {
  /** Parts of the central to replace in tests (a clock, a wrapped mqtt connect). */
  deps?: Partial<Omit<CentralDeps, 'config' | 'logger'>>;
}

export async function main(argv: string[], io: CentralCliIo = processIo(), options: MainOptions = {}): Promise<number> {
  const scrubber = new SecretScrubber();
  let exitCode = EXIT_OK;
  const program = new Command('camgate central')
    .description('camgate central service: takes in what the sites publish, keeps the ledger, computes the figures, serves the HTTP API')
    .version(CAMGATE_VERSION, '-V, --version')
    .option('--config <file>', 'YAML config file (also CAMGATE_CENTRAL_CONFIG)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`camgate central: ${s.replace(/^error: /, '')}`),
    })
    .addHelpText('after', HELP_FOOTER);
  addConfigOptions(program, centralConfig);
  const load = () => {
    const file = (program.opts().config as string | undefined) ?? (io.env.CAMGATE_CENTRAL_CONFIG || undefined);
    const loaded = centralConfig.load({ file, env: io.env, flags: configFlagValues(program) });
    scrubber.add(...centralConfig.secretValues(loaded.config));
    return loaded;
  };
  addUserCommands(program, { io, loadConfig: () => load().config, clock: options.deps?.clock });
  addReportCommands(program, { io, loadConfig: () => load().config, clock: options.deps?.clock });
  program.action(async () => {
    const loaded = load();
    const logger = createLogger({
      level: loaded.config.log.level,
      format: chooseLogFormat(loaded.config.log.format, io.stderrIsTTY),
      colors: io.stderrHasColors,
      scrubber,
      destination: io.stderr,
    });
    for (const w of loaded.warnings) logger.warn(w);
    const giveUp = new AbortController();
    const stopRequested = io.waitForStop(giveUp.signal);
    let central;
    try {
      central = await startCentral({ ...options.deps, config: loaded.config, logger });
    } catch (err) {
      giveUp.abort();
      throw err;
    }
    // Ingest runs meanwhile: a missing first admin keeps only the API shut.
    await firstAdminAtStart(central.db, {
      io,
      clock: options.deps?.clock ?? systemClock,
      stdinIsTTY: io.stdinIsTTY && io.stderrIsTTY,
      log: { error: (m) => logger.error(m), info: (m) => logger.info(m) },
    });
    const signal = await stopRequested;
    logger.info({ signal }, 'central: stopping');
    await central.stop();
    logger.info('central stopped');
    exitCode = EXIT_OK;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    const code = err instanceof CamgateError ? err.exitCode : EXIT_FAILURE;
    const message = err instanceof Error ? err.message : String(err);
    for (const line of message.split('\n')) io.stderr.write(terminalSafe(redactText(`camgate central: ${line}`, scrubber)) + '\n');
    return code;
  }
}
