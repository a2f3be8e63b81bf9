// Documented uplink behaviours (docs/mqtt.md) at a real Mosquitto started per test: publishes the
// broker refuses, outbox-drop events over the disk quota, rebirth and probe-now end to end, and the
// replay rate cap on the virtual clock. Loopback subnet 127.53.0.0/16 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { freePort, startMosquitto } from '../../scripts/peers/mosquitto';
import { DropClass, type DropReport } from '../../agent/uplink/types';
import { UPLINK_DEFAULTS, broker, makeUplink, once, openTestOutbox, type TestContext } from './helpers';
import { validatePayload, type CameraStatus, type PayloadKind } from '../../contract';
import { tempDir } from '../kit/temp';
import { recorder, type Received } from '../kit/mqtt';
import { channel, inventoryWith, report } from '../kit/reports';
import { captureLogger } from '../kit/logger';
import { FakeClock } from '../kit/clock';
import { startSite } from '../kit/site';
import { waitFor } from '../kit/wait';

const SITE = 'v053';
const PREFIX = `camgate/v1/${SITE}`;

function assertValid(m: Received): void {
  const v = validatePayload(m.json.kind as PayloadKind, m.json);
  assert.ok(v.ok, `${m.topic}: ${v.errors.join('; ')}\n${m.text}`);
}

const historical = (all: Received[]) => all.filter((m) => m.json.historical === true);

test('a publish the broker refuses (PUBACK 0x87, ACL) is logged and dropped from the outbox; what follows it still flows', async (t) => {
  // The site may write everything of the contract but metrics: Mosquitto 2.0.11 answers an MQTT 5
  // QoS 1 publish on a topic its ACL denies with PUBACK reason code 0x87 (not authorized).
  const acl = [`topic read ${PREFIX}/#`, ...['birth', 'state', 'events', 'cameras/#', 'reply/#'].map((topic) => `topic write ${PREFIX}/${topic}`), ''].join(
    '\n',
  );
  // max_queued_messages as in config/mosquitto/mosquitto.conf: with the test peer's 0 (unlimited),
  // Mosquitto 2.0.11 also closes the connection of a client after refusing its publish.
  const mq = await startMosquitto({ acl, extra: ['max_queued_messages 100000'] });
  t.after(() => mq.stop());
  const dir = tempDir(t);
  const db = inventoryWith(dir, 1);
  t.after(() => db.close());
  const outbox = openTestOutbox(t, dir);
  const log = captureLogger('warn');
  // One publish in flight: a refused message that held up the replay would hold up everything behind it.
  const uplink = makeUplink(t, {
    site: SITE,
    db,
    outbox,
    broker: broker([mq.url]),
    logger: log.logger,
    uplink: { ...UPLINK_DEFAULTS, replayWindow: 1 },
  });
  const refused: Array<{ topic: string; seq: number | null; reasonCode: number }> = [];
  uplink.session.on('refused', (r) => refused.push(r));
  const disconnects: unknown[] = [];
  uplink.session.on('disconnected', (d) => disconnects.push(d));

  // Backlog: an event, a metrics sample the ACL denies, another event.
  const before = [
    await uplink.event({ type: 'disk-low', severity: 'warning', message: 'before the refused one' }),
    await uplink.metrics(),
    await uplink.event({ type: 'disk-ok', severity: 'info', message: 'after the refused one' }),
  ];
  const rec = await recorder(t, mq.url, `${PREFIX}/#`);
  uplink.start();
  await once(uplink.session, 'backlog-drained');
  await rec.waitUntil((all) => historical(all).length === 2, 10_000, 'both backlog events');
  assert.deepEqual(
    historical(rec.messages).map((m) => m.json.seq),
    [before[0], before[2]],
  );

  // Live: a refused metrics sample, then an event.
  const liveMetrics = await uplink.metrics();
  const liveEvent = await uplink.event({ type: 'disk-low', severity: 'warning', message: 'live, after a refused one' });
  const live = await rec.waitFor((m) => m.json.seq === liveEvent, 10_000, 'the live event');
  assert.equal(live.json.historical, undefined);
  await waitFor(
    () => refused.length === 2 && outbox.stats().depth === 0,
    'both refusals reported and the outbox empty',
    10_000,
    () => JSON.stringify({ refused, stats: outbox.stats() }),
  );

  assert.deepEqual(
    refused.map((r) => [r.topic, r.seq, r.reasonCode]),
    [
      [`${PREFIX}/metrics`, before[1], 0x87],
      [`${PREFIX}/metrics`, liveMetrics, 0x87],
    ],
  );
  assert.equal(rec.on(`${PREFIX}/metrics`).length, 0, 'the broker passed on no metrics');
  assert.equal(outbox.stats().depth, 0);
  const logged = log.lines.filter((l) => l.reasonCode === 0x87 && l.topic === `${PREFIX}/metrics`);
  assert.deepEqual(
    logged.map((l) => l.seq),
    [before[1], liveMetrics],
  );
  assert.deepEqual(disconnects, [], 'a refusal does not cost the connection');
  assert.equal(rec.on(`${PREFIX}/birth`).length, 1);
});

