// Shared helpers for the agent tests: temp dirs, running the CLI (spawned or in-process),
// and DeviceReport builders.
import { resolve } from 'node:path';
import { spawn } from 'node:child_process';
import type { CliIo } from '../../agent/cli/io';
import type { DriversApi } from '../../drivers/api';
import { main } from '../../agent/cli/main';

export const BIN = resolve(__dirname, '../../../bin/camgate.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns `node bin/camgate.js ...args` with a clean CAMGATE_* environment. */
export function runCli(args: string[], options: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAMGATE_') && v !== undefined) env[k] = v;
  Object.assign(env, options.env ?? {});
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs main() in this process with captured output and injected drivers. */
export async function runMain(
  args: string[],
  options: { env?: Record<string, string>; drivers?: DriversApi; stdin?: string; stop?: Promise<string> } = {},
): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: options.env ?? {},
    readStdin: () => options.stdin ?? '',
    stdinIsTTY: false,
    stderrIsTTY: false,
    stderrHasColors: false,
    confirm: async () => false,
    waitForStop: () => options.stop ?? Promise.resolve('SIGTERM'),
    drivers: () => {
      if (!options.drivers) throw new Error('no drivers injected');
      return options.drivers;
    },
  };
  const code = await main(['node', 'camgate', ...args], io);
  return { code, stdout, stderr };
}
