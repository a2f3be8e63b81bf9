// Connection security against a real Mosquitto: TLS with CA verification (and a clear error
// for an untrusted broker), mutual TLS with CN = site id, username/password, and the per-site
// ACL of config/mosquitto/: a site cannot write under another site's prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { connect, ErrorWithReasonCode, MqttClient } from 'mqtt';
import { readFileSync, writeFileSync } from 'node:fs';
import { EXAMPLE_DIR, makePki, siteAcl, startMosquitto } from '../../scripts/peers/mosquitto';
import { broker, makeUplink, once, openTestOutbox } from './helpers';
import { tempDir } from '../kit/temp';
import { sleep } from '../kit/wait';
import { recorder } from '../kit/mqtt';
import { inventoryWith } from '../kit/reports';

const SITE = 'v012';

async function agentOnce(t: Parameters<typeof tempDir>[0], urls: string[], extra: Parameters<typeof broker>[1]) {
  const dir = tempDir(t);
  const db = inventoryWith(dir, 1);
  t.after(() => db.close());
  const uplink = makeUplink(t, { site: SITE, db, outbox: openTestOutbox(t, dir), broker: broker(urls, extra) });
  return uplink;
}

test('TLS: connects when the broker certificate verifies against broker.ca', async (t) => {
  const mq = await startMosquitto({ tls: true });
  t.after(() => mq.stop());
  assert.match(mq.url, /^mqtts:/);
  const pki = mq.pki!;
  const uplink = await agentOnce(t, [mq.url], { ca: pki.ca });
  uplink.start();
  const c = await once<{ url: string; bdSeq: number }>(uplink.session, 'connected');
  assert.equal(c.url, mq.url);
});

