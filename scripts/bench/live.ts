// Benchmark: the live page in headless Chromium — first picture and camera-to-browser latency.
//
//   npm run build && node dist/scripts/bench/live.js [--rounds 10] [--seconds 30] [--stream sub|main]
//       [--jsmpeg] [--json]
//
// Set-up: simulated cameras with picture 'clock' (the wall clock in ms drawn into every frame as a
// bar code before encoding, scripts/sim/rtsp_server.py draw_clock) on 127.83.1.x in an inventory,
// Mosquitto on 127.83.1.1 (the agent wants a broker), `camgate run` as a child (health off, the live
// page on 127.83.1.1, web.lingerSec at its default 5 s) and Debian's Chromium through playwright-core.
// The simulator restarts a stream's media for every new RTSP session (a keyframe at once), which a
// real camera does not; for the first-picture rounds the camera is put behind rtsp_proxy.py (one
// upstream session re-served from a shared media that never restarts, kept busy by a background
// `ffmpeg -c copy -f null` client) and the ledger's stream URI points there: a new pull then gets
// the stream mid-GOP, like from a real camera.
//
// (a) first picture: Date.now() before page.goto(<page>?camera=<id>&stream=<s>) to the first frame
//     the page presents (live.js counts requestVideoFrameCallback; its time is performance.timeOrigin
//     + camgateLive.firstFrameAt, the same clock). cold: no pull running (the previous one has
//     ended after its linger), a random 0–2 s pause first so the open falls anywhere in the GOP;
//     once with the camera's ONVIF up (the agent asks for a keyframe: SetSynchronizationPoint) and
//     once with it off the network (the request fails; the pull waits for the next keyframe).
//     A third camera refuses SetSynchronizationPoint (ter:ActionNotSupported, GOP 2 s): cold rounds
//     on it, and last (d) again with the agent restarted with web.maxKeyframeIntervalSec 1 (its first
//     pull shortens the sub stream's GOP to 1 s over ONVIF; the camera then goes behind a fresh proxy).
//     warm: the pull still running (a page reload within web.lingerSec; the GOP cache serves it).
// (b) latency (straight from the simulator): --seconds of playback; on every presented frame
//     (requestVideoFrameCallback) the video is drawn at natural size into a canvas and the bar code
//     read: latency = Date.now() − the clock in the frame. The simulator's H.264 clock streams
//     carry a clean code only in keyframes, so the other frames' clocks are estimated from the
//     last clean one + the media time since (latencyInterpolatedMs). CPU of the agent, its ffmpeg
//     and Chromium over the window.
// (c) --jsmpeg: the same latency on an H.265 'clock' camera (main stream → JSMpeg: MPEG-1 at
//     web.fallbackWidth 640 on a canvas), read from the canvas on requestAnimationFrame; a frame
//     counts once, when its clock value first appears.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startChromium } from '../peers/chromium';
import { openDatabase } from '../../agent/inventory/open';
import {
  backgroundClient,
  camerasInInventory,
  CpuWindow,
  descendants,
  ffmpegsUnder,
  pctOfCore,
  percentile,
  root,
  round1,
  sleep,
  startAgentChild,
  startBroker,
  stopChild,
  table,
  type AgentChild,
} from './video-rig';

// Browser-side code runs in the page (page.evaluate); this project compiles without the DOM lib.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare const performance: any;
declare function requestAnimationFrame(cb: () => void): number;

/** Beyond the usual switches (scripts/peers/chromium.ts): the player starts without a click. */
const AUTOPLAY = ['--autoplay-policy=no-user-gesture-required'];

function readArgs() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '30' },
      stream: { type: 'string', default: 'sub' },
      jsmpeg: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const stream = String(values.stream);
  if (stream !== 'sub' && stream !== 'main') throw new Error('--stream is sub or main');
  const role: 'sub' | 'main' = stream;
  return { rounds: Number(values.rounds), seconds: Number(values.seconds), stream: role, jsmpeg: values.jsmpeg === true, json: values.json === true };
}

const summary = (xs: number[]) => ({
  n: xs.length,
  min: Math.round(Math.min(...xs)),
  p50: Math.round(percentile(xs, 50)),
  p95: Math.round(percentile(xs, 95)),
  max: Math.round(Math.max(...xs)),
});

