// Shared set-up of the video benchmarks (relay.ts, live.ts): simulated cameras in an
// inventory, a Mosquitto broker (the centre's commands), `camgate run` as a child process (as
// installed, so its CPU is its own: /proc/<pid>/stat), cmd/stream-* over MQTT, and /proc CPU
// readers for the agent, its ffmpeg children and any other process.
// Every listener is on a loopback address the caller chooses (127.83.0.0/16 belongs to these benches).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startSimulator } from '../sim/index';
import type { SimCameraSpec, Simulator } from '../sim/types';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { openDriver } from '../../drivers/index';

export const root = resolve(__dirname, '..', '..', '..');
export const camgateBin = join(root, 'bin', 'camgate.js');
export const FFMPEG = process.env.FFMPEG_BIN ?? 'ffmpeg';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// --- /proc ------------------------------------------------------------------------------------

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
export const HZ = 100;

/** utime + stime of a process (all its threads), in ms; NaN when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / HZ;
  } catch {
    return NaN;
  }
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
}

export function procs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = readFileSync(`/proc/${e}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const ppid = Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
      out.push({ pid: Number(e), ppid, comm });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Every descendant of `pid` (children, grandchildren…). */
export function descendants(pid: number, all: ProcInfo[] = procs()): ProcInfo[] {
  const out: ProcInfo[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const c of all) {
      if (c.ppid === p) {
        out.push(c);
        queue.push(c.pid);
      }
    }
  }
  return out;
}

/** ffmpeg processes under `pid` (the agent's relays and pulls; setpriv execs ffmpeg in place). */
export function ffmpegsUnder(pid: number): number[] {
  return descendants(pid)
    .filter((p) => p.comm === 'ffmpeg')
    .map((p) => p.pid);
}

/** Busy and total jiffies of the whole box (/proc/stat), for "how loaded was the box". */
export function boxTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = line[3] + line[4];
  return { busy: total - idle, total };
}

/** On-CPU time of each thread of a process, ns (/proc/<pid>/task/<tid>/schedstat: exact, not
 * rounded to 10 ms ticks like utime+stime). Empty when the process is gone. */
export function threadNs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      out.set(Number(tid), Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      /* thread gone */
    }
  }
  return out;
}

/** CPU of a set of pids over a window: snapshot now, delta later. Per thread from schedstat (ns);
 * a thread born in the window counts whole, one that died in it loses its share (ffmpeg's and
 * node's threads live as long as the process, so this is exact here). */
export class CpuWindow {
  private readonly start = new Map<number, Map<number, number>>();
  private readonly ticks0 = new Map<number, number>();
  private readonly box0 = boxTicks();
  private readonly t0 = performance.now();
  constructor(pids: number[]) {
    for (const p of pids) {
      this.start.set(p, threadNs(p));
      this.ticks0.set(p, cpuMs(p));
    }
  }
  /** ms of CPU used by `pid` since the start (NaN when it is gone or was not there at the start). */
  delta(pid: number): number {
    const s = this.start.get(pid);
    const now = threadNs(pid);
    if (!s || s.size === 0 || now.size === 0) return NaN;
    let ns = 0;
    for (const [tid, v] of now) ns += v - (s.get(tid) ?? 0);
    return ns / 1e6;
  }
  /** The same from utime+stime (10 ms ticks; includes threads that died), for a cross-check. */
  deltaTicks(pid: number): number {
    return cpuMs(pid) - (this.ticks0.get(pid) ?? NaN);
  }
  wallMs(): number {
    return performance.now() - this.t0;
  }
  /** Whole-box busy share over the window, % of all cores. */
  boxBusyPct(): number {
    const b = boxTicks();
    return (100 * (b.busy - this.box0.busy)) / (b.total - this.box0.total);
  }
}

/** CPU ms over wall ms as % of one core. */
export const pctOfCore = (cpu: number, wallMs: number) => (100 * cpu) / wallMs;

// --- small stats ------------------------------------------------------------------------------

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const round1 = (n: number) => Math.round(n * 10) / 10;
export const round3 = (n: number) => Math.round(n * 1000) / 1000;

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [line(cells[0]), '| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |', ...cells.slice(1).map(line)].join('\n');
}

// --- peers ------------------------------------------------------------------------------------

export async function freePort(host: string): Promise<number> {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.on('error', rej);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => res(port));
    });
  });
}

async function waitListening(host: string, port: number, ms: number, what: string, alive: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ host, port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (!alive()) throw new Error(`${what} exited before listening on ${host}:${port}`);
    if (Date.now() > until) throw new Error(`${what} did not listen on ${host}:${port}`);
    await sleep(50);
  }
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      r();
    });
    child.kill(signal);
  });
}

