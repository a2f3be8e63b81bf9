// The ledger changed with the CLI while `camgate run` runs (docs/mqtt.md, meta): a label set and
// a camera added reach the centre as meta within a check of the ledger, without waiting for a
// reconnect; a camera removed is announced (camera-removed event, retained meta and status
// cleared), also when the broker was down at the time. Real Mosquitto, the real CLI spawned
// against the agent's data directory, a simulated camera for `cameras add`.
// Loopback subnet 127.163.0.0/16 belongs to this file; nothing listens on the planted addresses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type MqttClient } from 'mqtt';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { startSimulator } from '../../scripts/sim/index';
import { listCameras } from '../../agent/inventory/cameras';
import { pendingRemovals } from '../../agent/inventory/changes';
import { validatePayload, type PayloadKind } from '../../contract';
import { runCli } from './helpers';
import { channel, report } from '../kit/reports';
import { startSite, SIM_LOGIN } from '../kit/site';
import type { Received } from '../kit/mqtt';
import { tempDir, type TestContext } from '../kit/temp';
import { waitFor } from '../kit/wait';

const SITE = 'v163';
const PREFIX = `camgate/v1/${SITE}`;

function planted(host: string, n: number) {
  return report({
    host,
    endpointUuid: `urn:uuid:00000000-0000-4000-8163-00000000000${n}`,
    identity: { manufacturer: 'Acme', model: 'IPC', firmware: '1.00', serial: `SN163${n}`, mac: `44:19:b6:63:01:0${n}` },
    channels: [channel(1, host)],
  });
}

function assertValid(json: Record<string, unknown>, what: string): void {
  const v = validatePayload(json.kind as PayloadKind, json);
  assert.ok(v.ok, `${what}: ${v.errors.join('; ')}\n${JSON.stringify(json)}`);
}

/** What a client subscribing now gets of the site's retained metas (camera → payload), and
 * whether the retained `extra` topic is there. A marker published after the subscription comes
 * back after every retained message, so nothing retained is still on its way. */
