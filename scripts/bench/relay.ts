// Benchmark: the copy relay's CPU against a bare `ffmpeg -c copy`, and 16 relays at once.
//
//   npm run build && node dist/scripts/bench/relay.js [--seconds 60] [--warmup 10] [--rounds 3]
//       [--relays 16] [--cameras 1] [--part a|b|both] [--json]
//
// Set-up: the camera simulator (1920x1080@25 H.264 ~4 Mbit/s main streams, GStreamer x264 in a
// Python grandchild of this process) on 127.83.0.x, an inventory holding it, Mosquitto and
// nginx-rtmp (the centre) on 127.83.0.1, and `camgate run` as a child process (health off),
// driven by cmd/stream-start / stream-stop / stream-list over MQTT like the centre does.
//
// (a) per round: a bare `ffmpeg -hide_banner -nostdin -rtsp_transport tcp -i URL -c copy -an -f
//     flv rtmp://…/live/bare` and the agent's copy relay of the same camera stream (…/live/relay)
//     run side by side; after --warmup s, CPU (utime+stime from /proc/<pid>/stat) of both ffmpeg
//     processes and of the agent process over the same --seconds window. Rounds alternate which
//     one starts first. The agent's idle CPU (no relay) is measured once at the end.
// (b) --relays copy relays at once (targets live/r01…), spread over --cameras simulated cameras
//     (the simulator encodes every camera's 1080p stream live: one camera is one x264 encode,
//     shared by every RTSP client of that stream), for --seconds: state, fps, restarts of each
//     relay from stream-list, total ffmpeg CPU, agent CPU, box load; one target pulled back.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { probeRtmp, startRtmpServer } from '../peers/media-server';
import {
  backgroundClient,
  camerasInInventory,
  cpuMs,
  CpuWindow,
  descendants,
  FFMPEG,
  ffmpegsUnder,
  pctOfCore,
  percentile,
  round1,
  round3,
  sleep,
  startAgentChild,
  startBroker,
  stopChild,
  table,
  type AgentChild,
} from './video-rig';
import os from 'node:os';

interface RelayRow {
  streamId: string;
  camera: string;
  state: string;
  fps: number | null;
  bitrateKbps: number | null;
  restarts: number;
  lastError?: string;
}

function readArgs() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      relays: { type: 'string', default: '16' },
      cameras: { type: 'string', default: '1' },
      part: { type: 'string', default: 'both' },
      json: { type: 'boolean', default: false },
    },
  });
  const part = String(values.part);
  if (!['a', 'b', 'both'].includes(part)) throw new Error('--part is a, b or both');
  return {
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    rounds: Number(values.rounds),
    relays: Number(values.relays),
    cameras: Math.max(1, Number(values.cameras)),
    part,
    json: values.json === true,
  };
}

async function list(agent: AgentChild): Promise<RelayRow[]> {
  const r = await agent.command('stream-list', {});
  if (!r.ok) throw new Error(`stream-list failed: ${JSON.stringify(r.error)}`);
  return (r.result!.relays as RelayRow[]) ?? [];
}

async function startRelay(agent: AgentChild, camera: string, target: string): Promise<string> {
  const r = await agent.command('stream-start', { camera, stream: 'main', target, profile: 'copy' });
  if (!r.ok) throw new Error(`stream-start ${camera} → ${target} failed: ${JSON.stringify(r.error)}`);
  return String(r.result!.streamId);
}

async function waitRunning(agent: AgentChild, streamIds: string[], ms = 30_000): Promise<RelayRow[]> {
  const until = Date.now() + ms;
  for (;;) {
    const rows = (await list(agent)).filter((r) => streamIds.includes(r.streamId));
    if (rows.length === streamIds.length && rows.every((r) => r.state === 'running')) return rows;
    if (Date.now() > until) throw new Error(`relays not running after ${ms} ms: ${JSON.stringify(rows)}`);
    await sleep(250);
  }
}

/** pid of the ffmpeg the agent started last (the one not in `before`). */
async function newFfmpeg(agentPid: number, before: number[], ms = 10_000): Promise<number> {
  const until = Date.now() + ms;
  for (;;) {
    const added = ffmpegsUnder(agentPid).filter((p) => !before.includes(p));
    if (added.length === 1) return added[0];
    if (added.length > 1) throw new Error(`more than one new ffmpeg under the agent: ${added.join(', ')}`);
    if (Date.now() > until) throw new Error('no ffmpeg appeared under the agent');
    await sleep(50);
  }
}

function startBare(url: string, target: string): ChildProcess {
  return spawn(FFMPEG, ['-hide_banner', '-nostdin', '-rtsp_transport', 'tcp', '-i', url, '-c', 'copy', '-an', '-f', 'flv', target], { stdio: 'ignore' });
}

