// The fragmented-MP4 splitter on real ffmpeg output (lavfi testsrc → libx264 → fMP4 on a pipe),
// fed in odd chunk sizes, plus hand-built boxes for the sample-flag fallbacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Fmp4Error, Fmp4Splitter, type Fmp4Output, type MediaFragment } from '../../agent/video/live/fmp4';
import { LIVE_MP4_OUTPUT_ARGS } from '../../agent/video/live/args';

/** 3 s of 320x240@25 H.264 High@3.1 with a keyframe every 25 frames, as the live pull writes it. */
function encode(extra: string[] = []): Buffer {
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=25',
      '-t',
      '3',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-profile:v',
      'high',
      '-level',
      '3.1',
      '-pix_fmt',
      'yuv420p',
      '-g',
      '25',
      '-keyint_min',
      '25',
      '-sc_threshold',
      '0',
      '-bf',
      '0',
      ...LIVE_MP4_OUTPUT_ARGS.filter((a) => a !== '-c:v' && a !== 'copy'),
      ...extra,
      'pipe:1',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

function feed(data: Buffer, sizes: number[]): Fmp4Output[] {
  const s = new Fmp4Splitter();
  const out: Fmp4Output[] = [];
  let off = 0;
  let i = 0;
  while (off < data.length) {
    const n = sizes[i++ % sizes.length];
    out.push(...s.push(data.subarray(off, off + n)));
    off += n;
  }
  return out;
}

const stream = encode();

test('fmp4: init once with the avcC codec string and size, then moof+mdat fragments, whatever the chunk sizes', () => {
  const whole = feed(stream, [stream.length]);
  assert.equal(whole[0].kind, 'init');
  const init = whole[0];
  // ultrafast has no CABAC, so x264 writes Constrained Baseline: profile 0x42, constraint flags 0xc0, level 3.1 (0x1f)
  assert.equal(init.codec, 'avc1.42c01f');
  assert.equal(init.width, 320);
  assert.equal(init.height, 240);
  assert.ok(init.timescale > 0);
  assert.equal(init.data.toString('latin1', 4, 8), 'ftyp');
  assert.equal(whole.filter((o) => o.kind === 'init').length, 1);
  const fragments = whole.slice(1) as MediaFragment[];
  assert.ok(fragments.length >= 10, `only ${fragments.length} fragments`);
  for (const f of fragments) {
    assert.equal(f.kind, 'fragment');
    assert.equal(f.data.toString('latin1', 4, 8), 'moof');
  }
  // Sequence numbers count up from 1 without gaps.
  assert.deepEqual(
    fragments.map((f) => f.sequence),
    fragments.map((_, i) => i + 1),
  );
  // The bytes out are exactly the bytes in (up to the trailing mfra index, which is dropped).
  const joined = Buffer.concat(whole.map((o) => o.data));
  assert.ok(joined.equals(stream.subarray(0, joined.length)));
  const rest = stream.subarray(joined.length);
  assert.ok(rest.length === 0 || rest.toString('latin1', 4, 8) === 'mfra', `unexpected trailing ${rest.toString('latin1', 4, 8)}`);

  for (const sizes of [[1], [7], [3, 1000, 17], [4096], [65536], [8, 8, 1, 15]]) {
    const split = feed(stream, sizes);
    assert.equal(split.length, whole.length, `chunks ${sizes}`);
    split.forEach((o, i) => {
      assert.equal(o.kind, whole[i].kind);
      assert.ok(o.data.equals(whole[i].data), `chunks ${sizes}: output ${i} differs`);
      if (o.kind === 'fragment') assert.equal(o.keyframe, (whole[i] as MediaFragment).keyframe);
    });
  }
});

test('fmp4: the codec string follows avcC: High profile at level 4.0 is avc1.640028', () => {
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=25',
      '-t',
      '0.5',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-profile:v',
      'high',
      '-level',
      '4.0',
      '-pix_fmt',
      'yuv420p',
      ...LIVE_MP4_OUTPUT_ARGS.filter((a) => a !== '-c:v' && a !== 'copy'),
      'pipe:1',
    ],
    { maxBuffer: 1 << 24 },
  );
  assert.equal(r.status, 0, String(r.stderr));
  const init = new Fmp4Splitter().push(r.stdout)[0];
  assert.equal(init.kind, 'init');
  assert.equal((init as { codec: string }).codec, 'avc1.640028');
});

