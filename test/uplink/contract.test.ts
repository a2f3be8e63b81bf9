// Pure parts of the contract: topics (build, parse, segment validation), payload builders
// against their JSON Schemas, secrets never in meta, backoff, error descriptions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cameraMetaRecord, dropEvent, statusFromInventory, summarizeCamera } from '../../agent/uplink/payloads';
import { DropClass } from '../../agent/uplink/types';
import { listCameras } from '../../agent/inventory/cameras';
import { setDeviceCredentials } from '../../agent/credentials/store';
import {
  isUnderSite,
  parseTopic,
  segmentProblem,
  siteTopics,
  TopicError,
  birthPayload,
  direct,
  eventPayload,
  metaPayload,
  metricsPayload,
  replyPayload,
  statePayload,
  statusPayload,
  COMMAND_NAMES,
  PAYLOAD_SCHEMAS,
  validateCommandArgs,
  validatePayload,
} from '../../contract';
import { markHistorical } from '../../agent/uplink/splice';
import { tempDir } from '../kit/temp';
import { inventoryWith } from '../kit/reports';
import { PLANTED } from '../kit/secrets';
import { describeConnectError, reconnectDelay, urlForAttempt } from '../../lib/mqtt';

test('topics: the fixed tree, built and parsed back', () => {
  const t = siteTopics('v012');
  assert.equal(t.state, 'camgate/v1/v012/state');
  assert.equal(t.birth, 'camgate/v1/v012/birth');
  assert.equal(t.events, 'camgate/v1/v012/events');
  assert.equal(t.metrics, 'camgate/v1/v012/metrics');
  assert.equal(t.reply, 'camgate/v1/v012/reply');
  assert.equal(t.commandFilter, 'camgate/v1/v012/cmd/+');
  assert.equal(t.cameraMeta('cam-1'), 'camgate/v1/v012/cameras/cam-1/meta');
  assert.equal(t.cameraStatus('cam-1'), 'camgate/v1/v012/cameras/cam-1/status');
  assert.equal(t.command('camera-set-time'), 'camgate/v1/v012/cmd/camera-set-time');
  assert.deepEqual(parseTopic(t.state), { kind: 'state', site: 'v012' });
  assert.deepEqual(parseTopic(t.cameraStatus('cam-1')), { kind: 'status', site: 'v012', camera: 'cam-1' });
  assert.deepEqual(parseTopic(t.command('ping')), { kind: 'cmd', site: 'v012', command: 'ping' });
  assert.deepEqual(parseTopic('camgate/v1/v012/reply/central-1'), { kind: 'reply', site: 'v012', rest: ['central-1'] });
  for (const bad of [
    'other/v1/v012/state',
    'camgate/v1/v012',
    'camgate/v1/v012/state/x',
    'camgate/v1/v012/cameras/c/other',
    'camgate/v1//state',
    'camgate/v1/+/state',
    'camgate/v1/v012/cmd/Ping',
  ]) {
    assert.equal(parseTopic(bad), undefined, bad);
  }
});

test('topics: site and camera ids with + # / or nothing are refused', () => {
  for (const bad of ['', 'a+b', 'a#', 'a/b', 'x'.repeat(129), 'a\u0000b']) {
    assert.ok(segmentProblem(bad), JSON.stringify(bad));
    assert.throws(() => siteTopics(bad), TopicError);
    assert.throws(() => siteTopics('ok').cameraMeta(bad), TopicError);
  }
  assert.throws(() => siteTopics('ok').command('Bad_Name'), TopicError);
  assert.ok(isUnderSite('camgate/v1/s1/reply/x', 's1'));
  assert.ok(!isUnderSite('camgate/v1/s2/reply', 's1'));
  assert.ok(!isUnderSite('camgate/v1/s1/#', 's1'));
  assert.ok(!isUnderSite('camgate/v1/s1/', 's1'));
});

