// A stand-in for the agent, for the orphan tests (ffmpeg-orphans.test.ts): starts ffmpeg
// processes, prints their pids as one JSON line on stdout, then waits to be SIGKILLed.
//
//   node ffmpeg-orphan-child.js supervisor <setpriv|plain>
//     an FfmpegSupervisor (default launcher, or plain spawn for the control case) supervising
//     two long-running ffmpeg (lavfi test source, -re; progress 'pipe' and progress 'stdout')
//     and one spawnOnce run (no output on any pipe, so nothing but the kernel can end it)
//   node ffmpeg-orphan-child.js wrapper <setpriv|plain> <dir> <rtsp-url>
//     node-rtsp-stream's Mpeg1Muxer spawning the wrapper from writeFfmpegWrapper()
import pino from 'pino';
import { createLaunch, writeFfmpegWrapper } from '../../../agent/ffmpeg/launch';
import { locateFfmpeg } from '../../../agent/ffmpeg/locate';
import { FfmpegSupervisor } from '../../../agent/ffmpeg/supervisor';
import type { SupervisedProcess } from '../../../agent/ffmpeg/types';

const [mode, protection, dir, url] = process.argv.slice(2);
const binary = locateFfmpeg({ env: process.env });
const setprivPath = protection === 'plain' ? null : undefined;
const SOURCE = ['-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-t', '600'];

function report(pids: number[]): void {
  process.stdout.write(`${JSON.stringify({ pids })}\n`);
  // Stay alive until killed.
  setInterval(() => undefined, 1 << 30);
}

function running(p: SupervisedProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const s = p.stats();
      if (s.state === 'running' && s.pid !== undefined) resolve(s.pid);
      else if (s.state === 'failed' || s.state === 'retrying') reject(new Error(`${p.label}: ${s.state}: ${s.lastError}`));
    };
    p.onState(check);
    check();
  });
}

async function supervisorMode(): Promise<void> {
  const sup = new FfmpegSupervisor({
    binary,
    launch: createLaunch(binary, { setprivPath }),
    defaults: { stallTimeoutMs: 30_000, restartMinMs: 1000, restartMaxMs: 30_000 },
    logger: pino({ level: 'silent' }),
  });
  const relay = sup.supervise({
    label: 'orphan test relay',
    kind: 'relay',
    progress: 'pipe',
    args: () => [...SOURCE, '-c:v', 'mpeg1video', '-f', 'null', '-'],
  });
  const live = sup.supervise({
    label: 'orphan test live',
    kind: 'live',
    progress: 'stdout',
    args: () => [...SOURCE, '-c:v', 'mpeg1video', '-f', 'mpegts', 'pipe:1'],
    onStdout: () => undefined,
  });
  const once = sup.spawnOnce('ffmpeg', ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'error', ...SOURCE, '-f', 'null', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  once.stdout?.resume();
  once.stderr?.resume();
  const pids = await Promise.all([running(relay), running(live)]);
  if (once.pid === undefined) throw new Error('spawnOnce: no pid');
  report([...pids, once.pid]);
}

async function wrapperMode(): Promise<void> {
  if (!dir || !url) throw new Error('wrapper mode needs <dir> <rtsp-url>');
  const wrapper = writeFfmpegWrapper(dir, binary, { setprivPath });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Mpeg1Muxer = require('node-rtsp-stream/mpeg1muxer') as new (o: {
    ffmpegPath: string;
    url: string;
  }) => NodeJS.EventEmitter & { stream: { pid?: number } };
  const muxer = new Mpeg1Muxer({ ffmpegPath: wrapper, url });
  let stderr = '';
  muxer.on('ffmpegStderr', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  muxer.on('exitWithError', () => {
    process.stderr.write(`ffmpeg exited: ${stderr}\n`);
    process.exit(3);
  });
  await new Promise<void>((resolve) => muxer.once('mpeg1data', () => resolve()));
  if (muxer.stream.pid === undefined) throw new Error('Mpeg1Muxer: no pid');
  report([muxer.stream.pid]);
}

(mode === 'wrapper' ? wrapperMode() : supervisorMode()).catch((err: unknown) => {
  process.stderr.write(`orphan child: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
