// The -progress parser on real captured output (test/video/fixtures/ffmpeg-progress-*.txt, from
// ffmpeg 5.1: see the file names for the commands), and the stderr classifier.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { classifyFfmpegStderr, parseBitrate, parseProgress, ProgressParser, TailBuffer } from '../../agent/ffmpeg/progress';

const FIXTURES = resolve(__dirname, '../../../test/video/fixtures');
const fixture = (name: string) => readFileSync(resolve(FIXTURES, name), 'utf8');

describe('ffmpeg -progress parser', () => {
  // ffmpeg -re -f lavfi -i testsrc=size=320x240:rate=25 -t 3 -c:v mpeg1video -b:v 400k -f mpegts -progress pipe:3 -stats_period 1 out.ts
  const reText = fixture('ffmpeg-progress-re-mpegts.txt');

  it('parses real blocks: frame, fps, bitrate, total_size, out_time_us, speed, end', () => {
    const blocks = parseProgress(reText);
    assert.equal(blocks.length, 4);
    const [first, second, , last] = blocks;
    assert.deepEqual(
      {
        frame: first?.frame,
        fps: first?.fps,
        bitrate: first?.bitrateKbps,
        size: first?.totalSize,
        out: first?.outTimeUs,
        speed: first?.speed,
        end: first?.end,
      },
      { frame: 1, fps: 0, bitrate: null, size: 0, out: 0, speed: null, end: false },
    );
    assert.equal(second?.frame, 26);
    assert.equal(second?.fps, 25.8);
    assert.equal(second?.bitrateKbps, 505.1);
    assert.equal(second?.totalSize, 58092);
    assert.equal(second?.speed, 0.913);
    assert.ok((second?.outTimeUs ?? 0) > 0);
    assert.equal(last?.frame, 75);
    assert.equal(last?.end, true);
    assert.equal(last?.raw.drop_frames, '0');
  });

  it('-f null output: bitrate and total_size are N/A', () => {
    // ffmpeg -f lavfi -i testsrc=size=320x240:rate=25 -t 3 -c:v mpeg1video -f null - -progress pipe:1 -stats_period 1
    const blocks = parseProgress(fixture('ffmpeg-progress-null.txt'));
    assert.equal(blocks.length, 2);
    assert.equal(blocks[1]?.frame, 75);
    assert.equal(blocks[1]?.totalSize, null);
    assert.equal(blocks[1]?.bitrateKbps, null);
    assert.equal(blocks[1]?.speed, 60.8);
  });

  it('is incremental: any split of the text gives the same blocks', () => {
    const whole = parseProgress(reText);
    for (const size of [1, 3, 7, 64, 1000]) {
      const p = new ProgressParser();
      const got = [];
      for (let i = 0; i < reText.length; i += size) got.push(...p.push(Buffer.from(reText.slice(i, i + size))));
      assert.deepEqual(got, whole, `chunks of ${size}`);
    }
    const p = new ProgressParser();
    assert.deepEqual(p.push('frame=1\nfps=2'), []);
    p.reset();
    assert.deepEqual(p.push('0\nprogress=continue\n')[0]?.raw, { progress: 'continue' }, 'reset drops the partial block');
  });

  it('bitrate units', () => {
    assert.equal(parseBitrate(' 1234.5kbits/s'), 1234.5);
    assert.equal(parseBitrate('2.5mbits/s'), 2500);
    assert.equal(parseBitrate('800bits/s'), 0.8);
    assert.equal(parseBitrate('N/A'), null);
    assert.equal(parseBitrate(undefined), null);
  });

  it('TailBuffer keeps the last bytes from a line start', () => {
    const t = new TailBuffer(20);
    t.push('first line\nsecond line\n');
    t.push('third\n');
    assert.equal(t.value, 'second line\nthird\n');
  });
});

describe('classifyFfmpegStderr', () => {
  const cases: Array<[string, RegExp]> = [
    [
      '[tcp @ 0x55d0c8a1b2c0] Connection to tcp://127.80.0.8:554?timeout=0 failed: Connection refused\nrtsp://admin:pw@127.80.0.8/ch1: Connection refused\n',
      /^connection refused/,
    ],
    [
      '[rtsp @ 0x5581] method DESCRIBE failed: 401 Unauthorized\nrtsp://admin:pw@127.80.0.8/ch1: Server returned 401 Unauthorized (authorization failed)\n',
      /^authentication failed.*401/,
    ],
    ['[rtsp @ 0x5581] method DESCRIBE failed: 404 Not Found\nrtsp://127.80.0.8/nope: Server returned 404 Not Found\n', /^not found \(404\)/],
    ['[tcp @ 0x1] Connection to tcp://127.80.0.8:554 failed: Connection timed out\n', /^timeout/],
    ['[rtsp @ 0x1] Connection reset by peer\nrtsp://127.80.0.8/ch1: Connection reset by peer\n', /^connection reset/],
    [
      '[flv @ 0x5612] Video codec hevc not compatible with flv\nCould not write header for output file #0 (incorrect codec parameters ?): Function not implemented\n',
      /^codec not supported by the output format/,
    ],
    [
      'av_interleaved_write_frame(): Broken pipe\n[flv @ 0x1] Failed to update header with correct duration.\nError writing trailer of rtmp://127.80.0.9/live/x: Broken pipe\n',
      /^the target closed the connection \(broken pipe\)/,
    ],
    ['/nonexistent/in.ts: No such file or directory\n', /^no such file or directory/],
    ['[srt @ 0x1] Connection to srt://127.80.0.9:9000?mode=caller failed: Input/output error\n', /srt:\/\/127\.80\.0\.9/],
    ["Unknown encoder 'libx264'\n", /lacks a needed codec/],
    ['[rtsp @ 0x1] Protocol not found\n', /lacks a needed protocol/],
  ];
  for (const [stderr, expected] of cases) {
    it(`${expected}`, () => {
      const got = classifyFfmpegStderr(stderr) ?? '';
      assert.match(got, expected);
      assert.ok(!got.includes('pw@'), got);
      assert.ok(!got.includes('0x55'), 'no [x @ 0x…] prefixes');
    });
  }

  it('says nothing for empty or boilerplate stderr', () => {
    assert.equal(classifyFfmpegStderr(''), undefined);
    assert.equal(classifyFfmpegStderr('\nConversion failed!\n'), undefined);
  });
});