async function main(): Promise<void> {
  const args = readArgs();
  const hosts = Array.from({ length: args.cameras }, (_, i) => `127.83.0.${i + 2}`);
  const { sim, dataDir, ids } = await camerasInInventory(hosts.map((host) => ({ host })));
  const rtmp = await startRtmpServer({ host: '127.83.0.1' });
  const broker = await startBroker('127.83.0.1');
  let agent: AgentChild | undefined;
  const out: Record<string, unknown> = {
    machine: { cores: os.cpus().length, model: os.cpus()[0]?.model, loadavgAtStart: os.loadavg().map(round1) },
  };
  try {
    agent = await startAgentChild({
      dataDir,
      brokerUrl: broker.url,
      webHost: '127.83.0.1',
      site: 'bench-relay',
      // 16 main streams at ~4 Mbit/s: over the default 20 Mbit/s budget (see docs/benchmarks.md).
      extra: ['--video.relay.budget-kbps', '0', '--video.relay.max-relays', String(Math.max(16, args.relays))],
    });
    const gst = () =>
      descendants(process.pid)
        .filter((p) => p.comm.startsWith('python') || p.comm.startsWith('gst'))
        .map((p) => p.pid);
    const camera = ids[hosts[0]];
    const url = sim.cameras[0].rtspUrl(1, 'main');

    await sleep(5000); // the agent's start-up settles (its idle CPU is measured at the end)

    if (args.part !== 'b') {
      const rounds = [];
      for (let i = 0; i < args.rounds; i++) {
        const bareFirst = i % 2 === 0;
        let bare: ChildProcess | undefined;
        let relayPid = 0;
        let streamId = '';
        const startB = async () => {
          bare = startBare(url, rtmp.url('bare'));
        };
        const startR = async () => {
          const before = ffmpegsUnder(agent!.pid);
          streamId = await startRelay(agent!, camera, rtmp.url('relay'));
          relayPid = await newFfmpeg(agent!.pid, before);
          await waitRunning(agent!, [streamId]);
        };
        if (bareFirst) {
          await startB();
          await sleep(1000);
          await startR();
        } else {
          await startR();
          await sleep(1000);
          await startB();
        }
        await sleep(args.warmup * 1000);
        const gstPids = gst();
        const w = new CpuWindow([bare!.pid!, relayPid, agent.pid, ...gstPids]);
        await sleep(args.seconds * 1000);
        const wall = w.wallMs();
        const bareMs = w.delta(bare!.pid!);
        const relayMs = w.delta(relayPid);
        const agentMs = w.delta(agent.pid);
        const gstMs = gstPids.reduce((n, p) => n + (w.delta(p) || 0), 0);
        const boxPct = w.boxBusyPct();
        const rows = await list(agent);
        const row = rows.find((r) => r.streamId === streamId);
        const stillSame = ffmpegsUnder(agent.pid).includes(relayPid) && bare!.exitCode === null;
        const r = {
          round: i + 1,
          startedFirst: bareFirst ? 'bare' : 'relay',
          windowS: round1(wall / 1000),
          bareCpuPct: round3(pctOfCore(bareMs, wall)),
          relayFfmpegCpuPct: round3(pctOfCore(relayMs, wall)),
          agentCpuPct: round3(pctOfCore(agentMs, wall)),
          ratioFfmpeg: round3(relayMs / bareMs),
          ratioWithAgent: round3((relayMs + agentMs) / bareMs),
          ratioFfmpegTicks: round3(w.deltaTicks(relayPid) / w.deltaTicks(bare!.pid!)),
          relayFps: row?.fps ?? null,
          relayKbps: row?.bitrateKbps ?? null,
          relayRestarts: row?.restarts ?? null,
          bothRanThroughout: stillSame,
          simulatorCpuPct: round1(pctOfCore(gstMs, wall)),
          boxBusyPct: round1(boxPct),
        };
        rounds.push(r);
        if (!args.json) console.log(`round ${r.round}: ${JSON.stringify(r)}`);
        await agent.command('stream-stop', { streamId });
        await stopChild(bare!);
        await sleep(2000);
      }
      const ratios = rounds.map((r) => r.ratioFfmpeg);
      const withAgent = rounds.map((r) => r.ratioWithAgent);
      out.a = {
        seconds: args.seconds,
        warmup: args.warmup,
        rounds,
        ratioFfmpeg: { min: Math.min(...ratios), median: percentile(ratios, 50), max: Math.max(...ratios) },
        ratioWithAgent: { min: Math.min(...withAgent), median: percentile(withAgent, 50), max: Math.max(...withAgent) },
        target: 'relay CPU within 10% of bare ffmpeg -c copy (ratio ≤ 1.10)',
        metFfmpegOnly: rounds.every((r) => r.ratioFfmpeg <= 1.1),
        metWithAgent: rounds.every((r) => r.ratioWithAgent <= 1.1),
      };
      if (!args.json) {
        console.log(
          table(
            ['round', 'first', 'bare ffmpeg %', 'relay ffmpeg %', 'agent %', 'relay/bare', '(relay+agent)/bare', 'relay fps', 'box busy %', 'simulator %'],
            rounds.map((r) => [
              r.round,
              r.startedFirst,
              r.bareCpuPct,
              r.relayFfmpegCpuPct,
              r.agentCpuPct,
              r.ratioFfmpeg,
              r.ratioWithAgent,
              r.relayFps ?? '-',
              r.boxBusyPct,
              r.simulatorCpuPct,
            ]),
          ),
        );
      }
    }

    if (args.part !== 'a') {
      const n = args.relays;
      const streamIds: string[] = [];
      const t0 = Date.now();
      const bg = backgroundClient(url); // keeps camera 1's encoder running between the starts (not counted)
      await sleep(1000);
      for (let i = 0; i < n; i++) {
        const cam = ids[hosts[i % hosts.length]];
        streamIds.push(await startRelay(agent, cam, rtmp.url(`r${String(i + 1).padStart(2, '0')}`)));
      }
      await waitRunning(agent, streamIds, 60_000);
      const allRunningMs = Date.now() - t0;
      await sleep(args.warmup * 1000);
      const ff = ffmpegsUnder(agent.pid);
      const gstPids = gst();
      const w = new CpuWindow([agent.pid, ...ff, ...gstPids]);
      const samples: Array<{ running: number; fps: number[] }> = [];
      const until = Date.now() + args.seconds * 1000;
      while (Date.now() < until) {
        await sleep(5000);
        const rows = (await list(agent)).filter((r) => streamIds.includes(r.streamId));
        samples.push({ running: rows.filter((r) => r.state === 'running').length, fps: rows.map((r) => r.fps ?? 0) });
      }
      const wall = w.wallMs();
      const ffMs = ff.map((p) => w.delta(p));
      const agentMs = w.delta(agent.pid);
      const gstMs = gstPids.reduce((s, p) => s + (w.delta(p) || 0), 0);
      const boxPct = w.boxBusyPct();
      const rows = (await list(agent)).filter((r) => streamIds.includes(r.streamId));
      const pulled = await probeRtmp(rtmp.url(`r${String(n).padStart(2, '0')}`), { packets: 50, timeoutMs: 20_000 }).catch((e: Error) => ({
        error: e.message,
      }));
      const fpsAll = samples.flatMap((s) => s.fps);
      out.b = {
        relays: n,
        cameras: hosts.length,
        seconds: args.seconds,
        allRunningAfterMs: allRunningMs,
        ffmpegProcesses: ff.length,
        minRunningInSamples: Math.min(...samples.map((s) => s.running)),
        samples: samples.length,
        fps: { min: round1(Math.min(...fpsAll)), median: round1(percentile(fpsAll, 50)), max: round1(Math.max(...fpsAll)) },
        restarts: rows.reduce((s, r) => s + r.restarts, 0),
        stateAtEnd: rows.map((r) => r.state),
        ffmpegCpuPctTotal: round1(
          pctOfCore(
            ffMs.reduce((a, b) => a + b, 0),
            wall,
          ),
        ),
        ffmpegCpuPctEach: { min: round3(pctOfCore(Math.min(...ffMs), wall)), max: round3(pctOfCore(Math.max(...ffMs), wall)) },
        agentCpuPct: round3(pctOfCore(agentMs, wall)),
        simulatorCpuPct: round1(pctOfCore(gstMs, wall)),
        boxBusyPct: round1(boxPct),
        pulledBack: pulled,
        kbps: rows.map((r) => r.bitrateKbps),
      };
      if (!args.json) console.log(`16 relays: ${JSON.stringify(out.b)}`);
      await agent.command('stream-stop', { camera });
      for (const h of hosts.slice(1)) await agent.command('stream-stop', { camera: ids[h] });
      await stopChild(bg);
    }
    // The agent idle (no relay, no viewer), for reference.
    {
      await sleep(3000);
      const w = new CpuWindow([agent.pid]);
      await sleep(10_000);
      out.agentIdlePctOfCore = round3(pctOfCore(w.delta(agent.pid), w.wallMs()));
      // The relay's share of the agent: its CPU in the round less what it uses idle.
      const a = out.a as { rounds: Array<{ agentCpuPct: number; relayFfmpegCpuPct: number; bareCpuPct: number; ratioWithAgentOverIdle?: number }> } | undefined;
      for (const r of a?.rounds ?? []) {
        r.ratioWithAgentOverIdle = round3((r.relayFfmpegCpuPct + Math.max(0, r.agentCpuPct - (out.agentIdlePctOfCore as number))) / r.bareCpuPct);
      }
      if (a && !args.json) console.log(`(relay ffmpeg + agent over idle) / bare: ${a.rounds.map((r) => r.ratioWithAgentOverIdle).join(', ')}`);
    }
    out.agentCpuTotalMs = cpuMs(agent.pid);
    if (args.json) console.log(JSON.stringify(out, null, 2));
    else console.log(JSON.stringify(out));
  } finally {
    await agent?.stop();
    await broker.stop();
    await rtmp.stop();
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
