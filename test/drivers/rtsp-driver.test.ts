// RtspDriver against fake RTSP servers on loopback (127.33.0.0/16 belongs to this file).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { openDriver, DriverError, RtspDriver, TargetSpecError, type DriverErrorCode } from '../../drivers';
import { startFakeRtsp, type FakeRtsp } from './helpers/fake-rtsp';

const SPS_1920x1080 = 'Z2QAKKzZQHgCJ+XARAAAAwAEAAADAMg8YMZY';
const SDP_H264 = `v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=Stream\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets=${SPS_1920x1080},aOvjyyLA\r\na=framerate:25\r\na=control:trackID=0\r\n`;
const SDP_H265 = 'v=0\r\ns=x\r\nm=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\n';

const fakes: FakeRtsp[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});
async function fake(opts: Parameters<typeof startFakeRtsp>[0]) {
  const f = await startFakeRtsp(opts);
  fakes.push(f);
  return f;
}

async function expectCode(p: Promise<unknown>, code: DriverErrorCode, message?: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DriverError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('Digest auth from URL credentials; one channel, one profile, codec and size from the SDP', async () => {
  const f = await fake({ host: '127.33.0.1', auth: 'digest', sdp: SDP_H264 });
  const d = openDriver({ kind: 'rtsp', url: 'rtsp://admin:admin123@127.33.0.1/Streaming/Channels/101' });
  assert.ok(d instanceof RtspDriver);
  const r = await d.report();
  assert.deepEqual(r, {
    driver: 'rtsp',
    host: '127.33.0.1',
    port: 554,
    url: 'rtsp://127.33.0.1/Streaming/Channels/101',
    identity: {},
    isNvr: false,
    channels: [
      { channel: 1, profiles: [{ token: 'rtsp', streamUri: 'rtsp://127.33.0.1/Streaming/Channels/101', codec: 'H264', width: 1920, height: 1080, fps: 25 }] },
    ],
  });
  assert.equal(await d.streamUri('rtsp'), 'rtsp://127.33.0.1/Streaming/Channels/101');
  assert.equal(await d.snapshotUri('rtsp'), undefined);
  // The request line never carries credentials.
  assert.ok(f.requests.every((q) => !q.uri.includes('admin123')));
  assert.ok(f.requests.some((q) => q.method === 'DESCRIBE' && q.authorization?.startsWith('Digest ')));
});

test('Basic auth with explicit credentials; H.265 without parameter sets', async () => {
  await fake({ host: '127.33.0.2', port: 8554, auth: 'basic', sdp: SDP_H265 });
  // Basic (the password in cleartext) only for a device the installer allowed it for.
  const d = openDriver({ kind: 'rtsp', url: 'rtsp://127.33.0.2:8554/live' }, { username: 'admin', password: 'admin123', allowBasic: true });
  const [ch] = await d.channels();
  assert.deepEqual(ch.profiles[0], { token: 'rtsp', streamUri: 'rtsp://127.33.0.2:8554/live', codec: 'H265' });
});

test('wrong password / no credentials → auth', async () => {
  await fake({ host: '127.33.0.3', auth: 'digest', sdp: SDP_H264 });
  await expectCode(
    openDriver({ kind: 'rtsp', url: 'rtsp://admin:nope@127.33.0.3/x' }).identify(),
    'auth',
    /^authentication failed for 127\.33\.0\.3:554 \(admin\): check the camera's username\/password$/,
  );
  await expectCode(openDriver({ kind: 'rtsp', url: 'rtsp://127.33.0.3/x' }).identify(), 'auth', /requires a username and password/);
});

test('time, setTime and reboot are unsupported', async () => {
  const d = openDriver({ kind: 'rtsp', url: 'rtsp://127.33.0.1/x' });
  await expectCode(d.time(), 'unsupported', /RTSP URL only/);
  await expectCode(d.setTime(new Date()), 'unsupported');
  await expectCode(d.reboot(), 'unsupported');
  await expectCode(d.streamUri('other'), 'unsupported');
});

test('misbehaving servers: garbage, HTTP, hang, huge SDP, no video, 404, refused', async () => {
  await fake({ host: '127.33.0.4', raw: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]) });
  await fake({ host: '127.33.0.5', raw: Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n') });
  await fake({ host: '127.33.0.6', raw: 'hang' });
  await fake({ host: '127.33.0.7', auth: 'none', sdp: `v=0\r\nm=video 0 RTP/AVP 96\r\na=x:${'y'.repeat(400_000)}\r\n` });
  await fake({ host: '127.33.0.8', auth: 'none', sdp: 'v=0\r\nm=audio 0 RTP/AVP 0\r\n' });
  await fake({ host: '127.33.0.9', auth: 'none', sdp: SDP_H264, path: '/exists' });
  const open = (url: string) => openDriver({ kind: 'rtsp', url }, undefined, { timeoutMs: 400 });
  await expectCode(open('rtsp://127.33.0.4/x').identify(), 'malformed', /127\.33\.0\.4:554 did not answer with RTSP/);
  await expectCode(open('rtsp://127.33.0.5/x').identify(), 'malformed', /did not answer with RTSP \(got "HTTP\/1\.1 400 Bad Request"\)/);
  const t0 = Date.now();
  await expectCode(open('rtsp://127.33.0.6/x').identify(), 'timeout', /no answer from 127\.33\.0\.6:554 within 400 ms/);
  assert.ok(Date.now() - t0 < 1500);
  await expectCode(open('rtsp://127.33.0.7/x').identify(), 'too-large');
  await expectCode(open('rtsp://127.33.0.8/x').identify(), 'unsupported', /has no video/);
  await expectCode(open('rtsp://127.33.0.9/missing').identify(), 'device-fault', /no stream at rtsp:\/\/127\.33\.0\.9\/missing \(RTSP 404 Not Found\)/);
  await expectCode(open('rtsp://127.33.0.99:1554/x').identify(), 'unreachable', /refused/);
});

test('bad URLs are rejected when opening, without echoing the password', () => {
  assert.throws(
    () => openDriver({ kind: 'rtsp', url: 'http://admin:secret@127.33.0.1/' }),
    (e: unknown) => e instanceof TargetSpecError && !e.message.includes('secret'),
  );
});
