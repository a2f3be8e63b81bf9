// LivePulls with a fake supervise: sharing, linger, GOP cache for late joiners, slow viewers,
// restarts, maxViewers, mode choice and the MPEG-1 launcher. The MP4 bytes are real ffmpeg output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Fmp4Splitter, type MediaFragment } from '../../agent/video/live/fmp4';
import { LivePulls } from '../../agent/video/live/live-pull';
import { fakeSupervisor, fragmentedMp4, type FakeProc } from '../kit/supervisor';
import { createLogger } from '../../lib/log';
import { FakeClock } from '../kit/clock';
import { LiveError, type LiveMessage, type LiveSource, type LiveViewer } from '../../agent/video/live/types';
import { argsToMuxerOptions, chooseMode, LIVE_MP4_OUTPUT_ARGS, mpeg1Options } from '../../agent/video/live/args';
import type { Mpeg1LaunchOptions } from '../../agent/video/live/mpeg1-muxer';

const MP4 = fragmentedMp4(3);
const ALL = new Fmp4Splitter().push(MP4);
const FRAGMENTS = ALL.filter((o): o is MediaFragment => o.kind === 'fragment');
/** Byte offset in MP4 just after the n-th fragment (n = 0: after the init segment). */
function offsetAfter(n: number): number {
  return ALL.slice(0, n + 1).reduce((s, o) => s + o.data.length, 0);
}

class Viewer implements LiveViewer {
  bufferedAmount = 0;
  readonly got: LiveMessage[] = [];
  send(m: LiveMessage): void {
    this.got.push(m);
  }
  kinds(): string {
    return this.got.map((m) => (m.type === 'fragment' ? (m.fragment.keyframe ? 'K' : 'f') : m.type === 'init' ? 'I' : m.type)).join('');
  }
  sequences(): number[] {
    return this.got.flatMap((m) => (m.type === 'fragment' ? [m.fragment.sequence] : []));
  }
}

const SOURCES: Record<string, LiveSource> = {
  cam264: { url: 'rtsp://u:secret@127.0.0.1:8554/a', codec: 'H264', width: 1920, height: 1080 },
  cam265: { url: 'rtsp://u:secret@127.0.0.1:8554/b', codec: 'H265', width: 1920, height: 1080 },
  cam265at10: { url: 'rtsp://u:secret@127.0.0.1:8554/c', codec: 'H265', width: 1920, height: 1080, fps: 10 },
};

function setup(config: Partial<{ lingerSec: number; maxViewers: number }> = {}, slowViewerBytes = 1000) {
  const sup = fakeSupervisor();
  const clock = new FakeClock();
  const launched: Mpeg1LaunchOptions[] = [];
  const pulls = new LivePulls({
    supervise: sup.supervise,
    resolve: (id) => SOURCES[id],
    config: { lingerSec: 5, maxViewers: 32, fallbackWidth: 640, fallbackBitrateKbps: 1000, ...config },
    mpeg1FfmpegPath: '/opt/ffmpeg-pdeathsig',
    mpeg1Launch: (o) => {
      launched.push(o);
      return new EventEmitter() as unknown as ChildProcess;
    },
    slowViewerBytes,
    logger: createLogger({ level: 'silent' }),
    clock,
  });
  const feed = (p: FakeProc, from: number, to: number, run = 1) => {
    // odd chunk sizes, as a pipe delivers them
    for (let off = from; off < to; off += 777) p.options.onStdout!(MP4.subarray(off, Math.min(to, off + 777)), run);
  };
  return { pulls, sup, clock, launched, feed };
}

