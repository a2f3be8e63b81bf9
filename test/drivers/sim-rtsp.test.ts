// RtspDriver against the simulator's real GStreamer RTSP server with Digest auth; 127.39.0.0/16
// belongs to this file. Also checks that the ONVIF stream URIs point at a server that answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../scripts/sim';
import type { Simulator } from '../../scripts/sim/types';
import { openDriver, DriverError } from '../../drivers';

let sim: Simulator;
before(async () => {
  sim = await startSimulator({
    rtspAuth: true,
    cameras: [
      { host: '127.39.0.2', vendor: 'hikvision' }, // H.265 main stream
      { host: '127.39.0.3', vendor: 'generic' }, // H.264
    ],
  });
});
after(async () => {
  await sim?.stop();
});

test('RTSP-only identification of real GStreamer streams: codec and size from DESCRIBE, Digest auth', async () => {
  const hik = sim.cameras[0];
  const gen = sim.cameras[1];
  const withCreds = (url: string) => url.replace('rtsp://', 'rtsp://admin:admin123@');
  const t0 = Date.now();
  const h = await openDriver({ kind: 'rtsp', url: withCreds(hik.rtspUrl(1, 'main')) }).report();
  const g = await openDriver({ kind: 'rtsp', url: withCreds(gen.rtspUrl(1, 'sub')) }).report();
  console.log(`rtsp identify: 2 streams in ${Date.now() - t0} ms`);
  assert.equal(h.url, hik.rtspUrl(1, 'main'));
  // Codec from rtpmap; size from the SPS in sprop-sps / sprop-parameter-sets; fps from a=framerate.
  assert.deepEqual(h.channels[0].profiles[0], { token: 'rtsp', streamUri: hik.rtspUrl(1, 'main'), codec: 'H265', width: 1920, height: 1080, fps: 25 });
  assert.deepEqual(g.channels[0].profiles[0], { token: 'rtsp', streamUri: gen.rtspUrl(1, 'sub'), codec: 'H264', width: 640, height: 360, fps: 15 });
  await assert.rejects(openDriver({ kind: 'rtsp', url: gen.rtspUrl(1, 'main') }).identify(), (e: unknown) => e instanceof DriverError && e.code === 'auth');
  await assert.rejects(
    openDriver({ kind: 'rtsp', url: gen.rtspUrl(1, 'main').replace('rtsp://', 'rtsp://admin:bad@') }).identify(),
    (e: unknown) => e instanceof DriverError && e.code === 'auth',
  );
});

test('ONVIF stream URIs lead to a working RTSP stream with the same codec', async () => {
  const hik = sim.cameras[0];
  const creds = { username: 'admin', password: 'admin123' };
  const onvif = openDriver({ kind: 'onvif', host: hik.spec.host }, creds);
  const [ch] = await onvif.channels();
  onvif.close();
  const main = ch.profiles[0];
  const rtsp = await openDriver({ kind: 'rtsp', url: main.streamUri! }, creds).channels();
  assert.equal(rtsp[0].profiles[0].codec, main.codec);
});
