// Command dispatch without a broker: validation, error replies, reply topics, site isolation,
// timeouts, audit, and the agent's handlers with an injected driver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditEntry, CommandDispatcher, CommandHandlers, IncomingCommand } from '../../agent/uplink/commands';
import { agentHandlers, UplinkHandlerDeps } from '../../agent/commands/site';
import { targetOfDevice } from '../../agent/inventory/device-driver';
import { agentConfig } from '../../agent/config/spec';
import { listCameras } from '../../agent/inventory/cameras';
import type { DeviceDriver, Credentials } from '../../drivers/types';
import type { DriverTarget } from '../../drivers/api';
import { DriverError } from '../../drivers/types';
import { validatePayload } from '../../contract';
import { FakeClock } from '../kit/clock';
import { CommandError } from '../../contract';
import { tempDir } from '../kit/temp';
import { inventoryWith } from '../kit/reports';
import { PLANTED } from '../kit/secrets';

const SITE = 'v012';
const req = (name: string, body: unknown, extra: Partial<IncomingCommand> = {}, site = SITE): IncomingCommand => ({
  topic: `camgate/v1/${site}/cmd/${name}`,
  payload: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  ...extra,
});

function dispatcher(handlers: CommandHandlers, audit?: (e: AuditEntry) => void, timeoutMs = 1000) {
  return new CommandDispatcher({ site: SITE, handlers, timeoutMs, ...(audit ? { audit } : {}) });
}

async function reply(d: CommandDispatcher, r: IncomingCommand) {
  const out = await d.handle(r);
  assert.ok(out, 'a reply');
  const v = validatePayload('reply', out.payload);
  assert.ok(v.ok, v.errors.join('; '));
  return out;
}

test('a valid command runs its handler and replies ok on the default reply topic', async () => {
  const d = dispatcher({ ping: async () => ({ pong: true }) });
  const r = await reply(d, req('ping', { schemaVersion: 1, messageId: 'm1' }));
  assert.equal(r.topic, 'camgate/v1/v012/reply');
  assert.equal(r.payload.ok, true);
  assert.deepEqual(r.payload.result, { pong: true });
  assert.equal(r.payload.requestId, 'm1');
  assert.equal(r.payload.command, 'ping');
});