test('live pulls: ten viewers share one ffmpeg; all get the init segment and every fragment', async () => {
  const { pulls, sup, feed } = setup();
  const viewers = Array.from({ length: 10 }, () => new Viewer());
  const sessions = await Promise.all(viewers.map((v) => pulls.join('cam264', { stream: 'sub' }, v)));
  assert.equal(sup.procs.length, 1);
  assert.equal(sessions[0].mode, 'mse');
  const p = sup.procs[0];
  assert.equal(p.kind, 'live');
  assert.equal(p.options.progress, 'stdout');
  assert.ok(!p.label.includes('secret'));
  const args = await p.options.args();
  assert.ok(args.includes('rtsp://u:secret@127.0.0.1:8554/a'));
  assert.deepEqual(args.slice(args.indexOf('-c:v'), args.indexOf('-c:v') + 2), ['-c:v', 'copy']);
  p.options.onRunStart!(1);
  feed(p, 0, MP4.length);
  for (const v of viewers) {
    assert.equal(v.got[0].type, 'init');
    assert.equal((v.got[0] as { init: { codec: string } }).init.codec.slice(0, 5), 'avc1.');
    assert.deepEqual(
      v.sequences(),
      FRAGMENTS.map((f) => f.sequence),
    );
  }
  assert.equal(pulls.list().length, 1);
  assert.equal(pulls.list()[0].viewers, 10);
  assert.equal(pulls.viewers, 10);
});

test('live pulls: the last viewer leaving stops ffmpeg after lingerSec; a rejoin during linger keeps it; lingerSec 0 stops at once', async () => {
  const { pulls, sup, clock } = setup({ lingerSec: 5 });
  const a = await pulls.join('cam264', { stream: 'sub' }, new Viewer());
  const b = await pulls.join('cam264', { stream: 'sub' }, new Viewer());
  a.leave();
  a.leave(); // idempotent
  assert.equal(clock.count, 0);
  b.leave();
  assert.equal(clock.count, 1);
  assert.equal(sup.procs[0].stopped, 0);
  assert.equal(pulls.list()[0].lingering, true);
  // a page reload: the viewer comes back before the linger ends
  const c = await pulls.join('cam264', { stream: 'sub' }, new Viewer());
  assert.equal(clock.count, 0);
  assert.equal(sup.procs.length, 1);
  c.leave();
  // The linger is lingerSec of the clock: still running a moment before, stopped at 5 s.
  assert.deepEqual(clock.delays(), [5000]);
  await clock.advance(4999);
  assert.equal(sup.procs[0].stopped, 0);
  assert.equal(pulls.list()[0].lingering, true);
  await clock.advance(1);
  assert.equal(sup.procs[0].stopped, 1);
  assert.equal(pulls.list().length, 0);
  assert.equal(pulls.viewers, 0);
  // the next viewer starts a new pull
  const d = await pulls.join('cam264', { stream: 'sub' }, new Viewer());
  assert.equal(sup.procs.length, 2);
  d.leave();

  const zero = setup({ lingerSec: 0 });
  const s = await zero.pulls.join('cam264', { stream: 'main' }, new Viewer());
  s.leave();
  assert.equal(zero.sup.procs[0].stopped, 1);
  assert.equal(zero.clock.count, 0);
});

test('live pulls: a late joiner gets the init segment and the GOP since the last keyframe, then live fragments', async () => {
  const { pulls, sup, feed } = setup();
  const first = new Viewer();
  await pulls.join('cam264', { stream: 'sub' }, first);
  const p = sup.procs[0];
  p.options.onRunStart!(1);
  // up to a few fragments into the second GOP
  const keyIdx = FRAGMENTS.findIndex((f, i) => i > 0 && f.keyframe);
  assert.ok(keyIdx > 0);
  const upTo = keyIdx + 3;
  feed(p, 0, offsetAfter(upTo));
  const late = new Viewer();
  await pulls.join('cam264', { stream: 'sub' }, late);
  assert.equal(late.kinds(), 'IKff');
  assert.deepEqual(
    late.sequences(),
    FRAGMENTS.slice(keyIdx, upTo).map((f) => f.sequence),
  );
  feed(p, offsetAfter(upTo), MP4.length);
  assert.deepEqual(
    late.sequences(),
    FRAGMENTS.slice(keyIdx).map((f) => f.sequence),
  );
  assert.deepEqual(
    first.sequences(),
    FRAGMENTS.map((f) => f.sequence),
  );

  // a viewer that joins before ffmpeg wrote anything waits for the init segment
  const { pulls: p2, sup: s2, feed: feed2 } = setup();
  const early = new Viewer();
  await p2.join('cam264', { stream: 'sub' }, early);
  assert.equal(early.got.length, 0);
  s2.procs[0].options.onRunStart!(1);
  feed2(s2.procs[0], 0, offsetAfter(2));
  assert.equal(early.kinds(), 'IKf');
});