async function retainedNow(url: string, extra?: string): Promise<{ metas: Map<string, string>; extra?: string }> {
  const client = connect(url, { clientId: `fresh-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0, protocolVersion: 5 });
  const marker = `ledger-test/marker/${Math.random().toString(16).slice(2)}`;
  const metas = new Map<string, string>();
  let extraPayload: string | undefined;
  try {
    const done = new Promise<void>((resolve) => {
      client.on('message', (topic, payload) => {
        const meta = new RegExp(`^${PREFIX}/cameras/([^/]+)/meta$`).exec(topic);
        if (meta) metas.set(meta[1], payload.toString('utf8'));
        else if (topic === extra) extraPayload = payload.toString('utf8');
        else if (topic === marker) resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync([`${PREFIX}/cameras/+/meta`, marker, ...(extra ? [extra] : [])], { qos: 1 });
    await client.publishAsync(marker, 'x', { qos: 1 });
    await done;
  } finally {
    await client.endAsync(true);
  }
  return { metas, ...(extraPayload !== undefined ? { extra: extraPayload } : {}) };
}

/** A centre with a persistent session (clean: false): the broker keeps what the site publishes
 * while it is away, across a broker restart when the broker persists. Records from the first
 * packet on (the handler is attached before CONNACK, so nothing queued is missed). */
async function persistentCentre(t: TestContext, url: string): Promise<{ client: MqttClient; messages: Received[] }> {
  const client = connect(url, { clientId: `${SITE}-centre`, clean: false, reconnectPeriod: 0, protocolVersion: 4 });
  t.after(() => client.endAsync(true).catch(() => undefined));
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    const text = payload.toString('utf8');
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // An empty payload: a cleared retained message.
    }
    messages.push({ topic, text, json, retain: packet.retain, qos: packet.qos, packet, at: Date.now() });
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(`${PREFIX}/#`, { qos: 1 });
  return { client, messages };
}

test(
  'while the agent runs: a label set, a camera added and a camera removed with the CLI reach the centre without a reconnect',
  { timeout: 120_000 },
  async (t) => {
    const sim = await startSimulator({ cameras: [{ host: '127.163.1.20' }], rtsp: false });
    t.after(() => sim.stop());
    const rig = await startSite(t, {
      site: SITE,
      planted: [planted('127.163.1.10', 1), planted('127.163.1.11', 2)],
      env: { CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0', CAMGATE_WEB_ENABLED: 'false' },
      deps: { ffmpeg: null },
    });
    const centre = rig.centre!;
    const session = rig.agent.uplink.session;
    const [kept, gone] = [rig.ids['127.163.1.10'], rig.ids['127.163.1.11']];
    const goneDevice = listCameras(rig.db).find((c) => c.id === gone)!.deviceId;
    await waitFor(() => session.status().connected, 'the connect burst acknowledged');
    assert.ok((await retainedNow(rig.broker!.url)).metas.has(gone), 'the meta of the camera to remove is retained at first');

    // A label.
    const set = await runCli(['cameras', 'set', kept, '--name', '北门', '--data-dir', rig.dataDir]);
    assert.equal(set.code, 0, set.stderr);
    const labelled = await centre.waitFor((m) => m.topic === `${PREFIX}/cameras/${kept}/meta` && m.json.name === '北门', 30_000, 'the new name in a meta');
    assertValid(labelled.json, 'the meta');
    assert.equal(labelled.json.seq, null);

    // A camera added: its meta, and the health monitor watches it already.
    const add = await runCli(['cameras', 'add', 'onvif', '127.163.1.20', '--data-dir', rig.dataDir], {
      env: { CAMGATE_CAMERAS_USERNAME: SIM_LOGIN.username, CAMGATE_PASSWORD: SIM_LOGIN.password },
    });
    assert.equal(add.code, 0, add.stderr);
    const added = listCameras(rig.db).find((c) => c.device.host === '127.163.1.20')!.id;
    const addedMeta = await centre.waitFor((m) => m.topic === `${PREFIX}/cameras/${added}/meta`, 30_000, 'the added camera meta');
    assert.notEqual(rig.agent.health!.status(added), undefined, 'the health monitor was told before the meta went out');
    assertValid(addedMeta.json, 'the added meta');

    // A camera removed: its retained meta and status cleared, a camera-removed event.
    const remove = await runCli(['cameras', 'remove', gone, '--yes', '--data-dir', rig.dataDir]);
    assert.equal(remove.code, 0, remove.stderr);
    const event = await centre.waitFor((m) => m.topic === `${PREFIX}/events` && m.json.type === 'camera-removed', 30_000, 'the camera-removed event');
    assertValid(event.json, 'the event');
    assert.equal(event.json.camera, gone);
    assert.equal(event.json.severity, 'info');
    assert.equal(typeof event.json.seq, 'number', 'through the outbox');
    const detail = event.json.detail as { removedAt: string; deviceId: string; name: unknown };
    assert.deepEqual(Object.keys(detail).sort(), ['deviceId', 'name', 'removedAt']);
    assert.equal(detail.deviceId, goneDevice);
    assert.equal(detail.name, null);
    assert.equal(event.json.observedAt, detail.removedAt);
    for (const kind of ['meta', 'status'])
      await centre.waitFor((m) => m.topic === `${PREFIX}/cameras/${gone}/${kind}` && m.text === '', 30_000, `the ${kind} cleared`);
    await waitFor(() => pendingRemovals(rig.db).length === 0, 'the removal done');

    const retained = await retainedNow(rig.broker!.url);
    assert.deepEqual([...retained.metas.keys()].sort(), [added, kept].sort(), 'no retained meta of the removed camera');
    assert.equal((JSON.parse(retained.metas.get(kept)!) as { name: string }).name, '北门');
    assert.equal(rig.agent.health!.status(gone), undefined, 'the health monitor forgot it');

    // All of it on the first connection.
    assert.equal(session.status().connects, 1);
    assert.equal(centre.on(`${PREFIX}/birth`).length, 1);
  },
);

test(
  'a camera removed while the broker is down: after the reconnect, its retained meta is cleared in the connect burst and the event arrives',
  { timeout: 120_000 },
  async (t) => {
    // The broker persists (retained messages and the centre's session survive its restart), as a
    // production broker does: the removed camera's old meta would come back with it.
    const persistence = tempDir(t, 'camgate-mosq-data-');
    const brokerOptions = { extra: ['persistence true', `persistence_location ${persistence}/`] };
    const rig = await startSite(t, {
      site: SITE,
      planted: [planted('127.163.2.10', 3), planted('127.163.2.11', 4)],
      broker: brokerOptions,
      env: {
        CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0',
        CAMGATE_WEB_ENABLED: 'false',
        CAMGATE_HEALTH_ENABLED: 'false',
        CAMGATE_BROKER_RECONNECT_MIN_MS: '200',
        CAMGATE_BROKER_RECONNECT_MAX_MS: '1000',
      },
      deps: { ffmpeg: null },
    });
    const session = rig.agent.uplink.session;
    const [kept, gone] = [rig.ids['127.163.2.10'], rig.ids['127.163.2.11']];
    const first = await persistentCentre(t, rig.broker!.url);
    await waitFor(() => session.status().connected, 'the connect burst acknowledged');
    assert.ok((await retainedNow(rig.broker!.url)).metas.has(gone), 'the meta of the camera to remove is retained');
    const PERSISTED = 'ledger-test/persisted';
    await first.client.publishAsync(PERSISTED, 'kept across the restart', { qos: 1, retain: true });
    await first.client.endAsync();

    const port = rig.broker!.port;
    await rig.broker!.stop();
    await waitFor(() => !session.status().connected, 'the agent disconnected');
    const remove = await runCli(['cameras', 'remove', gone, '--yes', '--data-dir', rig.dataDir]);
    assert.equal(remove.code, 0, remove.stderr);
    // Announced while the broker is away: the event waits in the outbox, the clear for a connection.
    const pending = await waitFor(() => pendingRemovals(rig.db).find((r) => r.announced), 'the camera-removed event stored');
    assert.deepEqual([pending.cameraId, pending.cleared], [gone, false]);
    assert.ok(rig.agent.outbox.stats().depth >= 1);

    const broker = await startMosquitto({ ...brokerOptions, port });
    t.after(() => broker.stop());
    await waitFor(() => session.status().connects === 2 && session.status().connected, 'the agent reconnected', 30_000);
    const centre = await persistentCentre(t, broker.url);
    const event = await waitFor(
      () => centre.messages.find((m) => m.topic === `${PREFIX}/events` && m.json.type === 'camera-removed'),
      'the camera-removed event',
      30_000,
    );
    assertValid(event.json, 'the event');
    assert.equal(event.json.camera, gone);
    assert.equal(event.json.historical, true, 'stored before this connection');
    assert.equal(event.json.observedAt, (event.json.detail as { removedAt: string }).removedAt);
    await waitFor(() => pendingRemovals(rig.db).length === 0, 'the removal done');

    // In the connect burst: after the new birth, before the connect-time status of the camera kept.
    const births = centre.messages.flatMap((m, i) => (m.topic === `${PREFIX}/birth` && m.json.bdSeq === session.status().bdSeq ? [i] : []));
    assert.equal(births.length, 1, 'the birth of the new connection');
    const after = centre.messages.slice(births[0]);
    const cleared = after.findIndex((m) => m.topic === `${PREFIX}/cameras/${gone}/meta` && m.text === '');
    const keptStatus = after.findIndex((m) => m.topic === `${PREFIX}/cameras/${kept}/status` && m.json.seq === null);
    assert.ok(cleared > 0 && keptStatus > 0 && cleared < keptStatus, `cleared at ${cleared}, the kept camera's status at ${keptStatus}`);
    assert.ok(
      after.some((m) => m.topic === `${PREFIX}/cameras/${gone}/status` && m.text === ''),
      'its retained status cleared too',
    );

    const retained = await retainedNow(broker.url, PERSISTED);
    assert.equal(retained.extra, 'kept across the restart', 'the broker kept its retained messages');
    assert.deepEqual([...retained.metas.keys()], [kept], 'no retained meta of the removed camera');
  },
);
