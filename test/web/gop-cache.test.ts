// The GOP cache of a live pull (agent/video/live/gop-cache.ts) and its cap (maxGopBytes): alone,
// then through LivePulls with a fake supervisor in both modes. The bytes are real ffmpeg output:
// fragmented MP4 as the MSE pull writes it, and MPEG-1 in MPEG-TS as the JSMpeg pull's ffmpeg
// writes it (same encoder options, mpeg1Options), so PATs and sequence headers sit where ffmpeg
// puts them. Where the keyframes are is read with ffprobe, not with the code under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { GopCache, type Unit } from '../../agent/video/live/gop-cache';
import { Fmp4Splitter, type MediaFragment } from '../../agent/video/live/fmp4';
import { LivePulls } from '../../agent/video/live/live-pull';
import { mpeg1Options } from '../../agent/video/live/args';
import type { LiveMessage, LiveSource, LiveViewer } from '../../agent/video/live/types';
import { fakeSupervisor, fragmentedMp4, type FakeProc } from '../kit/supervisor';
import { createLogger } from '../../lib/log';
import { FakeClock } from '../kit/clock';
import { TS_PACKET, TsReader } from '../../agent/video/live/mpeg-ts';

// --- GopCache alone ---------------------------------------------------------------------------

const ts = (n: number, fill = 0): Unit => ({ kind: 'ts', data: Buffer.alloc(n, fill) });

test('GopCache: nothing is kept before the first keyframe; a keyframe starts a GOP that grows unit by unit', () => {
  const c = new GopCache(1000);
  c.add(ts(100), 100);
  assert.equal(c.started, false);
  assert.deepEqual(c.contents, []);
  assert.equal(c.size, 0);
  const key = ts(300, 1);
  const next = ts(200, 2);
  c.start();
  c.add(key, 300);
  c.add(next, 200);
  assert.equal(c.started, true);
  assert.deepEqual(c.contents, [key, next]);
  assert.equal(c.size, 500);
  // The next keyframe replaces the GOP, even one well under the cap.
  const key2 = ts(50, 3);
  c.start();
  c.add(key2, 50);
  assert.deepEqual(c.contents, [key2]);
  assert.equal(c.size, 50);
  c.clear();
  assert.equal(c.started, false);
  assert.deepEqual(c.contents, []);
  assert.equal(c.size, 0);
});

test('GopCache: a GOP up to the cap is kept whole; one byte past it is dropped entirely, and nothing is kept until the next keyframe', () => {
  const c = new GopCache(1000);
  c.start();
  c.add(ts(600), 600);
  c.add(ts(400), 400);
  assert.equal(c.size, 1000, 'exactly at the cap: kept');
  assert.equal(c.started, true);
  assert.equal(c.contents.length, 2);
  c.add(ts(1), 1);
  assert.equal(c.started, false, 'past the cap: dropped');
  assert.deepEqual(c.contents, []);
  assert.equal(c.size, 0);
  // The rest of that GOP is not kept either: a joiner would get a GOP without its keyframe.
  c.add(ts(10), 10);
  assert.equal(c.started, false);
  assert.deepEqual(c.contents, []);
  // The cap starts over at the next keyframe.
  const key = ts(900);
  c.start();
  c.add(key, 900);
  assert.equal(c.started, true);
  assert.deepEqual(c.contents, [key]);
  assert.equal(c.size, 900);
});

test('GopCache: a GOP starts with its lead (MPEG-TS tables) counted against the cap; a lead over the cap starts nothing', () => {
  const c = new GopCache(1000);
  const pat = ts(188, 0x47);
  const pmt = ts(188, 0x48);
  c.start([pat, pmt], 376);
  assert.equal(c.started, true);
  assert.deepEqual(c.contents, [pat, pmt]);
  assert.equal(c.size, 376);
  c.add(ts(624), 624);
  assert.equal(c.started, true, 'lead + GOP exactly at the cap');
  c.add(ts(1), 1);
  assert.equal(c.started, false);
  c.start([ts(1001)], 1001);
  assert.equal(c.started, false);
  assert.deepEqual(c.contents, []);
  c.add(ts(10), 10);
  assert.deepEqual(c.contents, []);
});

