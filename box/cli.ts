// camgate start: the all-in-one box (an embedded broker, the central, the site agent) from one
// command; `--demo` runs three simulated township sites instead of this box's own cameras.
// main(argv) returns the exit code and never calls process.exit, so tests run it in-process.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { agentConfig } from '../agent/config/spec';
import { siteIdFromHostname } from '../agent/cli/context';
import { openDatabase } from '../agent/inventory/open';
import { ensureFirstAdmin } from '../central/auth/users';
import { promptHidden } from '../central/cli/prompt';
import { firstAdminAtStart, type UserCliIo } from '../central/cli/users';
import { centralConfig } from '../central/config/spec';
import type { CentralConfig } from '../central/config/schema';
import { dayOf } from '../central/figures/days';
import { figuresFor } from '../central/figures/query';
import { systemClock } from '../lib/clock';
import { CamgateError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from '../lib/errors';
import { chooseLogFormat, createLogger, type Logger } from '../lib/log';
import { redactText, SecretScrubber } from '../lib/redact';
import { waitForStopSignal } from '../lib/signals';
import { terminalSafe } from '../lib/text';
import { CAMGATE_VERSION } from '../lib/version';
import { startBox, type BoxSite, type RunningBox } from './box';
import { startDemo, type RunningDemo } from './demo';

export interface BoxCliIo extends UserCliIo {
  env: Record<string, string | undefined>;
  stderrIsTTY: boolean;
  stderrHasColors: boolean;
  waitForStop(cancel?: AbortSignal): Promise<string>;
}

export function processIo(): BoxCliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
    stderrHasColors: process.stderr.isTTY === true && process.stderr.hasColors(),
    stdinIsTTY: process.stdin.isTTY === true,
    readStdinLine: () => Promise.resolve(readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? ''),
    promptSecret: (question) => promptHidden(question, process.stdin, process.stderr),
    waitForStop: waitForStopSignal,
  };
}

interface BoxOptions {
  demo?: boolean;
  dataDir: string;
  site?: string;
  brokerHost: string;
  brokerPort?: string;
  httpPort: string;
  config?: string;
  logLevel?: string;
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} ${JSON.stringify(value)}: expected a TCP port, 0 to 65535 (0 = any free port)`);
  return n;
}

const HELP_FOOTER = `
The agent reads its usual configuration (--config FILE or CAMGATE_CONFIG, CAMGATE_* variables),
the central its own (CAMGATE_CENTRAL_* variables); the box points both at its embedded broker
(MQTT 3.1.1, loopback only by default) and keeps the central's database in <data-dir>/central.db.

  camgate start --demo      three simulated sites, figures and alarms at once
  camgate start             this box's own cameras (run \`camgate discover\` first)`;

async function prepareSites(o: BoxOptions, io: BoxCliIo, logger: Logger, scrubber: SecretScrubber): Promise<{ sites: BoxSite[]; demo?: RunningDemo }> {
  if (o.demo) {
    const demo = await startDemo({ dataDir: o.dataDir, logger, env: {} });
    // Offline from the start: their agents find them silent, as after a power cut at the pole.
    await demo.switchOff();
    return { sites: demo.sites, demo };
  }
  const file = o.config ?? (io.env.CAMGATE_CONFIG || undefined);
  const { config, warnings } = agentConfig.load({ file, env: { ...io.env, CAMGATE_DATA_DIR: io.env.CAMGATE_DATA_DIR ?? o.dataDir } });
  scrubber.add(...agentConfig.secretValues(config));
  for (const w of warnings) logger.warn(w);
  config.site.id = o.site ?? config.site.id ?? siteIdFromHostname(os.hostname());
  return { sites: [{ config, db: openDatabase(config.dataDir) }] };
}

/**
 * The demo's first figures: measured as soon as the simulated cameras' first statuses are in, so
 * the dashboard the summary names shows figures at its first look. Gives up quietly after
 * `timeoutMs` (the refresher's rounds measure them anyway).
 */
async function firstFigures(box: RunningBox, config: CentralConfig, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    await box.central.figures.refresh();
    const today = dayOf(Date.now(), config.timezone);
    const figures = await figuresFor(box.central.db.db, { from: today, to: today, groupBy: 'none' }, config);
    if (figures.total.cameras > 0) return;
    await new Promise((done) => setTimeout(done, 500));
  }
}

/** The demo's first admin: made with a generated password on a fresh data dir, shown once. */
function loginLine(first: { username: string; password: string } | undefined, dataDir: string): string {
  return first
    ? `  admin login   ${first.username} / ${first.password}  (shown this once; change it: camgate central user passwd ${first.username} --db ${join(dataDir, 'central.db')})`
    : '  admin login   the one made at the first start in this data dir';
}

