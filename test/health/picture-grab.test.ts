// Frame grabs with the real ffmpeg: files, snapshot images on stdin, and the ways a grab fails
// (hung server, refused port, 401, not an image, missing ffmpeg, abort, hard timeout). Loopback
// addresses 127.71.0.0/24 belong to this file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIAGNOSIS_HEIGHT, DIAGNOSIS_WIDTH, FramePool, grabFrames, PictureProbeError, type SpawnFn } from '../../agent/health/picture/grab';
import { probePicture } from '../../agent/health/picture/probe';
import { FakeClock } from '../kit/clock';

let dir: string;
let clip: string;
let noisyClip: string;
let jpeg: Buffer;

function ffmpeg(args: string[]): Buffer {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
  return r.stdout;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'camgate-grab-'));
  clip = join(dir, 'clip.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=704x576:rate=15', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
  noisyClip = join(dir, 'noisy.mp4');
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=640x360:rate=15,noise=alls=40:allf=t',
    '-t',
    '1',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    '12',
    '-pix_fmt',
    'yuv420p',
    noisyClip,
  ]);
  jpeg = ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=800x600', '-frames:v', '1', '-c:v', 'mjpeg', '-f', 'image2pipe', 'pipe:1']);
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A spawn that remembers the processes it started. */
function recordingSpawn(): { spawn: SpawnFn; children: ChildProcess[] } {
  const children: ChildProcess[] = [];
  return {
    children,
    spawn: (cmd, args, options) => {
      const c = spawn(cmd, args, options);
      children.push(c);
      return c;
    },
  };
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Width and height from a baseline/progressive JPEG's SOF marker. */
function jpegSize(buf: Buffer): { width: number; height: number } {
  let i = 2;
  while (i < buf.length - 8) {
    if (buf[i] !== 0xff) throw new Error('bad JPEG marker');
    const marker = buf[i + 1];
    const len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc3) return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    i += 2 + len;
  }
  throw new Error('no SOF');
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<PictureProbeError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PictureProbeError, `expected PictureProbeError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected a ${code} error`);
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as { port: number }).port));
  });
}

test('a file: N small frames of the diagnosis size and a thumbnail JPEG under the cap', async () => {
  const r = await grabFrames({ input: clip, frames: 4, seconds: 2, timeoutMs: 15_000 });
  assert.equal(r.source, 'stream');
  assert.equal(r.frames.length, 4);
  for (const f of r.frames) {
    assert.equal(f.width, DIAGNOSIS_WIDTH);
    assert.equal(f.height, DIAGNOSIS_HEIGHT);
    assert.equal(f.data.length, DIAGNOSIS_WIDTH * DIAGNOSIS_HEIGHT * 3);
  }
  // Frames spread over the 2 s: the moving test pattern differs between the first and the last.
  assert.notDeepEqual(Buffer.from(r.frames[0].data), Buffer.from(r.frames[3].data));
  assert.ok(r.thumbnail, 'thumbnail');
  assert.equal(r.thumbnail[0], 0xff);
  assert.equal(r.thumbnail[1], 0xd8);
  assert.ok(r.thumbnail.length <= 20480, `${r.thumbnail.length} bytes`);
  // 704×576 with square pixels → 320 wide keeps the aspect: 320×262 (rounded to even).
  assert.deepEqual(jpegSize(r.thumbnail), { width: 320, height: 262 }); // 320 / (704/576) = 261.8
  assert.ok(r.ffmpegMs > 0);
});

