// The whole health chain with real peers: the camera simulator (ONVIF + GStreamer RTSP), real
// probes and ffmpeg, the agent (startAgent) and a real Mosquitto; what the central would see is
// read from the broker. Loopback subnet 127.75.0.0/16 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Socket } from 'node:net';
import { validatePayload } from '../../contract';
import { channel, report } from '../kit/reports';
import { startSite } from '../kit/site';
import { waitFor } from '../kit/wait';

const SITE = 'v075';
/** health.reachIntervalSec in this test. */
const REACH_INTERVAL_MS = 2000;

test('health end to end: statuses, picture faults, an unanswering device, an offline alarm at the broker, thumbnail, metrics', async (t) => {
  // A device that accepts TCP and never answers (ONVIF, RTSP or anything).
  const held: Socket[] = [];
  const hang = createServer((s) => held.push(s));
  await new Promise<void>((r) => hang.listen(80, '127.75.0.9', r));
  t.after(() => {
    for (const s of held) s.destroy();
    hang.close();
  });
  const rig = await startSite(t, {
    site: SITE,
    cameras: [
      { host: '127.75.0.2' }, // healthy
      { host: '127.75.0.3', picture: 'frozen' },
      { host: '127.75.0.4' }, // taken offline during the test
    ],
    planted: [
      report({
        host: '127.75.0.9',
        endpointUuid: 'urn:uuid:00000000-0000-4000-8075-000000000009',
        identity: { serial: 'SN759', mac: '44:19:b6:75:00:09' },
        channels: [channel(1, '127.75.0.9')],
      }),
    ],
    env: {
      CAMGATE_HEALTH_REACH_INTERVAL_SEC: String(REACH_INTERVAL_MS / 1000),
      CAMGATE_HEALTH_REQUEST_TIMEOUT_MS: '1500',
      CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '1',
    },
  });
  const { ids, agent, events, lastStatus } = rig;
  const sim = rig.sim!;
  const received = rig.centre!.messages;
  const state = () =>
    `events: ${received
      .filter((m) => m.topic.endsWith('/events'))
      .map((m) => `${String(m.json.type)}:${String(m.json.camera)}`)
      .join(' ')}; statuses: ${Object.values(ids)
      .map((id) => JSON.stringify(lastStatus(id) ?? agent.health?.status(id) ?? null))
      .join('\n')}`;
  const until = (pred: () => boolean, what: string, ms = 60_000) => waitFor(pred, what, ms, state);

  // Healthy camera: online, both streams described, a picture without faults.
  const healthy = ids['127.75.0.2'];
  await until(() => {
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
  await until(() => events('picture-fault', frozen).length > 0, 'a picture-fault for the frozen camera');
  const pf = events('picture-fault', frozen)[0].json;
  assert.deepEqual((pf.detail as { faults: string[] }).faults, ['frozen']);
  assert.equal(typeof (pf.detail as { scores: Record<string, number> }).scores.frozen, 'number');
  await until(() => lastStatus(frozen)?.state === 'degraded', 'the frozen camera degraded');
  assert.match(String(lastStatus(frozen)!.reason), /picture frozen/);

  // The device that never answers: TCP connects, so online but degraded, with the reason.
  const silent = ids['127.75.0.9'];
  await until(() => events('onvif-fault', silent).length > 0 && lastStatus(silent)?.state === 'degraded', 'onvif-fault for the silent device');
  assert.match(String(lastStatus(silent)!.reason), /ONVIF: .*1500 ms/);

  // Offline alarm at the broker.
  const victim = ids['127.75.0.4'];
  const downAt = Date.now();
  await sim.cameras[2].setOnline(false);
  await until(() => events('camera-offline', victim).length > 0, 'camera-offline at the broker', 20_000);
  const alarmMs = events('camera-offline', victim)[0].at - downAt;
  t.diagnostic(`offline alarm reached the broker ${alarmMs} ms after the device went down (reachIntervalSec 2)`);
  // docs/health.md promises the alarm within the probe interval plus 2 s; the stated margin of 1 s
  // covers the trip through the broker to this subscriber and its 50 ms polling.
  const promisedMs = REACH_INTERVAL_MS + 2000;
  assert.ok(alarmMs <= promisedMs + 1000, `offline alarm after ${alarmMs} ms, promised within ${promisedMs} ms (+ 1000 ms margin)`);
  await until(() => lastStatus(victim)?.state === 'offline', 'offline status');
  await sim.cameras[2].setOnline(true);
  await until(() => events('camera-online', victim).length > 0, 'camera-online');
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
  await until(
    () => received.some((m) => m.topic.endsWith('/metrics') && (m.json.health as { cameras?: number } | undefined)?.cameras === 4),
    'metrics with health figures',
  );
  const metrics = [...received].reverse().find((m) => m.topic.endsWith('/metrics'))!.json;
  const host = metrics.host as { memAvailableBytes: number; disk: { freeBytes: number } };
  assert.ok(host.memAvailableBytes > 0 && host.disk.freeBytes > 0);
  assert.ok((metrics.health as { probes: Record<string, unknown> }).probes.reach);

  // Every payload the central got is valid against the contract.
  for (const m of received) {
    const kind = String(m.json.kind);
    if (!['status', 'event', 'metrics'].includes(kind)) continue;
    const v = validatePayload(kind as 'status', m.json);
    assert.ok(v.ok, `${m.topic}: ${v.errors.join('; ')}`);
  }
});
