// Video through the whole agent (startAgent) with real peers: the camera simulator, real ffmpeg
// under the agent's supervisor, a real Mosquitto carrying cmd/stream-start and stream-stop from the
// "centre", nginx-rtmp as the centre's media server, and the live view page on a free port.
// What the centre sees is read from the broker and checked against the contract's schemas.
// Loopback subnet 127.84.0.0/16 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startSimulator } from '../../scripts/sim/index';
import { agentConfig } from '../../agent/config/spec';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { WebSocket } from 'ws';
import { startAgent } from '../../agent/agent';
import { openDriver } from '../../drivers/index';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { probeStream, startRtmpServer } from '../../scripts/peers/media-server';
import { tempDir, sleep } from '../uplink/helpers';
import { validatePayload } from '../../contract';
import { createLogger } from '../../lib/log';

const SITE = 'v084';

interface Msg {
  topic: string;
  payload: Record<string, unknown>;
}

test('video through the agent: stream-start over MQTT relays to the centre, metrics carry its stats, stream-stop ends it, the live page lists the camera', async (t) => {
  const sim = await startSimulator({ cameras: [{ host: '127.84.0.2' }] });
  t.after(() => sim.stop());
  const rtmp = await startRtmpServer({ host: '127.84.0.1' });
  t.after(() => rtmp.stop());

  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'data'));
  t.after(() => db.close());
  const d = openDriver({ kind: 'onvif', host: '127.84.0.2', port: 80 }, { username: 'admin', password: 'admin123' }, { timeoutMs: 5000 });
  const camera = upsertDeviceReport(db, await d.report(), { now: new Date() }).cameras[0].id;
  d.close();

  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const received: Msg[] = [];
  const centre = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.after(() => centre.endAsync());
  centre.on('message', (topic, payload) => received.push({ topic, payload: JSON.parse(payload.toString('utf8')) }));
  await centre.subscribeAsync(`camgate/v1/${SITE}/#`, { qos: 1 });

  const { config } = agentConfig.load({
    env: {
      CAMGATE_SITE_ID: SITE,
      CAMGATE_BROKER_URLS: broker.url,
      CAMGATE_DATA_DIR: join(dir, 'data'),
      CAMGATE_CAMERAS_USERNAME: 'admin',
      CAMGATE_PASSWORD: 'admin123',
      CAMGATE_HEALTH_ENABLED: 'false',
      CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '1',
      CAMGATE_WEB_PORT: '0',
    },
  });
  const agent = startAgent({ config, db, logger: createLogger({ level: 'silent' }), env: {} });
  let stopped = false;
  t.after(() => (stopped ? undefined : agent.stop('test over')));
  await agent.ready;
  assert.ok(agent.video, 'ffmpeg found: video is on');
  assert.ok(agent.web, 'the live page listens');

  const waitFor = async <T>(find: () => T | undefined, what: string, ms = 60_000): Promise<T> => {
    const until = Date.now() + ms;
    for (;;) {
      const v = find();
      if (v !== undefined) return v;
      if (Date.now() > until) assert.fail(`timed out waiting for ${what}; got: ${received.map((m) => m.topic.split('/').slice(3).join('/')).join(' ')}`);
      await sleep(50);
    }
  };
  const command = async (name: string, args: Record<string, unknown>, messageId: string): Promise<Record<string, unknown>> => {
    await centre.publishAsync(`camgate/v1/${SITE}/cmd/${name}`, JSON.stringify({ schemaVersion: 1, messageId, args }), { qos: 1 });
    return waitFor(
      () =>
        received.find(
          (m) =>
            /\/reply(\/|$)/.test(m.topic) && (m.payload.messageId === messageId || m.payload.correlationId === messageId || m.payload.requestId === messageId),
        )?.payload,
      `the reply to ${name}`,
    );
  };

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
    await waitFor(
      () => received.find((m) => m.topic.endsWith('/events') && m.payload.type === 'audit' && (m.payload.detail as { phase?: string }).phase === 'start'),
      'the live-view start audit',
    );
    ws.close();
    const end = await waitFor(
      () => received.find((m) => m.topic.endsWith('/events') && m.payload.type === 'audit' && (m.payload.detail as { phase?: string }).phase === 'end'),
      'the live-view end audit',
    );
    assert.equal(end.payload.camera, camera);
    assert.deepEqual(Object.keys(end.payload.detail as object).sort(), ['action', 'durationSec', 'mode', 'phase', 'remote', 'startedAt', 'stream', 'user']);
    assert.equal((end.payload.detail as { action: string }).action, 'live-view');
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
  await waitFor(() => received.find((m) => m.topic.endsWith('/events') && m.payload.type === 'stream-running'), 'stream-running event');
  const metrics = await waitFor(
    () =>
      [...received]
        .reverse()
        .find(
          (m) =>
            m.topic.endsWith('/metrics') &&
            ((m.payload.video as { relays?: Array<{ state: string; fps: number | null }> })?.relays ?? []).some(
              (r) => r.state === 'running' && (r.fps ?? 0) > 0,
            ),
        )?.payload,
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
  await waitFor(() => received.find((m) => m.topic.endsWith('/events') && m.payload.type === 'stream-stopped'), 'stream-stopped event');

  await agent.stop('test over');
  stopped = true;
  // Every payload the centre got is valid against the contract.
  for (const m of received) {
    const kind = String(m.payload.kind);
    if (!['status', 'event', 'metrics'].includes(kind)) continue;
    const v = validatePayload(kind as 'status', m.payload);
    assert.ok(v.ok, `${m.topic}: ${v.errors.join('; ')}`);
  }
  const all = JSON.stringify(received);
  assert.ok(!all.includes('admin123'), 'the camera password never reaches the broker');
});