test('live pulls: a slow viewer skips fragments and resumes at the next keyframe; the others get everything', async () => {
  const { pulls, sup, feed } = setup({}, 1000);
  const fast = new Viewer();
  const slow = new Viewer();
  await pulls.join('cam264', { stream: 'sub' }, fast);
  await pulls.join('cam264', { stream: 'sub' }, slow);
  const p = sup.procs[0];
  p.options.onRunStart!(1);
  feed(p, 0, offsetAfter(2));
  assert.equal(slow.kinds(), 'IKf');
  slow.bufferedAmount = 50_000; // the browser stopped reading
  const secondKey = FRAGMENTS.findIndex((f, i) => i > 0 && f.keyframe);
  feed(p, offsetAfter(2), offsetAfter(secondKey - 1));
  assert.equal(slow.kinds(), 'IKf');
  assert.equal(pulls.list()[0].slowViewers, 1);
  assert.ok(pulls.list()[0].dropped >= 1);
  slow.bufferedAmount = 0; // caught up: resumes at the next keyframe, not in the middle of a GOP
  feed(p, offsetAfter(secondKey - 1), offsetAfter(secondKey + 2));
  assert.equal(slow.kinds(), 'IKfKf');
  assert.deepEqual(slow.sequences().slice(2), [FRAGMENTS[secondKey].sequence, FRAGMENTS[secondKey + 1].sequence]);
  assert.equal(pulls.list()[0].slowViewers, 0);
  assert.deepEqual(
    fast.sequences(),
    FRAGMENTS.slice(0, secondKey + 2).map((f) => f.sequence),
  );
});

test("live pulls: an ffmpeg restart resets the parser; viewers get the new run's init segment", async () => {
  const { pulls, sup, feed } = setup();
  const v = new Viewer();
  await pulls.join('cam264', { stream: 'sub' }, v);
  const p = sup.procs[0];
  p.options.onRunStart!(1);
  feed(p, 0, offsetAfter(3) + 100); // run 1 dies in the middle of a fragment
  p.options.onRunStart!(2);
  feed(p, 0, offsetAfter(2), 2);
  assert.equal(v.kinds(), 'IKffIKf');
  // a joiner now gets the second run's init and GOP
  const w = new Viewer();
  await pulls.join('cam264', { stream: 'sub' }, w);
  assert.equal(w.kinds(), 'IKf');
});

test('live pulls: maxViewers is enforced with a clear error; unknown cameras are refused; a failed pull ends its viewers', async () => {
  const { pulls, sup } = setup({ maxViewers: 2 });
  const a = await pulls.join('cam264', { stream: 'sub' }, new Viewer());
  await pulls.join('cam265', { stream: 'main' }, new Viewer());
  await assert.rejects(pulls.join('cam264', { stream: 'sub' }, new Viewer()), (err: unknown) => {
    assert.ok(err instanceof LiveError);
    assert.equal(err.code, 'too-many-viewers');
    assert.match(err.message, /web\.maxViewers = 2/);
    return true;
  });
  a.leave();
  await assert.rejects(pulls.join('nope', { stream: 'sub' }, new Viewer()), (err: unknown) => err instanceof LiveError && err.code === 'not-found');
  assert.equal(pulls.viewers, 1);
  const v = new Viewer();
  const s = await pulls.join('cam264', { stream: 'main' }, v);
  const proc = sup.procs.find((p) => p.label.includes('cam264/main'))!;
  proc.setState('failed', 'camera refused the connection');
  assert.equal(v.got.at(-1)!.type, 'end');
  assert.match((v.got.at(-1) as { reason: string }).reason, /refused/);
  assert.equal(proc.stopped, 1);
  s.leave();
  await pulls.close();
  await assert.rejects(pulls.join('cam264', { stream: 'sub' }, new Viewer()), (err: unknown) => err instanceof LiveError && err.code === 'closed');
});