test('fmp4: keyframe flags: one keyframe fragment per GOP (3 s at -g 25), the first fragment is one', () => {
  const fragments = feed(stream, [1234]).filter((o): o is MediaFragment => o.kind === 'fragment');
  assert.equal(fragments[0].keyframe, true);
  assert.equal(fragments.filter((f) => f.keyframe).length, 3);
  // one fragment per frame: most are not keyframes.
  assert.ok(fragments.filter((f) => !f.keyframe).length >= 6);
  // tfdt grows.
  const times = fragments.map((f) => f.baseMediaDecodeTime ?? -1);
  for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1], `tfdt ${times[i]} after ${times[i - 1]}`);
});

test('fmp4: reset() for a new run gives a new init segment; garbage and non-fragmented MP4 are refused', () => {
  const s = new Fmp4Splitter();
  const first = s.push(stream.subarray(0, 20_000));
  assert.equal(first[0].kind, 'init');
  s.reset();
  assert.equal(s.hasInit, false);
  const again = s.push(stream);
  assert.equal(again[0].kind, 'init');
  assert.equal(again.filter((o) => o.kind === 'init').length, 1);

  assert.throws(() => new Fmp4Splitter().push(Buffer.from('\x00\x00\x00\x10\x01\x02\x03\x04garbage!', 'latin1')), Fmp4Error);
  // A plain (non-fragmented) MP4 written to a pipe: ftyp, then mdat before any moov.
  const mdatFirst = Buffer.concat([stream.subarray(0, 28), Buffer.from([0, 0, 0, 16]), Buffer.from('mdat'), Buffer.alloc(8)]);
  assert.throws(() => new Fmp4Splitter().push(mdatFirst), /mdat before moov/);
  // A box claiming more than the cap.
  assert.throws(() => new Fmp4Splitter(1024).push(Buffer.concat([Buffer.from([0, 1, 0, 0]), Buffer.from('moof')])), /cap/);
});

// --- hand-built boxes: where the first sample's flags come from ---
function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + body.length, 0);
  h.write(type, 4, 'latin1');
  return Buffer.concat([h, body]);
}
function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}
const NON_SYNC = 0x01010000;
const SYNC = 0x02000000;

/** ftyp + moov with one video track (id 1) whose trex default flags are given. */
function initWith(trexFlags: number): Buffer {
  const tkhd = box('tkhd', u32(0, 0, 0, 1, 0, 0));
  const hdlr = box('hdlr', u32(0, 0), Buffer.from('vide'), u32(0, 0, 0), Buffer.from([0]));
  const mdhd = box('mdhd', u32(0, 0, 0, 90000, 0, 0));
  const trex = box('trex', u32(0, 1, 1, 0, 0, trexFlags));
  return Buffer.concat([box('ftyp', Buffer.from('isom'), u32(0)), box('moov', box('trak', tkhd, box('mdia', mdhd, hdlr)), box('mvex', trex))]);
}
function fragment(tfhdFlags: number | undefined, trun: Buffer): Buffer {
  const tfhd = tfhdFlags === undefined ? box('tfhd', u32(0x020000, 1)) : box('tfhd', u32(0x020020, 1, tfhdFlags));
  return Buffer.concat([box('moof', box('mfhd', u32(0, 7)), box('traf', tfhd, trun)), box('mdat', Buffer.alloc(4))]);
}

test('fmp4: first-sample flags win over per-sample, tfhd default and trex default flags', () => {
  const run = (trex: number, frag: Buffer) => {
    const out = new Fmp4Splitter().push(Buffer.concat([initWith(trex), frag]));
    assert.equal(out.length, 2);
    assert.equal(out[0].kind, 'init');
    assert.equal((out[0] as { codec: string }).codec, '');
    return (out[1] as MediaFragment).keyframe;
  };
  // trun with first_sample_flags (0x004) = sync; trex says non-sync.
  assert.equal(run(NON_SYNC, fragment(NON_SYNC, box('trun', u32(0x000004, 2, SYNC)))), true);
  // trun with per-sample flags (0x400) and sizes (0x200): first sample non-sync.
  assert.equal(run(SYNC, fragment(SYNC, box('trun', u32(0x000600, 2, 100, NON_SYNC, 100, SYNC)))), false);
  // no trun flags: tfhd default flags.
  assert.equal(run(SYNC, fragment(NON_SYNC, box('trun', u32(0, 1)))), false);
  assert.equal(run(NON_SYNC, fragment(SYNC, box('trun', u32(0, 1)))), true);
  // nothing in the moof: trex defaults from moov.
  assert.equal(run(NON_SYNC, fragment(undefined, box('trun', u32(0, 1)))), false);
  assert.equal(run(SYNC, fragment(undefined, box('trun', u32(0, 1)))), true);
  assert.equal((new Fmp4Splitter().push(Buffer.concat([initWith(SYNC), fragment(undefined, box('trun', u32(0, 1)))]))[1] as MediaFragment).sequence, 7);
});
