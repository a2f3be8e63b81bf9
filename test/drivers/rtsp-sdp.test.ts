import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdpVideo } from '../../drivers/rtsp/sdp';
import { h264PictureSize, h265PictureSize } from '../../drivers/rtsp/sps';
import { chooseChallenge, parseChallenge, Authenticator } from '../../drivers/auth';
import { createHash } from 'node:crypto';

// Parameter sets produced by ffmpeg (libx264 / libx265) from testsrc at the sizes named.
const SPS_H264_1280x720_HIGH = 'Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=';
const SPS_H264_1920x1080_HIGH_CROPPED = 'Z2QAKKzZQHgCJ+XARAAAAwAEAAADAMg8YMZY';
const SPS_H264_704x576_BASELINE = 'Z0LAHtkAsBJsBEAAAAMAQAAADIPFi5I=';
const SPS_H265_1920x1080 = 'QgEBAWAAAAMAkAAAAwAAAwB4oAPAgBDlllZpJMrwFoCAAAADAIAAAAyE';

test('H.264 SPS picture size, including cropping (1088 → 1080) and baseline profile', () => {
  assert.deepEqual(h264PictureSize(Buffer.from(SPS_H264_1280x720_HIGH, 'base64')), { width: 1280, height: 720 });
  assert.deepEqual(h264PictureSize(Buffer.from(SPS_H264_1920x1080_HIGH_CROPPED, 'base64')), { width: 1920, height: 1080 });
  assert.deepEqual(h264PictureSize(Buffer.from(SPS_H264_704x576_BASELINE, 'base64')), { width: 704, height: 576 });
  assert.equal(h264PictureSize(Buffer.from([0x67, 0x64])), undefined); // truncated: no throw
  assert.equal(h264PictureSize(Buffer.from('aOvjyyLA', 'base64')), undefined); // a PPS, not an SPS
});

test('H.265 SPS picture size', () => {
  assert.deepEqual(h265PictureSize(Buffer.from(SPS_H265_1920x1080, 'base64')), { width: 1920, height: 1080 });
  assert.equal(h265PictureSize(Buffer.from([0x42, 0x01, 0x01])), undefined);
});

test('SDP: first video stream codec and size; audio ignored', () => {
  const sdp = [
    'v=0',
    'o=- 1 1 IN IP4 0.0.0.0',
    's=Session',
    't=0 0',
    'm=audio 0 RTP/AVP 0',
    'a=rtpmap:0 PCMU/8000',
    'm=video 0 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    `a=fmtp:96 packetization-mode=1;profile-level-id=64001f;sprop-parameter-sets=${SPS_H264_1280x720_HIGH},aOvjyyLA`,
    'a=framerate:25',
    'a=control:trackID=1',
    'm=video 0 RTP/AVP 97',
    'a=rtpmap:97 H265/90000',
  ].join('\r\n');
  assert.deepEqual(parseSdpVideo(sdp), { codec: 'H264', width: 1280, height: 720, fps: 25, control: 'trackID=1' });
  const h265 = `v=0\nm=video 0 RTP/AVP 98\na=rtpmap:98 H265/90000\na=fmtp:98 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwB4lZgJ; sprop-sps=${SPS_H265_1920x1080}; sprop-pps=RAHBcrRiQA==\n`;
  assert.deepEqual(parseSdpVideo(h265), { codec: 'H265', width: 1920, height: 1080 });
  assert.deepEqual(parseSdpVideo('v=0\nm=video 0 RTP/AVP 26\n'), { codec: 'MJPEG' });
  assert.deepEqual(parseSdpVideo('v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\na=x-dimensions:2560,1440\n'), {
    codec: 'H264',
    width: 2560,
    height: 1440,
  });
  assert.equal(parseSdpVideo('v=0\nm=audio 0 RTP/AVP 0\n'), undefined);
  assert.deepEqual(parseSdpVideo('v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\na=fmtp:96 sprop-parameter-sets=!!!,x\n'), { codec: 'H264' });
});

test('RTSP auth: challenge choice and RFC 2617 digest response', () => {
  const c = chooseChallenge(['Basic realm="cam"', 'Digest realm="IP Camera(12345)", nonce="abc", stale="FALSE"'], { allowBasic: true });
  assert.equal(c?.scheme, 'digest');
  assert.equal(chooseChallenge(['Basic realm="x"'], { allowBasic: true })?.scheme, 'basic');
  assert.equal(chooseChallenge(['Negotiate xyz'], { allowBasic: true }), undefined);
  // RFC 2617 §3.5 example, no qop (RFC 2069 compatible form).
  const ch = parseChallenge('Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"')!;
  const h = new Authenticator({ username: 'Mufasa', password: 'Circle Of Life' }, ch).header('GET', '/dir/index.html');
  const ha1 = createHash('md5').update('Mufasa:testrealm@host.com:Circle Of Life').digest('hex');
  const ha2 = createHash('md5').update('GET:/dir/index.html').digest('hex');
  const expected = createHash('md5').update(`${ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:${ha2}`).digest('hex');
  assert.match(h, new RegExp(`response="${expected}"`));
  assert.equal(
    new Authenticator({ username: 'admin', password: 'x:y', allowBasic: true }, parseChallenge('Basic realm="r"')!).header('DESCRIBE', 'rtsp://h/'),
    `Basic ${Buffer.from('admin:x:y').toString('base64')}`,
  );
});