test('live pulls: H.265 goes to JSMpeg through Mpeg1Muxer (scaled, bitrate, no B-frames); mode choice', async () => {
  assert.deepEqual(chooseMode('auto', 'H264'), { mode: 'mse' });
  assert.deepEqual(chooseMode(undefined, undefined), { mode: 'mse' });
  assert.deepEqual(chooseMode('jsmpeg', 'H264'), { mode: 'jsmpeg' });
  assert.equal(chooseMode('mse', 'H265').mode, 'jsmpeg');
  assert.equal(chooseMode('auto', 'H265').mode, 'jsmpeg');

  const { pulls, sup, launched } = setup();
  const s = await pulls.join('cam265', { stream: 'main', mode: 'mse' }, new Viewer());
  assert.equal(s.mode, 'jsmpeg');
  assert.match(s.modeReason!, /H265/);
  const p = sup.procs[0];
  assert.ok(p.options.launch, 'a JSMpeg pull is launched through Mpeg1Muxer');
  // what a supervisor does: its own options in front of ours
  const args = ['-nostdin', ...(await p.options.args())];
  p.options.launch(args);
  assert.equal(launched.length, 1);
  const o = launched[0];
  assert.equal(o.url, 'rtsp://u:secret@127.0.0.1:8554/b');
  assert.equal(o.ffmpegPath, '/opt/ffmpeg-pdeathsig');
  assert.equal(o.ffmpegOptions['-nostdin'], '');
  assert.equal(o.ffmpegOptions['-bf'], '0');
  assert.equal(o.ffmpegOptions['-r'], '25', 'no frame rate in the ledger: 25');
  assert.equal(o.ffmpegOptions['-fps_mode'], 'vfr');
  assert.equal(o.ffmpegOptions['-an'], '');
  assert.equal(o.ffmpegOptions['-b:v'], '1000k');
  assert.match(o.ffmpegOptions['-vf'], /min\(640,iw\).*h=-2/);
  assert.equal(o.ffmpegOptions['-f'], undefined, 'Mpeg1Muxer adds -f mpegts itself');
  assert.equal(o.ffmpegOptions['-codec:v'], undefined);

  assert.deepEqual(argsToMuxerOptions(['-loglevel', 'error', '-i', 'rtsp://x/y', '-itsoffset', '-1', '-an', '-']), {
    url: 'rtsp://x/y',
    ffmpegOptions: { '-loglevel': 'error', '-itsoffset': '-1', '-an': '' },
  });
});

