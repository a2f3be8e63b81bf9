// Shared helpers for the agent tests: temp dirs, running the CLI (spawned or in-process),
// and DeviceReport builders.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import type { DeviceReport, ChannelReport } from '../../drivers/types';
import type { CliIo } from '../../agent/cli/io';
import type { DriversApi } from '../../drivers/api';
import { main } from '../../agent/cli/main';

export const BIN = resolve(__dirname, '../../../bin/camgate.js');

/** A password that must never show up anywhere but where it belongs. */
export const PLANTED = 'Pl4nted-S3cret-9f27c';

export function tempDir(t: { after(fn: () => void): void }, prefix = 'camgate-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

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

export function channel(n: number, host: string, extra: Partial<ChannelReport> = {}): ChannelReport {
  return {
    channel: n,
    videoSourceToken: `vs${n}`,
    profiles: [
      {
        token: `p${n}main`,
        name: 'main',
        codec: 'H264',
        width: 1920,
        height: 1080,
        fps: 25,
        streamUri: `rtsp://${host}:554/ch${n}/main`,
        snapshotUri: `http://${host}/snap/${n}`,
      },
      { token: `p${n}sub`, name: 'sub', codec: 'H264', width: 640, height: 360, fps: 15, streamUri: `rtsp://${host}:554/ch${n}/sub` },
    ],
    ...extra,
  };
}

export function report(overrides: Partial<DeviceReport> & { host: string }): DeviceReport {
  const host = overrides.host;
  return {
    driver: 'onvif',
    port: 80,
    url: `http://${host}/onvif/device_service`,
    endpointUuid: 'urn:uuid:11111111-2222-3333-4444-555555555555',
    identity: { manufacturer: 'Acme', model: 'IPC-100', firmware: '1.00', serial: 'SN0001', hardwareId: '88', mac: '44:19:b6:00:00:01' },
    isNvr: false,
    channels: [channel(1, host)],
    clock: { deviceUtc: new Date().toISOString(), offsetMs: 1200 },
    scopes: ['onvif://www.onvif.org/name/Acme'],
    ...overrides,
  };
}
