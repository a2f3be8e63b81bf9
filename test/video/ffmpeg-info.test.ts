// ffmpeg capability parsing on real captured listings (ffmpeg 5.1, Debian bookworm), the real
// ffmpegInfo() on this machine's ffmpeg, and `camgate doctor` in-process.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { analyze, ffmpegInfo, parseCodecList, parseFormats, parseMuxers, parseProtocols, parseVersion, type RunFn } from '../../agent/ffmpeg/info';
import { locateFfmpeg } from '../../agent/ffmpeg/locate';
import { runMain } from '../agent/helpers';

const FIXTURES = resolve(__dirname, '../../../test/video/fixtures');
const cap = (what: string) => readFileSync(resolve(FIXTURES, `ffmpeg-5.1-${what}.txt`), 'utf8');
const captured = () => ({
  version: cap('version'),
  decoders: cap('decoders'),
  encoders: cap('encoders'),
  muxers: cap('muxers'),
  demuxers: cap('demuxers'),
  protocols: cap('protocols'),
});

describe('ffmpeg info parsing (captured ffmpeg 5.1 output)', () => {
  it('version', () => {
    assert.deepEqual(parseVersion(cap('version')), { version: '5.1.9-0+deb12u1', major: 5, minor: 1 });
    assert.deepEqual(parseVersion('ffmpeg version 4.1.4-static https://johnvansickle.com/ffmpeg/  Copyright (c) 2000-2019'), {
      version: '4.1.4-static',
      major: 4,
      minor: 1,
    });
    assert.deepEqual(parseVersion('ffmpeg version n6.1.1 Copyright'), { version: 'n6.1.1', major: 6, minor: 1 });
    assert.deepEqual(parseVersion('ffmpeg version N-113000-gabc123 Copyright'), { version: 'N-113000-gabc123', major: null, minor: null });
  });

  it('codec, format and protocol lists', () => {
    const dec = parseCodecList(cap('decoders'));
    assert.ok(dec.has('h264') && dec.has('hevc') && dec.has('mjpeg'));
    assert.ok(!dec.has('Video') && !dec.has('='), 'legend lines are not codecs');
    const enc = parseCodecList(cap('encoders'));
    assert.ok(enc.has('libx264') && enc.has('mpeg1video') && enc.has('mjpeg'));
    const mux = parseMuxers(cap('muxers'));
    for (const m of ['mp4', 'flv', 'mpegts', 'rtsp', 'rawvideo', 'image2pipe']) assert.ok(mux.has(m), m);
    assert.ok(parseFormats(cap('demuxers'), 'D').has('rtsp'));
    assert.ok(parseFormats(' D  mov,mp4,m4a,3gp  QuickTime / MOV\n', 'D').has('mp4'), 'comma lists are split');
    const proto = parseProtocols(cap('protocols'));
    for (const p of ['tcp', 'file', 'pipe', 'rtmp', 'srt']) assert.ok(proto.output.has(p), p);
    assert.ok(proto.input.has('tcp'));
    assert.ok(!proto.input.has('rtsp'), 'RTSP is a (de)muxer, not a protocol');
  });

  it('nothing missing in Debian’s ffmpeg 5.1', () => {
    const info = analyze('/usr/bin/ffmpeg', captured());
    assert.deepEqual(info.missing, []);
    assert.deepEqual(info.problems, []);
    assert.equal(info.ok, true);
  });

  it('each missing capability says what it breaks', () => {
    const out = captured();
    out.protocols = out.protocols.replace(/^\s*srt\s*$/gm, '');
    out.encoders = out.encoders.replace(/^.*libx264 .*$/m, '');
    out.muxers = out.muxers.replace(/^.* flv .*$/m, '');
    out.demuxers = out.demuxers.replace(/^.* rtsp .*$/m, '');
    const info = analyze('/x/ffmpeg', out);
    assert.equal(info.ok, false);
    const messages = info.missing.map((m) => m.message);
    assert.deepEqual(messages.sort(), [
      'no flv muxer: relays to rtmp:// targets fail',
      'no libx264 encoder: relays that transcode (H.265 → H.264 for RTMP, lower bitrate) fail',
      'no rtsp protocol: cameras cannot be pulled over RTSP: every relay, live view and picture probe fails',
      'no srt protocol: relays to srt:// targets fail',
    ]);
  });

  it('ffmpeg older than 5 is a problem (RTSP -timeout semantics)', () => {
    const out = captured();
    out.version = out.version.replace('5.1.9-0+deb12u1', '4.1.4-static');
    const info = analyze('/x/ffmpeg', out);
    assert.equal(info.ok, false);
    assert.match(info.problems[0] ?? '', /older than 5: RTSP -timeout/);
    assert.match(info.problems[0] ?? '', /-stats_period/);
  });

  it('ffmpegInfo runs the six listings through the injected runner', async () => {
    const seen: string[] = [];
    const out = captured();
    const run: RunFn = async (file, args) => {
      seen.push(`${file} ${args.join(' ')}`);
      const flag = args[1]?.slice(1) as keyof typeof out;
      return out[flag];
    };
    const info = await ffmpegInfo({ path: '/opt/ffmpeg', source: 'config' }, run);
    assert.equal(info.ok, true);
    assert.deepEqual(
      seen.sort(),
      ['-decoders', '-demuxers', '-encoders', '-muxers', '-protocols', '-version'].map((f) => `/opt/ffmpeg -hide_banner ${f}`).sort(),
    );
  });
});

