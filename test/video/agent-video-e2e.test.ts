// Video through the whole agent (startAgent) with real peers: the camera simulator, real ffmpeg
// under the agent's supervisor, a real Mosquitto carrying cmd/stream-start and stream-stop from the
// "centre", nginx-rtmp as the centre's media server, and the live view page on a free port.
// What the centre sees is read from the broker and checked against the contract's schemas.
// Loopback subnet 127.84.0.0/16 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { probeStream, startRtmpServer } from '../../scripts/peers/media-server';
import { validatePayload } from '../../contract';
import { startSite } from '../kit/site';
import { waitFor } from '../kit/wait';

const SITE = 'v084';

test('video through the agent: stream-start over MQTT relays to the centre, metrics carry its stats, stream-stop ends it, the live page lists the camera', async (t) => {
  const rtmp = await startRtmpServer({ host: '127.84.0.1' });
  t.after(() => rtmp.stop());
  const rig = await startSite(t, {
    site: SITE,
    cameras: [{ host: '127.84.0.2' }],
    env: { CAMGATE_HEALTH_ENABLED: 'false', CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '1' },
  });
  const { agent } = rig;
  const camera = rig.ids['127.84.0.2'];
  const received = rig.centre!.messages;
  await agent.ready;
  assert.ok(agent.video, 'ffmpeg found: video is on');
  assert.ok(agent.web, 'the live page listens');
  const got = () => `got: ${received.map((m) => m.topic.split('/').slice(3).join('/')).join(' ')}`;
  const until = <T>(find: () => T | undefined, what: string, ms = 60_000): Promise<T> => waitFor(find, what, ms, got);
  const command = (name: string, args: Record<string, unknown>, messageId: string) => rig.command(name, args, messageId);

  // The live page lists the camera (no URIs, no credentials).
  const cams = await (await fetch(new URL('api/cameras', agent.web.url))).text();
  assert.match(cams, new RegExp(camera));
  assert.ok(!cams.includes('admin123') && !cams.includes('rtsp://'), 'no stream URI or password reaches the browser');

  // Watching a camera on the page is audited at the centre: who, from where, which camera, how long.
  {
    const ws = new WebSocket(new URL(`live/${camera}?stream=sub`, agent.web.url).toString().replace(/^http/, 'ws'));
    const firstBinary = new Promise<void>((resolve, reject) => {
      ws.on('message', (_data, isBinary) => isBinary && resolve());
      ws.on('error', reject);
    });
    await firstBinary;
    await until(
      () => received.find((m) => m.topic.endsWith('/events') && m.json.type === 'audit' && (m.json.detail as { phase?: string }).phase === 'start'),
      'the live-view start audit',
    );
    ws.close();
    const end = await until(
      () => received.find((m) => m.topic.endsWith('/events') && m.json.type === 'audit' && (m.json.detail as { phase?: string }).phase === 'end'),
      'the live-view end audit',
    );
    assert.equal(end.json.camera, camera);
    assert.deepEqual(Object.keys(end.json.detail as object).sort(), ['action', 'durationSec', 'mode', 'phase', 'remote', 'startedAt', 'stream', 'user']);
    assert.equal((end.json.detail as { action: string }).action, 'live-view');
  }

  // The centre asks for the main stream on its RTMP server.
  const target = rtmp.url(`cam-${camera}`);
  const started = await command('stream-start', { camera, stream: 'main', target, profile: 'copy' }, 'start-1');
  assert.equal(started.ok, true, JSON.stringify(started.error));
  const result = started.result as { streamId: string; mode: string; target: string };
  assert.equal(result.mode, 'copy');
  const arrived = await probeStream(target, { inputArgs: ['-rtmp_live', 'live'], packets: 25, timeoutMs: 20_000 });
  assert.equal(arrived.codec, 'h264');
  assert.equal(arrived.width, 1920);
  assert.ok(arrived.lastPts! > arrived.firstPts!, 'the picture moves in time');

  // Events and the metrics' video part say it runs, with its stats.
  await until(() => received.find((m) => m.topic.endsWith('/events') && m.json.type === 'stream-running'), 'stream-running event');
  const metrics = await until(
    () =>
      [...received]
        .reverse()
        .find(
          (m) =>
            m.topic.endsWith('/metrics') &&
            ((m.json.video as { relays?: Array<{ state: string; fps: number | null }> })?.relays ?? []).some((r) => r.state === 'running' && (r.fps ?? 0) > 0),
        )?.json,
    'metrics with a running relay',
  );
  const video = metrics.video as { ffmpeg: { relay: number }; relays: Array<{ streamId: string; bitrateKbps: number | null }> };
  assert.equal(video.ffmpeg.relay, 1);
  assert.equal(video.relays[0].streamId, result.streamId);
  assert.ok((video.relays[0].bitrateKbps ?? 0) > 100, `relay bitrate ${video.relays[0].bitrateKbps} kbit/s`);

  // stream-stop ends it: the reply comes once ffmpeg is reaped.
  const stoppedReply = await command('stream-stop', { streamId: result.streamId }, 'stop-1');
  assert.equal(stoppedReply.ok, true, JSON.stringify(stoppedReply.error));
  assert.equal(agent.video.supervisor.count().total, 0);
  await until(() => received.find((m) => m.topic.endsWith('/events') && m.json.type === 'stream-stopped'), 'stream-stopped event');

  await agent.stop('test over');
  // Every payload the centre got is valid against the contract.
  for (const m of received) {
    const kind = String(m.json.kind);
    if (!['status', 'event', 'metrics'].includes(kind)) continue;
    const v = validatePayload(kind as 'status', m.json);
    assert.ok(v.ok, `${m.topic}: ${v.errors.join('; ')}`);
  }
  const all = JSON.stringify(received);
  assert.ok(!all.includes('admin123'), 'the camera password never reaches the broker');
});
