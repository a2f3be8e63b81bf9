// Live view with real peers: the camera simulator (GStreamer RTSP), real ffmpeg under the real
// FfmpegSupervisor, LivePulls and the web server; WebSocket clients in node. Loopback 127.82.0.0/16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Fmp4Splitter, type MediaFragment } from '../../agent/video/live/fmp4';
import { liveRig } from './helpers';
import { pidGone } from '../video/support/procs';
import { waitFor } from '../kit/wait';

interface Client {
  ws: WebSocket;
  texts: Array<Record<string, unknown>>;
  binaries: Buffer[];
  closed?: { code: number; reason: string };
}

function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const c: Client = { ws, texts: [], binaries: [] };
    ws.on('message', (data, isBinary) => {
      if (isBinary) c.binaries.push(data as Buffer);
      else c.texts.push(JSON.parse((data as Buffer).toString('utf8')));
    });
    ws.on('close', (code, reason) => (c.closed = { code, reason: String(reason) }));
    ws.once('open', () => resolve(c));
    ws.once('error', reject);
  });
}

test('live e2e: three viewers of one H.264 camera share one ffmpeg (copy to fMP4); fragments arrive; all gone → ffmpeg gone', async (t) => {
  const rig = await liveRig(t, '127.82.2');
  const cam = rig.ids['127.82.2.2'];
  const wsUrl = `${rig.server.url.replace('http:', 'ws:')}live/${cam}?stream=sub&mode=auto`;
  const clients = await Promise.all([connect(wsUrl), connect(wsUrl), connect(wsUrl)]);
  await waitFor(() => clients.every((c) => c.binaries.length >= 6), 'fragments at every client', 60_000);
  assert.equal(rig.supervisor.count().byKind.live, 1, 'one ffmpeg for three viewers');
  const pulls = rig.pulls.list();
  assert.equal(pulls.length, 1);
  assert.equal(pulls[0].viewers, 3);
  assert.equal(pulls[0].mode, 'mse');
  for (const c of clients) {
    assert.equal(c.texts[0].type, 'init');
    assert.match(String(c.texts[0].codec), /^avc1\.[0-9a-f]{6}$/);
    assert.equal(c.texts[0].width, 640);
    // what a browser gets parses back into one init segment and keyframe-first fragments
    const out = new Fmp4Splitter().push(Buffer.concat(c.binaries));
    assert.equal(out[0].kind, 'init');
    const frags = out.filter((o): o is MediaFragment => o.kind === 'fragment');
    assert.ok(frags.length >= 5);
    assert.equal(frags[0].keyframe, true, 'a viewer starts at a keyframe');
  }
  const firstPid = rig.supervisor.list()[0].stats().pid!;
  assert.ok(!pidGone(firstPid));
  // ffmpeg dies: the supervisor restarts it, every viewer gets the new run's init segment and goes on
  const before = clients.map((c) => c.binaries.length);
  process.kill(firstPid, 'SIGKILL');
  await waitFor(
    () => clients.every((c, i) => c.texts.length === 2 && c.binaries.length > before[i] + 4),
    'a new init segment and fragments after the restart',
    60_000,
  );
  for (const [i, c] of clients.entries()) {
    assert.equal(c.texts[1].type, 'init');
    const after = new Fmp4Splitter().push(Buffer.concat(c.binaries.slice(before[i])));
    const j = after.findIndex((o) => o.kind === 'init');
    assert.ok(j >= 0, 'the second run starts with an init segment');
    const next = after.slice(j + 1).find((o): o is MediaFragment => o.kind === 'fragment');
    assert.equal(next?.keyframe, true, 'and resumes at a keyframe');
  }
  const pid = rig.supervisor.list()[0].stats().pid!;
  assert.notEqual(pid, firstPid);
  assert.equal(rig.supervisor.count().byKind.live, 1);
  for (const c of clients) c.ws.close();
  // lingerSec 0: the pull stops when the last viewer leaves
  await waitFor(() => rig.supervisor.count().byKind.live === 0 && pidGone(pid) && rig.pulls.list().length === 0, 'ffmpeg gone after the last viewer left');
  assert.equal(rig.server.connections(), 0);
});