describe('ffmpeg info on this machine', () => {
  it('the real ffmpeg: version ≥ 5, nothing missing', async () => {
    const info = await ffmpegInfo(locateFfmpeg({ env: process.env }));
    assert.ok((info.major ?? 0) >= 5, info.version);
    assert.deepEqual(info.missing, []);
  });

  it('an ffmpeg that does not run rejects', async () => {
    await assert.rejects(ffmpegInfo({ path: '/nonexistent/ffmpeg', source: 'config' }), /ENOENT/);
  });
});

describe('camgate doctor', () => {
  it('prints the ffmpeg, where it was found, its version and orphan protection; exit 0', async () => {
    const r = await runMain(['doctor'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ffmpeg: \/\S+ffmpeg$/m);
    assert.match(r.stdout, /found via: PATH \(/);
    assert.match(r.stdout, /version: 5\./);
    assert.match(r.stdout, /capabilities: everything camgate needs is there/);
    assert.match(r.stdout, /orphan protection: yes \(ffmpeg runs under \/usr\/bin\/setpriv --pdeathsig KILL/);
    assert.match(r.stdout, /video: ready/);
  });

  it('--json, with FFMPEG_BIN as the source', async () => {
    const bin = locateFfmpeg({ env: process.env }).path;
    const r = await runMain(['doctor', '--json'], { env: { PATH: '/nonexistent', FFMPEG_BIN: bin } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout) as {
      ok: boolean;
      ffmpeg: { path: string; source: string; via: string; major: number };
      missing: unknown[];
      orphanProtection: { available: boolean };
    };
    assert.equal(j.ok, true);
    assert.deepEqual([j.ffmpeg.path, j.ffmpeg.source, j.ffmpeg.via], [bin, 'env', 'FFMPEG_BIN']);
    assert.ok(j.ffmpeg.major >= 5);
    assert.deepEqual(j.missing, []);
    assert.equal(j.orphanProtection.available, true);
  });

  it('a configured ffmpeg that does not exist: exit 1, naming the key and the fix', async () => {
    const r = await runMain(['doctor'], { env: { PATH: process.env.PATH ?? '', CAMGATE_VIDEO_FFMPEG_PATH: '/opt/nope/ffmpeg' } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /ffmpeg: NOT FOUND/);
    assert.match(r.stdout, /video\.ffmpegPath = "\/opt\/nope\/ffmpeg": no such executable file/);
    assert.match(r.stdout, /video: NOT ready/);
  });

  it('no ffmpeg anywhere: exit 1 with the install fix (--json)', async () => {
    const r = await runMain(['doctor', '--json'], { env: { PATH: '/nonexistent' } });
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout) as { ok: boolean; ffmpeg: { found: boolean; notes: string[] }; fixes: string[] };
    assert.equal(j.ok, false);
    assert.equal(j.ffmpeg.found, false);
    assert.match(j.fixes.join('\n'), /apt-get install ffmpeg/);
  });
});
