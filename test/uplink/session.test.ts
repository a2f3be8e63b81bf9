// The MQTT session against a real Mosquitto: connect sequence, retained state, Will, bdSeq,
// backlog ordering and priority of live messages, commands over MQTT 5 and 3.1.1, failover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type MqttClient } from 'mqtt';
import { startMosquitto, freePort } from '../../scripts/peers/mosquitto';
import { DropClass } from '../../agent/uplink/types';
import { CommandHandlers } from '../../agent/uplink/commands';
import { UPLINK_DEFAULTS, broker, makeUplink, once, openTestOutbox, type TestContext } from './helpers';
import { validatePayload, type PayloadKind } from '../../contract';
import { tempDir } from '../kit/temp';
import { sleep } from '../kit/wait';
import { recorder, Received } from '../kit/mqtt';
import { inventoryWith } from '../kit/reports';

const SITE = 'v012';

/** A Mosquitto of its own and an inventory with `cameras` cameras, both cleaned up after the test. */
async function brokerAndInventory(t: TestContext, cameras: number) {
  const mq = await startMosquitto();
  t.after(() => mq.stop());
  const dir = tempDir(t);
  const db = inventoryWith(dir, cameras);
  t.after(() => db.close());
  return { mq, dir, db };
}

function assertValid(m: Received): void {
  const kind = m.json.kind as PayloadKind;
  const v = validatePayload(kind, m.json);
  assert.ok(v.ok, `${m.topic}: ${v.errors.join('; ')}\n${m.text}`);
}

