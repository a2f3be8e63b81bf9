// Benchmark: health monitoring of N simulated devices (mixed vendors, NVRs included).
//
//   npm run build && node dist/scripts/bench/health.js [--count 256] [--subnet 127.66.0.0]
//        [--sweeps 3] [--run-seconds 180] [--offline 10]
//
// 1. sweep: the monitor's own sweepNow (TCP reachability + ONVIF clock per device, RTSP DESCRIBE
//    of main and sub per camera) over the whole inventory, in this process, `--sweeps` times.
// 2. run: `camgate run` (through its launcher, as installed) with the same inventory, default
//    health intervals and a real Mosquitto, for `--run-seconds`; the agent process's own RSS
//    and CPU (utime+stime of the agent pid only: ffmpeg children are not in it) are sampled
//    every second, ffmpeg children counted.
// 3. offline alarms: during the run, `--offline` devices are taken off the network one at a
//    time at random moments; the time from that moment to their camera-offline event at the
//    broker is measured (target: within the reachability interval + 2 s).
// The simulator (with its GStreamer RTSP server) runs on the same 2-core box.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { startSimulator } from '../sim/index';
import { loopbackHosts } from '../sim/model';
import { SIM_VENDORS } from '../sim/vendors';
import { agentConfig } from '../../agent/config/spec';
import { openDatabase } from '../../agent/inventory/open';
import { listCameras } from '../../agent/inventory/cameras';
import { HealthMonitor } from '../../agent/health/monitor';
import { defaultHealthProbes } from '../../agent/health/probes';
import { startMosquitto } from '../peers/mosquitto';

const root = resolve(__dirname, '..', '..', '..');
const camgate = join(root, 'bin', 'camgate.js');

function procStat(pid: number): { ticks: number; rssKb: number; anonKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  // RSS = anonymous memory (JS heap, malloc, buffers) + file-backed pages (node binary, .so files).
  const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return { ticks: Number(stat[11]) + Number(stat[12]), rssKb, anonKb: Number(/RssAnon:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) };
}