test('live e2e: an H.265 camera goes to JSMpeg (MPEG-1 in MPEG-TS via Mpeg1Muxer); an mse request is told to switch', async (t) => {
  const rig = await liveRig(t, '127.82.3', { lingerSec: 30 });
  const cam = rig.ids['127.82.3.3'];
  const base = `${rig.server.url.replace('http:', 'ws:')}live/${cam}?stream=main`;
  const asked = await connect(`${base}&mode=mse`);
  await waitFor(() => asked.closed !== undefined, 'the mse request closed');
  assert.equal(asked.closed!.code, 4000);
  assert.equal(asked.texts[0].type, 'switch');
  assert.equal(asked.texts[0].mode, 'jsmpeg');
  assert.match(String(asked.texts[0].reason), /H265/);
  assert.equal(asked.binaries.length, 0);

  const a = await connect(`${base}&mode=jsmpeg`);
  const b = await connect(`${base}&mode=auto`);
  await waitFor(() => [a, b].every((c) => Buffer.concat(c.binaries).length > 188 * 50), 'MPEG-TS at both clients', 60_000);
  assert.equal(rig.supervisor.count().byKind.live, 1, 'one re-encoding ffmpeg for both (the switch request started it, linger kept it)');
  for (const c of [a, b]) {
    assert.equal(c.texts.length, 0, 'JSMpeg gets binary only');
    for (const chunk of c.binaries) assert.equal(chunk.length % 188, 0);
    const ts = Buffer.concat(c.binaries);
    for (let off = 0; off < ts.length; off += 188) assert.equal(ts[off], 0x47, `TS sync byte at ${off}`);
    // the MPEG-1 sequence header: 00 00 01 B3, width 640 (12 bits) and height 360 (12 bits)
    const seq = ts.indexOf(Buffer.from([0, 0, 1, 0xb3]));
    assert.ok(seq >= 0, 'an MPEG-1 sequence header');
    const w = (ts[seq + 4] << 4) | (ts[seq + 5] >> 4);
    const h = ((ts[seq + 5] & 0x0f) << 8) | ts[seq + 6];
    assert.deepEqual([w, h], [640, 360], 'scaled to web.fallbackWidth, aspect kept');
  }
  // the re-encoding ffmpeg was started by Mpeg1Muxer through the pdeathsig wrapper (same pid: exec all the way)
  const jsPid = rig.supervisor.list()[0].stats().pid!;
  const cmdline = readFileSync(`/proc/${jsPid}/cmdline`, 'utf8').split('\0');
  assert.ok(cmdline[0].endsWith('ffmpeg'), cmdline.join(' '));
  for (const a of ['-rtsp_transport', 'mpeg1video', '-bf']) assert.ok(cmdline.includes(a), `${a} in ${cmdline.join(' ')}`);
  const info = rig.pulls.list()[0];
  assert.equal(info.mode, 'jsmpeg');
  assert.equal(info.viewers, 2);

  // unknown camera: closed with 4004
  const none = await connect(`${rig.server.url.replace('http:', 'ws:')}live/nope?stream=sub`);
  await waitFor(() => none.closed !== undefined, 'unknown camera closed');
  assert.equal(none.closed!.code, 4004);
});

/** MPEG-1 picture start codes (00 00 01 00) in TS bytes: about the frames received (one may straddle two packets). */
function pictureStarts(ts: Buffer): number {
  let n = 0;
  for (let i = ts.indexOf(Buffer.from([0, 0, 1, 0])); i >= 0; i = ts.indexOf(Buffer.from([0, 0, 1, 0]), i + 4)) n++;
  return n;
}