test('every payload builder produces a payload its schema accepts; historical and seq forms too', (t) => {
  const dir = tempDir(t);
  const db = inventoryWith(dir, 2);
  t.after(() => db.close());
  const cameras = listCameras(db);
  const at = new Date('2025-03-04T05:06:07.000Z');
  const outboxLike = (p: object, seq: number) => ({ ...p, seq });
  const cases: Array<[string, Record<string, unknown>]> = [
    ['state', statePayload('v012', 'online', { bdSeq: 3, observedAt: at })],
    ['state', statePayload('v012', 'offline', { bdSeq: 3, observedAt: at, reason: 'will' })],
    [
      'birth',
      birthPayload('v012', {
        bdSeq: 3,
        bootId: 'b',
        version: '0.1.0',
        siteName: 'X',
        protocolVersion: 5,
        observedAt: at,
        cameras: cameras.map(summarizeCamera),
        reason: 'connect',
      }),
    ],
    ['meta', direct(metaPayload('v012', cameraMetaRecord(cameras[0]), at))],
    ['meta', outboxLike(metaPayload('v012', cameraMetaRecord(cameras[0]), at), 7)],
    ['status', direct(statusPayload('v012', statusFromInventory(cameras[0]), at))],
    [
      'status',
      outboxLike(
        statusPayload(
          'v012',
          {
            camera: cameras[0].id,
            state: 'degraded',
            since: at.toISOString(),
            lastSeen: at.toISOString(),
            clockOffsetMs: 12,
            picture: { ok: false, faults: ['black'], checkedAt: at.toISOString() },
          },
          at,
        ),
        8,
      ),
    ],
    ['event', outboxLike(eventPayload('v012', { type: 'camera-offline', severity: 'alarm', camera: cameras[0].id, message: 'down' }, at), 9)],
    [
      'event',
      outboxLike(
        eventPayload(
          'v012',
          dropEvent({
            reason: 'quota',
            dropped: [
              { dropClass: DropClass.Metric, count: 10, fromSeq: 1, toSeq: 10 },
              { dropClass: DropClass.PeriodicStatus, count: 2, fromSeq: 3, toSeq: 4 },
            ],
          }),
          at,
        ),
        10,
      ),
    ],
    [
      'metrics',
      outboxLike(
        metricsPayload(
          'v012',
          {
            host: { loadAvg1: 0.5, memTotalBytes: 1, memFreeBytes: 1, uptimeSec: 1, cpus: 2 },
            agent: { rssBytes: 1, heapUsedBytes: 1, uptimeSec: 1, cameras: 2 },
            outbox: null,
            uplink: { connected: true, bdSeq: 3, connects: 1, url: 'mqtt://x' },
          },
          at,
        ),
        11,
      ),
    ],
    ['reply', replyPayload('v012', { command: 'ping', requestId: 'r', correlationId: null, ok: true, result: {} }, at)],
    ['reply', replyPayload('v012', { command: 'x', requestId: null, correlationId: 'c', ok: false, error: { code: 'unknown-command', message: 'no' } }, at)],
  ];
  for (const [kind, payload] of cases) {
    const v = validatePayload(kind as keyof typeof PAYLOAD_SCHEMAS, payload);
    assert.ok(v.ok, `${kind}: ${v.errors.join('; ')}`);
    // As replayed from the outbox: still valid, flagged historical.
    if (typeof payload.seq === 'number') {
      const replayed = JSON.parse(markHistorical(JSON.stringify(payload))) as Record<string, unknown>;
      assert.equal(replayed.historical, true);
      assert.ok(validatePayload(kind as keyof typeof PAYLOAD_SCHEMAS, replayed).ok);
    }
    assert.equal(payload.schemaVersion, 1);
    assert.equal(payload.observedAt, at.toISOString());
    assert.match(String(payload.messageId), /^[0-9a-f-]{36}$/);
  }
  // The schemas reject what they should: a missing field, a wrong kind, a stray property, a bad drop report.
  const good = statePayload('v012', 'online', { bdSeq: 1, observedAt: at }) as Record<string, unknown>;
  assert.ok(!validatePayload('state', { ...good, messageId: undefined }).ok);
  assert.ok(!validatePayload('state', { ...good, kind: 'birth' }).ok);
  assert.ok(!validatePayload('state', { ...good, extra: 1 }).ok);
  assert.ok(!validatePayload('state', { ...good, historical: false }).ok);
  assert.ok(
    !validatePayload('event', { ...eventPayload('v012', { type: 'outbox-drop', severity: 'warning', message: 'x', detail: { reason: 'quota' } }, at), seq: 1 })
      .ok,
  );
  // Message ids are unique.
  const ids = new Set(Array.from({ length: 1000 }, () => statePayload('v', 'online', { bdSeq: 0, observedAt: at }).messageId));
  assert.equal(ids.size, 1000);
});

