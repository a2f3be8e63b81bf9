// Benchmark: a full health sweep of N simulated devices: TCP reach + ONVIF clock per
// device, RTSP DESCRIBE of the main and the sub stream per camera (every channel of an NVR),
// `--concurrency` probes in flight, `--rounds` sweeps. Target: 256 devices in under 5 s.
//
//   npm run build && node dist/scripts/bench/probe-sweep.js [--count 256] [--subnet 127.74.0.0]
//       [--vendor mix|generic|...] [--concurrency 32] [--rounds 3] [--timeout 2000] [--rtsp-auth] [--json]
//
// The simulator runs in its own process (like cameras on a LAN it must not share the prober's
// event loop); its RTSP server is a Python/GStreamer grandchild. CPU and RSS figures are this
// process's (the prober's); the simulator's CPU is reported beside them. Both share the box.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { checkClock } from '../../agent/health/probes/clock';
import { checkStream } from '../../agent/health/probes/describe';
import { checkReach } from '../../agent/health/probes/reach';
import type { ProbeError } from '../../agent/health/types';
import { mapWithConcurrency } from '../../lib/concurrency';

const root = resolve(__dirname, '..', '..', '..');
const simCli = join(root, 'dist', 'scripts', 'sim', 'cli.js');

interface Args {
  count: number;
  subnet: string;
  vendor: string;
  concurrency: number;
  rounds: number;
  timeoutMs: number;
  rtspAuth: boolean;
  json: boolean;
}

interface SimCamera {
  host: string;
  httpPort: number;
  vendor: string;
  channels: number;
  username: string;
  password: string;
  deviceUrl: string;
  streams: Array<{ channel: number; main: string; sub: string }>;
}

type Kind = 'reach' | 'clock' | 'describe';

interface Task {
  kind: Kind;
  label: string;
  run: () => Promise<{ ok: boolean; latencyMs: number | null; error?: ProbeError }>;
}

function readArgs(): Args {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '256' },
      subnet: { type: 'string', default: '127.74.0.0' },
      vendor: { type: 'string', default: 'mix' },
      concurrency: { type: 'string', default: '32' },
      rounds: { type: 'string', default: '3' },
      timeout: { type: 'string', default: '2000' },
      'rtsp-auth': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  return {
    count: Number(values.count),
    subnet: String(values.subnet),
    vendor: String(values.vendor),
    concurrency: Number(values.concurrency),
    rounds: Number(values.rounds),
    timeoutMs: Number(values.timeout),
    rtspAuth: values['rtsp-auth'] === true,
    json: values.json === true,
  };
}

function startSimulator(args: Args): Promise<{ child: ChildProcess; cameras: SimCamera[]; rtspPort: number; startupMs: unknown }> {
  return new Promise((resolvePromise, reject) => {
    const argv = [simCli, '--count', String(args.count), '--subnet', args.subnet, '--vendor', args.vendor, '--rtsp-port', '0', '--json'];
    if (args.rtspAuth) argv.push('--rtsp-auth');
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      try {
        const parsed = JSON.parse(out) as { cameras: SimCamera[]; rtspPort: number; startupMs: unknown };
        resolvePromise({ child, cameras: parsed.cameras, rtspPort: parsed.rtspPort, startupMs: parsed.startupMs });
      } catch {
        // not all of it yet
      }
    });
    child.once('exit', (code) => reject(new Error(`simulator exited early with code ${code}`)));
  });
}

/** utime + stime of a process and its threads, ms (clock ticks are 10 ms here). */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      out.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