/** A 188-byte TS packet: pid, payload-start flag, payload bytes at the start of the payload. */
function tsPacket(pid: number, pusi: boolean, payload: number[] = []): Buffer {
  const b = Buffer.alloc(188, 0xff);
  b[0] = 0x47;
  b[1] = (pusi ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  b[2] = pid & 0xff;
  b[3] = 0x10;
  Buffer.from(payload).copy(b, 4);
  return b;
}
const PES_SEQ = [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0xb3];
const PES_PIC = [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0x00];

test('live pulls: JSMpeg GOP cache starts at the PAT before the last sequence header; chunks keep whole TS packets', async () => {
  const { pulls, sup } = setup();
  const first = new Viewer();
  await pulls.join('cam265', { stream: 'main' }, first);
  const p = sup.procs[0];
  p.options.onRunStart!(1);
  const gop1 = Buffer.concat([
    tsPacket(0, true),
    tsPacket(0x1000, true),
    tsPacket(0x100, true, PES_SEQ),
    tsPacket(0x100, false),
    tsPacket(0x100, true, PES_PIC),
  ]);
  const gop2start = Buffer.concat([tsPacket(0, true), tsPacket(0x1000, true), tsPacket(0x100, true, PES_SEQ)]);
  const more = Buffer.concat([tsPacket(0x100, false), tsPacket(0x100, true, PES_PIC)]);
  const stream = Buffer.concat([gop1, gop2start, more]);
  // odd chunks: 100 bytes at a time
  for (let off = 0; off < gop1.length + gop2start.length; off += 100)
    p.options.onStdout!(stream.subarray(off, Math.min(gop1.length + gop2start.length, off + 100)), 1);
  const late = new Viewer();
  await pulls.join('cam265', { stream: 'main' }, late);
  const got = () => Buffer.concat(late.got.map((m) => (m.type === 'ts' ? m.data : Buffer.alloc(0))));
  assert.ok(got().equals(gop2start), "the late joiner starts at the second GOP's PAT");
  p.options.onStdout!(more, 1);
  assert.ok(got().equals(Buffer.concat([gop2start, more])));
  const all = Buffer.concat(first.got.map((m) => (m.type === 'ts' ? m.data : Buffer.alloc(0))));
  assert.ok(all.equals(stream), 'the first viewer gets every byte, in whole packets');
  for (const m of first.got) assert.equal((m as { data: Buffer }).data.length % 188, 0);
});

test('live pulls: a fast start that learns no codec (parameter sets only in-band) restarts the run with full probing', async () => {
  const { pulls, sup } = setup();
  const viewer = new Viewer();
  await pulls.join('cam264', { stream: 'sub' }, viewer);
  const p = sup.procs[0];
  const restarts: string[] = [];
  p.restart = (reason: string) => restarts.push(reason);
  const fast = await p.options.args();
  assert.deepEqual(fast.slice(fast.indexOf('-probesize'), fast.indexOf('-probesize') + 4), ['-probesize', '32', '-analyzeduration', '0']);
  // What ffmpeg writes when its quick look found no video parameters: an init segment without a video track.
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=duration=1',
      '-c:a',
      'aac',
      ...LIVE_MP4_OUTPUT_ARGS.filter((a) => !['-c:v', 'copy', '-an'].includes(a)),
      'pipe:1',
    ],
    { maxBuffer: 1 << 24 },
  );
  assert.equal(r.status, 0, String(r.stderr));
  p.options.onRunStart!(1);
  p.options.onStdout!(r.stdout, 1);
  assert.equal(restarts.length, 1, 'the run is restarted once');
  assert.equal(viewer.got.filter((m) => m.type === 'init').length, 0, 'the viewer never gets an init segment without a codec');
  const full = await p.options.args();
  assert.deepEqual(full.slice(full.indexOf('-probesize'), full.indexOf('-probesize') + 4), ['-probesize', '500000', '-analyzeduration', '1000000']);
  // The next run (full probe) plays normally.
  p.options.onRunStart!(2);
  p.options.onStdout!(MP4, 2);
  assert.equal(viewer.got[0].type, 'init');
  assert.equal(restarts.length, 1);
});

/** What MPEG-1's frame_rate_code can say (ISO/IEC 11172-2 table 2-D.4), in frames per second. */
const MPEG1_RATES = [24000 / 1001, 24, 25, 30000 / 1001, 30, 50, 60000 / 1001, 60];

function rateOf(option: string): number {
  const [num, den = '1'] = option.split('/');
  return Number(num) / Number(den);
}

function flatten(options: Record<string, string>): string[] {
  return Object.entries(options).flatMap(([k, v]) => (v === '' ? [k] : [k, v]));
}