// --- through a pull ---------------------------------------------------------------------------

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
  /** Every TS byte received, in order. */
  tsBytes(): Buffer {
    return Buffer.concat(this.got.flatMap((m) => (m.type === 'ts' ? [m.data] : [])));
  }
}

const SOURCES: Record<string, LiveSource> = {
  cam264: { url: 'rtsp://u:p@127.0.0.1:8554/a', codec: 'H264' },
  cam265: { url: 'rtsp://u:p@127.0.0.1:8554/b', codec: 'H265' },
};

function pullsWithCap(maxGopBytes: number) {
  const sup = fakeSupervisor();
  const pulls = new LivePulls({
    supervise: sup.supervise,
    resolve: (id) => SOURCES[id],
    config: { lingerSec: 5, maxViewers: 32, fallbackWidth: 640, fallbackBitrateKbps: 1000 },
    mpeg1FfmpegPath: 'ffmpeg',
    mpeg1Launch: () => new EventEmitter() as unknown as ChildProcess,
    maxGopBytes,
    logger: createLogger({ level: 'silent' }),
    clock: new FakeClock(),
  });
  return { pulls, sup };
}

/** Feeds bytes [from, to) of `data` to the pull's stdout in odd-sized chunks, as a pipe delivers them. */
function feeder(p: FakeProc, data: Buffer, chunk: number) {
  let at = 0;
  return (to: number) => {
    for (; at < to; at = Math.min(to, at + chunk)) p.options.onStdout!(data.subarray(at, Math.min(to, at + chunk)), 1);
  };
}

const MP4 = fragmentedMp4(3);
const ALL = new Fmp4Splitter().push(MP4);
const FRAGMENTS = ALL.filter((o): o is MediaFragment => o.kind === 'fragment');
/** Byte offset in MP4 just after the n-th fragment (n = 0: after the init segment). */
const offsetAfter = (n: number) => ALL.slice(0, n + 1).reduce((s, o) => s + o.data.length, 0);
const bytesOf = (from: number, to: number) => FRAGMENTS.slice(from, to).reduce((s, f) => s + f.data.length, 0);
const seqs = (from: number, to?: number) => FRAGMENTS.slice(from, to).map((f) => f.sequence);

test('MSE pull: a late joiner gets the GOP so far while it is under the cap; past it, no partial GOP, the next keyframe instead; the cap starts over there', async () => {
  const keys = FRAGMENTS.flatMap((f, i) => (f.keyframe ? [i] : []));
  assert.equal(keys.length, 3, 'three GOPs of a second');
  const [, k2, k3] = keys;
  // The cap holds the second GOP's keyframe and five more fragments, not its whole.
  const cap = bytesOf(k2, k2 + 6);
  assert.ok(bytesOf(k2, k3) > cap && bytesOf(k3, k3 + 3) <= cap, 'the sample fits the scenario');
  const { pulls, sup } = pullsWithCap(cap);
  const first = new Viewer();
  await pulls.join('cam264', { stream: 'sub' }, first);
  const p = sup.procs[0];
  p.options.onRunStart!(1);
  const feed = feeder(p, MP4, 777);

  // Exactly at the cap: a joiner gets the whole GOP so far.
  feed(offsetAfter(k2 + 6));
  const under = new Viewer();
  await pulls.join('cam264', { stream: 'sub' }, under);
  assert.equal(under.kinds(), 'IKfffff');
  assert.deepEqual(under.sequences(), seqs(k2, k2 + 6));

  // One fragment more: the GOP is past the cap; a joiner now (a few fragments later) gets the
  // init segment and waits.
  feed(offsetAfter(k2 + 7));
  feed(offsetAfter(k2 + 10));
  const over = new Viewer();
  await pulls.join('cam264', { stream: 'sub' }, over);
  assert.equal(over.kinds(), 'I', 'no partial GOP');
  feed(offsetAfter(k3));
  assert.equal(over.kinds(), 'I', 'nothing until the next keyframe');

  // The next keyframe: the waiting joiner starts there, and the cache is back for the next joiner.
  feed(offsetAfter(k3 + 3));
  assert.deepEqual(over.sequences(), seqs(k3, k3 + 3));
  assert.equal(over.kinds(), 'IKff');
  const next = new Viewer();
  await pulls.join('cam264', { stream: 'sub' }, next);
  assert.equal(next.kinds(), 'IKff');
  assert.deepEqual(next.sequences(), seqs(k3, k3 + 3));

  feed(MP4.length);
  // The cap is about the cache only: viewers already watching get every fragment.
  assert.deepEqual(first.sequences(), seqs(0));
  assert.deepEqual(under.sequences(), seqs(k2));
  assert.deepEqual(over.sequences(), seqs(k3));
  assert.deepEqual(next.sequences(), seqs(k3));
});

