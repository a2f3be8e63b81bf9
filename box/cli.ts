// camgate start: the all-in-one box (an embedded broker, the central, the site agent) from one
// command; `--demo` runs three simulated township sites instead of this box's own cameras.
// main(argv) returns the exit code and never calls process.exit, so tests run it in-process.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { agentConfig } from '../agent/config/spec';
import { siteIdFromHostname } from '../agent/cli/context';
import { listCameras } from '../agent/inventory/cameras';
import { openDatabase } from '../agent/inventory/open';
import { ensureFirstAdmin } from '../central/auth/users';
import { promptHidden } from '../central/cli/prompt';
import { firstAdminAtStart, type UserCliIo } from '../central/cli/users';
import { centralConfig } from '../central/config/spec';
import type { CentralConfig } from '../central/config/schema';
import { addDays, dayOf } from '../central/figures/days';
import { figuresFor } from '../central/figures/query';
import { systemClock } from '../lib/clock';
import { CamgateError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from '../lib/errors';
import { chooseLogFormat, createLogger, type Logger } from '../lib/log';
import { redactText, SecretScrubber } from '../lib/redact';
import { waitForStopSignal } from '../lib/signals';
import { terminalSafe } from '../lib/text';
import { CAMGATE_VERSION } from '../lib/version';
import { startBox, type BoxSite, type RunningBox } from './box';
import { DEMO_SITES, startDemo, type RunningDemo } from './demo';
import { DEMO_DAYS_MAX, demoHistories } from './demo-history';
import { lastMessageId, sendHistory } from './history-sender';

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
  demoDays?: string;
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

/** Days of history a fresh demo is given unless --demo-days says otherwise: the overview's trend. */
const DEMO_DAYS_DEFAULT = 30;

function demoDays(o: BoxOptions): number {
  if (o.demoDays === undefined) return o.demo ? DEMO_DAYS_DEFAULT : 0;
  if (!o.demo) throw new UsageError(`--demo-days ${JSON.stringify(o.demoDays)}: only the demo has a made-up history; add --demo, or leave --demo-days out`);
  const n = Number(o.demoDays);
  if (!/^\d+$/.test(o.demoDays) || !Number.isInteger(n) || n > DEMO_DAYS_MAX) {
    throw new UsageError(`--demo-days ${JSON.stringify(o.demoDays)}: expected a whole number of days, 0 to ${DEMO_DAYS_MAX} (0 = no history)`);
  }
  return n;
}

/** A new SQLite file has no history yet; a database elsewhere (a postgres:// URL) is not the demo's to fill. */
function isNewDatabase(db: string): boolean {
  return !db.includes('://') && !existsSync(db);
}

const HELP_FOOTER = `
The agent reads its usual configuration (--config FILE or CAMGATE_CONFIG, CAMGATE_* variables),
the central its own (CAMGATE_CENTRAL_* variables); the box points both at its embedded broker
(MQTT 3.1.1, loopback only by default) and keeps the central's database in <data-dir>/central.db.

  camgate start --demo      three simulated sites, figures and alarms at once, with 30 days of history
  camgate start --demo --demo-days 0    the same without the history (starts faster)
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

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * Has the central taken in the demo's history? Each site's last message written, and nothing
 * queued: a site's history comes on one connection, in order, so the rest is in too.
 */
async function historyTakenIn(box: RunningBox, lastMessageIds: readonly string[], until: number): Promise<boolean> {
  if (lastMessageIds.length === 0) return true;
  while (Date.now() < until) {
    const seen = await box.central.db.db.selectFrom('messages_seen').select('message_id').where('message_id', 'in', lastMessageIds).execute();
    if (seen.length === lastMessageIds.length && (box.central.ingest?.stats().queued ?? 0) === 0) return true;
    await sleep(250);
  }
  return false;
}

/**
 * The demo's first figures: measured as soon as the simulated cameras' first statuses are in (and,
 * with a history, once yesterday's are measured), so the dashboard the summary names shows today's
 * figures and the trend at its first look. Answers false after the deadline (the refresher's
 * rounds measure them anyway).
 */
async function firstFigures(box: RunningBox, config: CentralConfig, options: { yesterdayToo: boolean; until: number }): Promise<boolean> {
  while (Date.now() < options.until) {
    await box.central.figures.refresh();
    const today = dayOf(Date.now(), config.timezone);
    const from = options.yesterdayToo ? addDays(today, -1) : today;
    const figures = await figuresFor(box.central.db.db, { from, to: today, groupBy: 'day' }, config);
    if (figures.groups.length === (options.yesterdayToo ? 2 : 1) && figures.groups.every((g) => g.figure.cameras > 0)) return true;
    await sleep(500);
  }
  return false;
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
    .option('--demo-days <n>', `days of made-up history a fresh demo data dir is given (0 to ${DEMO_DAYS_MAX}, 0 = none; default ${DEMO_DAYS_DEFAULT})`)
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
      const historyDays = demoDays(o);
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
      // Only a demo's first start is given a past: on a restart the central has it (and its own since).
      const withHistory = historyDays > 0 && isNewDatabase(central.config.db);
      if (historyDays > 0 && !withHistory) logger.info('demo: no history sent (only a fresh data dir, without a central.db yet, is given one)');
      let historyEnd: number;
      try {
        const prepared = await prepareSites({ ...o, dataDir }, io, logger, scrubber);
        demo = prepared.demo;
        sites = prepared.sites;
        // The live agents take over from here: their first observations come after it.
        historyEnd = Date.now();
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
        const started = Date.now();
        // Bounded: a slow machine still gets its summary (the refresher's rounds finish the figures).
        const until = started + (withHistory ? 180_000 : 30_000);
        let ready = true;
        if (withHistory && box.broker) {
          const histories = demoHistories(
            demo.sites.map((site, index) => ({ site: DEMO_SITES[index], index, cameras: listCameras(site.db) })),
            { days: historyDays, to: historyEnd, timezone: central.config.timezone, staleAfterSec: central.config.staleAfterSec },
          );
          const lasts: string[] = [];
          let sent = 0;
          for (const history of histories) {
            await sendHistory(box.broker.url, history);
            const last = lastMessageId(history);
            if (last !== undefined) lasts.push(last);
            sent += history.length;
          }
          logger.info({ days: historyDays, messages: sent }, 'demo: the sites’ history sent');
          ready = await historyTakenIn(box, lasts, until);
        }
        ready = ready && (await firstFigures(box, central.config, { yesterdayToo: withHistory, until }));
        if (ready) logger.info({ ms: Date.now() - started, history: withHistory ? historyDays : 0 }, 'demo: first figures measured');
        else logger.warn('demo: the first figures are not measured yet; the dashboard shows them within a minute');
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