function ffmpegChildren(pid: number): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = /\((.*)\)/.exec(stat)?.[1];
      const ppid = Number(stat.split(') ')[1].split(' ')[1]);
      if (ppid === pid && comm === 'ffmpeg') n++;
    } catch {
      /* gone */
    }
  }
  return n;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '256' },
      subnet: { type: 'string', default: '127.66.0.0' },
      sweeps: { type: 'string', default: '3' },
      'run-seconds': { type: 'string', default: '180' },
      offline: { type: 'string', default: '10' },
    },
  });
  const count = Number(values.count);
  const hosts = loopbackHosts(String(values.subnet), count);
  const sim = await startSimulator({ cameras: hosts.map((host, i) => ({ host, vendor: SIM_VENDORS[i % SIM_VENDORS.length] })) });
  const dataDir = mkdtempSync(join(tmpdir(), 'camgate-bench-health-'));
  const broker = await startMosquitto();
  try {
    const env = { ...process.env, CAMGATE_PASSWORD: 'admin123', CAMGATE_CAMERAS_USERNAME: 'admin' };
    // Asynchronous: the simulator lives in this process and must keep answering.
    const disc = await new Promise<{ status: number | null; stderr: string }>((resolvePromise) => {
      const child = spawn(
        camgate,
        [
          'discover',
          '--range',
          `${hosts[0]}-${hosts[hosts.length - 1]}`,
          '--no-multicast',
          '--json',
          '--data-dir',
          dataDir,
          // Discovery only fills the ledger here (its own figures come from bench:discover): time
          // enough that a box loaded by other work does not fail the run before the agent starts.
          '--timeout',
          '60000',
          '--onvif.timeout-ms',
          '15000',
          '--username',
          'admin',
        ],
        {
          env,
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.once('exit', (status) => resolvePromise({ status, stderr }));
    });
    if (disc.status !== 0) throw new Error(`discover failed (${disc.status}): ${disc.stderr.slice(-2000)}`);

    // 1. sweeps, in this process.
    const db = openDatabase(dataDir);
    const cameras = listCameras(db).length;
    if (cameras === 0) throw new Error(`discover stored no camera: ${disc.stderr.slice(-2000)}`);
    const { config } = agentConfig.load({ env: {} });
    const monitor = new HealthMonitor({
      db,
      config: { ...config.health, pictureIntervalSec: 0, streamIntervalSec: 0, statusIntervalSec: 0, reachIntervalSec: 3600 },
      probes: defaultHealthProbes(config.health),
      sink: { event: async () => 0, status: async () => 0 },
      credentialsFor: () => ({ username: 'admin', password: 'admin123' }),
    });
    const sweeps: Array<{ wallMs: number; cpuMs: number; online: number; streamsOk: number; streamsFailed: number }> = [];
    for (let i = 0; i < Number(values.sweeps); i++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const statuses = await monitor.sweepNow(undefined, { streams: true });
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const streams = statuses.flatMap((s) => s.streams ?? []).filter((s) => Date.parse(s.checkedAt) >= Date.now() - wallMs - 1000);
      sweeps.push({
        wallMs: Math.round(wallMs),
        cpuMs: Math.round((cpu.user + cpu.system) / 1000),
        online: statuses.filter((s) => s.state === 'online').length,
        streamsOk: streams.filter((s) => s.ok).length,
        streamsFailed: streams.filter((s) => !s.ok).length,
      });
    }
    monitor.stop();
    db.close();

    // 2. + 3. the agent as installed, with a broker; offline alarms measured at the broker.
    const site = 'bench-health';
    const offlineAt = new Map<string, number>();
    const alarmLatencies: number[] = [];
    const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    await sub.subscribeAsync([`camgate/v1/${site}/events`, `camgate/v1/${site}/metrics`], { qos: 1 });
    const eventsSeen: Record<string, number> = {};
    let lastAgentMetrics: unknown = null;
    sub.on('message', (topic, payload) => {
      const e = JSON.parse(payload.toString('utf8')) as { type: string; camera?: string; historical?: boolean; agent?: unknown };
      if (topic.endsWith('/metrics')) {
        lastAgentMetrics = e.agent;
        return;
      }
      eventsSeen[e.type] = (eventsSeen[e.type] ?? 0) + 1;
      if (e.type !== 'camera-offline' || !e.camera) return;
      for (const [host, at] of offlineAt) {
        if (e.camera.length > 0 && hostOfCamera.get(e.camera) === host && !answered.has(host)) {
          answered.add(host);
          alarmLatencies.push(Date.now() - at);
        }
      }
    });
    const hostOfCamera = new Map<string, string>();
    {
      const db2 = openDatabase(dataDir);
      for (const c of listCameras(db2)) hostOfCamera.set(c.id, c.device.host);
      db2.close();
    }
    const answered = new Set<string>();
    const agent = spawn(camgate, ['run', '--data-dir', dataDir, '--log-level', 'warn', '--site.id', site, '--broker.urls', broker.url, '--web.port', '0'], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const runSeconds = Number(values['run-seconds']);
    const samples: Array<{ t: number; ticks: number; rssKb: number; anonKb: number; ffmpeg: number }> = [];
    const victims = sim.cameras.filter((c) => c.spec.vendor !== 'nvr').slice(0, Number(values.offline));
    const plan = victims.map((c, i) => ({ camera: c, at: 20 + ((runSeconds - 50) * (i + Math.random())) / victims.length }));
    const t0 = Date.now();
    for (let s = 0; s < runSeconds; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}`);
      const st = procStat(agent.pid!);
      samples.push({ t: Date.now() - t0, ticks: st.ticks, rssKb: st.rssKb, anonKb: st.anonKb, ffmpeg: ffmpegChildren(agent.pid!) });
      for (const p of plan) {
        if (p.at <= (Date.now() - t0) / 1000 && !offlineAt.has(p.camera.spec.host)) {
          await p.camera.setOnline(false);
          offlineAt.set(p.camera.spec.host, Date.now());
        }
      }
    }
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    await sub.endAsync();
    const cpuPct = ((samples[samples.length - 1].ticks - samples[0].ticks) / 100 / ((samples[samples.length - 1].t - samples[0].t) / 1000)) * 100;
    // Steady state: after the start-up burst (first picture of every camera) is over.
    const steady = samples.filter((x) => x.t >= samples[samples.length - 1].t - 60_000);
    const steadyPct = ((steady[steady.length - 1].ticks - steady[0].ticks) / 100 / ((steady[steady.length - 1].t - steady[0].t) / 1000)) * 100;
    const lat = [...alarmLatencies].sort((a, b) => a - b);
    const peak = samples.reduce((a, b) => (b.rssKb > a.rssKb ? b : a));
    console.log(
      JSON.stringify(
        {
          devices: count,
          cameras,
          sweeps,
          run: {
            seconds: runSeconds,
            rssPeakMB: +(peak.rssKb / 1024).toFixed(1),
            // At the peak sample: anonymous (heap, malloc, buffers) vs file-backed (binaries, shared libraries).
            rssPeakAnonMB: +(peak.anonKb / 1024).toFixed(1),
            rssPeakFileMB: +((peak.rssKb - peak.anonKb) / 1024).toFixed(1),
            rssPeakAtSec: Math.round(peak.t / 1000),
            rssLastMB: +(samples[samples.length - 1].rssKb / 1024).toFixed(1),
            cpuPctOfOneCoreWholeRun: +cpuPct.toFixed(2),
            cpuPctOfOneCoreLast60s: +steadyPct.toFixed(2),
            ffmpegMax: Math.max(...samples.map((x) => x.ffmpeg)),
            events: eventsSeen,
            lastAgentMetrics,
          },
          offlineAlarms: {
            devicesTakenOffline: offlineAt.size,
            alarmed: lat.length,
            latencyMs: lat.length ? { min: lat[0], p50: pct(lat, 50), max: lat[lat.length - 1] } : null,
            targetMs: config.health.reachIntervalSec * 1000 + 2000,
          },
        },
        null,
        2,
      ),
    );
  } finally {
    await broker.stop();
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