/** `seconds` of MPEG-1 in MPEG-TS, 160x120@25, as the JSMpeg pull's ffmpeg encodes it (a sequence header every second). */
function mpegTs(seconds: number): Buffer {
  const options = Object.entries(mpeg1Options({ fallbackWidth: 640, fallbackBitrateKbps: 1000 }, 25)).flatMap(([k, v]) => (v === '' ? [k] : [k, v]));
  const r = spawnSync(
    'ffmpeg',
    ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-t', String(seconds), '-f', 'mpegts', '-codec:v', 'mpeg1video', ...options, 'pipe:1'],
    {
      maxBuffer: 1 << 26,
    },
  );
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

/** Byte offsets of the keyframes' first TS packets, from ffprobe. */
function keyframeOffsets(data: Buffer): number[] {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pos,flags', '-of', 'json', '-'], {
    input: data,
    maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0, String(r.stderr));
  const packets = (JSON.parse(String(r.stdout)) as { packets: Array<{ pos: string; flags: string }> }).packets;
  return packets.filter((p) => p.flags.startsWith('K')).map((p) => Number(p.pos));
}

/** Offset of the last PAT (PID 0) packet before `offset`: where a JSMpeg decoder can start. */
function patBefore(data: Buffer, offset: number): number {
  for (let off = offset - TS_PACKET; off >= 0; off -= TS_PACKET) {
    const pid = ((data[off + 1] & 0x1f) << 8) | data[off + 2];
    if (data[off] === 0x47 && pid === 0) return off;
  }
  throw new Error(`no PAT before ${offset}`);
}

test('JSMpeg pull: a late joiner gets the GOP so far (from its PAT) while it is under the cap; past it, no partial GOP, the next keyframe instead; the cap starts over there', async () => {
  const TS = mpegTs(4);
  assert.equal(TS.length % TS_PACKET, 0);
  const keys = keyframeOffsets(TS);
  assert.ok(keys.length >= 4, `a keyframe every second (${keys.length})`);
  const [g1, g2, g3] = keys.map((k) => patBefore(TS, k));
  assert.ok(g2 < keys[1] && g3 < keys[2]);
  // The cap holds half of the second GOP (whole packets), so the GOP outgrows it.
  const cap = Math.floor((g3 - g2) / 2 / TS_PACKET) * TS_PACKET;
  assert.ok(keys[1] - g2 < cap, 'the GOP starts well under the cap');
  const { pulls, sup } = pullsWithCap(cap);
  const first = new Viewer();
  const session = await pulls.join('cam265', { stream: 'main' }, first);
  assert.equal(session.mode, 'jsmpeg');
  const p = sup.procs[0];
  p.options.onRunStart!(1);
  const feed = feeder(p, TS, 1000); // never a whole number of packets: the reader carries the rest

  // Exactly at the cap: a joiner gets the GOP from its PAT, byte for byte.
  feed(g2 + cap);
  const under = new Viewer();
  await pulls.join('cam265', { stream: 'main' }, under);
  assert.ok(under.tsBytes().equals(TS.subarray(g2, g2 + cap)), `under the cap: ${under.tsBytes().length} bytes, expected ${cap}`);

  // One packet more: past the cap; a joiner now (a few packets later) gets nothing.
  feed(g2 + cap + TS_PACKET);
  feed(g2 + cap + 5 * TS_PACKET);
  const over = new Viewer();
  await pulls.join('cam265', { stream: 'main' }, over);
  assert.equal(over.got.length, 0, 'no partial GOP');
  feed(g3);
  assert.equal(over.got.length, 0, 'nothing until the next keyframe');

  // The next keyframe: the waiting joiner starts at its PAT; a joiner after it gets that GOP so far.
  const soon = keys[2] + 10 * TS_PACKET;
  assert.ok(soon - g3 < cap);
  feed(soon);
  assert.ok(over.tsBytes().equals(TS.subarray(g3, soon)), 'the waiting joiner starts at the PAT before the next sequence header');
  const next = new Viewer();
  await pulls.join('cam265', { stream: 'main' }, next);
  assert.ok(next.tsBytes().equals(TS.subarray(g3, soon)), 'the cap starts over at the keyframe');

  feed(TS.length);
  // The cap is about the cache only: viewers already watching get every byte (the first from the
  // first GOP's PAT: it joined before ffmpeg wrote anything).
  assert.ok(first.tsBytes().equals(TS.subarray(g1)));
  assert.ok(under.tsBytes().equals(TS.subarray(g2)));
  assert.ok(over.tsBytes().equals(TS.subarray(g3)));
  assert.ok(next.tsBytes().equals(TS.subarray(g3)));
});