test('meta carries the ledger record and never a secret', (t) => {
  const dir = tempDir(t);
  const db = inventoryWith(dir, 1);
  t.after(() => db.close());
  const cam = listCameras(db)[0];
  setDeviceCredentials(db, cam.deviceId, { username: 'admin', password: PLANTED }, () => Buffer.alloc(32, 7));
  const withCreds = listCameras(db)[0];
  // A URI that somehow kept credentials is cleaned on the way out.
  withCreds.profiles[0].streamUri = `rtsp://admin:${PLANTED}@127.0.9.10:554/ch1/main`;
  const meta = metaPayload('v012', cameraMetaRecord(withCreds), new Date());
  const text = JSON.stringify(meta);
  assert.ok(!text.includes(PLANTED));
  assert.equal(meta.device.hasCredentials, true);
  assert.equal(meta.profiles[0].streamUri, 'rtsp://127.0.9.10:554/ch1/main');
  assert.equal(cameraMetaRecord(withCreds).device.serial, 'SN0');
  assert.ok(validatePayload('meta', { ...meta, seq: null }).ok);
});

test('the schema files: every payload kind and command has one, all valid JSON with a $id', () => {
  const dir = join(__dirname, '../../../contract/json');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  for (const kind of Object.keys(PAYLOAD_SCHEMAS)) assert.ok(files.includes(`${kind}.json`), kind);
  for (const name of COMMAND_NAMES) assert.ok(files.includes(`cmd-${name}.json`), name);
  for (const f of files) assert.ok((JSON.parse(readFileSync(join(dir, f), 'utf8')) as { $id?: string }).$id?.endsWith(f));
  assert.ok(validateCommandArgs('camera-reboot', { camera: 'c1' })?.ok);
  assert.ok(!validateCommandArgs('camera-reboot', {})?.ok);
  assert.ok(!validateCommandArgs('camera-reboot', { camera: 'a/#' })?.ok);
  assert.equal(validateCommandArgs('nope', {}), undefined);
  assert.equal(validateCommandArgs('__proto__', {}), undefined);
});

test('reconnect schedule: failover through the URLs, doubling per pass, jittered, capped', () => {
  const urls = ['mqtt://a', 'mqtt://b', 'mqtt://c'];
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((a) => urlForAttempt(urls, a)),
    ['mqtt://a', 'mqtt://b', 'mqtt://c', 'mqtt://a', 'mqtt://b'],
  );
  const hi = () => 0.999999;
  const lo = () => 0;
  assert.equal(reconnectDelay(0, 3, 1000, 60000, hi), 0);
  assert.equal(reconnectDelay(1, 3, 1000, 60000, hi), 1000); // next URL in the same pass
  assert.equal(reconnectDelay(1, 3, 1000, 60000, lo), 500); // jitter: half to all
  assert.equal(reconnectDelay(3, 3, 1000, 60000, hi), 2000); // one full pass failed
  assert.equal(reconnectDelay(6, 3, 1000, 60000, hi), 4000);
  assert.equal(reconnectDelay(300, 3, 1000, 60000, hi), 60000); // capped
  assert.equal(reconnectDelay(10, 1, 1000, 60000, lo), 30000);
});

test('connect errors read as one clear line that names the setting', () => {
  const url = 'mqtts://b:8883';
  const tls = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  assert.equal(describeConnectError(tls, url), "mqtts://b:8883: TLS: the broker's certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN); check broker.ca");
  assert.match(describeConnectError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), url), /connection refused/);
  assert.match(describeConnectError(Object.assign(new Error('Connection refused: Bad username or password'), { code: 4 }), url), /bad user name or password/);
  assert.match(describeConnectError(Object.assign(new Error('Connection refused: Not authorized'), { code: 0x87 }), url), /not authorized/);
  assert.match(
    describeConnectError(Object.assign(new Error('x'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }), url),
    /requires a client certificate/,
  );
});
