// The whole health chain with real peers: the camera simulator (ONVIF + GStreamer RTSP), real
// probes and ffmpeg, the agent (startAgent) and a real Mosquitto; what the central would see is
// read from the broker. Loopback subnet 127.75.0.0/16 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startSimulator } from '../../scripts/sim/index';
import { agentConfig } from '../../agent/config/spec';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { startAgent } from '../../agent/agent';
import { openDriver } from '../../drivers/index';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { tempDir, sleep } from '../uplink/helpers';
import { channel, report } from '../agent/helpers';
import { validatePayload } from '../../contract';
import { createLogger } from '../../lib/log';

const SITE = 'v075';

interface Msg {
  topic: string;
  payload: Record<string, unknown>;
  at: number;
}

test('health end to end: statuses, picture faults, an unanswering device, an offline alarm at the broker, thumbnail, metrics', async (t) => {
  const sim = await startSimulator({
    cameras: [
      { host: '127.75.0.2' }, // healthy
      { host: '127.75.0.3', picture: 'frozen' },
      { host: '127.75.0.4' }, // taken offline during the test
    ],
  });
  t.after(() => sim.stop());
  // A device that accepts TCP and never answers (ONVIF, RTSP or anything).
  const held: Socket[] = [];
  const hang = createServer((s) => held.push(s));
  await new Promise<void>((r) => hang.listen(80, '127.75.0.9', r));
  t.after(() => {
    for (const s of held) s.destroy();
    hang.close();
  });

  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'data'));
  t.after(() => db.close());
  const ids: Record<string, string> = {};
  for (const host of ['127.75.0.2', '127.75.0.3', '127.75.0.4']) {
    const d = openDriver({ kind: 'onvif', host, port: 80 }, { username: 'admin', password: 'admin123' }, { timeoutMs: 5000 });
    ids[host] = upsertDeviceReport(db, await d.report(), { now: new Date() }).cameras[0].id;
    d.close();
  }
  ids['127.75.0.9'] = upsertDeviceReport(
    db,
    report({
      host: '127.75.0.9',
      endpointUuid: 'urn:uuid:00000000-0000-4000-8075-000000000009',
      identity: { serial: 'SN759', mac: '44:19:b6:75:00:09' },
      channels: [channel(1, '127.75.0.9')],
    }),
    { now: new Date() },
  ).cameras[0].id;

  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const received: Msg[] = [];
  const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.after(() => sub.endAsync());
  sub.on('message', (topic, payload) => received.push({ topic, payload: JSON.parse(payload.toString('utf8')), at: Date.now() }));
  await sub.subscribeAsync(`camgate/v1/${SITE}/#`, { qos: 1 });

  const { config } = agentConfig.load({
    env: {
      CAMGATE_SITE_ID: SITE,
      CAMGATE_BROKER_URLS: broker.url,
      CAMGATE_DATA_DIR: join(dir, 'data'),
      CAMGATE_CAMERAS_USERNAME: 'admin',
      CAMGATE_PASSWORD: 'admin123',
      CAMGATE_HEALTH_REACH_INTERVAL_SEC: '2',
      CAMGATE_WEB_PORT: '0',
      CAMGATE_HEALTH_REQUEST_TIMEOUT_MS: '1500',
      CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '1',
    },
  });
  const agent = startAgent({ config, db, logger: createLogger({ level: 'silent' }), env: {} });
  t.after(() => agent.stop('test over'));

  const events = (type: string, camera?: string) =>
    received.filter((m) => m.topic.endsWith('/events') && m.payload.type === type && (camera === undefined || m.payload.camera === camera));
  const lastStatus = (camera: string) => [...received].reverse().find((m) => m.topic === `camgate/v1/${SITE}/cameras/${camera}/status`)?.payload;
  const waitFor = async (pred: () => boolean, what: string, ms = 60_000) => {
    const until = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > until) {
        const statuses = Object.values(ids).map((id) => JSON.stringify(lastStatus(id) ?? agent.health?.status(id) ?? null));
        assert.fail(
          `timed out waiting for ${what}; events: ${received
            .filter((m) => m.topic.endsWith('/events'))
            .map((m) => `${m.payload.type}:${m.payload.camera}`)
            .join(' ')}; statuses: ${statuses.join('\n')}`,
        );
      }
      await sleep(50);
    }
  };

  // Healthy camera: online, both streams described, a picture without faults.
  const healthy = ids['127.75.0.2'];
  await waitFor(() => {
    const s = lastStatus(healthy);
    return s?.state === 'online' && (s.picture as { ok?: boolean } | null)?.ok === true;
  }, 'the healthy camera online with a good picture');
  const hs = lastStatus(healthy)!;
  const streams = hs.streams as Array<{ stream: string; ok: boolean; codec: string; width: number }>;
  assert.deepEqual(
    streams.map((s) => [s.stream, s.ok, s.codec]),
    [
      ['main', true, 'H264'],
      ['sub', true, 'H264'],
    ],
  );
  assert.ok(typeof hs.clockOffsetMs === 'number');

  // Frozen picture: degraded, one picture-fault event naming it, with scores.
  const frozen = ids['127.75.0.3'];
  await waitFor(() => events('picture-fault', frozen).length > 0, 'a picture-fault for the frozen camera');
  const pf = events('picture-fault', frozen)[0].payload;
  assert.deepEqual((pf.detail as { faults: string[] }).faults, ['frozen']);
  assert.equal(typeof (pf.detail as { scores: Record<string, number> }).scores.frozen, 'number');
  await waitFor(() => lastStatus(frozen)?.state === 'degraded', 'the frozen camera degraded');
  assert.match(String(lastStatus(frozen)!.reason), /picture frozen/);

  // The device that never answers: TCP connects, so online but degraded, with the reason.
  const silent = ids['127.75.0.9'];
  await waitFor(() => events('onvif-fault', silent).length > 0 && lastStatus(silent)?.state === 'degraded', 'onvif-fault for the silent device');
  assert.match(String(lastStatus(silent)!.reason), /ONVIF: .*1500 ms/);

  // Offline alarm at the broker.
  const victim = ids['127.75.0.4'];
  const downAt = Date.now();
  await sim.cameras[2].setOnline(false);
  await waitFor(() => events('camera-offline', victim).length > 0, 'camera-offline at the broker', 20_000);
  const alarmMs = events('camera-offline', victim)[0].at - downAt;
  t.diagnostic(`offline alarm reached the broker ${alarmMs} ms after the device went down (reachIntervalSec 2)`);
  assert.ok(alarmMs < 2000 + 2000 + 3000, `offline alarm after ${alarmMs} ms`); // liveness bound; the figure is in docs/benchmarks.md
  await waitFor(() => lastStatus(victim)?.state === 'offline', 'offline status');
  await sim.cameras[2].setOnline(true);
  await waitFor(() => events('camera-online', victim).length > 0, 'camera-online');
  assert.equal(events('camera-offline', victim).length, 1);

  // The latest thumbnail, as the central fetches it.
  const reply = await agent.uplink.dispatcher.handle({
    topic: `camgate/v1/${SITE}/cmd/thumbnail`,
    payload: Buffer.from(JSON.stringify({ schemaVersion: 1, messageId: 'thumb-1', args: { camera: healthy } })),
  });
  const result = reply!.payload.result as { bytes: number; base64: string; takenAt: string };
  assert.equal(reply!.payload.ok, true, JSON.stringify(reply!.payload.error));
  const jpeg = Buffer.from(result.base64, 'base64');
  assert.ok(jpeg.length <= 20480 && jpeg.length > 500, `thumbnail of ${jpeg.length} bytes`);
  assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);

  // Metrics with host, process and health figures.
  await waitFor(
    () => received.some((m) => m.topic.endsWith('/metrics') && (m.payload.health as { cameras?: number } | undefined)?.cameras === 4),
    'metrics with health figures',
  );
  const metrics = [...received].reverse().find((m) => m.topic.endsWith('/metrics'))!.payload;
  const host = metrics.host as { memAvailableBytes: number; disk: { freeBytes: number } };
  assert.ok(host.memAvailableBytes > 0 && host.disk.freeBytes > 0);
  assert.ok((metrics.health as { probes: Record<string, unknown> }).probes.reach);

  // Every payload the central got is valid against the contract.
  for (const m of received) {
    const kind = String(m.payload.kind);
    if (!['status', 'event', 'metrics'].includes(kind)) continue;
    const v = validatePayload(kind as 'status', m.payload);
    assert.ok(v.ok, `${m.topic}: ${v.errors.join('; ')}`);
  }
});
