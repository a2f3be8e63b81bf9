// The MQTT 3.1.1 path against the embedded broker (aedes speaks 3.1.1 only): connect sequence,
// Will, backlog, and a command round trip with replyTo/correlationId in the payload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Aedes } from 'aedes';
import { broker, makeUplink, once, openTestOutbox } from './helpers';
import { validatePayload, type PayloadKind } from '../../contract';
import { tempDir } from '../kit/temp';
import { recorder } from '../kit/mqtt';
import { inventoryWith } from '../kit/reports';

const SITE = 'emb-1';

async function startAedes(t: { after(fn: () => unknown): void }): Promise<string> {
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  });
  return `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

test('MQTT 3.1.1 against the embedded broker (aedes): birth, state, backlog, Will, command round trip', async (t) => {
  const url = await startAedes(t);
  const dir = tempDir(t);
  const db = inventoryWith(dir, 2);
  t.after(() => db.close());
  const outbox = openTestOutbox(t, dir);
  const uplink = makeUplink(t, {
    site: SITE,
    db,
    outbox,
    broker: broker([url], { protocolVersion: 4 }),
    handlers: () => ({ ping: async (args) => ({ pong: true, echo: args }) }),
  });
  const backlogSeq = await uplink.event({ type: 'camera-offline', severity: 'alarm', message: 'while offline' });
  const central = await recorder(t, url, `camgate/v1/${SITE}/#`, { protocolVersion: 4 });
  uplink.start();
  await once(uplink.session, 'connected');
  await central.waitFor((m) => m.json.seq === backlogSeq, 10_000, 'backlog event');
  const kinds = central.messages.map((m) => (m.json.historical ? 'H' : m.topic.split('/').pop()));
  assert.deepEqual(kinds, ['birth', 'state', 'meta', 'meta', 'status', 'status', 'H']);
  for (const m of central.messages) {
    const v = validatePayload(m.json.kind as PayloadKind, m.json);
    assert.ok(v.ok, v.errors.join('; '));
  }
  assert.equal(central.messages[0].json.protocolVersion, 4);

  await central.client.publishAsync(
    `camgate/v1/${SITE}/cmd/ping`,
    JSON.stringify({ schemaVersion: 1, messageId: 'r-1', replyTo: `camgate/v1/${SITE}/reply/c1`, correlationId: 'abc', args: {} }),
    { qos: 1 },
  );
  const reply = await central.waitFor((m) => m.topic === `camgate/v1/${SITE}/reply/c1`);
  assert.equal(reply.json.ok, true);
  assert.equal(reply.json.correlationId, 'abc');
  assert.equal(reply.json.requestId, 'r-1');

  // Will over 3.1.1.
  const conn = (uplink.session as unknown as { conn: { client: { stream: { destroy(): void } } } }).conn;
  conn.client.stream.destroy();
  const will = await central.waitFor((m) => m.topic.endsWith('/state') && m.json.state === 'offline');
  assert.equal(will.json.reason, 'will');
  assert.equal(will.json.bdSeq, 0);
  await central.waitFor((m) => m.topic.endsWith('/birth') && m.json.bdSeq === 1);
});