test("live e2e: JSMpeg plays cameras at rates MPEG-1 cannot carry (H.265 and H.264 at 10, 12.5 and 5 fps): MPEG-1 frames with the camera's timing, no restart", async (t) => {
  const net = '127.82.6';
  const cameras = [
    { host: `${net}.2`, codec: 'H265' as const, mainFps: 10, stream: 'main', fps: 10 },
    { host: `${net}.3`, codec: 'H264' as const, mainFps: 10, stream: 'main', fps: 10 },
    { host: `${net}.4`, codec: 'H265' as const, mainFps: 12.5, stream: 'main', fps: 12.5 },
    { host: `${net}.5`, codec: 'H264' as const, subFps: 5, stream: 'sub', fps: 5 },
  ];
  const rig = await liveRig(
    t,
    net,
    {},
    cameras.map(({ host, codec, mainFps, subFps }) => ({ host, codec, ...(mainFps ? { mainFps } : {}), ...(subFps ? { subFps } : {}) })),
  );
  // One camera at a time: two cores, and each pull decodes a 1080p stream the simulator encodes.
  for (const cam of cameras) {
    const what = `${cam.codec} ${cam.stream} at ${cam.fps} fps`;
    const client = await connect(`${rig.server.url.replace('http:', 'ws:')}live/${rig.ids[cam.host]}?stream=${cam.stream}&mode=jsmpeg`);
    const pull = () => rig.supervisor.list().find((p) => p.label.includes(rig.ids[cam.host]));
    // The old pull never wrote a byte: ffmpeg refused to open the encoder and was restarted forever.
    await waitFor(
      () => pictureStarts(Buffer.concat(client.binaries)) >= 20 || (pull()?.stats().restarts ?? 0) > 0,
      `MPEG-1 frames or a restart (${what})`,
      60_000,
    );
    const stats = pull()!.stats();
    assert.equal(stats.restarts, 0, `${what}: the pull restarted: ${stats.lastError}`);
    const ts = Buffer.concat(client.binaries);
    client.ws.close();
    const probe = spawnSync(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,r_frame_rate,width:packet=pts_time', '-of', 'json', '-'],
      { input: ts, maxBuffer: 1 << 26 },
    );
    assert.equal(probe.status, 0, `${what}: ffprobe: ${String(probe.stderr)}`);
    const info = JSON.parse(String(probe.stdout)) as {
      streams: Array<{ codec_name: string; r_frame_rate: string; width: number }>;
      packets: Array<{ pts_time: string }>;
    };
    assert.equal(info.streams[0].codec_name, 'mpeg1video', what);
    assert.equal(info.streams[0].r_frame_rate, '24000/1001', `${what}: the slowest MPEG-1 rate above the camera's`);
    assert.equal(info.streams[0].width, 640, what);
    // The camera's frames with the camera's timing: none duplicated to fill 23.976 fps (that would
    // be ~24 frames a second of stream time), none lost. Measured after the first half second, where
    // frames may come in a burst; timestamps sit on the 1/23.976 s grid, so a 12.5 fps camera's
    // frames are 2 ticks apart with a 1-tick catch-up now and then.
    const pts = info.packets.map((p) => Number(p.pts_time)).sort((a, b) => a - b);
    const steady = pts.filter((p) => p >= pts[0] + 0.5);
    assert.ok(steady.length >= 10, `${what}: ${pts.length} frames`);
    const rate = (steady.length - 1) / (steady[steady.length - 1] - steady[0]);
    assert.ok(
      rate > cam.fps * 0.8 && rate < cam.fps * 1.2,
      `${what}: ${rate.toFixed(2)} frames per second of stream time (timestamps ${pts.map((p) => p.toFixed(3)).join(' ')})`,
    );
    t.diagnostic(
      `${what}: ${pts.length} MPEG-1 frames in ${(pts[pts.length - 1] - pts[0]).toFixed(2)} s of stream, ${rate.toFixed(2)} fps after the first 0.5 s`,
    );
    await waitFor(() => rig.supervisor.count().byKind.live === 0, `the pull of ${what} stopped`);
  }
});