/** Mosquitto on `host` (anonymous, no persistence), stopped by its PID. */
export async function startBroker(host: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort(host);
  const dir = mkdtempSync(join(tmpdir(), 'camgate-bench-mqtt-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} ${host}`, 'allow_anonymous true', 'persistence false', 'log_dest none', ''].join('\n'));
  const child = spawn(process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
  await waitListening(host, port, 10_000, 'mosquitto', () => child.exitCode === null);
  return {
    url: `mqtt://${host}:${port}`,
    pid: child.pid!,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Simulated cameras and an inventory (data dir) holding them, as `camgate discover` would leave it. */
export async function camerasInInventory(specs: SimCameraSpec[]): Promise<{ sim: Simulator; dataDir: string; ids: Record<string, string> }> {
  const sim = await startSimulator({ cameras: specs });
  const dataDir = mkdtempSync(join(tmpdir(), 'camgate-bench-video-'));
  const db = openDatabase(dataDir);
  const ids: Record<string, string> = {};
  try {
    for (const s of specs) {
      const d = openDriver({ kind: 'onvif', host: s.host, port: 80 }, { username: 'admin', password: 'admin123' }, { timeoutMs: 5000 });
      try {
        ids[s.host] = upsertDeviceReport(db, await d.report(), { now: new Date() }).cameras[0].id;
      } finally {
        d.close();
      }
    }
  } finally {
    db.close();
  }
  return { sim, dataDir, ids };
}

export interface AgentChild {
  pid: number;
  child: ChildProcess;
  site: string;
  /** The live page, http://host:port/ */
  webUrl: string;
  /** Sends cmd/<name> and resolves with the reply's payload. */
  command(name: string, args: Record<string, unknown>, timeoutMs?: number): Promise<{ ok: boolean; result?: Record<string, unknown>; error?: unknown }>;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * `camgate run` (bin/camgate.js, with its V8 flags) as a child: health off, the live page on
 * `webHost`, the given extra flags; waits until the page answers and the agent's MQTT session is up.
 */
export async function startAgentChild(opts: { dataDir: string; brokerUrl: string; webHost: string; site: string; extra?: string[] }): Promise<AgentChild> {
  const webPort = await freePort(opts.webHost);
  const args = [
    'run',
    '--data-dir',
    opts.dataDir,
    '--log-level',
    'warn',
    '--site.id',
    opts.site,
    '--broker.urls',
    opts.brokerUrl,
    '--health.enabled',
    'false',
    '--web.host',
    opts.webHost,
    '--web.port',
    String(webPort),
    ...(opts.extra ?? []),
  ];
  const env = { ...process.env, CAMGATE_PASSWORD: 'admin123', CAMGATE_CAMERAS_USERNAME: 'admin' };
  const child = spawn(camgateBin, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString('utf8');
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const client: MqttClient = await mqtt.connectAsync(opts.brokerUrl, { protocolVersion: 5 });
  const waiting = new Map<string, (p: Record<string, unknown>) => void>();
  let online = false;
  client.on('message', (topic, payload) => {
    let p: Record<string, unknown>;
    try {
      p = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    if (topic.endsWith('/status') || topic.endsWith('/state')) online = true;
    if (!/\/reply(\/|$)/.test(topic)) return;
    for (const k of ['messageId', 'correlationId', 'requestId']) {
      const id = p[k];
      if (typeof id === 'string' && waiting.has(id)) {
        waiting.get(id)!(p);
        waiting.delete(id);
      }
    }
  });
  await client.subscribeAsync(`camgate/v1/${opts.site}/#`, { qos: 1 });
  try {
    await waitListening(opts.webHost, webPort, 30_000, 'camgate run', () => child.exitCode === null);
  } catch (e) {
    await stopChild(child);
    await client.endAsync();
    throw new Error(`${(e as Error).message}: ${err.slice(-2000)}`, { cause: e });
  }
  let n = 0;
  const command: AgentChild['command'] = async (name, cmdArgs, timeoutMs = 30_000) => {
    const messageId = `bench-${process.pid}-${++n}`;
    const reply = new Promise<Record<string, unknown>>((res, rej) => {
      const t = setTimeout(() => {
        waiting.delete(messageId);
        rej(new Error(`no reply to ${name} within ${timeoutMs} ms (agent stderr: ${err.slice(-1000)})`));
      }, timeoutMs);
      waiting.set(messageId, (p) => {
        clearTimeout(t);
        res(p);
      });
    });
    await client.publishAsync(`camgate/v1/${opts.site}/cmd/${name}`, JSON.stringify({ schemaVersion: 1, messageId, args: cmdArgs }), { qos: 1 });
    return (await reply) as { ok: boolean; result?: Record<string, unknown>; error?: unknown };
  };
  // The command subscription is in place once a command is answered.
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await command('stream-list', {}, 2000);
      if (r) break;
    } catch (e) {
      if (Date.now() > until) throw e;
    }
  }
  void online;
  return {
    pid: child.pid!,
    child,
    site: opts.site,
    webUrl: `http://${opts.webHost}:${webPort}/`,
    command,
    stderr: () => err,
    async stop() {
      await stopChild(child, 'SIGTERM', 10_000);
      await client.endAsync();
    },
  };
}

/** A plain RTSP client that keeps a camera's stream (and so the simulator's encoder) running. */
export function backgroundClient(url: string): ChildProcess {
  return spawn(FFMPEG, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-c', 'copy', '-f', 'null', '-'], {
    stdio: 'ignore',
  });
}