/** A TCP port that refuses connections until open(), then forwards them to the broker. */
async function brokerGate(t: TestContext, brokerPort: number): Promise<{ url: string; open(): Promise<void> }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(brokerPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    open: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
  };
}

/** A camera status as the health monitor reports it, for periodic statuses. */
function cameraStatus(camera: string, state: CameraStatus['state'] = 'online'): CameraStatus {
  return { camera, state, since: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:00.000Z', clockOffsetMs: 12, picture: null };
}

for (const lost of [false, true]) {
  test(`outbox-drop over the disk quota, through the uplink: ${lost ? 'a dropped transition is an alarm' : 'dropped metrics and periodic statuses are a warning'}; counts and seq ranges`, async (t) => {
    // The uplink's broker address answers only once the test opens it: until then every connect
    // attempt is refused, as with a broker out of reach; the centre subscribes before it opens.
    const mq = await startMosquitto();
    t.after(() => mq.stop());
    const gate = await brokerGate(t, mq.port);
    const dir = tempDir(t);
    const db = inventoryWith(dir, 1);
    t.after(() => db.close());
    // 64 KiB: one drop must free 5 % of it (3.2 KiB), more than one metrics sample and one periodic status.
    const outbox = openTestOutbox(t, dir, 64 * 1024);
    const uplink = makeUplink(t, { site: SITE, db, outbox, broker: broker([gate.url]) });
    const reports: DropReport[] = [];
    outbox.onDrop((r) => reports.push(r));
    const connectErrors: string[] = [];
    uplink.session.on('connect-error', (e) => connectErrors.push(e.message));
    uplink.start();
    await waitFor(() => connectErrors.length > 0, 'a failed connect attempt');
    assert.match(connectErrors[0], /connection refused/);

    const camera = uplink.snapshot().cameras[0].id;
    const enqueued: Array<{ seq: number; cls: DropClass }> = [];
    const add = async (cls: DropClass) => {
      const seq =
        cls === DropClass.Metric
          ? await uplink.metrics()
          : cls === DropClass.PeriodicStatus
            ? await uplink.status(cameraStatus(camera), { periodic: true })
            : await uplink.event({ type: 'camera-offline', severity: 'alarm', camera, message: `camera unreachable ${enqueued.length}`, detail: {} });
      enqueued.push({ seq, cls });
    };
    // Transitions first (the oldest), one metrics sample, one periodic status; then the filler until the
    // first drop: periodic statuses (only those and the metrics can go), or transitions (a transition must go).
    for (let i = 0; i < 3; i++) await add(DropClass.Transition);
    await add(DropClass.Metric);
    await add(DropClass.PeriodicStatus);
    const filler = lost ? DropClass.Transition : DropClass.PeriodicStatus;
    while (reports.length === 0) {
      assert.ok(enqueued.length < 2000, 'no drop after 2000 messages');
      await add(filler);
    }
    await outbox.flush(); // the drop event the uplink enqueued in answer
    assert.equal(reports.length, 1);
    assert.equal(uplink.session.status().connected, false);

    const rec = await recorder(t, mq.url, `${PREFIX}/#`);
    await gate.open();
    // The drop event is the newest message of the backlog, which is replayed in seq order over one
    // connection: once it is here, everything that was kept is here.
    await rec.waitFor((m) => m.json.type === 'outbox-drop', 15_000, 'the outbox-drop event');
    await waitFor(
      () => outbox.stats().depth === 0,
      'the outbox drained',
      15_000,
      () => JSON.stringify(outbox.stats()),
    );

    // What went: per class, the oldest of that class; nothing else is missing at the centre.
    const delivered = new Set(rec.messages.map((m) => m.json.seq));
    const expected: Array<{ class: string; count: number; fromSeq: number; toSeq: number }> = [];
    const names: Record<DropClass, string> = {
      [DropClass.Metric]: 'metric',
      [DropClass.PeriodicStatus]: 'periodic-status',
      [DropClass.Transition]: 'transition',
    };
    for (const cls of [DropClass.Metric, DropClass.PeriodicStatus, DropClass.Transition]) {
      const ofClass = enqueued.filter((e) => e.cls === cls).map((e) => e.seq);
      const gone = ofClass.filter((s) => !delivered.has(s));
      if (gone.length === 0) continue;
      assert.deepEqual(gone, ofClass.slice(0, gone.length), `${names[cls]}: the oldest are dropped first`);
      expected.push({ class: names[cls], count: gone.length, fromSeq: gone[0], toSeq: gone[gone.length - 1] });
    }
    const classes = expected.map((e) => e.class);
    assert.deepEqual(classes, lost ? ['metric', 'periodic-status', 'transition'] : ['metric', 'periodic-status']);

    const drops = rec.messages.filter((m) => m.topic === `${PREFIX}/events` && m.json.type === 'outbox-drop');
    assert.equal(drops.length, 1);
    const ev = drops[0];
    assertValid(ev);
    assert.equal(ev.json.severity, lost ? 'alarm' : 'warning');
    const detail = ev.json.detail as { reason: string; total: number; dropped: typeof expected };
    assert.equal(detail.reason, 'quota');
    const byClass = (a: typeof expected) => [...a].sort((x, y) => x.class.localeCompare(y.class));
    assert.deepEqual(byClass(detail.dropped), byClass(expected));
    assert.equal(
      detail.total,
      expected.reduce((n, e) => n + e.count, 0),
    );
    assert.equal(outbox.stats().droppedTotal, detail.total);
  });
}

test('rebirth over the broker: reply with the bdSeq; birth (reason rebirth, same bdSeq), state online, every meta and status again; an audit event', async (t) => {
  const hosts = ['127.53.2.10', '127.53.2.11'];
  const rig = await startSite(t, {
    site: SITE,
    planted: hosts.map((host, i) =>
      report({
        host,
        endpointUuid: `urn:uuid:00000000-0000-4000-8053-00000000021${i}`,
        identity: { manufacturer: 'Acme', model: 'IPC', firmware: '1.00', serial: `SN53${i}`, mac: `44:19:b6:53:02:1${i}` },
        channels: [channel(1, host)],
      }),
    ),
    env: { CAMGATE_HEALTH_ENABLED: 'false', CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0' },
  });
  const centre = rig.centre!;
  const cameras = hosts.map((h) => rig.ids[h]).sort();
  const afterBirth = (all: Received[], from: number, kind: 'meta' | 'status') => all.slice(from).filter((m) => m.topic.endsWith(`/${kind}`));
  await centre.waitUntil((all) => afterBirth(all, 0, 'status').length === cameras.length, 20_000, 'the connect burst');
  const first = centre.on(`${PREFIX}/birth`);
  assert.equal(first.length, 1);
  assert.equal(first[0].json.reason, 'connect');
  const bdSeq = first[0].json.bdSeq as number;

  // Sent once the agent has finished its connect burst (a rebirth in answer to the birth: below).
  await waitFor(() => rig.agent.uplink.session.status().connected, 'the connect burst acknowledged');
  const from = centre.messages.length;
  const reply = await rig.command('rebirth', {}, 'rebirth-1');
  assert.equal(reply.ok, true, JSON.stringify(reply.error));
  assert.deepEqual(reply.result, { bdSeq });
  await centre.waitUntil((all) => afterBirth(all, from, 'status').length === cameras.length, 10_000, 'statuses again');
  const audit = await centre.waitFor(
    (m) => m.json.type === 'audit' && (m.json.detail as { command?: string }).command === 'rebirth',
    10_000,
    'the audit event',
  );

  const again = centre.messages.slice(from).filter((m) => !/\/(reply|events|cmd\/rebirth)$/.test(m.topic));
  const kinds = again.map((m) => m.topic.slice(PREFIX.length + 1).replace(/^cameras\/[^/]+\//, ''));
  assert.deepEqual(kinds, ['birth', 'state', ...cameras.map(() => 'meta'), ...cameras.map(() => 'status')]);
  const birth = again[0].json;
  assert.equal(birth.reason, 'rebirth');
  assert.equal(birth.bdSeq, bdSeq);
  assert.equal(birth.bootId, first[0].json.bootId);
  assert.equal((birth.cameras as { count: number }).count, cameras.length);
  assert.equal(again[1].json.state, 'online');
  assert.equal(again[1].json.bdSeq, bdSeq);
  assert.deepEqual(
    afterBirth(again, 0, 'meta')
      .map((m) => m.json.camera)
      .sort(),
    cameras,
  );
  assert.deepEqual(
    afterBirth(again, 0, 'status')
      .map((m) => m.json.camera)
      .sort(),
    cameras,
  );
  for (const m of again) assertValid(m);

  assert.deepEqual(audit.json.detail, { action: 'command', command: 'rebirth', requestId: 'rebirth-1', ok: true });
  assert.equal(audit.json.severity, 'info');
  assertValid(audit);
  assertValid(centre.messages.find((m) => m.json.requestId === 'rebirth-1')!);
});

test('replayMaxPerSec on the virtual clock: after k seconds at most 1 + rate*k historical messages reached the broker, and all of them in the end', async (t) => {
  const RATE = 10;
  const N = 45; // more than the window (32): the replay also refills under the cap
  const clock = new FakeClock();
  // Keeps virtual time moving while the uplink stops, so its bounded waits (on this clock) can end.
  let ticking: NodeJS.Timeout | undefined;
  t.after(() => {
    let busy = false;
    ticking = setInterval(() => {
      if (busy) return;
      busy = true;
      void clock.advance(1000).finally(() => (busy = false));
    }, 5);
  });
  const mq = await startMosquitto();
  t.after(() => mq.stop());
  const dir = tempDir(t);
  const db = inventoryWith(dir, 1);
  t.after(() => db.close());
  const uplink = makeUplink(t, {
    site: SITE,
    db,
    outbox: openTestOutbox(t, dir),
    broker: broker([mq.url]),
    clock,
    uplink: { ...UPLINK_DEFAULTS, replayMaxPerSec: RATE },
  });
  t.after(() => clearInterval(ticking));
  for (let i = 0; i < N; i++) await uplink.event({ type: 'disk-low', severity: 'warning', message: `backlog ${i}` });
  const rec = await recorder(t, mq.url, `${PREFIX}/#`);

  // Every publish the session made before the marker (one connection, QoS 1 both ways) reaches the
  // recorder before it: what the broker delivered up to now, read without waiting on the wall clock.
  let markers = 0;
  const deliveredNow = async () => {
    const marker = ++markers;
    assert.ok(await uplink.session.publishDirect(`${PREFIX}/test-marker`, { marker }), 'marker published');
    await rec.waitFor((m) => m.topic.endsWith('/test-marker') && m.json.marker === marker, 10_000, `marker ${marker}`);
    return historical(rec.messages).length;
  };

  const connected = once(uplink.session, 'connected');
  uplink.start();
  await clock.advance(0);
  await connected;
  const counts: number[] = [];
  for (let k = 0; ; k++) {
    if (k > 0) await clock.advance(1000);
    const n = await deliveredNow();
    counts.push(n);
    assert.ok(n <= 1 + RATE * k, `after ${k} virtual s: ${n} historical messages, at most ${1 + RATE * k} allowed (${counts.join(', ')})`);
    if (n === N) break;
    assert.ok(k < 2 * Math.ceil(N / RATE) + 5, `the backlog does not drain: ${counts.join(', ')}`);
  }
  t.diagnostic(`historical messages delivered after each virtual second: ${counts.join(', ')}`);
  await uplink.session.whenBacklogDone();
  assert.deepEqual(
    historical(rec.messages).map((m) => m.json.seq),
    Array.from({ length: N }, (_, i) => i + 1),
  );
});

test('probe-now with health monitoring on: per camera state, reason and both streams DESCRIBEd now, from the health monitor', async (t) => {
  const rig = await startSite(t, {
    site: SITE,
    cameras: [{ host: '127.53.3.2' }],
    planted: [
      report({
        host: '127.53.3.9', // nothing listens there
        endpointUuid: 'urn:uuid:00000000-0000-4000-8053-000000000309',
        identity: { serial: 'SN5339', mac: '44:19:b6:53:03:09' },
        channels: [channel(1, '127.53.3.9')],
      }),
    ],
    env: { CAMGATE_HEALTH_PICTURE_INTERVAL_SEC: '0', CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0' },
  });
  const good = rig.ids['127.53.3.2'];
  const dead = rig.ids['127.53.3.9'];
  // The scheduled first stream check, so that a DESCRIBE seen later can only be the command's
  // (the next scheduled one is health.streamIntervalSec, 120 s, away).
  await waitFor(() => rig.lastStatus(good)?.streams, 'the first scheduled stream check', 60_000);
  const sentAt = Date.now();

  const reply = await rig.command('probe-now', {}, 'probe-1');
  assert.equal(reply.ok, true, JSON.stringify(reply.error));
  assertValid(rig.centre!.messages.find((m) => m.json.requestId === 'probe-1')!);
  type Entry = {
    camera: string;
    device: string;
    reachable: boolean;
    latencyMs: number | null;
    clockOffsetMs: number | null;
    error?: { code: string; message: string };
    state: string;
    reason: string | null;
    streams: Array<{ stream: string; ok: boolean; codec: string | null; width: number | null; height: number | null; checkedAt: string; error?: unknown }>;
  };
  const result = reply.result as { probed: number; reachable: number; cameras: Entry[] };
  assert.equal(result.probed, 2);
  assert.equal(result.reachable, 1);
  const entry = (id: string) => result.cameras.find((c) => c.camera === id)!;

  const ok = entry(good);
  assert.equal(ok.reachable, true);
  assert.equal(typeof ok.latencyMs, 'number');
  assert.equal(typeof ok.clockOffsetMs, 'number');
  assert.equal(ok.error, undefined);
  assert.equal(ok.state, 'online');
  assert.equal(ok.reason, null);
  assert.deepEqual(
    ok.streams.map((s) => [s.stream, s.ok, s.codec, s.width && s.width > 0, s.height && s.height > 0]),
    [
      ['main', true, 'H264', true, true],
      ['sub', true, 'H264', true, true],
    ],
  );
  for (const s of ok.streams)
    assert.ok(Date.parse(s.checkedAt) >= sentAt, `${s.stream} described at ${s.checkedAt}, before the command (${new Date(sentAt).toISOString()})`);

  const bad = entry(dead);
  assert.equal(bad.reachable, false);
  assert.equal(typeof bad.error?.code, 'string');
  assert.match(bad.error!.message, /127\.53\.3\.9/);
  assert.ok(['unknown', 'offline', 'degraded'].includes(bad.state), bad.state);
  assert.ok('reason' in bad && Array.isArray(bad.streams));

  // The answer is the health monitor's view of the camera (the bare probe has no state or streams).
  const held = rig.agent.health!.status(good)!;
  assert.deepEqual([ok.state, ok.reason, ok.streams], [held.state, held.reason ?? null, held.streams]);
});

test('a rebirth sent in answer to the birth, while the connect burst is still going out, is carried out after it', async (t) => {
  const hosts = Array.from({ length: 20 }, (_, i) => `127.53.4.${10 + i}`);
  const rig = await startSite(t, {
    site: SITE,
    planted: hosts.map((host, i) =>
      report({
        host,
        endpointUuid: `urn:uuid:00000000-0000-4000-8053-0000000004${String(10 + i).padStart(2, '0')}`,
        identity: { manufacturer: 'Acme', model: 'IPC', firmware: '1.00', serial: `SN534${i}`, mac: `44:19:b6:53:04:${(16 + i).toString(16)}` },
        channels: [channel(1, host)],
      }),
    ),
    // One publish in flight (a thin link): the burst of 41 messages takes 41 round trips, so the
    // request reaches the agent while it is still going out.
    env: { CAMGATE_HEALTH_ENABLED: 'false', CAMGATE_UPLINK_METRICS_INTERVAL_SEC: '0', CAMGATE_UPLINK_REPLAY_WINDOW: '1' },
    startAgent: false,
  });
  const centre = rig.centre!;
  // The centre answers the first birth at once, as a Sparkplug host does when a birth surprises it.
  let asked = false;
  centre.client.on('message', (topic) => {
    if (topic !== `${PREFIX}/birth` || asked) return;
    asked = true;
    void centre.client.publishAsync(`${PREFIX}/cmd/rebirth`, JSON.stringify({ schemaVersion: 1, messageId: 'rebirth-early' }), { qos: 1 });
  });
  rig.startAgent();
  const reply = await centre.waitFor((m) => m.json.requestId === 'rebirth-early', 20_000, 'the rebirth reply');
  assert.equal(reply.json.ok, true, JSON.stringify(reply.json.error));
  assert.deepEqual(reply.json.result, { bdSeq: 0 });
  const births = centre.on(`${PREFIX}/birth`);
  assert.deepEqual(
    births.map((m) => [m.json.reason, m.json.bdSeq]),
    [
      ['connect', 0],
      ['rebirth', 0],
    ],
  );
  // Two whole bursts, one after the other.
  const rebirthAt = centre.messages.indexOf(births[1]);
  const statuses = (all: Received[]) => all.filter((m) => m.topic.endsWith('/status')).length;
  assert.equal(statuses(centre.messages.slice(0, rebirthAt)), hosts.length);
  assert.equal(statuses(centre.messages.slice(rebirthAt)), hosts.length);
});