test('the frames share one buffer; release() gives it to the pool and the next grab reuses it', async () => {
  const framePool = new FramePool();
  const a = await grabFrames({ input: clip, frames: 4, seconds: 2, timeoutMs: 15_000 }, { framePool });
  const buffer = a.frames[0].data.buffer;
  for (const f of a.frames) assert.equal(f.data.buffer, buffer);
  const last = Buffer.from(a.frames[3].data);
  assert.equal(framePool.stats().buffers, 0);
  a.release?.();
  a.release?.(); // a second call is harmless
  assert.deepEqual(framePool.stats(), { buffers: 1, bytes: 4 * DIAGNOSIS_WIDTH * DIAGNOSIS_HEIGHT * 3 });
  const b = await grabFrames({ input: clip, frames: 4, seconds: 2, timeoutMs: 15_000 }, { framePool });
  assert.equal(framePool.stats().buffers, 0, 'the grab took the buffer from the pool');
  assert.equal(b.frames[0].data.buffer, buffer, 'the same memory');
  assert.equal(b.frames.length, 4);
  // The same clip decodes to the same frames, whatever the reused buffer held before.
  assert.deepEqual(Buffer.from(b.frames[3].data), last);
  b.release?.();
  assert.equal(framePool.stats().buffers, 1);
  // Without a pool each grab has its own buffer; release() is harmless.
  const c = await grabFrames({ input: clip, frames: 4, seconds: 2, timeoutMs: 15_000 });
  assert.notEqual(c.frames[0].data.buffer, buffer);
  c.release?.();
  assert.equal(framePool.stats().buffers, 1);
});

test('frame by frame: each frame handed over as it is decoded, the same frames as a grab that returns them, in two pooled buffers', async () => {
  const whole = await grabFrames({ input: clip, frames: 4, seconds: 2, timeoutMs: 15_000 });
  const framePool = new FramePool();
  const seen: Array<{ data: Buffer; memory: ArrayBufferLike }> = [];
  const r = await grabFrames(
    {
      input: clip,
      frames: 4,
      seconds: 2,
      timeoutMs: 15_000,
      onFrame: (f) => {
        assert.deepEqual([f.width, f.height, f.data.length], [DIAGNOSIS_WIDTH, DIAGNOSIS_HEIGHT, DIAGNOSIS_WIDTH * DIAGNOSIS_HEIGHT * 3]);
        // The frame before this one is still intact when this one arrives.
        if (seen.length > 0) assert.deepEqual(Buffer.from(seen[seen.length - 1].memory, 0, f.data.length), seen[seen.length - 1].data);
        seen.push({ data: Buffer.from(f.data), memory: f.data.buffer });
      },
    },
    { framePool },
  );
  assert.equal(r.frames.length, 0, 'handed over, not returned');
  assert.equal(seen.length, 4);
  seen.forEach((f, i) => assert.deepEqual(f.data, Buffer.from(whole.frames[i].data), `frame ${i}`));
  assert.equal(new Set(seen.map((f) => f.memory)).size, 2, 'two buffers in turn');
  assert.equal(framePool.stats().buffers, 0);
  r.release?.();
  assert.deepEqual(framePool.stats(), { buffers: 2, bytes: 2 * DIAGNOSIS_WIDTH * DIAGNOSIS_HEIGHT * 3 });
  // A throw while a frame is handed over kills ffmpeg and fails the grab; the buffers go back.
  const failing = new FramePool();
  await assert.rejects(
    grabFrames(
      {
        input: clip,
        frames: 4,
        seconds: 2,
        timeoutMs: 15_000,
        onFrame: () => {
          throw new Error('analysis broke');
        },
      },
      { framePool: failing },
    ),
    (err: unknown) => err instanceof PictureProbeError && err.code === 'failed' && /frame 1 not analysed: analysis broke/.test(err.message),
  );
  assert.equal(failing.stats().buffers, 1, 'the one buffer taken is back');
});

test('frame pool: the smallest buffer that fits; at most maxBuffers kept; a buffer given twice is kept once', () => {
  const pool = new FramePool(2);
  const small = pool.take(10);
  const big = pool.take(100);
  assert.equal(small.length, 10);
  pool.give(big);
  pool.give(small);
  pool.give(small);
  assert.deepEqual(pool.stats(), { buffers: 2, bytes: 110 });
  pool.give(Buffer.alloc(5));
  assert.equal(pool.stats().buffers, 2, 'full');
  assert.equal(pool.take(8), small);
  assert.equal(pool.take(50), big);
  assert.equal(pool.take(200).length, 200, 'nothing fits: a new one');
});