// --- TsReader: where a GOP may start ----------------------------------------------------------

/** One 188-byte TS packet of `pid`; `sequenceHeader` puts an MPEG-1 sequence header start code in a payload that starts a PES. */
function tsPacket(pid: number, sequenceHeader = false): Buffer {
  const p = Buffer.alloc(TS_PACKET, 0xff);
  p[0] = 0x47;
  p[1] = (sequenceHeader ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  p[2] = pid & 0xff;
  p[3] = 0x10;
  if (sequenceHeader) Buffer.from([0, 0, 1, 0xe0, 0, 0, 0x80, 0, 0, 0, 0, 1, 0xb3]).copy(p, 4);
  return p;
}

test('TsReader: a GOP starts at a sequence header only when the packets since the last PAT are all there', () => {
  const cache = new GopCache(10 * TS_PACKET);
  const reader = new TsReader(cache, 10 * TS_PACKET);
  const PAT = tsPacket(0);
  const PMT = tsPacket(0x1000);
  const video = () => tsPacket(0x100);
  const key = () => tsPacket(0x100, true);

  // Joined mid-stream: a keyframe before any PAT starts nothing (a late joiner could not decode it).
  assert.equal(reader.read(Buffer.concat([video(), key(), video()]))?.keyframe, true);
  assert.equal(cache.started, false);

  // PAT, PMT, keyframe: the GOP starts with the PAT.
  assert.equal(reader.read(Buffer.concat([PAT, PMT, key(), video()]))?.keyframe, true);
  assert.equal(cache.started, true);
  assert.deepEqual(
    cache.contents.map((u) => (u.kind === 'ts' ? u.data.length : 0)),
    [2 * TS_PACKET, 2 * TS_PACKET],
  );
  assert.ok((cache.contents[0] as { data: Buffer }).data.subarray(0, TS_PACKET).equals(PAT));

  // No PAT for longer than the cap: the lead is lost, so the next keyframe starts nothing...
  reader.read(Buffer.concat(Array.from({ length: 12 }, video)));
  assert.equal(cache.started, false);
  reader.read(key());
  assert.equal(cache.started, false);
  // ...until a PAT comes again.
  reader.read(Buffer.concat([PAT, PMT, key()]));
  assert.equal(cache.started, true);

  // A partial packet waits for its rest: the cache always starts on a packet boundary.
  const reader2 = new TsReader(new GopCache(10 * TS_PACKET), 10 * TS_PACKET);
  const bytes = Buffer.concat([PAT, PMT, key()]);
  assert.equal(reader2.read(bytes.subarray(0, 100)), undefined);
  assert.equal(reader2.read(bytes.subarray(100))?.batch.length, 3 * TS_PACKET);
});