test('TLS: a broker certificate from another CA is refused with a clear error (no connection)', async (t) => {
  const mq = await startMosquitto({ tls: true });
  t.after(() => mq.stop());
  const otherDir = mkdtempSync(join(tmpdir(), 'camgate-otherca-'));
  t.after(() => rmSync(otherDir, { recursive: true, force: true }));
  const other = makePki(otherDir, 'some other CA');
  const uplink = await agentOnce(t, [mq.url], { ca: other.ca });
  let connected = false;
  uplink.session.on('connected', () => (connected = true));
  uplink.start();
  const err = await once<{ message: string }>(uplink.session, 'connect-error');
  assert.match(err.message, /TLS: the broker's certificate is not trusted .*check broker\.ca/);
  assert.ok(err.message.startsWith(mq.url));
  // It keeps retrying (with backoff), and keeps failing.
  await once(uplink.session, 'connect-error');
  assert.equal(connected, false);
  assert.equal(uplink.session.status().connected, false);
  assert.match(uplink.session.status().lastError ?? '', /not trusted/);
});

test('mutual TLS: the client certificate (CN = site id) is the identity; without one the broker refuses', async (t) => {
  const mq = await startMosquitto({ mutualTls: true, acl: siteAcl() });
  t.after(() => mq.stop());
  const pki = mq.pki!;
  const site = pki.client(SITE);
  const central = pki.client('central');
  const rec = await recorder(t, mq.url, `camgate/v1/${SITE}/#`, { ca: pki.ca, cert: central.cert, key: central.key });

  const uplink = await agentOnce(t, [mq.url], { ca: pki.ca, cert: site.cert, key: site.key });
  uplink.start();
  await once(uplink.session, 'connected');
  // The ACL keys on the CN: publishing under its own prefix works.
  await rec.waitFor((m) => m.topic === `camgate/v1/${SITE}/birth`);
  await uplink.stop();

  const anon = await agentOnce(t, [mq.url], { ca: pki.ca });
  anon.start();
  const err = await once<{ message: string }>(anon.session, 'connect-error');
  assert.match(err.message, /client certificate|closed the connection|TLS/);
});

test('username/password: right password connects, wrong password is refused with a clear error', async (t) => {
  const mq = await startMosquitto({ passwords: { [SITE]: 's3cret-pass', central: 'c3ntral' }, acl: siteAcl() });
  t.after(() => mq.stop());
  const rec = await recorder(t, mq.url, `camgate/v1/${SITE}/#`, { username: 'central', password: 'c3ntral' });
  const good = await agentOnce(t, [mq.url], { username: SITE, password: 's3cret-pass' });
  good.start();
  await once(good.session, 'connected');
  await rec.waitFor((m) => m.topic === `camgate/v1/${SITE}/birth`);
  await good.stop();

  for (const protocolVersion of [5, 4] as const) {
    const bad = await agentOnce(t, [mq.url], { username: SITE, password: 'wrong', protocolVersion });
    bad.start();
    const err = await once<{ message: string }>(bad.session, 'connect-error');
    assert.match(err.message, /refused the login: (bad user name or password|not authorized)/);
    assert.ok(!err.message.includes('wrong'), 'the password is not in the error');
    await bad.stop();
  }
});

async function client(url: string, options: Parameters<typeof connect>[1]): Promise<MqttClient> {
  const c = connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

test("ACL: the broker refuses a site writing under another site's prefix (MQTT 5 PUBACK 0x87; never delivered)", async (t) => {
  const mq = await startMosquitto({ passwords: { v012: 'p1', v013: 'p2', central: 'pc' }, acl: siteAcl() });
  t.after(() => {
    if (process.env.CAMGATE_TEST_BROKER_LOG) console.error(mq.log());
    return mq.stop();
  });
  const central = await recorder(t, mq.url, 'camgate/v1/#', { username: 'central', password: 'pc' });

  // Own prefix: accepted and delivered.
  const intruder = await client(mq.url, { username: 'v013', password: 'p2', protocolVersion: 5 });
  t.after(() => intruder.end(true));
  await intruder.publishAsync('camgate/v1/v013/events', JSON.stringify({ own: true }), { qos: 1 });
  await central.waitFor((m) => m.topic === 'camgate/v1/v013/events');
  // Another site's prefix: refused. Each forbidden publish on its own connection: after a denied
  // PUBLISH, Mosquitto 2.0.11 sometimes drops the connection right after sending PUBACK 0x87.
  const forbidden = async (topic: string, retain = false) => {
    const c = await client(mq.url, { username: 'v013', password: 'p2', protocolVersion: 5 });
    try {
      await c.publishAsync(topic, JSON.stringify({ forged: true }), { qos: 1, retain });
      return undefined;
    } catch (err) {
      return err;
    } finally {
      c.end(true);
    }
  };
  for (const [topic, retain] of [
    ['camgate/v1/v012/state', true],
    ['camgate/v1/v012/events', false],
    ['camgate/v1/v012/cmd/camera-reboot', false],
    // A site's own login cannot command the site: only the central writes commands.
    ['camgate/v1/v013/cmd/rebirth', false],
    ['camgate/v1/v013/anything-else', false],
  ] as const) {
    const refused = await forbidden(topic, retain);
    // MQTT 5: PUBACK reason code 0x87 (not authorized); the PUBACK precedes any disconnect on the wire.
    assert.ok(refused instanceof ErrorWithReasonCode, `${topic}: expected a PUBACK error, got ${String(refused)}`);
    assert.equal(refused.code, 0x87, topic);
  }
  // Reading another site's topics: Mosquitto 2.0 may grant the SUBSCRIBE, but its ACL check on
  // delivery never forwards a message there (checked below with the owner's marker).
  const snooper = await client(mq.url, { username: 'v013', password: 'p2', protocolVersion: 5 });
  t.after(() => snooper.end(true));
  const snooped: string[] = [];
  snooper.on('message', (topic) => snooped.push(topic));
  await snooper.subscribeAsync('camgate/v1/v012/#', { qos: 1 });

  // Over 3.1.1 there is no reason code: the broker acknowledges and drops it.
  const intruder4 = await client(mq.url, { username: 'v013', password: 'p2', protocolVersion: 4, clientId: 'intruder4' });
  t.after(() => intruder4.end(true));
  await intruder4.publishAsync('camgate/v1/v012/events', JSON.stringify({ forged: true }), { qos: 1 });

  // Marker from the real site, then check nothing forged ever arrived.
  const owner = await client(mq.url, { username: 'v012', password: 'p1', protocolVersion: 5, clientId: 'owner' });
  t.after(() => owner.end(true));
  await owner.publishAsync('camgate/v1/v012/events', JSON.stringify({ marker: true }), { qos: 1 });
  await central.waitFor((m) => m.topic === 'camgate/v1/v012/events' && m.json.marker === true);
  await sleep(200);
  const forged = central.messages.filter(
    (m) =>
      (m.topic.startsWith('camgate/v1/v012/') && (m.json.forged === true || m.topic.includes('/cmd/'))) ||
      (m.topic.startsWith('camgate/v1/v013/') && m.json.forged === true),
  );
  assert.deepEqual(
    forged.map((m) => m.topic),
    [],
  );
  assert.deepEqual(snooped, [], "another site never reads this site's topics");
  // The central may write commands to any site.
  const centralPub = await client(mq.url, { username: 'central', password: 'pc', protocolVersion: 5, clientId: 'central-pub' });
  t.after(() => centralPub.end(true));
  await centralPub.publishAsync('camgate/v1/v012/cmd/ping', '{}', { qos: 1 });
  await central.waitFor((m) => m.topic === 'camgate/v1/v012/cmd/ping');
});

test('the shipped config/mosquitto/mosquitto.conf (mTLS + acl.example) runs and enforces the per-site ACL', async (t) => {
  const mq = await startMosquitto({
    mutualTls: true,
    rawConfig: ({ port, dir, pki }) => {
      writeFileSync(join(dir, 'acl'), siteAcl());
      return (
        readFileSync(join(EXAMPLE_DIR, 'mosquitto.conf'), 'utf8')
          .replace(/^listener 8883$/m, `listener ${port} 127.0.0.1`)
          .replace('/etc/mosquitto/camgate/ca.pem', pki!.caFile)
          .replace('/etc/mosquitto/camgate/server.pem', pki!.server.certFile)
          .replace('/etc/mosquitto/camgate/server.key', pki!.server.keyFile)
          .replace('/etc/mosquitto/camgate/acl', join(dir, 'acl'))
          .replace(/^persistence true$/m, 'persistence false')
          .replace(/^persistence_location .*$/m, '')
          .replace(/^log_dest syslog$/m, 'log_dest stderr') + `user ${userInfo().username}\n`
      );
    },
  });
  t.after(() => mq.stop());
  const pki = mq.pki!;
  const centralCert = pki.client('central');
  const central = await recorder(t, mq.url, 'camgate/v1/#', { ca: pki.ca, cert: centralCert.cert, key: centralCert.key });
  const site = pki.client(SITE);
  const uplink = await agentOnce(t, [mq.url], { ca: pki.ca, cert: site.cert, key: site.key });
  uplink.start();
  await central.waitFor((m) => m.topic === `camgate/v1/${SITE}/birth`);
  const other = pki.client('v013');
  const intruder = await client(mq.url, { ca: pki.ca, cert: other.cert, key: other.key, protocolVersion: 5 });
  t.after(() => intruder.end(true));
  const err = await intruder.publishAsync(`camgate/v1/${SITE}/state`, '{"forged":true}', { qos: 1 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.equal((err as ErrorWithReasonCode | undefined)?.code, 0x87);
  // A command from the central reaches the site and is answered.
  await central.client.publishAsync(`camgate/v1/${SITE}/cmd/ping`, JSON.stringify({ schemaVersion: 1, messageId: 'p1' }), { qos: 1 });
  const reply = await central.waitFor((m) => m.topic === `camgate/v1/${SITE}/reply`);
  assert.equal(reply.json.requestId, 'p1');
  assert.equal(central.messages.filter((m) => m.json.forged === true).length, 0);
});