/** Opens the page on a camera; resolves with ms from goto to the first presented frame. */
async function firstPicture(context: BrowserContext, url: string): Promise<{ page: Page; ms: number; inPageMs: number; mode: string }> {
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => window.camgateLive && window.camgateLive.firstFrameAt !== null, undefined, { timeout: 30_000, polling: 20 });
  const r = await page.evaluate(() => ({
    at: performance.timeOrigin + window.camgateLive.firstFrameAt,
    inPage: window.camgateLive.firstFrameMs,
    mode: window.camgateLive.mode,
  }));
  return { page, ms: r.at - t0, inPageMs: r.inPage, mode: r.mode };
}

interface LatencyResult {
  /** Frames whose bar code read cleanly: Date.now() at presentation − the clock in the frame. */
  lat: number[];
  /** MSE only: every presented frame, its clock estimated from the last clean frame + the media time between them. */
  latInterpolated: number[];
  unreadable: number;
  frames: number;
  jumps: number;
}

/**
 * Reads the clock bar code on every presented frame of #video (MSE, requestVideoFrameCallback) or
 * on every animation frame of #canvas (JSMpeg; a frame counts once, when its value first shows).
 * A reading counts only when the grey box around the code is intact and the reference cells are
 * far apart (a damaged code is "unreadable", not a wrong number).
 */
async function collectLatency(page: Page, source: 'video' | 'canvas', seconds: number): Promise<LatencyResult> {
  await page.evaluate((src) => {
    const el = document.getElementById(src);
    const c = document.createElement('canvas');
    const ctx = c.getContext('2d', { willReadFrequently: true });
    const out = (window.__bench = {
      lat: [] as number[],
      interp: [] as number[],
      unreadable: 0,
      frames: 0,
      last: -1,
      anchor: null as null | { v: number; mt: number },
      stop: false,
    });
    const TWO32 = 4294967296;
    const wrap = (d: number) => (d < -TWO32 / 2 ? d + TWO32 : d > TWO32 / 2 ? d - TWO32 : d);
    const read = (mediaTime: number | null) => {
      const now = Date.now();
      const w = src === 'video' ? el.videoWidth : el.width;
      const h = src === 'video' ? el.videoHeight : el.height;
      if (!w) return;
      const cell = Math.floor(w / 40);
      if (c.width !== w || c.height !== h) {
        c.width = w;
        c.height = h;
      }
      // the whole frame at natural size (a source rectangle of a video gave blank pixels in headless Chromium)
      ctx.drawImage(el, 0, 0, w, h);
      const box = ctx.getImageData(0, 0, 37 * cell, 3 * cell).data;
      const stride = 37 * cell * 4;
      // mean luma of the middle third of the cell at column cx, row cy (in cells)
      const lum = (cx: number, cy: number) => {
        let s = 0;
        let n = 0;
        const x0 = cx * cell + Math.floor(cell / 3);
        const x1 = cx * cell + Math.ceil((2 * cell) / 3);
        for (let y = cy * cell + Math.floor(cell / 3); y < cy * cell + Math.ceil((2 * cell) / 3); y++) {
          for (let x = x0; x < x1; x++) {
            const o = y * stride + x * 4;
            s += 0.299 * box[o] + 0.587 * box[o + 1] + 0.114 * box[o + 2];
            n++;
          }
        }
        return s / n;
      };
      out.frames++;
      const white = lum(1, 1);
      const black = lum(34, 1);
      // the grey (0.5) box around the code: above it, and left and right of it
      const grey = [lum(0, 0), lum(10, 0), lum(20, 0), lum(30, 0), lum(0, 1), lum(35, 1)];
      const clean = white - black > 80 && grey.every((g) => Math.abs(g - 128) < 40);
      let v = -1;
      if (clean) {
        const mid = (white + black) / 2;
        v = 0;
        for (let i = 1; i <= 32; i++) v = v * 2 + (lum(i + 1, 1) > mid ? 1 : 0);
      }
      if (src === 'canvas') {
        if (!clean) {
          out.unreadable++;
          return;
        }
        if (v === out.last) return; // the same frame again
        out.last = v;
      }
      if (clean) {
        const d = wrap((now % TWO32) - v);
        if (d < -100 || d > 60_000) {
          out.unreadable++;
        } else {
          out.lat.push(d);
          if (mediaTime !== null) out.anchor = { v, mt: mediaTime };
        }
      } else {
        out.unreadable++;
      }
      if (mediaTime !== null && out.anchor) {
        const est = out.anchor.v + (mediaTime - out.anchor.mt) * 1000;
        out.interp.push(wrap((now % TWO32) - est));
      }
    };
    if (src === 'video') {
      const onFrame = (_now: number, meta: { mediaTime: number }) => {
        if (out.stop) return;
        read(meta.mediaTime);
        el.requestVideoFrameCallback(onFrame);
      };
      el.requestVideoFrameCallback(onFrame);
    } else {
      const onRaf = () => {
        if (out.stop) return;
        read(null);
        requestAnimationFrame(onRaf);
      };
      requestAnimationFrame(onRaf);
    }
  }, source);
  await sleep(seconds * 1000);
  return page.evaluate(() => {
    const b = window.__bench;
    b.stop = true;
    return { lat: b.lat, latInterpolated: b.interp, unreadable: b.unreadable, frames: b.frames, jumps: window.camgateLive.jumps };
  });
}