test('connect sequence: birth first, state online, retained meta and status of every camera; valid payloads', async (t) => {
  const { mq, dir, db } = await brokerAndInventory(t, 3);
  const rec = await recorder(t, mq.url, `camgate/v1/${SITE}/#`);
  const uplink = makeUplink(t, { site: SITE, siteName: 'Test village', db, outbox: openTestOutbox(t, dir), broker: broker([mq.url]) });
  uplink.start();
  await rec.waitUntil((all) => all.filter((m) => m.topic.endsWith('/status')).length === 3, 10_000, 'three statuses');

  const order = rec.messages.map((m) => m.topic.replace(`camgate/v1/${SITE}/`, '').replace(/cameras\/[^/]+\//, 'cameras/*/'));
  assert.deepEqual(order.slice(0, 2), ['birth', 'state']);
  assert.deepEqual(order.slice(2), ['cameras/*/meta', 'cameras/*/meta', 'cameras/*/meta', 'cameras/*/status', 'cameras/*/status', 'cameras/*/status']);
  for (const m of rec.messages) assertValid(m);
  const birth = rec.messages[0].json;
  assert.equal(birth.bdSeq, 0);
  assert.equal(birth.seq, null);
  assert.equal(birth.siteName, 'Test village');
  assert.equal(birth.protocolVersion, 5);
  assert.equal((birth.cameras as { count: number }).count, 3);
  assert.equal(rec.messages[1].json.state, 'online');

  // A late subscriber gets the retained state, meta and status (not the birth).
  const late = await recorder(t, mq.url, `camgate/v1/${SITE}/#`);
  await late.waitUntil((all) => all.length >= 7, 5000, 'retained messages');
  await sleep(200);
  assert.deepEqual(
    late.messages.map((m) => m.retain),
    late.messages.map(() => true),
  );
  assert.equal(late.on(`camgate/v1/${SITE}/birth`).length, 0);
  assert.equal(late.on(`camgate/v1/${SITE}/state`)[0].json.state, 'online');
  assert.equal(late.messages.filter((m) => m.topic.endsWith('/meta')).length, 3);
  const status = late.messages.find((m) => m.topic.endsWith('/status')) as Received;
  assert.equal(status.json.state, 'unknown');
  assert.equal(status.qos, 1);

  // Clean stop: state offline (reason shutdown), retained.
  await uplink.stop();
  const off = await rec.waitFor((m) => m.topic.endsWith('/state') && m.json.state === 'offline');
  assert.equal(off.json.reason, 'shutdown');
  assert.equal(off.json.bdSeq, 0);
});

test('Will: a connection that dies publishes state offline (retained) with its bdSeq; bdSeq increments per connection', async (t) => {
  const { mq, dir, db } = await brokerAndInventory(t, 1);
  const rec = await recorder(t, mq.url, `camgate/v1/${SITE}/+`);
  const uplink = makeUplink(t, { site: SITE, db, outbox: openTestOutbox(t, dir), broker: broker([mq.url], { keepaliveSec: 5 }) });
  uplink.start();
  await once(uplink.session, 'connected');
  await rec.waitFor((m) => m.topic.endsWith('/state') && m.json.state === 'online');

  for (let i = 0; i < 2; i++) {
    // Cut the TCP connection without DISCONNECT, as a crash or a dead uplink would.
    const conn = (uplink.session as unknown as { conn: { client: { stream: { destroy(): void } } } }).conn;
    conn.client.stream.destroy();
    const will = await rec.waitFor((m) => m.topic.endsWith('/state') && m.json.state === 'offline' && m.json.bdSeq === i, 10_000, `will of bdSeq ${i}`);
    assert.equal(will.json.reason, 'will');
    assertValid(will);
    await rec.waitFor((m) => m.topic.endsWith('/birth') && m.json.bdSeq === i + 1, 10_000, `birth with bdSeq ${i + 1}`);
    await rec.waitFor((m) => m.topic.endsWith('/state') && m.json.state === 'online' && m.json.bdSeq === i + 1);
  }
  const births = rec.on(`camgate/v1/${SITE}/birth`).map((m) => m.json.bdSeq);
  assert.deepEqual(births, [0, 1, 2]);
  // The will was retained: a new subscriber after a death sees offline... after the reconnect it sees online again.
  const late = await recorder(t, mq.url, `camgate/v1/${SITE}/state`);
  const retained = await late.waitFor(() => true);
  assert.equal(retained.retain, true);
  assert.equal(retained.json.state, 'online');
  assert.equal(retained.json.bdSeq, 2);
});

test('reconnect order: birth, state, meta/status, then the backlog in seq order, historical and never retained', async (t) => {
  const { mq, dir, db } = await brokerAndInventory(t, 1);
  const outbox = openTestOutbox(t, dir);
  const uplink = makeUplink(t, { site: SITE, db, outbox, broker: broker([mq.url]) });
  // Before any connection: 50 events and a status change pile up in the outbox.
  const seqs: number[] = [];
  for (let i = 0; i < 50; i++) seqs.push(await uplink.event({ type: 'camera-offline', severity: 'alarm', message: `e${i}`, detail: { i } }));
  const camera = uplink.snapshot().cameras[0].id;
  await uplink.status({ camera, state: 'offline', since: new Date().toISOString(), lastSeen: null, clockOffsetMs: null, picture: null });
  assert.equal(outbox.stats().depth, 51);

  const rec = await recorder(t, mq.url, `camgate/v1/${SITE}/#`);
  uplink.start();
  await once(uplink.session, 'backlog-drained');
  await rec.waitUntil((all) => all.filter((m) => m.json.historical === true).length === 51, 10_000, 'backlog');
  const kinds = rec.messages.map((m) => (m.json.historical ? 'H' : m.topic.split('/').pop()));
  assert.deepEqual(kinds.slice(0, 4), ['birth', 'state', 'meta', 'status']);
  assert.ok(
    kinds.slice(4).every((k) => k === 'H'),
    kinds.join(','),
  );
  const backlog = rec.messages.filter((m) => m.json.historical === true);
  assert.deepEqual(
    backlog.map((m) => m.json.seq),
    [...seqs, seqs[seqs.length - 1] + 1],
  );
  for (const m of backlog) {
    assert.equal(m.retain, false, 'historical messages are never retained');
    assertValid(m);
  }
  // The connect-time status (current truth) is the retained one, not the replayed historical one.
  const late = await recorder(t, mq.url, `camgate/v1/${SITE}/cameras/+/status`);
  const retained = await late.waitFor(() => true);
  assert.equal(retained.json.historical, undefined);
  assert.equal(retained.json.seq, null);
  assert.equal(outbox.stats().depth, 0);

  // Live messages now: not historical, acked.
  const seq = await uplink.event({ type: 'disk-low', severity: 'warning', message: 'disk low' });
  const live = await rec.waitFor((m) => m.json.seq === seq);
  assert.equal(live.json.historical, undefined);
  assertValid(live);
  await sleep(100);
  assert.equal(outbox.stats().depth, 0);
});

test('a live alarm enqueued during a big backlog replay arrives before the backlog finishes', async (t) => {
  const { mq, dir, db } = await brokerAndInventory(t, 1);
  const outbox = openTestOutbox(t, dir);
  const uplink = makeUplink(t, { site: SITE, db, outbox, broker: broker([mq.url]) });
  const N = 20_000;
  const pending: Promise<number>[] = [];
  for (let i = 0; i < N; i++) {
    pending.push(
      outbox.enqueue({
        topic: uplink.session.topics.metrics,
        payload: { schemaVersion: 1, kind: 'metrics', messageId: `m${i}`, site: SITE, observedAt: new Date().toISOString(), i },
        dropClass: DropClass.Metric,
      }),
    );
  }
  await Promise.all(pending);
  const rec = await recorder(t, mq.url, `camgate/v1/${SITE}/#`);
  // The seq of the last historical message the agent handed to its connection: the wire order, as
  // the broker and this subscriber see it (one connection, QoS 1 both ways).
  let lastSentHistorical = 0;
  uplink.session.on('connected', () => {
    const client = (uplink.session as unknown as { conn: { client: MqttClient } }).conn.client;
    client.on('packetsend', (packet) => {
      if (packet.cmd !== 'publish') return;
      const json = JSON.parse(String(packet.payload)) as { historical?: boolean; seq?: number };
      if (json.historical === true) lastSentHistorical = json.seq as number;
    });
  });
  uplink.start();
  await once(uplink.session, 'connected');
  // Wait until the replay is under way (seen from the agent's side: 500 acknowledged), then raise an alarm.
  const deadline = Date.now() + 20_000;
  while (outbox.stats().depth > N - 500) {
    assert.ok(Date.now() < deadline, 'replay did not start');
    await sleep(2);
  }
  assert.ok(outbox.stats().depth > N / 2, 'the backlog is still mostly there when the alarm is raised');
  const sentBeforeAlarm = lastSentHistorical;
  const alarmSeq = await uplink.event({ type: 'camera-offline', severity: 'alarm', message: 'camera down' });
  await once(uplink.session, 'backlog-drained', 60_000);
  await rec.waitUntil((all) => all.filter((m) => m.json.historical === true).length === N && all.some((m) => m.json.seq === alarmSeq), 20_000, 'everything');
  const alarmAt = rec.messages.findIndex((m) => m.json.seq === alarmSeq);
  const lastHistorical = rec.messages.map((m) => m.json.historical === true).lastIndexOf(true);
  assert.ok(alarmAt < lastHistorical, `alarm at ${alarmAt}, backlog ends at ${lastHistorical}`);
  // docs/mqtt.md: the alarm goes out after at most one replay window of historical messages. Counted
  // from the moment it was raised (those already handed to the connection were on their way). No
  // margin: until the alarm is durable (the outbox commits on the next turn of the event loop) the
  // replay only refills the window as PUBACKs come in, and one turn reads the PUBACKs of at most
  // the window in flight; once the alarm waits, the replay starts nothing more ahead of it.
  const window = UPLINK_DEFAULTS.replayWindow;
  const aheadOfAlarm = rec.messages.slice(0, alarmAt).filter((m) => m.json.historical === true && (m.json.seq as number) > sentBeforeAlarm).length;
  t.diagnostic(`historical messages published after the alarm was raised and ahead of it: ${aheadOfAlarm} (window ${window})`);
  assert.ok(aheadOfAlarm <= window, `${aheadOfAlarm} historical messages went ahead of the alarm after it was raised, at most one window (${window}) promised`);
  assert.equal(rec.messages[alarmAt].json.historical, undefined);
  // Backlog order preserved.
  const hs = rec.messages.filter((m) => m.json.historical === true).map((m) => m.json.seq as number);
  assert.ok(
    hs.every((s, i) => i === 0 || s > hs[i - 1]),
    'backlog in seq order',
  );
});

function commandHandlers(calls: string[]): CommandHandlers {
  return {
    ping: async () => {
      calls.push('ping');
      return { pong: true };
    },
    'camera-reboot': async (args) => {
      calls.push(`reboot ${String(args.camera)}`);
      return { camera: args.camera };
    },
  };
}

for (const protocolVersion of [5, 4] as const) {
  test(`commands round trip over MQTT ${protocolVersion === 5 ? '5 (responseTopic/correlationData)' : '3.1.1 (replyTo/correlationId in the payload)'}; errors; other sites' topics are never acted on`, async (t) => {
    const { mq, dir, db } = await brokerAndInventory(t, 1);
    const calls: string[] = [];
    const uplink = makeUplink(t, {
      site: SITE,
      db,
      outbox: openTestOutbox(t, dir),
      broker: broker([mq.url], { protocolVersion }),
      handlers: () => commandHandlers(calls),
    });
    // A second agent for another site on the same broker, to show its commands never reach us.
    const central = await recorder(t, mq.url, [`camgate/v1/${SITE}/reply/#`, `camgate/v1/${SITE}/reply`], { protocolVersion });
    uplink.start();
    await once(uplink.session, 'connected');

    const replyTopic = `camgate/v1/${SITE}/reply/central-1`;
    const send = (name: string, body: unknown, props?: { responseTopic?: string; correlationData?: Buffer }, site = SITE) =>
      central.client.publishAsync(`camgate/v1/${site}/cmd/${name}`, typeof body === 'string' ? body : JSON.stringify(body), {
        qos: 1,
        ...(props && protocolVersion === 5 ? { properties: props } : {}),
      });

    if (protocolVersion === 5) {
      await send('ping', { schemaVersion: 1, messageId: 'req-1' }, { responseTopic: replyTopic, correlationData: Buffer.from('corr-1') });
    } else {
      await send('ping', { schemaVersion: 1, messageId: 'req-1', replyTo: replyTopic, correlationId: 'corr-1' });
    }
    const pong = await central.waitFor((m) => m.json.requestId === 'req-1');
    assert.equal(pong.topic, replyTopic);
    assert.equal(pong.json.ok, true);
    assert.deepEqual(pong.json.result, { pong: true });
    assert.equal(pong.json.correlationId, 'corr-1');
    assert.equal(pong.retain, false);
    if (protocolVersion === 5) assert.equal(Buffer.from(pong.packet.properties?.correlationData ?? []).toString(), 'corr-1');
    assertValid(pong);

    // Malformed and unknown commands get an error reply on the default reply topic; the agent carries on.
    await send('ping', '{not json');
    const bad = await central.waitFor(
      (m) => m.topic === `camgate/v1/${SITE}/reply` && m.json.ok === false && (m.json.error as { code: string }).code === 'malformed',
    );
    assertValid(bad);
    await send('self-destruct', { schemaVersion: 1, messageId: 'req-2' });
    const unknown = await central.waitFor((m) => m.json.requestId === 'req-2');
    assert.equal((unknown.json.error as { code: string }).code, 'unknown-command');
    await send('camera-reboot', { schemaVersion: 1, messageId: 'req-3', args: { camera: 'x', extra: 1 } });
    const invalid = await central.waitFor((m) => m.json.requestId === 'req-3');
    assert.equal((invalid.json.error as { code: string }).code, 'invalid-args');

    // A command on another site's topic: never delivered to (or acted on by) this agent.
    await send('camera-reboot', { schemaVersion: 1, messageId: 'req-4', args: { camera: 'cam-1' } }, undefined, 'v999');
    await send('camera-reboot', { schemaVersion: 1, messageId: 'req-5', args: { camera: 'cam-2' } });
    await central.waitFor((m) => m.json.requestId === 'req-5');
    assert.deepEqual(calls, ['ping', 'reboot cam-2']);
    assert.equal(central.messages.filter((m) => m.json.requestId === 'req-4').length, 0);

    // rebirth is not wired here: not-available, still an answer.
    await send('rebirth', { schemaVersion: 1, messageId: 'req-6' });
    const rb = await central.waitFor((m) => m.json.requestId === 'req-6');
    assert.equal((rb.json.error as { code: string }).code, 'not-available');
    assert.equal(uplink.session.status().connected, true);
  });
}

test('failover: the first URL is down, the session connects to the second', async (t) => {
  const { mq, dir, db } = await brokerAndInventory(t, 1);
  const dead = `mqtt://127.0.0.1:${await freePort()}`;
  const uplink = makeUplink(t, { site: SITE, db, outbox: openTestOutbox(t, dir), broker: broker([dead, mq.url]) });
  const errors: string[] = [];
  uplink.session.on('connect-error', (e) => errors.push(e.message));
  uplink.start();
  const c = await once<{ url: string }>(uplink.session, 'connected');
  assert.equal(c.url, mq.url);
  assert.match(errors[0], /connection refused/);
  assert.ok(errors[0].startsWith(dead));

  // And back: when the broker goes away and returns, the session reconnects by itself.
  const rec = await recorder(t, mq.url, `camgate/v1/${SITE}/birth`);
  const client = connect(mq.url, { reconnectPeriod: 0 });
  t.after(() => client.end(true));
  const conn = (uplink.session as unknown as { conn: { client: { stream: { destroy(): void } } } }).conn;
  conn.client.stream.destroy();
  await rec.waitFor((m) => m.json.bdSeq === 1, 10_000, 'birth after reconnect');
});