test('a thumbnail over the cap is re-encoded smaller', async () => {
  const big = await grabFrames({ input: noisyClip, frames: 2, seconds: 1, timeoutMs: 15_000, thumbnailWidth: 640, thumbnailMaxBytes: 1_000_000 });
  assert.ok(big.thumbnail && big.thumbnail.length > 12_000, `noisy thumbnail is ${big.thumbnail?.length} bytes`);
  const capped = await grabFrames({ input: noisyClip, frames: 2, seconds: 1, timeoutMs: 15_000, thumbnailWidth: 640, thumbnailMaxBytes: 12_000 });
  assert.ok(capped.thumbnail, 'thumbnail kept');
  assert.ok(capped.thumbnail.length <= 12_000, `${capped.thumbnail.length} bytes`);
  assert.equal(capped.thumbnail.readUInt16BE(0), 0xffd8);
});

test('snapshot JPEGs on stdin: one frame per image', async () => {
  const one = await grabFrames({ input: jpeg, frames: 6, seconds: 3, timeoutMs: 15_000 });
  assert.equal(one.source, 'snapshot');
  assert.equal(one.frames.length, 1);
  assert.equal(one.frames[0].width, DIAGNOSIS_WIDTH);
  assert.ok(one.thumbnail && one.thumbnail.readUInt16BE(0) === 0xffd8);
  const three = await grabFrames({ input: [jpeg, jpeg, jpeg], frames: 6, seconds: 3, timeoutMs: 15_000 });
  assert.equal(three.frames.length, 3);
  assert.deepEqual(Buffer.from(three.frames[0].data), Buffer.from(three.frames[2].data));
});

test('bytes that are not an image: not-an-image, with or without a JPEG header', async () => {
  const html = Buffer.from('<html><body>401 Unauthorized</body></html>');
  const e = await rejectsWith(grabFrames({ input: html, frames: 1, seconds: 1, timeoutMs: 5000 }), 'not-an-image');
  assert.match(e.message, /not a JPEG or PNG/);
  const fake = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 0x41)]);
  await rejectsWith(grabFrames({ input: fake, frames: 1, seconds: 1, timeoutMs: 5000 }), 'not-an-image');
});

test('rtsp server that accepts and never answers: timeout within the deadline, ffmpeg gone', async (t) => {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = await listen(server, '127.71.0.1');
  const rec = recordingSpawn();
  const started = performance.now();
  const e = await rejectsWith(
    grabFrames({ input: `rtsp://admin:Secr3tPass@127.71.0.1:${port}/live`, frames: 6, seconds: 3, timeoutMs: 2000 }, { spawn: rec.spawn }),
    'timeout',
  );
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 2000 + 1500, `took ${Math.round(elapsed)} ms`);
  assert.ok(sockets.length >= 1, 'ffmpeg connected');
  assert.equal(rec.children.length, 1);
  assert.equal(alive(rec.children[0].pid), false, 'ffmpeg still running');
  assert.doesNotMatch(e.message, /Secr3tPass/);
  assert.match(e.message, /127\.71\.0\.1/);
});

test('a hung input (a FIFO nobody writes) is SIGKILLed at the hard deadline', async () => {
  const fifo = join(dir, 'hang.fifo');
  spawnSync('mkfifo', [fifo]);
  const rec = recordingSpawn();
  const started = performance.now();
  await rejectsWith(grabFrames({ input: fifo, frames: 2, seconds: 1, timeoutMs: 800 }, { spawn: rec.spawn }), 'timeout');
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 750 && elapsed < 2500, `took ${Math.round(elapsed)} ms`);
  assert.equal(rec.children[0].signalCode, 'SIGKILL');
  assert.equal(alive(rec.children[0].pid), false);
});

