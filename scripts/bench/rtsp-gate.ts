// Benchmark: what the RTSP gate costs (drivers/rtsp/gate.ts: ffmpeg reaches a camera with a login
// through it, so the login never goes into ffmpeg's arguments). In the same run, side by side,
// ffmpeg pulling the camera directly (login in its URL, as the agent did before the gate) and
// ffmpeg pulling it through the gate.
//
//   npm run build:all && node dist/scripts/bench/rtsp-gate.js [--seconds 30] [--warmup 5] [--rounds 3] [--stream main|sub] [--json]
//
// Set-up: the camera simulator (one camera, RTSP Digest required, main stream 1920x1080@25 H.264
// ~4 Mbit/s, sub 640x360@15) on 127.142.0.2, nginx-rtmp (the centre) on 127.142.0.1, and the gate
// in a node process of its own (this script with --gate-child), so its CPU is measured apart
// from the bench's and the simulator's; in the agent it runs on the agent's main thread.
// Per round and kind, the two pulls start one after the other (the order alternates by round):
//   relay: the agent's copy relay arguments (relayArgs) to rtmp://…/live/<direct|gate>;
//          first picture = spawn → first -progress block with frame ≥ 1.
//   live:  the live view's MSE pull arguments (mseArgs) to stdout;
//          first picture = spawn → first fMP4 media fragment on stdout.
// Then, after --warmup s with both running, CPU over --seconds (per thread from schedstat) of
// each ffmpeg and of the gate process. The gate process's idle CPU is measured once first.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { startSimulator } from '../sim/index';
import { startRtmpServer } from '../peers/media-server';
import { RtspGate } from '../../drivers/rtsp/gate';
import { relayArgs } from '../../agent/video/relay/args';
import { mseArgs } from '../../agent/video/live/args';
import { Fmp4Splitter } from '../../agent/video/live/fmp4';
import { ProgressParser } from '../../agent/ffmpeg/progress';
import { withCredentials } from '../../lib/url';
import { CpuWindow, FFMPEG, pctOfCore, percentile, round1, round3, sleep, stopChild, table } from './video-rig';

const LOGIN = { username: 'admin', password: 'admin123' };

