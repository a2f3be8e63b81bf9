// Benchmark: discover and identify N simulated cameras by unicast range probe with
// the real CLI, then measure the agent's RSS with those cameras in its inventory.
//
//   npm run build && node dist/scripts/bench/discover.js [--count 256] [--subnet 127.60.0.0] [--timeout 3000]
//
// camgate is started through its launcher (bin/camgate.js, whose shebang sets the V8 heap
// flags), as an installed `camgate` runs.
// The simulator runs in its own process (like cameras on a LAN, it must not share the agent's
// event loop); both run on the same 2-core box, so the figure includes the simulator's CPU.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(__dirname, '..', '..', '..');
const camgate = join(root, 'bin', 'camgate.js');
const simCli = join(root, 'dist', 'scripts', 'sim', 'cli.js');

interface Args {
  count: number;
  subnet: string;
  timeoutMs: number;
  rssSeconds: number;
}

function readArgs(): Args {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '256' },
      subnet: { type: 'string', default: '127.60.0.0' },
      timeout: { type: 'string', default: '3000' },
      'rss-seconds': { type: 'string', default: '10' },
    },
  });
  return {
    count: Number(values.count),
    subnet: String(values.subnet),
    timeoutMs: Number(values.timeout),
    rssSeconds: Number(values['rss-seconds']),
  };
}

/** Starts the simulator CLI and resolves with its device list once it printed it. */
function startSimulator(args: Args): Promise<{ child: ChildProcess; hosts: string[]; startupMs: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [simCli, '--count', String(args.count), '--subnet', args.subnet, '--no-rtsp', '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      try {
        const parsed = JSON.parse(out) as { cameras: Array<{ host: string }>; startupMs: { devices: number } };
        resolvePromise({ child, hosts: parsed.cameras.map((c) => c.host), startupMs: parsed.startupMs.devices });
      } catch {
        // not all of it yet
      }
    });
    child.once('exit', (code) => reject(new Error(`simulator exited early with code ${code}`)));
  });
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) : NaN;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
}

async function measureAgentRss(dataDir: string, seconds: number): Promise<{ peakKb: number; lastKb: number; cpuPct: number }> {
  const agent = spawn(camgate, ['run', '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  let peakKb = 0;
  let lastKb = 0;
  await new Promise((r) => setTimeout(r, 1000));
  const ticks0 = cpuTicks(agent.pid!);
  const t0 = Date.now();
  for (let i = 0; i < seconds * 4; i++) {
    if (agent.exitCode !== null) throw new Error(`agent exited with code ${agent.exitCode} during the RSS measurement`);
    lastKb = rssKb(agent.pid!);
    peakKb = Math.max(peakKb, lastKb);
    await new Promise((r) => setTimeout(r, 250));
  }
  const cpuPct = ((cpuTicks(agent.pid!) - ticks0) / 100 / ((Date.now() - t0) / 1000)) * 100;
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  return { peakKb, lastKb, cpuPct };
}

async function main(): Promise<void> {
  const args = readArgs();
  const dataDir = mkdtempSync(join(tmpdir(), 'camgate-bench-'));
  const sim = await startSimulator(args);
  try {
    const range = `${sim.hosts[0]}-${sim.hosts[sim.hosts.length - 1]}`;
    const t0 = process.hrtime.bigint();
    // GNU time reports the discover process's peak RSS on stderr's last line.
    const run = spawnSync(
      '/usr/bin/time',
      [
        '-f',
        'maxrss_kb=%M',
        camgate,
        'discover',
        '--range',
        range,
        '--no-multicast',
        '--json',
        '--timeout',
        String(args.timeoutMs),
        '--data-dir',
        dataDir,
        '--username',
        'admin',
      ],
      { env: { ...process.env, CAMGATE_PASSWORD: 'admin123' }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
    );
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (run.status !== 0 && run.status !== 1) throw new Error(`camgate discover failed (${run.status}): ${run.stderr}`);
    const result = JSON.parse(run.stdout) as { devices: Array<{ ok: boolean; channels?: unknown[] }> };
    const identified = result.devices.filter((d) => d.ok).length;
    const discoverPeakKb = Number(/maxrss_kb=(\d+)/.exec(run.stderr)?.[1] ?? NaN);
    const cameras = result.devices.reduce((n, d) => n + (d.channels?.length ?? 0), 0);
    const rss = await measureAgentRss(dataDir, args.rssSeconds);
    const report = {
      devices: args.count,
      simulatorStartupMs: sim.startupMs,
      discoverTimeoutMs: args.timeoutMs,
      discoverWallMs: Math.round(wallMs),
      found: result.devices.length,
      identified,
      camerasInLedger: cameras,
      discoverRssPeakMB: +(discoverPeakKb / 1024).toFixed(1),
      agentRssPeakMB: +(rss.peakKb / 1024).toFixed(1),
      agentRssLastMB: +(rss.lastKb / 1024).toFixed(1),
      agentIdleCpuPct: +rss.cpuPct.toFixed(2),
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    sim.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