test('an aborted signal kills ffmpeg', async () => {
  const fifo = join(dir, 'abort.fifo');
  spawnSync('mkfifo', [fifo]);
  const rec = recordingSpawn();
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(new Error('agent stopping')), 300);
  const started = performance.now();
  const e = await rejectsWith(grabFrames({ input: fifo, frames: 2, seconds: 1, timeoutMs: 10_000, signal: ctl.signal }, { spawn: rec.spawn }), 'failed');
  assert.match(e.message, /aborted/);
  assert.ok(performance.now() - started < 2500);
  assert.equal(alive(rec.children[0].pid), false);
  // Already aborted: nothing is started.
  const rec2 = recordingSpawn();
  await rejectsWith(grabFrames({ input: clip, frames: 2, seconds: 1, timeoutMs: 5000, signal: ctl.signal }, { spawn: rec2.spawn }), 'failed');
  assert.equal(rec2.children.length, 0);
});

test('a refused port: refused, password not in the message', async () => {
  const server = createServer();
  const port = await listen(server, '127.71.0.2');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const e = await rejectsWith(grabFrames({ input: `rtsp://admin:Secr3tPass@127.71.0.2:${port}/live`, frames: 2, seconds: 1, timeoutMs: 5000 }), 'refused');
  assert.doesNotMatch(e.message, /Secr3tPass/);
  assert.match(e.message, new RegExp(`127\\.71\\.0\\.2:${port}`));
});

test('an RTSP server answering 401: auth', async (t) => {
  const server = createServer((s) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const cseq = /CSeq:\s*(\d+)/i.exec(buf)?.[1] ?? '1';
      buf = buf.slice(end + 4);
      s.write(`RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="camera"\r\n\r\n`);
    });
    s.on('error', () => undefined);
  });
  t.after(() => server.close());
  const port = await listen(server, '127.71.0.3');
  await rejectsWith(grabFrames({ input: `rtsp://admin:wrong@127.71.0.3:${port}/live`, frames: 2, seconds: 1, timeoutMs: 5000 }), 'auth');
});

test('an RTSP server answering garbage and hanging up: bad-answer, not timeout', async (t) => {
  const server = createServer((s) => {
    s.on('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'));
    s.on('error', () => undefined);
  });
  t.after(() => server.close());
  const port = await listen(server, '127.71.0.4');
  const started = performance.now();
  await rejectsWith(grabFrames({ input: `rtsp://127.71.0.4:${port}/live`, frames: 2, seconds: 1, timeoutMs: 5000 }), 'bad-answer');
  assert.ok(performance.now() - started < 2000);
});

test('ffmpeg missing: ffmpeg-missing, and the message says what to do', async () => {
  const e = await rejectsWith(grabFrames({ input: clip, frames: 2, seconds: 1, timeoutMs: 5000, ffmpegPath: join(dir, 'no-such-ffmpeg') }), 'ffmpeg-missing');
  assert.match(e.message, /install ffmpeg or set health\.picture\.ffmpegPath/);
});

test('a URL scheme other than rtsp/http cannot make ffmpeg read local files', async () => {
  const rec = recordingSpawn();
  await rejectsWith(grabFrames({ input: 'file:///etc/passwd', frames: 1, seconds: 1, timeoutMs: 5000 }, { spawn: rec.spawn }), 'not-available');
  await rejectsWith(grabFrames({ input: `concat:${clip}|${clip}`, frames: 1, seconds: 1, timeoutMs: 5000 }, { spawn: rec.spawn }), 'not-available');
  assert.equal(rec.children.length, 0);
});

test('a file without video: no-frames', async () => {
  const audio = join(dir, 'audio.mka');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'pcm_s16le', audio]);
  await rejectsWith(grabFrames({ input: audio, frames: 2, seconds: 1, timeoutMs: 5000 }), 'no-frames');
});

// ---- probePicture: grab + diagnosis, never throwing for camera faults -----------------------------

test('probe of a stream: ok, diagnosis, thumbnail, CPU measured', async () => {
  const r = await probePicture({ streamUrl: clip, frames: 6, seconds: 2, timeoutMs: 15_000 });
  assert.equal(r.ok, true, r.error?.message);
  assert.equal(r.source, 'stream');
  assert.equal(r.frames, 6);
  assert.ok(r.diagnosis);
  assert.deepEqual(r.diagnosis.faults, []);
  assert.ok(r.thumbnail && r.thumbnail.readUInt16BE(0) === 0xffd8);
  assert.ok(typeof r.diagnosisCpuMs === 'number' && r.diagnosisCpuMs >= 0);
  assert.ok(r.latencyMs !== null && r.latencyMs > 0);
});