/** An ffmpeg's arguments, credentials cut out. */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .join(' ')
      .replace(/\/\/[^/@\s]*@/g, '//')
      .trim();
  } catch {
    return '';
  }
}

function chromiumPids(): number[] {
  return descendants(process.pid)
    .filter((p) => /chrom/i.test(p.comm))
    .map((p) => p.pid);
}

async function playbackRun(agent: AgentChild, context: BrowserContext, url: string, source: 'video' | 'canvas', seconds: number) {
  const { page, mode } = await firstPicture(context, url);
  await sleep(3000); // past the start (the first GOP and the live-edge catch-up)
  const ff = ffmpegsUnder(agent.pid);
  const chrome = chromiumPids();
  const w = new CpuWindow([agent.pid, ...ff, ...chrome]);
  const r = await collectLatency(page, source, seconds);
  const wall = w.wallMs();
  const cpu = {
    agentPct: round1(pctOfCore(w.delta(agent.pid), wall)),
    ffmpegPct: round1(
      pctOfCore(
        ff.reduce((s, p) => s + (w.delta(p) || 0), 0),
        wall,
      ),
    ),
    ffmpegProcesses: ff.length,
    ffmpegPctTicks: round1(
      pctOfCore(
        ff.reduce((s, p) => s + (w.deltaTicks(p) || 0), 0),
        wall,
      ),
    ),
    ffmpegArgs: ff.map((p) => cmdline(p)),
    chromiumPct: round1(
      pctOfCore(
        chrome.reduce((s, p) => s + (w.delta(p) || 0), 0),
        wall,
      ),
    ),
    boxBusyPct: round1(w.boxBusyPct()),
  };
  await page.close();
  return {
    mode,
    framesRead: r.frames,
    framesWithClock: r.lat.length,
    unreadable: r.unreadable,
    fpsSeen: round1(r.lat.length / seconds),
    liveEdgeJumps: r.jumps,
    latencyMs: r.lat.length ? summary(r.lat) : null,
    ...(source === 'video' ? { latencyInterpolatedMs: r.latInterpolated.length ? summary(r.latInterpolated) : null } : {}),
    cpu,
  };
}

/** scripts/bench/rtsp_proxy.py: re-serves upstream streams from one shared media that never restarts (a real camera's behaviour). */
async function startProxy(host: string, mounts: Record<string, string>): Promise<{ url(path: string): string; child: ChildProcess }> {
  const child = spawn(
    '/usr/bin/python3',
    [join(root, 'scripts', 'bench', 'rtsp_proxy.py'), '--bind', host, '--port', '0', ...Object.entries(mounts).map(([k, v]) => `${k}=${v}`)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((res, rej) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /READY (\d+)/.exec(out);
      if (m) res(Number(m[1]));
    });
    child.once('exit', (code) => rej(new Error(`rtsp_proxy.py exited (${code})`)));
  });
  return { url: (path) => `rtsp://${host}:${port}${path}`, child };
}

/** Points a camera's main/sub stream URI in the ledger elsewhere (the agent reads it at every pull start). */
function setStreamUri(dataDir: string, cameraId: string, stream: 'main' | 'sub', uri: string): void {
  const db = openDatabase(dataDir);
  try {
    const row = db.prepare('SELECT profiles FROM cameras WHERE id = ?').get(cameraId) as { profiles: string };
    const profiles = JSON.parse(row.profiles) as Array<{ streamUri?: string }>;
    profiles[stream === 'main' ? 0 : 1].streamUri = uri;
    db.prepare('UPDATE cameras SET profiles = ? WHERE id = ?').run(JSON.stringify(profiles), cameraId);
  } finally {
    db.close();
  }
}

