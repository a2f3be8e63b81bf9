// camgate command line. main(argv) returns the exit code (0 ok, 1 runtime failure, 2 usage or
// validation error) and never calls process.exit, so it can run in-process in tests.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, CommanderError } from 'commander';
import { loadDrivers } from '../../drivers/api';
import type { CommandBody, Wrap } from './action';
import { addConfigOptions } from '../../lib/config/flags';
import { agentConfig } from '../config/spec';
import { CommandContext } from './context';
import type { CliIo } from './io';
import { registerCameraQueries } from './commands/cameras';
import { registerCameraLabels } from './commands/cameras-labels';
import { registerCameraAdd } from './commands/cameras-add';
import { registerCameraMoves } from './commands/cameras-moves';
import { registerCameraReference } from './commands/cameras-reference';
import { registerConfig } from './commands/config';
import { registerDiscover } from './commands/discover';
import { registerDoctor } from './commands/doctor';
import { registerRun } from './commands/run';
import { CamgateError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../lib/errors';
import { redactText } from '../../lib/redact';
import { terminalSafe } from '../../lib/text';
import { CAMGATE_VERSION } from '../../lib/version';
import { waitForStopSignal } from '../../lib/signals';

export function processIo(): CliIo {
  let stdin: string | undefined;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    readStdin: () => (stdin ??= readFileSync(0, 'utf8')),
    stdinIsTTY: process.stdin.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    stderrHasColors: process.stderr.isTTY === true && process.stderr.hasColors(),
    confirm: (question) =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        rl.question(question, (answer) => {
          rl.close();
          resolve(/^y(?:es)?$/i.test(answer.trim()));
        });
      }),
    waitForStop: waitForStopSignal,
    drivers: loadDrivers,
  };
}

const HELP_FOOTER = `
Configuration: defaults < --config FILE (or CAMGATE_CONFIG) < CAMGATE_* variables < flags.
Every config key has a flag and a variable: discovery.timeoutMs is --discovery.timeout-ms and
CAMGATE_DISCOVERY_TIMEOUT_MS (see \`camgate config keys\`).

Passwords: flags are visible to every user of this box in process lists (ps). Prefer
CAMGATE_PASSWORD / CAMGATE_BROKER_PASSWORD, the config file (chmod 600), or "--password -"
to read the password from stdin. Stored device logins are encrypted with the key in
CAMGATE_SECRET_KEY or <data-dir>/secret.key (mode 600).

Exit codes: 0 ok, 1 runtime failure, 2 usage or validation error.`;

export function buildProgram(io: CliIo, state: { exitCode: number; lastError?: unknown; ctx?: CommandContext }): Command {
  const program = new Command('camgate');
  program
    .description('camgate site agent: find, label and watch the ONVIF cameras of a site')
    .version(CAMGATE_VERSION, '-V, --version')
    .option('--config <file>', 'YAML config file (also CAMGATE_CONFIG)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`camgate: ${s.replace(/^error: /, '')}`),
    })
    .addHelpText('after', HELP_FOOTER);
  addConfigOptions(program, agentConfig);

  const wrap: Wrap =
    (body: CommandBody) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      const ctx = new CommandContext(program, io);
      state.ctx = ctx;
      try {
        state.exitCode = await body(ctx, cmd);
      } finally {
        ctx.close();
      }
    };

  registerRun(program, wrap);
  registerDiscover(program, wrap);
  const cameras = program
    .command('cameras')
    .description('the camera inventory: list, show, add, label, import, export, remove, confirm-move, discard-move, reference');
  registerCameraQueries(cameras, wrap);
  registerCameraAdd(cameras, wrap);
  registerCameraLabels(cameras, wrap);
  registerCameraMoves(cameras, wrap);
  registerCameraReference(cameras, wrap);
  registerConfig(program, wrap);
  registerDoctor(program, wrap);
  return program;
}

/** Stack traces only when asked for: --log-level debug/trace (flag or environment). */
function wantsStack(argv: string[], io: CliIo): boolean {
  const i = argv.findIndex((a) => a === '--log-level' || a === '--log.level');
  const level = i >= 0 ? argv[i + 1] : (argv.find((a) => /^--log[.-]level=/.test(a))?.split('=')[1] ?? io.env.CAMGATE_LOG_LEVEL);
  return level === 'debug' || level === 'trace';
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const state: { exitCode: number; ctx?: CommandContext } = { exitCode: EXIT_OK };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(argv, { from: 'node' });
    return state.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" only to commander.
      // (a command group without its subcommand shows help with exit code 1: that is a usage error).
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const code = err instanceof CamgateError ? err.exitCode : EXIT_FAILURE;
    const message = err instanceof Error ? err.message : String(err);
    const scrub = (text: string) => terminalSafe(redactText(text, state.ctx?.scrubber));
    for (const line of message.split('\n')) io.stderr.write(scrub(`camgate: ${line}`) + '\n');
    if (wantsStack(argv, io) && err instanceof Error && err.stack) io.stderr.write(scrub(err.stack) + '\n');
    return code;
  }
}