test("live pulls: JSMpeg output rate is one MPEG-1 can carry, the slowest at or above the camera's (25 when unknown); no frame duplicated", async () => {
  // The ledger's rate reaches the pull's ffmpeg.
  const { pulls, sup, launched } = setup();
  await pulls.join('cam265at10', { stream: 'main' }, new Viewer());
  sup.procs[0].options.launch!(await sup.procs[0].options.args());
  assert.equal(launched[0].ffmpegOptions['-r'], '24000/1001');
  assert.equal(launched[0].ffmpegOptions['-g'], '10');

  const config = { fallbackWidth: 640, fallbackBitrateKbps: 1000 };
  const expected: Array<[number | undefined, string]> = [
    [5, '24000/1001'],
    [6, '24000/1001'],
    [8, '24000/1001'],
    [10, '24000/1001'],
    [12.5, '24000/1001'],
    [15, '24000/1001'],
    [20, '24000/1001'],
    [23.976, '24000/1001'],
    [24, '24'],
    [25, '25'],
    [29.97, '30000/1001'],
    [30, '30'],
    [50, '50'],
    [60, '60'],
    [120, '60'],
    [undefined, '25'],
    [0, '25'],
    [Number.NaN, '25'],
    [-10, '25'],
  ];
  for (const [fps, rate] of expected) {
    const o = mpeg1Options(config, fps);
    assert.equal(o['-r'], rate, `camera at ${fps} fps`);
    assert.ok(
      MPEG1_RATES.some((r) => Math.abs(r - rateOf(o['-r'])) < 1e-9),
      `${o['-r']} is an MPEG-1 rate`,
    );
    if (fps !== undefined && fps > 0 && fps <= 60) assert.ok(rateOf(o['-r']) >= fps - 0.001, `${o['-r']} is not slower than the camera's ${fps} fps`);
    assert.equal(o['-fps_mode'], 'vfr', 'frames keep their timestamps, none is duplicated to fill the rate');
    // about one keyframe a second of the camera's frames
    assert.equal(o['-g'], String(fps !== undefined && fps > 0 ? Math.round(fps) : 25));
  }
  // Real ffmpeg takes these options for a camera at each rate (without -r it refuses: "MPEG-1/2 does
  // not support 10/1 fps"), and writes exactly the camera's frames, with the camera's timing.
  for (const fps of [5, 6, 8, 10, 12.5, 15, 20]) {
    const seconds = 2;
    const encode = spawnSync(
      'ffmpeg',
      [
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=320x180:rate=${fps}`,
        '-t',
        String(seconds),
        '-f',
        'mpegts',
        '-codec:v',
        'mpeg1video',
        ...flatten(mpeg1Options(config, fps)),
        'pipe:1',
      ],
      { maxBuffer: 1 << 26 },
    );
    assert.equal(encode.status, 0, `ffmpeg for a ${fps} fps camera: ${String(encode.stderr)}`);
    const probe = spawnSync(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,r_frame_rate:packet=pts_time', '-of', 'json', '-'],
      { input: encode.stdout, maxBuffer: 1 << 26 },
    );
    assert.equal(probe.status, 0, String(probe.stderr));
    const info = JSON.parse(String(probe.stdout)) as { streams: Array<{ codec_name: string; r_frame_rate: string }>; packets: Array<{ pts_time: string }> };
    assert.equal(info.streams[0].codec_name, 'mpeg1video');
    assert.equal(info.streams[0].r_frame_rate, '24000/1001', 'the sequence header declares the rate chosen');
    assert.equal(info.packets.length, seconds * fps, `${fps} fps: one MPEG-1 frame per camera frame`);
    const pts = info.packets.map((p) => Number(p.pts_time)).sort((a, b) => a - b);
    const span = pts[pts.length - 1] - pts[0];
    assert.ok(
      Math.abs(span - (pts.length - 1) / fps) < 0.05,
      `${fps} fps: frames ${span.toFixed(3)} s apart end to end, expected ${((pts.length - 1) / fps).toFixed(3)}`,
    );
  }
});
