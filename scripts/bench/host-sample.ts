// Benchmark: what one HostSampler.sample() costs, and what the systeminformation calls
// it avoids would cost.
//
//   npx tsc -p tsconfig.json && node dist/scripts/bench/host-sample.js [options]
//     --samples 50        samples per mode (after one warm-up sample, reported separately)
//     --interval-ms 600   pause between samples (not measured). ≥ 500 so systeminformation's
//                         own short caches (currentLoad 200 ms, networkStats 500 ms) do not hide
//                         its cost
//     --modes linux,si    HostSampler modes to measure ('si' loads the real systeminformation)
//     --si-calls          also measure each systeminformation call on its own (default on; --no-si-calls)
//     --dir DIR           data directory whose file system is measured (default: the temp dir)
//   Run node with --expose-gc for the RSS figures (a full GC before each reading).
//
// Per sample it reports: wall time; this process's CPU time (process.cpuUsage); CPU time of
// child processes (cutime + cstime from /proc/self/stat, i.e. children that exited and were
// reaped: every one systeminformation starts); child_process calls made (exec/execFile/spawn and
// their Sync forms, wrapped before anything loads systeminformation; a shell pipeline is one
// call but several processes); processes created system-wide (last-PID delta from /proc/loadavg:
// counts the shell's own children too, but also whatever else the machine runs, so noisy); and
// the longest the event loop was blocked (largest gap between ticks of a 1 ms interval timer,
// minus 1 ms), which execSync-based calls inflate. Prints one JSON document.

// The module object itself (not an import binding), so the spy can replace its functions.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const childProcess = require('node:child_process') as Record<string, (...args: unknown[]) => unknown>;

// --- count child_process calls (before systeminformation is loaded anywhere) ---------------
const spawnLog: string[] = [];
let depth = 0;
for (const name of ['exec', 'execSync', 'execFile', 'execFileSync', 'spawn', 'spawnSync', 'fork']) {
  const original = childProcess[name];
  childProcess[name] = function (this: unknown, ...args: unknown[]) {
    // exec calls execFile through module.exports: count the outermost call only
    if (depth === 0) spawnLog.push(`${name}: ${String(args[0]).replace(/\s+/g, ' ').slice(0, 70)}`);
    depth++;
    try {
      return original.apply(this, args);
    } finally {
      depth--;
    }
  };
}

import { readFileSync } from 'node:fs';
import { cpus, loadavg, networkInterfaces, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { HostSampler, type HostSample, type SiSubset } from '../../agent/health/host/sample';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '50' },
    'interval-ms': { type: 'string', default: '600' },
    modes: { type: 'string', default: 'linux,si' },
    'si-calls': { type: 'boolean', default: true },
    'no-si-calls': { type: 'boolean', default: false },
    dir: { type: 'string' },
  },
});
const SAMPLES = Number(args.samples);
const INTERVAL_MS = Number(args['interval-ms']);
const DIR = args.dir ?? tmpdir();
/** The first interface with a non-internal IPv4 address (what mode 'si' asks networkStats for). */
const IFACE = Object.entries(networkInterfaces()).find(([, addrs]) => addrs?.some((a) => a.family === 'IPv4' && !a.internal))?.[0] ?? 'eth0';

/** CPU ms of reaped children (cutime + cstime), from /proc/self/stat; null off Linux. */
function childCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after the command: state(0) … utime(11) stime(12) cutime(13) cstime(14), in clock ticks (USER_HZ = 100)
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    return null;
  }
}

function lastPid(): number | null {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').trim().split(' ').pop());
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Cost {
  wallMs: number;
  cpuMs: number;
  childCpuMs: number | null;
  spawnCalls: number;
  pidsCreated: number | null;
  loopBlockedMs: number;
}

async function measureOnce(fn: () => Promise<unknown>): Promise<Cost> {
  const spawns0 = spawnLog.length;
  const child0 = childCpuMs();
  const pid0 = lastPid();
  // longest gap between ticks of a 1 ms interval timer = longest time the loop was blocked
  let lastTick = process.hrtime.bigint();
  let maxGapNs = 0n;
  const ticker = setInterval(() => {
    const now = process.hrtime.bigint();
    if (now - lastTick > maxGapNs) maxGapNs = now - lastTick;
    lastTick = now;
  }, 1);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  // a loop blocked by execSync at the very end shows up when the timer next fires: let it fire
  await sleep(5);
  clearInterval(ticker);
  // children are reaped asynchronously (exec): let their exit be collected before reading cutime
  await sleep(50);
  const child1 = childCpuMs();
  const pid1 = lastPid();
  return {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    childCpuMs: child0 === null || child1 === null ? null : child1 - child0,
    spawnCalls: spawnLog.length - spawns0,
    pidsCreated: pid0 === null || pid1 === null ? null : Math.max(0, pid1 - pid0),
    // minus the timer's own 1 ms period
    loopBlockedMs: Math.max(0, Number(maxGapNs) / 1e6 - 1),
  };
}

function summarize(costs: Cost[]) {
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const sorted = costs.map((c) => c.wallMs).sort((a, b) => a - b);
  const child = costs.map((c) => c.childCpuMs).filter((x): x is number => x !== null);
  const pids = costs.map((c) => c.pidsCreated).filter((x): x is number => x !== null);
  const cpuMs = mean(costs.map((c) => c.cpuMs)) + mean(child);
  return {
    n: costs.length,
    wallMsMean: r2(mean(costs.map((c) => c.wallMs))),
    wallMsP95: r2(sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)] ?? 0),
    cpuMsMean: r2(mean(costs.map((c) => c.cpuMs))),
    childCpuMsMean: child.length ? r2(mean(child)) : null,
    spawnCallsPerSample: r2(mean(costs.map((c) => c.spawnCalls))),
    pidsCreatedPerSample: pids.length ? r2(mean(pids)) : null,
    loopBlockedMsMax: r2(Math.max(0, ...costs.map((c) => c.loopBlockedMs))),
    /** (own + children CPU) at one sample per minute, as % of one core. */
    cpuPercentAtOnePerMinute: Math.round((cpuMs / 60_000) * 100 * 10_000) / 10_000,
  };
}

function rssMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

async function benchMode(mode: 'linux' | 'si') {
  const rss0 = rssMb();
  const sampler = new HostSampler({ dataDir: DIR, mode, logger: { warn: (o, m) => console.error('warn', m, JSON.stringify(o)) } });
  const spawnsBefore = spawnLog.length;
  let last: HostSample | null = null;
  const first = await measureOnce(async () => {
    last = await sampler.sample();
  });
  await sleep(INTERVAL_MS);
  const costs: Cost[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    costs.push(
      await measureOnce(async () => {
        last = await sampler.sample();
      }),
    );
    await sleep(INTERVAL_MS);
  }
  return {
    first: summarize([first]),
    steady: summarize(costs),
    commands: [...new Set(spawnLog.slice(spawnsBefore))],
    rssDeltaMb: Math.round((rssMb() - rss0) * 10) / 10,
    lastSample: last,
  };
}

async function benchSiCalls(si: SiSubset) {
  const calls: Record<string, () => Promise<unknown>> = {
    'mem()': () => si.mem(),
    'currentLoad()': () => si.currentLoad(),
    'fsSize()': () => si.fsSize(),
    'cpuTemperature()': () => si.cpuTemperature(),
    'networkInterfaces(true)': () => si.networkInterfaces(true),
    'networkInterfaces(false), cached': () => si.networkInterfaces(false),
    [`networkStats('${IFACE}')`]: () => si.networkStats(IFACE),
  };
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(calls)) {
    await fn(); // warm-up (currentLoad's first call waits 500 ms)
    await sleep(INTERVAL_MS);
    const costs: Cost[] = [];
    const n = name.startsWith('networkInterfaces(true)') ? Math.min(5, SAMPLES) : Math.min(10, SAMPLES);
    const spawnsBefore = spawnLog.length;
    for (let i = 0; i < n; i++) {
      costs.push(await measureOnce(fn));
      await sleep(INTERVAL_MS);
    }
    const s = summarize(costs);
    out[name] = {
      wallMsMean: s.wallMsMean,
      cpuMsMean: s.cpuMsMean,
      childCpuMsMean: s.childCpuMsMean,
      spawnCallsPerCall: s.spawnCallsPerSample,
      pidsCreatedPerCall: s.pidsCreatedPerSample,
      loopBlockedMsMax: s.loopBlockedMsMax,
      commands: [...new Set(spawnLog.slice(spawnsBefore))].slice(0, 6),
    };
  }
  return out;
}

async function main(): Promise<void> {
  const modes = String(args.modes)
    .split(',')
    .map((m) => m.trim())
    .filter((m): m is 'linux' | 'si' => m === 'linux' || m === 'si');
  const result: Record<string, unknown> = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    dataDir: DIR,
    samples: SAMPLES,
    intervalMs: INTERVAL_MS,
    modes: {},
    gc: typeof (globalThis as { gc?: unknown }).gc === 'function',
  };
  const wantSiCalls = args['si-calls'] && !args['no-si-calls'];
  let si: SiSubset | null = null;
  const loadSi = (): SiSubset => {
    if (si) return si;
    const rss0 = rssMb();
    const t0 = process.hrtime.bigint();
    si = require('systeminformation') as SiSubset;
    result.siRequire = { ms: Math.round(Number(process.hrtime.bigint() - t0) / 1e4) / 100, rssDeltaMb: Math.round((rssMb() - rss0) * 10) / 10 };
    return si;
  };
  // noise floor of the machine: the same measurement around nothing
  const idle: Cost[] = [];
  for (let i = 0; i < Math.min(20, SAMPLES); i++) {
    idle.push(await measureOnce(async () => undefined));
    await sleep(INTERVAL_MS / 4);
  }
  const floor = summarize(idle);
  result.baselineNoop = {
    loopBlockedMsMax: floor.loopBlockedMsMax,
    pidsCreatedPerSample: floor.pidsCreatedPerSample,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
  for (const mode of modes) {
    if (mode === 'linux' && process.platform !== 'linux') continue;
    if (mode === 'si') loadSi();
    (result.modes as Record<string, unknown>)[mode] = await benchMode(mode);
  }
  if (wantSiCalls) result.siCalls = await benchSiCalls(loadSi());
  console.log(JSON.stringify(result, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