function summary(box: RunningBox, sites: BoxSite[], demo: RunningDemo | undefined, login: string): string {
  const lines = ['', `camgate ${CAMGATE_VERSION} all-in-one box is running${demo ? ' (demo: three simulated sites)' : ''}:`];
  lines.push(`  dashboard     ${box.central.url}/  (驾驶舱, map, alarms: log in below)`);
  lines.push(`  central API   ${box.central.url}/api  (OpenAPI: ${box.central.url}/api/openapi.json)`);
  lines.push(login);
  for (const [i, agent] of box.agents.entries()) {
    const site = sites[i].config.site.id ?? '';
    lines.push(`  site ${site.padEnd(9)}${agent.web ? `live view ${agent.web.url}` : '(live view off)'}`);
  }
  if (box.broker) lines.push(`  broker        ${box.broker.url} (embedded, MQTT 3.1.1)`);
  lines.push('Stop with Ctrl-C.', '');
  return lines.join('\n');
}

export async function main(argv: string[], io: BoxCliIo = processIo()): Promise<number> {
  const scrubber = new SecretScrubber();
  let exitCode = EXIT_OK;
  const program = new Command('camgate start')
    .description('the all-in-one box: an embedded MQTT broker, the central service and the site agent in one process')
    .version(CAMGATE_VERSION, '-V, --version')
    .option('--demo', 'run three simulated township sites (cameras with faults, offline, without coordinates)')
    .option('--data-dir <dir>', "the agent's inventory and outbox, and the central's database", './data')
    .option('--site <id>', 'site id of this box (default: site.id, else the host name)')
    .option('--broker-host <address>', 'where the embedded broker listens (0.0.0.0 lets other sites in: then set up logins and TLS)', '127.0.0.1')
    .addOption(new Option('--broker-port <port>', 'TCP port of the embedded broker (default 1883; with --demo any free port)'))
    .option('--http-port <port>', "TCP port of the central's HTTP API", '8090')
    .option('--config <file>', "the agent's YAML config file (also CAMGATE_CONFIG)")
    .option('--log-level <level>', 'least severe level logged (fatal, error, warn, info, debug, trace)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`camgate start: ${s.replace(/^error: /, '')}`),
    })
    .addHelpText('after', HELP_FOOTER)
    .action(async (o: BoxOptions) => {
      const dataDir = resolve(o.dataDir);
      const brokerPort = o.brokerPort !== undefined ? port(o.brokerPort, '--broker-port') : o.demo ? 0 : 1883;
      const central = centralConfig.load({
        env: {
          CAMGATE_CENTRAL_DB: join(dataDir, 'central.db'),
          // One box's few hundred cameras are measured in milliseconds: figures within seconds of a
          // camera's first status (a newcomer's demo shows them at once, not after a minute).
          CAMGATE_CENTRAL_FIGURES_REFRESH_SEC: '10',
          CAMGATE_CENTRAL_FIGURES_TODAY_REFRESH_SEC: '10',
          ...io.env,
          CAMGATE_CENTRAL_HTTP_PORT: String(port(o.httpPort, '--http-port')),
        },
      });
      scrubber.add(...centralConfig.secretValues(central.config));
      const level = (o.logLevel ?? central.config.log.level) as typeof central.config.log.level;
      const logger = createLogger({
        level,
        format: chooseLogFormat(central.config.log.format, io.stderrIsTTY),
        colors: io.stderrHasColors,
        scrubber,
        destination: io.stderr,
      });
      for (const w of central.warnings) logger.warn(w);
      const giveUp = new AbortController();
      const stopRequested = io.waitForStop(giveUp.signal);
      let demo: RunningDemo | undefined;
      let box: RunningBox;
      let sites: BoxSite[];
      try {
        const prepared = await prepareSites({ ...o, dataDir }, io, logger, scrubber);
        demo = prepared.demo;
        sites = prepared.sites;
        box = await startBox({ broker: { host: o.brokerHost, port: brokerPort }, central: central.config, sites, logger });
      } catch (err) {
        giveUp.abort();
        await demo?.stop();
        throw err;
      }
      await Promise.all(box.agents.map((a) => a.ready));
      // No default password: the demo makes one and shows it; a real box asks on a terminal, or says how.
      let login: string;
      if (demo) {
        login = loginLine(await ensureFirstAdmin(box.central.db.db, systemClock), dataDir);
        await firstFigures(box, central.config, 30_000);
      } else {
        await firstAdminAtStart(box.central.db, {
          io,
          clock: systemClock,
          stdinIsTTY: io.stdinIsTTY && io.stderrIsTTY,
          log: { error: (m) => logger.error(m), info: (m) => logger.info(m) },
        });
        login = '  admin login   the users of camgate central user list (POST /api/login)';
      }
      io.stderr.write(summary(box, sites, demo, login));
      const signal = await stopRequested;
      logger.info({ signal }, 'box: stopping');
      await box.stop(signal);
      await demo?.stop();
      logger.info('box stopped');
      exitCode = EXIT_OK;
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    const code = err instanceof CamgateError ? err.exitCode : EXIT_FAILURE;
    const message = err instanceof Error ? err.message : String(err);
    for (const line of message.split('\n')) io.stderr.write(terminalSafe(redactText(`camgate start: ${line}`, scrubber)) + '\n');
    return code;
  }
}