test('probe by snapshots: fetched `frames` times over `seconds`, decoded together', async () => {
  const clock = new FakeClock();
  const fetchedAt: number[] = [];
  let calls = 0;
  const probing = probePicture(
    { fetchSnapshot: async () => (fetchedAt.push(clock.now()), calls++, jpeg), frames: 3, seconds: 2, timeoutMs: 15_000 },
    { clock },
  );
  await clock.until(() => calls === 3, { stepMs: 50, what: 'three snapshots' });
  const r = await probing;
  assert.equal(r.ok, true, r.error?.message);
  assert.equal(r.source, 'snapshot');
  assert.equal(calls, 3);
  assert.equal(r.frames, 3);
  const waits = fetchedAt.slice(1).map((at, i) => at - fetchedAt[i]);
  assert.equal(waits.length, 2);
  for (const w of waits) assert.ok(w > 900 && w <= 2000, `waited ${w} ms`);
  // The same picture three times: frozen.
  assert.ok(r.diagnosis?.faults.includes('frozen'), JSON.stringify(r.diagnosis));
});

test('probe by snapshots: not an image fails fast; fetch errors keep their code', async () => {
  let calls = 0;
  const html = await probePicture({
    fetchSnapshot: async () => (calls++, Buffer.from('<html>login</html>')),
    frames: 6,
    seconds: 3,
    timeoutMs: 15_000,
    label: 'cam-1',
  });
  assert.equal(html.ok, false);
  assert.equal(html.error?.code, 'not-an-image');
  assert.match(html.error?.message ?? '', /cam-1/);
  assert.equal(calls, 1);
  const big = await probePicture({
    fetchSnapshot: async () => {
      throw Object.assign(new Error('snapshot of http://admin:pw123@127.71.0.9/snap.jpg is over 4194304 bytes'), { code: 'too-large' });
    },
    frames: 6,
    seconds: 3,
    timeoutMs: 15_000,
  });
  assert.equal(big.error?.code, 'too-large');
  assert.doesNotMatch(big.error?.message ?? '', /pw123/);
  const none = await probePicture({ frames: 6, seconds: 3, timeoutMs: 1000 });
  assert.equal(none.ok, false);
  assert.equal(none.error?.code, 'not-available');
});

test('probe: a refused stream falls back to snapshots; both failing keeps the stream error', async () => {
  const server = createServer();
  const port = await listen(server, '127.71.0.5');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const url = `rtsp://admin:Secr3tPass@127.71.0.5:${port}/live`;
  const ok = await probePicture({ streamUrl: url, fetchSnapshot: async () => jpeg, frames: 2, seconds: 0.5, timeoutMs: 15_000 });
  assert.equal(ok.ok, true, ok.error?.message);
  assert.equal(ok.source, 'snapshot');
  const bad = await probePicture({ streamUrl: url, fetchSnapshot: async () => Buffer.from('nope'), frames: 2, seconds: 0.5, timeoutMs: 15_000 });
  assert.equal(bad.ok, false);
  assert.equal(bad.error?.code, 'refused');
  assert.match(bad.error?.message ?? '', /snapshot fallback: .*not a JPEG/);
  assert.doesNotMatch(bad.error?.message ?? '', /Secr3tPass/);
});

test('probe: a hung snapshot fetch is cut at the deadline as timeout; a caller abort rejects', async () => {
  const hang = (signal: AbortSignal): Promise<Buffer> => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
  const started = performance.now();
  const r = await probePicture({ fetchSnapshot: hang, frames: 3, seconds: 1, timeoutMs: 600 });
  assert.equal(r.error?.code, 'timeout');
  assert.ok(performance.now() - started < 2000);
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(new Error('agent stopping')), 100);
  await assert.rejects(probePicture({ fetchSnapshot: hang, frames: 3, seconds: 1, timeoutMs: 10_000, signal: ctl.signal }), /agent stopping/);
});