test('malformed, unknown and invalid commands get error replies, never a throw', async () => {
  let ran = 0;
  const d = dispatcher({ 'camera-reboot': async () => ({ ran: ++ran }) });
  const code = async (r: IncomingCommand) => (await reply(d, r)).payload.error?.code;
  assert.equal(await code(req('camera-reboot', '{oops')), 'malformed');
  assert.equal(await code(req('camera-reboot', '[1,2]')), 'malformed');
  assert.equal(await code(req('camera-reboot', 'null')), 'malformed');
  assert.equal(await code(req('camera-reboot', { args: { camera: 'c' } })), 'malformed'); // no messageId
  assert.equal(await code(req('camera-reboot', { schemaVersion: 2, messageId: 'x', args: { camera: 'c' } })), 'malformed');
  assert.equal(await code(req('camera-reboot', { schemaVersion: 1, messageId: 'x', site: 'v999', args: { camera: 'c' } })), 'malformed');
  assert.equal(await code(req('camera-reboot', { schemaVersion: 1, messageId: 'x', args: 'c' })), 'malformed');
  assert.equal(await code(req('launch-missiles', { schemaVersion: 1, messageId: 'x' })), 'unknown-command');
  assert.equal(await code(req('Weird_Name', { schemaVersion: 1, messageId: 'x' })), 'unknown-command');
  assert.equal(await code(req('camera-reboot', { schemaVersion: 1, messageId: 'x', args: {} })), 'invalid-args');
  assert.equal(await code(req('camera-reboot', { schemaVersion: 1, messageId: 'x', args: { camera: 'c', force: true } })), 'invalid-args');
  assert.equal(await code(req('snapshot', { schemaVersion: 1, messageId: 'x', args: { camera: 'c' } })), 'not-available'); // no handler
  assert.equal(await code(req('camera-reboot', Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'))), 'malformed');
  assert.equal(ran, 0);
  // The error names the problem.
  const r = await reply(d, req('camera-reboot', { schemaVersion: 1, messageId: 'x', args: { camera: 'c', force: true } }));
  assert.match(r.payload.error?.message ?? '', /unknown property "force"/);
});

test("commands on another site's topics, or outside cmd/, are ignored (no handler, no reply)", async () => {
  let ran = 0;
  const d = dispatcher({ ping: async () => ({ ran: ++ran }) });
  assert.equal(await d.handle(req('ping', { schemaVersion: 1, messageId: 'x' }, {}, 'v013')), undefined);
  assert.equal(await d.handle(req('ping', { schemaVersion: 1, messageId: 'x' }, {}, 'v0')), undefined);
  assert.equal(await d.handle({ topic: 'camgate/v1/v012/events', payload: Buffer.from('{}') }), undefined);
  assert.equal(await d.handle({ topic: 'camgate/v1/v0123/cmd/ping', payload: Buffer.from('{}') }), undefined);
  assert.equal(ran, 0);
});

test('reply topic: MQTT 5 responseTopic, else payload replyTo, else default; never outside the site', async () => {
  const d = dispatcher({ ping: async () => ({}) });
  const body = { schemaVersion: 1, messageId: 'x', replyTo: 'camgate/v1/v012/reply/from-payload', correlationId: 'p-corr' };
  const v5 = await reply(d, req('ping', body, { responseTopic: 'camgate/v1/v012/reply/from-props', correlationData: Buffer.from([1, 2, 3]) }));
  assert.equal(v5.topic, 'camgate/v1/v012/reply/from-props');
  assert.deepEqual(v5.correlationData, Buffer.from([1, 2, 3]));
  assert.equal(v5.payload.correlationId, 'p-corr');
  const v5only = await reply(
    d,
    req('ping', { schemaVersion: 1, messageId: 'x' }, { responseTopic: 'camgate/v1/v012/reply/p', correlationData: Buffer.from('abc') }),
  );
  assert.equal(v5only.payload.correlationId, 'abc');
  const binary = await reply(d, req('ping', { schemaVersion: 1, messageId: 'x' }, { correlationData: Buffer.from([0, 1, 255]) }));
  assert.equal(binary.payload.correlationId, 'base64:AAH/');
  const v311 = await reply(d, req('ping', body));
  assert.equal(v311.topic, 'camgate/v1/v012/reply/from-payload');
  assert.equal(v311.payload.correlationId, 'p-corr');
  for (const bad of ['camgate/v1/v013/reply', 'camgate/v1/v012/reply/#', 'elsewhere']) {
    const r = await reply(d, req('ping', { ...body, replyTo: bad }));
    assert.equal(r.topic, 'camgate/v1/v012/reply');
    assert.equal(r.payload.error?.code, 'bad-reply-topic');
  }
});

test('a handler that throws or hangs gets an error reply; CommandError keeps its code; audited commands are audited', async () => {
  const audits: AuditEntry[] = [];
  const d = dispatcher(
    {
      ping: async () => {
        throw new Error('boom');
      },
      rebirth: async () => new Promise(() => undefined),
      'camera-reboot': async () => {
        throw new CommandError('invalid-args', 'no camera with id "c"');
      },
      'camera-set-time': async () => ({ offsetAfterMs: 0 }),
    },
    (e) => audits.push(e),
    200,
  );
  assert.equal((await reply(d, req('ping', { schemaVersion: 1, messageId: 'a' }))).payload.error?.code, 'failed');
  assert.equal((await reply(d, req('rebirth', { schemaVersion: 1, messageId: 'b' }))).payload.error?.code, 'timeout');
  assert.equal((await reply(d, req('camera-reboot', { schemaVersion: 1, messageId: 'c', args: { camera: 'c' } }))).payload.error?.code, 'invalid-args');
  assert.equal((await reply(d, req('camera-set-time', { schemaVersion: 1, messageId: 'd', args: { camera: 'c2' } }))).payload.ok, true);
  assert.deepEqual(
    audits.map((a) => [a.command, a.requestId, a.ok, a.camera ?? null]),
    [
      ['rebirth', 'b', false, null],
      ['camera-reboot', 'c', false, 'c'],
      ['camera-set-time', 'd', true, 'c2'],
    ],
  );
});

class FakeDriver implements Partial<DeviceDriver> {
  calls: string[] = [];
  offset = 90_000;
  constructor(
    readonly target: DriverTarget,
    readonly credentials?: Credentials,
  ) {}
  async reboot() {
    this.calls.push('reboot');
  }
  async time() {
    return { deviceUtc: new Date(Date.now() + this.offset).toISOString(), offsetMs: this.offset };
  }
  async setTime(now: Date) {
    this.calls.push(`setTime ${now.toISOString()}`);
    this.offset = 3;
  }
  close() {
    this.calls.push('close');
  }
}

test('agent handlers: camera-reboot and camera-set-time through the driver with the stored login; config-get masks secrets; not-available ones say so', async (t) => {
  const dir = tempDir(t);
  const db = inventoryWith(dir, 2);
  t.after(() => db.close());
  const cams = listCameras(db);
  const { config } = agentConfig.load({
    env: { CAMGATE_SITE_ID: SITE, CAMGATE_BROKER_PASSWORD: PLANTED, CAMGATE_PASSWORD: PLANTED, CAMGATE_BROKER_URLS: 'mqtt://127.0.0.1:1' },
  });
  const drivers: FakeDriver[] = [];
  const deps: UplinkHandlerDeps = {
    site: SITE,
    version: '1.2.3',
    bootId: 'boot-1',
    config,
    db,
    credentialsFor: () => ({ username: 'admin', password: PLANTED }),
    openDriver: (target, credentials) => {
      const d = new FakeDriver(target, credentials);
      drivers.push(d);
      return d as unknown as DeviceDriver;
    },
    rebirth: async () => 4,
    session: () => ({ bdSeq: 4, connected: true }),
    startedAt: Date.parse('2025-05-06T07:08:04.000Z'),
    clock: new FakeClock('2025-05-06T07:08:09.000Z'),
  };
  const d = new CommandDispatcher({ site: SITE, handlers: agentHandlers(deps) });
  const run = async (name: string, args: Record<string, unknown> = {}) => (await reply(d, req(name, { schemaVersion: 1, messageId: name, args }))).payload;

  const reboot = await run('camera-reboot', { camera: cams[0].id });
  assert.equal(reboot.ok, true);
  assert.deepEqual(drivers[0].calls, ['reboot', 'close']);
  assert.equal(drivers[0].target.kind, 'onvif');
  assert.deepEqual(drivers[0].target, {
    kind: 'onvif',
    host: '127.0.9.10',
    port: 80,
    path: '/onvif/device_service',
    endpointUuid: cams[0].device.endpointUuid,
  });
  assert.equal(drivers[0].credentials?.password, PLANTED);

  const setTime = await run('camera-set-time', { camera: cams[1].id });
  assert.equal(setTime.ok, true);
  assert.deepEqual(setTime.result, {
    camera: cams[1].id,
    device: cams[1].deviceId,
    setTo: '2025-05-06T07:08:09.000Z',
    offsetBeforeMs: 90_000,
    offsetAfterMs: 3,
  });
  assert.deepEqual(drivers[1].calls, ['setTime 2025-05-06T07:08:09.000Z', 'close']);

  const missing = await run('camera-reboot', { camera: 'no-such-camera' });
  assert.equal(missing.error?.code, 'invalid-args');

  const cfg = await run('config-get');
  assert.equal(cfg.ok, true);
  const text = JSON.stringify(cfg);
  assert.ok(!text.includes(PLANTED), 'secrets are masked');
  assert.equal((cfg.result as { config: { broker: { password: string } } }).config.broker.password, '********');

  const ping = await run('ping');
  assert.equal((ping.result as { bdSeq: number }).bdSeq, 4);
  assert.equal((ping.result as { version: string }).version, '1.2.3');
  assert.equal((await run('rebirth')).result?.bdSeq, 4);
  // Relay commands are not these handlers' (agent/video/relay/commands.ts, wired in agent.ts):
  // without them the dispatcher answers not-available.
  for (const [name, args] of [
    ['stream-start', { camera: cams[0].id, target: 'rtmp://127.0.0.1/live/x' }],
    ['stream-stop', { streamId: 'r1' }],
  ] as const) {
    const r = await run(name, args);
    assert.equal(r.error?.code, 'not-available', name);
  }

  // A driver failure is an error reply that names the device, never a crash.
  deps.openDriver = () =>
    ({
      reboot: async () => {
        throw new DriverError('auth', 'authentication failed for 127.0.9.10:80');
      },
      close: () => undefined,
    }) as unknown as DeviceDriver;
  const failed = await run('camera-reboot', { camera: cams[0].id });
  assert.equal(failed.error?.code, 'failed');
  assert.match(failed.error?.message ?? '', /authentication failed for 127\.0\.9\.10/);
});

test('targetOfDevice: RTSP devices by URL, ONVIF by host, port and path', (t) => {
  const dir = tempDir(t);
  const db = inventoryWith(dir, 1);
  t.after(() => db.close());
  const dev = listCameras(db)[0].device;
  assert.deepEqual(targetOfDevice({ ...dev, driver: 'rtsp', url: 'rtsp://127.0.0.5:554/live' }), { kind: 'rtsp', url: 'rtsp://127.0.0.5:554/live' });
  assert.equal((targetOfDevice({ ...dev, url: 'http://127.0.0.5:2020/onvif/service' }) as { path: string }).path, '/onvif/service');
});