async function waitNoPull(agent: AgentChild, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (ffmpegsUnder(agent.pid).length > 0) {
    if (Date.now() > until) throw new Error('the live pull did not stop after its viewer left');
    await sleep(100);
  }
}

async function main(): Promise<void> {
  const args = readArgs();
  // 127.83.1.4: a camera that refuses SetSynchronizationPoint (ter:ActionNotSupported), as many cheap ones do.
  const specs = [
    { host: '127.83.1.2', picture: 'clock' as const },
    { host: '127.83.1.4', picture: 'clock' as const, keyframeRequests: false },
    ...(args.jsmpeg ? [{ host: '127.83.1.3', picture: 'clock' as const, codec: 'H265' as const }] : []),
  ];
  const { sim, dataDir, ids } = await camerasInInventory(specs);
  const broker = await startBroker('127.83.1.1');
  let agent: AgentChild | undefined;
  let browser: Browser | undefined;
  const direct = sim.cameras[0].rtspUrl(1, args.stream);
  const refusing = sim.cameras.find((c) => c.spec.host === '127.83.1.4')!;
  const refusingDirect = refusing.rtspUrl(1, args.stream);
  const proxy = await startProxy('127.83.1.1', { '/cam': direct, '/refusing': refusingDirect });
  // Keeps the proxy's upstream sessions and their shared media running all the time.
  const bgs = [backgroundClient(proxy.url('/cam')), backgroundClient(proxy.url('/refusing'))];
  const extraProxies: Array<{ child: ChildProcess }> = [];
  const out: Record<string, unknown> = {
    machine: { cores: os.cpus().length, model: os.cpus()[0]?.model, loadavgAtStart: os.loadavg().map(round1) },
    stream: args.stream,
  };
  try {
    agent = await startAgentChild({ dataDir, brokerUrl: broker.url, webHost: '127.83.1.1', site: 'bench-live' });
    browser = await startChromium({ args: AUTOPLAY });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const h264 = ids['127.83.1.2'];
    const url = `${agent.webUrl}?camera=${encodeURIComponent(h264)}&stream=${args.stream}`;
    // Chromium's first page (process start-up, code caches) is not a viewer's first picture: one round not counted.
    {
      const r = await firstPicture(context, url);
      await r.page.close();
      if (!args.json) console.log(`untimed first open (browser warm-up): ${Math.round(r.ms)} ms, mode ${r.mode}`);
    }

    // (a) cold, through the proxy (the stream runs on; the pull waits for the next keyframe), then
    // straight from the simulator (it restarts its media for a new session: a keyframe at once).
    const pulledFrom: Record<string, string[]> = {};
    const coldRounds = async (label: string, pageUrl = url): Promise<Array<{ ms: number; inPageMs: number }>> => {
      const rows: Array<{ ms: number; inPageMs: number }> = [];
      for (let i = 0; i < args.rounds; i++) {
        await waitNoPull(agent!);
        await sleep(Math.random() * 2000);
        const r = await firstPicture(context, pageUrl);
        rows.push({ ms: r.ms, inPageMs: r.inPageMs });
        if (i === 0) pulledFrom[label] = ffmpegsUnder(agent!.pid).map((p) => cmdline(p).replace(/.* -i (\S+) .*/, '$1'));
        if (r.mode !== 'mse') throw new Error(`expected MSE, got ${r.mode}`);
        await r.page.close();
        if (!args.json) console.log(`cold (${label}) ${i + 1}: ${Math.round(r.ms)} ms (in page, from open(): ${r.inPageMs} ms)`);
      }
      return rows;
    };
    await waitNoPull(agent);
    setStreamUri(dataDir, h264, args.stream, proxy.url('/cam'));
    const cold = await coldRounds('keyframe requested');
    // The same camera with its ONVIF service unreachable (RTSP stays up): the agent's
    // SetSynchronizationPoint fails, the pull waits for the encoder's next scheduled keyframe.
    await sim.cameras[0].setOnline(false);
    const coldSim = await coldRounds('no keyframe request');
    await sim.cameras[0].setOnline(true);
    // A camera that answers SetSynchronizationPoint with ter:ActionNotSupported (GOP 2 s).
    const refusingId = ids['127.83.1.4'];
    const refusingUrl = `${agent.webUrl}?camera=${encodeURIComponent(refusingId)}&stream=${args.stream}`;
    await waitNoPull(agent);
    setStreamUri(dataDir, refusingId, args.stream, proxy.url('/refusing'));
    const coldRefusing = await coldRounds('keyframe request refused', refusingUrl);
    // (a) warm: each page closes and the next opens within web.lingerSec, so the pull keeps running.
    const warm: Array<{ ms: number; inPageMs: number }> = [];
    {
      await waitNoPull(agent);
      let prev = (await firstPicture(context, url)).page;
      await sleep(2500);
      const pull = ffmpegsUnder(agent.pid);
      for (let i = 0; i < args.rounds; i++) {
        await prev.close();
        await sleep(Math.random() * 2000);
        const r = await firstPicture(context, url);
        const same = ffmpegsUnder(agent.pid);
        if (same.length !== 1 || same[0] !== pull[0]) throw new Error(`warm round ${i + 1}: the pull was restarted (${pull} → ${same})`);
        warm.push({ ms: r.ms, inPageMs: r.inPageMs });
        if (!args.json) console.log(`warm ${i + 1}: ${Math.round(r.ms)} ms (in page: ${r.inPageMs} ms)`);
        prev = r.page;
      }
      await prev.close();
    }
    out.firstPicture = {
      cold: summary(cold.map((x) => x.ms)),
      coldFromOpen: summary(cold.map((x) => x.inPageMs)),
      coldNoKeyframeRequest: summary(coldSim.map((x) => x.ms)),
      coldNoKeyframeRequestFromOpen: summary(coldSim.map((x) => x.inPageMs)),
      warm: summary(warm.map((x) => x.ms)),
      warmFromOpen: summary(warm.map((x) => x.inPageMs)),
      rawCold: cold.map((x) => Math.round(x.ms)),
      rawWarm: warm.map((x) => Math.round(x.ms)),
      rawColdNoKeyframeRequest: coldSim.map((x) => Math.round(x.ms)),
      coldRefused: summary(coldRefusing.map((x) => x.ms)),
      rawColdRefused: coldRefusing.map((x) => Math.round(x.ms)),
      pulledFrom,
      targetMs: 2000,
    };

    // (b) latency, MSE, straight from the simulator (no proxy hop)
    await waitNoPull(agent);
    setStreamUri(dataDir, h264, args.stream, direct);
    out.latencyMse = await playbackRun(agent, context, url, 'video', args.seconds);
    if (!args.json) console.log(`MSE latency: ${JSON.stringify(out.latencyMse)}`);

    // (c) latency, JSMpeg (H.265 main stream)
    if (args.jsmpeg) {
      await waitNoPull(agent);
      const jsUrl = `${agent.webUrl}?camera=${encodeURIComponent(ids['127.83.1.3'])}&stream=main`;
      out.latencyJsmpeg = await playbackRun(agent, context, jsUrl, 'canvas', args.seconds);
      if (!args.json) console.log(`JSMpeg latency: ${JSON.stringify(out.latencyJsmpeg)}`);
    }

    // (d) the same refusing camera with the opt-in web.maxKeyframeIntervalSec 1: the agent is
    // restarted with it; its first pull of the sub stream (straight from the simulator) shortens
    // the camera's sub-stream GOP to 1 s before ffmpeg starts (the camera restarts that stream, which
    // also ends the proxy's upstream session). Then the camera goes behind a fresh proxy and the
    // cold rounds run as before. Last, so the GOP change cannot touch the other figures.
    if (args.stream === 'sub') {
      await agent.stop();
      agent = await startAgentChild({
        dataDir,
        brokerUrl: broker.url,
        webHost: '127.83.1.1',
        site: 'bench-live',
        extra: ['--web.max-keyframe-interval-sec', '1'],
      });
      const fixUrl = `${agent.webUrl}?camera=${encodeURIComponent(ids['127.83.1.4'])}&stream=sub`;
      setStreamUri(dataDir, ids['127.83.1.4'], 'sub', refusingDirect);
      const govBefore = refusing.govLength(1, 'sub');
      const first = await firstPicture(context, fixUrl);
      await first.page.close();
      const govAfter = refusing.govLength(1, 'sub');
      if (govAfter >= govBefore || refusing.encoderChanges() !== 1)
        throw new Error(`the agent did not shorten the GOP (${govBefore} → ${govAfter}, ${refusing.encoderChanges()} changes)`);
      if (!args.json)
        console.log(`first open with the opt-in (GOP ${govBefore} → ${govAfter} frames, the camera restarted its stream): ${Math.round(first.ms)} ms`);
      await waitNoPull(agent);
      const proxy2 = await startProxy('127.83.1.1', { '/fixed': refusingDirect });
      extraProxies.push(proxy2);
      bgs.push(backgroundClient(proxy2.url('/fixed')));
      setStreamUri(dataDir, ids['127.83.1.4'], 'sub', proxy2.url('/fixed'));
      await sleep(1000);
      const fixed = await coldRounds('keyframe request refused, GOP shortened to 1 s', fixUrl);
      const fp0 = out.firstPicture as Record<string, unknown>;
      fp0.coldRefusedGopShortened = summary(fixed.map((x) => x.ms));
      fp0.rawColdRefusedGopShortened = fixed.map((x) => Math.round(x.ms));
      fp0.firstOpenApplyingTheChange = Math.round(first.ms);
      fp0.govLength = { before: govBefore, after: govAfter };
      if (refusing.encoderChanges() !== 1) throw new Error('the camera was changed again during the rounds');
    }

    if (args.json) console.log(JSON.stringify(out, null, 2));
    else {
      const fp = out.firstPicture as Record<string, ReturnType<typeof summary>>;
      console.log(
        table(
          ['first picture (ms, goto → first presented frame)', 'n', 'p50', 'p95', 'max'],
          [
            ['cold, keyframe requested (SetSynchronizationPoint)', fp.cold.n, fp.cold.p50, fp.cold.p95, fp.cold.max],
            [
              'cold, no keyframe request (ONVIF off; GOP 2 s)',
              fp.coldNoKeyframeRequest.n,
              fp.coldNoKeyframeRequest.p50,
              fp.coldNoKeyframeRequest.p95,
              fp.coldNoKeyframeRequest.max,
            ],
            ['cold, keyframe request refused (GOP 2 s)', fp.coldRefused.n, fp.coldRefused.p50, fp.coldRefused.p95, fp.coldRefused.max],
            ...(fp.coldRefusedGopShortened
              ? [
                  [
                    'cold, refused, web.maxKeyframeIntervalSec 1 (GOP 1 s)',
                    fp.coldRefusedGopShortened.n,
                    fp.coldRefusedGopShortened.p50,
                    fp.coldRefusedGopShortened.p95,
                    fp.coldRefusedGopShortened.max,
                  ],
                ]
              : []),
            ['warm (pull running)', fp.warm.n, fp.warm.p50, fp.warm.p95, fp.warm.max],
          ],
        ),
      );
      const rows: Array<Array<string | number>> = [];
      for (const k of ['latencyMse', 'latencyJsmpeg']) {
        const l = out[k] as Awaited<ReturnType<typeof playbackRun>> | undefined;
        if (!l || !l.latencyMs) continue;
        rows.push([
          l.mode,
          l.latencyMs.n,
          l.latencyMs.p50,
          l.latencyMs.p95,
          l.latencyMs.max,
          l.unreadable,
          l.cpu.agentPct,
          l.cpu.ffmpegPct,
          l.cpu.chromiumPct,
          l.cpu.boxBusyPct,
        ]);
        const li = l.latencyInterpolatedMs;
        if (li) rows.push([`${l.mode}, every frame (interpolated)`, li.n, li.p50, li.p95, li.max, '-', '', '', '', '']);
      }
      console.log(table(['path', 'frames', 'p50 ms', 'p95 ms', 'max ms', 'unreadable', 'agent %', 'ffmpeg %', 'chromium %', 'box busy %'], rows));
      console.log(JSON.stringify(out));
    }
  } finally {
    await browser?.close();
    await agent?.stop();
    for (const b of bgs) await stopChild(b);
    for (const p of [proxy, ...extraProxies]) {
      p.child.stdin!.end();
      await stopChild(p.child);
    }
    await broker.stop();
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