function tasksFor(cameras: SimCamera[], timeoutMs: number): Task[] {
  const tasks: Task[] = [];
  for (const c of cameras) {
    const credentials = { username: c.username, password: c.password };
    tasks.push({ kind: 'reach', label: `${c.host}:${c.httpPort}`, run: () => checkReach({ host: c.host, port: c.httpPort, timeoutMs }) });
    tasks.push({ kind: 'clock', label: c.deviceUrl, run: () => checkClock({ deviceUrl: c.deviceUrl, timeoutMs }) });
    for (const s of c.streams) {
      for (const stream of ['main', 'sub'] as const) {
        tasks.push({ kind: 'describe', label: s[stream], run: () => checkStream({ url: s[stream], stream, credentials, timeoutMs }) });
      }
    }
  }
  return tasks;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function sweep(tasks: Task[], concurrency: number) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const results = await mapWithConcurrency(tasks, concurrency, async (t) => ({ task: t, r: await t.run() }));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const failures = results.filter((x) => !x.r.ok);
  const latency: Record<string, { p50: number; p95: number; max: number }> = {};
  for (const kind of ['reach', 'clock', 'describe'] as Kind[]) {
    const l = results
      .filter((x) => x.task.kind === kind && x.r.latencyMs !== null)
      .map((x) => x.r.latencyMs!)
      .sort((a, b) => a - b);
    latency[kind] = { p50: percentile(l, 50), p95: percentile(l, 95), max: l[l.length - 1] ?? NaN };
  }
  return {
    wallMs: Math.round(wallMs),
    probes: tasks.length,
    probesPerSec: Math.round(tasks.length / (wallMs / 1000)),
    failures: failures.length,
    failureSamples: failures.slice(0, 5).map((x) => `${x.task.kind} ${x.task.label}: ${x.r.error?.code} ${x.r.error?.message}`),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
    latencyMs: latency,
  };
}

async function main(): Promise<void> {
  const args = readArgs();
  const sim = await startSimulator(args);
  const simPids = () => [sim.child.pid!, ...childrenOf(sim.child.pid!)];
  try {
    const tasks = tasksFor(sim.cameras, args.timeoutMs);
    const cameras = sim.cameras.reduce((n, c) => n + c.channels, 0);
    const counts = { reach: 0, clock: 0, describe: 0 };
    for (const t of tasks) counts[t.kind]++;
    const rounds = [];
    for (let i = 0; i < args.rounds; i++) {
      const simCpu0 = simPids().reduce((n, p) => n + cpuMsOf(p), 0);
      const r = await sweep(tasks, args.concurrency);
      const simCpuMs = simPids().reduce((n, p) => n + cpuMsOf(p), 0) - simCpu0;
      rounds.push({ round: i + 1, ...r, simulatorCpuMs: simCpuMs });
      if (!args.json) {
        const l = r.latencyMs;
        console.log(
          `sweep ${i + 1}: ${r.wallMs} ms wall, ${r.probes} probes, ${r.probesPerSec} probes/s, failures ${r.failures}, ` +
            `prober CPU ${r.cpuMs} ms, RSS ${r.rssMb} MB, simulator CPU ${simCpuMs} ms; ` +
            `p50/p95/max ms: reach ${l.reach.p50}/${l.reach.p95}/${l.reach.max}, clock ${l.clock.p50}/${l.clock.p95}/${l.clock.max}, ` +
            `describe ${l.describe.p50}/${l.describe.p95}/${l.describe.max}`,
        );
        for (const f of r.failureSamples) console.log(`  failed: ${f}`);
      }
    }
    const report = {
      devices: sim.cameras.length,
      cameras,
      vendor: args.vendor,
      rtspAuth: args.rtspAuth,
      probesPerSweep: counts,
      concurrency: args.concurrency,
      timeoutMs: args.timeoutMs,
      simulatorStartupMs: sim.startupMs,
      rounds,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      targetMs: 5000,
      met: rounds.every((r) => r.wallMs < 5000 && r.failures === 0),
    };
    if (args.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(
        `${report.devices} devices, ${cameras} cameras (${args.vendor}), per sweep ${counts.reach} reach + ${counts.clock} clock + ${counts.describe} DESCRIBE, ` +
          `concurrency ${args.concurrency}; peak RSS ${report.peakRssMb} MB; target < 5000 ms with 0 failures: ${report.met ? 'met' : 'NOT met'}`,
      );
    }
    process.exitCode = report.met ? 0 : 1;
  } finally {
    sim.child.kill('SIGTERM');
    await new Promise((r) => sim.child.once('exit', r));
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