/** --gate-child: an RtspGate on 127.0.0.1; stdin lines {"url": …} → stdout lines with a link. */
async function gateChild(): Promise<void> {
  const gate = new RtspGate({ connectTimeoutMs: 5000 });
  await gate.listen();
  process.stdout.write(`READY ${gate.port}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const { url } = JSON.parse(line) as { url: string };
    process.stdout.write(`${gate.pass({ url, credentials: LOGIN, label: 'bench' })}\n`);
  });
  lines.on('close', () => void gate.close().then(() => process.exit(0)));
}

interface GateProcess {
  pid: number;
  link(url: string): Promise<string>;
  stop(): Promise<void>;
}

async function startGateProcess(): Promise<GateProcess> {
  const child = spawn(process.execPath, [__filename, '--gate-child'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  const ready = await next();
  if (!ready.startsWith('READY ')) throw new Error(`gate child: ${ready}`);
  return {
    pid: child.pid!,
    link: (url) => {
      const answer = next();
      child.stdin.write(`${JSON.stringify({ url })}\n`);
      return answer;
    },
    stop: async () => {
      child.stdin.end();
      await stopChild(child);
    },
  };
}

interface Pull {
  child: ChildProcess;
  /** ms from spawn to the first picture out. */
  firstPicture: Promise<number>;
}

function startRelay(input: string, target: string): Pull {
  const args = ['-progress', 'pipe:3', '-stats_period', '0.2', ...relayArgs({ inputUrl: input, timeoutMs: 5000, target, video: { codec: 'copy' } })];
  const t0 = performance.now();
  const child = spawn(FFMPEG, args, { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const parser = new ProgressParser();
  const firstPicture = new Promise<number>((resolve, reject) => {
    child.stdio[3]!.on('data', (chunk: Buffer) => {
      for (const block of parser.push(chunk)) if ((block.frame ?? 0) >= 1) resolve(performance.now() - t0);
    });
    child.once('exit', (code) => reject(new Error(`relay ffmpeg exited (${code}) before its first frame`)));
  });
  return { child, firstPicture };
}

function startLive(input: string): Pull {
  const t0 = performance.now();
  const child = spawn(FFMPEG, ['-nostdin', ...mseArgs(input)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const splitter = new Fmp4Splitter();
  const firstPicture = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      for (const out of splitter.push(chunk)) if (out.kind === 'fragment') resolve(performance.now() - t0);
    });
    child.once('exit', (code) => reject(new Error(`live ffmpeg exited (${code}) before its first fragment`)));
  });
  return { child, firstPicture };
}

interface Row {
  round: number;
  kind: 'relay' | 'live';
  first: 'direct' | 'gate';
  directFirstMs: number;
  gateFirstMs: number;
  directCpu: number;
  gatedCpu: number;
  gateCpu: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'gate-child': { type: 'boolean', default: false },
      seconds: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      stream: { type: 'string', default: 'main' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values['gate-child']) return gateChild();
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const rounds = Number(values.rounds);
  const stream = values.stream === 'sub' ? 'sub' : 'main';
  const sim = await startSimulator({ cameras: [{ host: '127.142.0.2' }], rtspAuth: true });
  const rtmp = await startRtmpServer({ host: '127.142.0.1' });
  const gate = await startGateProcess();
  const rows: Row[] = [];
  try {
    const camera = sim.cameras[0].rtspUrl(1, stream);
    const idle = new CpuWindow([gate.pid]);
    await sleep(3000);
    const gateIdlePct = pctOfCore(idle.delta(gate.pid), idle.wallMs());
    for (let round = 1; round <= rounds; round++) {
      for (const kind of ['relay', 'live'] as const) {
        const first: Row['first'] = round % 2 === 1 ? 'direct' : 'gate';
        const start = async (how: 'direct' | 'gate'): Promise<Pull> => {
          const input = how === 'direct' ? withCredentials(camera, LOGIN) : await gate.link(camera);
          return kind === 'relay' ? startRelay(input, `${rtmp.url(`${how}${round}`)}`) : startLive(input);
        };
        const pulls: Partial<Record<'direct' | 'gate', Pull>> = {};
        const firstMs: Partial<Record<'direct' | 'gate', number>> = {};
        try {
          for (const how of first === 'direct' ? (['direct', 'gate'] as const) : (['gate', 'direct'] as const)) {
            pulls[how] = await start(how);
            firstMs[how] = await pulls[how].firstPicture;
          }
          await sleep(warmup * 1000);
          const direct = pulls.direct!.child.pid!;
          const gated = pulls.gate!.child.pid!;
          const w = new CpuWindow([direct, gated, gate.pid]);
          await sleep(seconds * 1000);
          const wall = w.wallMs();
          rows.push({
            round,
            kind,
            first,
            directFirstMs: firstMs.direct!,
            gateFirstMs: firstMs.gate!,
            directCpu: pctOfCore(w.delta(direct), wall),
            gatedCpu: pctOfCore(w.delta(gated), wall),
            gateCpu: pctOfCore(w.delta(gate.pid), wall),
          });
          process.stderr.write(`round ${round} ${kind}: ${JSON.stringify(rows[rows.length - 1])}\n`);
        } finally {
          await Promise.all(Object.values(pulls).map((p) => stopChild(p.child)));
        }
      }
    }
    const median = (kind: Row['kind'], f: (r: Row) => number) => percentile(rows.filter((r) => r.kind === kind).map(f), 50);
    const summary = (['relay', 'live'] as const).map((kind) => ({
      kind,
      firstPictureRatio: round3(median(kind, (r) => r.gateFirstMs / r.directFirstMs)),
      firstPictureExtraMs: round1(median(kind, (r) => r.gateFirstMs - r.directFirstMs)),
      cpuRatio: round3(median(kind, (r) => (r.gatedCpu + r.gateCpu - gateIdlePct) / r.directCpu)),
      gatePctOfCore: round3(median(kind, (r) => r.gateCpu - gateIdlePct)),
    }));
    const out = {
      machine: { cores: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg().map(round1) },
      stream,
      gateIdlePct: round3(gateIdlePct),
      rows,
      summary,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    else {
      process.stdout.write(
        `${table(
          ['round', 'kind', 'first', 'first picture direct / gate (ms)', 'direct ffmpeg', 'gated ffmpeg', 'gate', '(gated + gate) / direct'],
          rows.map((r) => [
            r.round,
            r.kind,
            r.first,
            `${Math.round(r.directFirstMs)} / ${Math.round(r.gateFirstMs)}`,
            `${round3(r.directCpu)} %`,
            `${round3(r.gatedCpu)} %`,
            `${round3(r.gateCpu)} %`,
            round3((r.gatedCpu + r.gateCpu - gateIdlePct) / r.directCpu),
          ]),
        )}\n\ngate process idle: ${round3(gateIdlePct)} % of a core; medians: ${JSON.stringify(summary)}\n`,
      );
    }
  } finally {
    await gate.stop();
    await rtmp.stop();
    await sim.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
