// snapshot and probe-now against the camera simulator and the real drivers, handlers called
// through the dispatcher (no broker). Loopback subnet 127.52.0.0/16 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator } from '../../scripts/sim/index';
import { CommandDispatcher, IncomingCommand } from '../../agent/uplink/commands';
import { agentHandlers, UplinkHandlerDeps } from '../../agent/commands/site';
import { authorizationFor, httpGet } from '../../drivers/http-fetch';
import { agentConfig } from '../../agent/config/spec';
import { getDevice, listCameras } from '../../agent/inventory/cameras';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { openDriver } from '../../drivers/index';
import type { Credentials } from '../../drivers/types';
import { validatePayload } from '../../contract';
import { FakeClock } from '../kit/clock';
import { tempDir } from '../kit/temp';
import { channel, report } from '../kit/reports';

const SITE = 'v052';
const LOGIN: Credentials = { username: 'admin', password: 'admin123' };

function req(name: string, args: Record<string, unknown>): IncomingCommand {
  return { topic: `camgate/v1/${SITE}/cmd/${name}`, payload: Buffer.from(JSON.stringify({ schemaVersion: 1, messageId: `${name}-${Math.random()}`, args })) };
}

test('snapshot and probe-now against simulated cameras: JPEG with Digest, auth/garbage/too-large errors, clock offset, unreachable', async (t) => {
  const sim = await startSimulator({
    cameras: [
      { host: '127.52.0.2', vendor: 'hikvision' },
      { host: '127.52.0.3', vendor: 'hikvision', clockSkewMs: 3_600_000 },
      { host: '127.52.0.4', fault: 'garbage' },
      { host: '127.52.0.5', fault: 'huge' },
    ],
    rtsp: false,
  });
  t.after(() => sim.stop());
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'inv'));
  t.after(() => db.close());
  const now = new Date('2025-01-02T03:04:05.000Z');

  // The two good devices as discovery would store them (real driver, real report).
  const ids: Record<string, string> = {};
  for (const host of ['127.52.0.2', '127.52.0.3']) {
    const d = openDriver({ kind: 'onvif', host, port: 80 }, LOGIN, { timeoutMs: 3000 });
    const r = await d.report();
    d.close();
    ids[host] = upsertDeviceReport(db, r, { now }).cameras[0].id;
  }
  // The faulty and the absent one, stored by hand (snapshot URI http://<host>/snap/1).
  for (const [i, host] of ['127.52.0.4', '127.52.0.5', '127.52.0.9'].entries()) {
    const rep = report({
      host,
      endpointUuid: `urn:uuid:00000000-0000-4000-8052-${String(i).padStart(12, '0')}`,
      identity: { manufacturer: 'Acme', model: 'IPC', firmware: '1.00', serial: `SN52${i}`, mac: `44:19:b6:52:00:0${i}` },
      channels: [channel(1, host)],
    });
    ids[host] = upsertDeviceReport(db, rep, { now }).cameras[0].id;
  }
  assert.equal(listCameras(db).length, 5);

  const { config } = agentConfig.load({ env: { CAMGATE_SITE_ID: SITE, CAMGATE_BROKER_URLS: 'mqtt://127.0.0.1:1' } });
  config.onvif.timeoutMs = 3000;
  config.discovery.concurrency = 2;
  let login: Credentials | undefined = LOGIN;
  const deps: UplinkHandlerDeps = {
    site: SITE,
    version: '0.0.0-test',
    bootId: 'b',
    config,
    db,
    credentialsFor: () => login,
    openDriver: (target, credentials, options) => openDriver(target, credentials, options),
    rebirth: async () => 0,
    session: () => ({ bdSeq: 0, connected: true }),
    startedAt: Date.parse('2026-01-01T00:00:00.000Z'),
    clock: new FakeClock('2026-01-01T00:00:00.000Z'),
  };
  const d = new CommandDispatcher({ site: SITE, handlers: agentHandlers(deps), timeoutMs: 20_000 });
  const run = async (name: string, args: Record<string, unknown>) => {
    const out = await d.handle(req(name, args));
    assert.ok(out);
    const v = validatePayload('reply', out.payload);
    assert.ok(v.ok, v.errors.join('; '));
    return out.payload;
  };

  // snapshot ok: a real JPEG through Digest.
  const snap = await run('snapshot', { camera: ids['127.52.0.2'] });
  assert.equal(snap.ok, true, JSON.stringify(snap.error));
  const result = snap.result as { camera: string; contentType: string; bytes: number; base64: string; profile: string };
  assert.equal(result.camera, ids['127.52.0.2']);
  assert.equal(result.contentType, 'image/jpeg');
  const jpeg = Buffer.from(result.base64, 'base64');
  assert.equal(jpeg.length, result.bytes);
  assert.ok(jpeg[0] === 0xff && jpeg[1] === 0xd8, 'JPEG magic');

  // a named profile; an unknown one is invalid-args naming the camera.
  const sub = listCameras(db).find((c) => c.id === ids['127.52.0.2'])!.profiles[1];
  assert.equal((await run('snapshot', { camera: ids['127.52.0.2'], profile: sub.token })).ok, true);
  const badProfile = await run('snapshot', { camera: ids['127.52.0.2'], profile: 'nope' });
  assert.equal(badProfile.error?.code, 'invalid-args');
  assert.match(badProfile.error?.message ?? '', new RegExp(ids['127.52.0.2']));

  // without a stored snapshot URI the driver is asked for one.
  db.prepare('UPDATE cameras SET profiles = ? WHERE id = ?').run(
    JSON.stringify(
      listCameras(db)
        .find((c) => c.id === ids['127.52.0.3'])!
        .profiles.map((p) => ({ ...p, snapshotUri: undefined })),
    ),
    ids['127.52.0.3'],
  );
  const asked = await run('snapshot', { camera: ids['127.52.0.3'] });
  assert.equal(asked.ok, true, JSON.stringify(asked.error));

  // wrong password → auth; no login → auth.
  login = { username: 'admin', password: 'wrong' };
  const denied = await run('snapshot', { camera: ids['127.52.0.2'] });
  assert.equal(denied.error?.code, 'auth');
  assert.match(denied.error?.message ?? '', /authentication failed/);
  assert.match(denied.error?.message ?? '', new RegExp(ids['127.52.0.2'].replace(/[-]/g, '\\-')));
  assert.ok(!JSON.stringify(denied).includes('wrong'), 'no password in the reply');
  login = undefined;
  assert.equal((await run('snapshot', { camera: ids['127.52.0.2'] })).error?.code, 'auth');
  login = LOGIN;

  // garbage → not-an-image; huge → too-large; absent → unreachable; all naming the camera.
  const garbage = await run('snapshot', { camera: ids['127.52.0.4'] });
  assert.equal(garbage.error?.code, 'not-an-image', JSON.stringify(garbage.error));
  assert.match(garbage.error?.message ?? '', /127\.52\.0\.4/);
  const huge = await run('snapshot', { camera: ids['127.52.0.5'] });
  assert.equal(huge.error?.code, 'too-large', JSON.stringify(huge.error));
  const absent = await run('snapshot', { camera: ids['127.52.0.9'] });
  assert.equal(absent.error?.code, 'unreachable', JSON.stringify(absent.error));
  assert.match(absent.error?.message ?? '', /127\.52\.0\.9/);
  assert.equal((await run('snapshot', { camera: 'no-such' })).error?.code, 'invalid-args');

  // probe-now, one camera: clock offset of the skewed device, inventory updated.
  const one = await run('probe-now', { camera: ids['127.52.0.3'] });
  assert.equal(one.ok, true, JSON.stringify(one.error));
  const oneCams = (one.result as { cameras: Array<{ camera: string; reachable: boolean; latencyMs: number; clockOffsetMs: number }> }).cameras;
  assert.equal(oneCams.length, 1);
  assert.equal(oneCams[0].reachable, true);
  assert.ok(Math.abs(oneCams[0].clockOffsetMs - 3_600_000) < 5_000, `offset ${oneCams[0].clockOffsetMs}`);
  assert.ok(oneCams[0].latencyMs >= 0);
  const dev = getDevice(db, listCameras(db).find((c) => c.id === ids['127.52.0.3'])!.deviceId)!;
  assert.equal(dev.lastSeen, '2026-01-01T00:00:00.000Z');
  assert.ok(Math.abs((dev.clockOffsetMs ?? 0) - 3_600_000) < 5_000);

  // probe-now, all: reachable ones and error entries for the rest, never a failed command.
  const all = await run('probe-now', {});
  assert.equal(all.ok, true, JSON.stringify(all.error));
  const res = all.result as {
    probed: number;
    reachable: number;
    cameras: Array<{ camera: string; reachable: boolean; clockOffsetMs: number | null; error?: { code: string; message: string } }>;
  };
  assert.equal(res.probed, 5);
  const by = (host: string) => res.cameras.find((c) => c.camera === ids[host])!;
  assert.equal(by('127.52.0.2').reachable, true);
  assert.ok(Math.abs(by('127.52.0.2').clockOffsetMs ?? Infinity) < 5_000);
  assert.equal(by('127.52.0.3').reachable, true);
  assert.equal(by('127.52.0.9').reachable, false);
  assert.equal(by('127.52.0.9').error?.code, 'unreachable');
  assert.match(by('127.52.0.9').error?.message ?? '', /127\.52\.0\.9/);
  assert.equal(by('127.52.0.4').reachable, false);
  assert.ok(by('127.52.0.4').error);
  const absentDev = getDevice(db, listCameras(db).find((c) => c.id === ids['127.52.0.9'])!.deviceId)!;
  assert.equal(absentDev.lastSeen, now.toISOString(), 'an unreachable device keeps its last_seen');
});

test('http-fetch: Basic when only Basic is offered, Digest without qop, deadline on a silent server', async (t) => {
  const seen: string[] = [];
  const server = createServer((rq, rs) => {
    seen.push(rq.headers.authorization ?? '');
    if (rq.url === '/silent') return; // never answers
    if (!rq.headers.authorization) {
      rs.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' });
      return rs.end();
    }
    rs.writeHead(200, { 'Content-Type': 'image/jpeg' });
    rs.end(Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
  });
  await new Promise<void>((r) => server.listen(0, '127.52.1.2', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  // Basic only for a camera its installer allowed it for.
  const ok = await httpGet(`http://127.52.1.2:${port}/snap`, { credentials: { ...LOGIN, allowBasic: true }, timeoutMs: 2000, maxBytes: 100 });
  assert.equal(ok.body.length, 4);
  assert.equal(seen[1], `Basic ${Buffer.from('admin:admin123').toString('base64')}`);
  const started = Date.now();
  await assert.rejects(httpGet(`http://127.52.1.2:${port}/silent`, { timeoutMs: 300, maxBytes: 100 }), { code: 'timeout' });
  assert.ok(Date.now() - started < 2000);
  // RFC 2617 example (no qop, legacy): response computed the RFC 2069 way.
  const h = authorizationFor(
    ['Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"'],
    { username: 'Mufasa', password: 'Circle Of Life' },
    'GET',
    '/dir/index.html',
  );
  assert.match(h ?? '', /response="670fd8c2df070c60b045671b8b24ff02"/);
  assert.doesNotMatch(h ?? '', /qop=/);
  // RFC 2617 example with qop=auth.
  const q = authorizationFor(
    ['Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'],
    { username: 'Mufasa', password: 'Circle Of Life' },
    'GET',
    '/dir/index.html',
    '0a4f113b',
  );
  assert.match(q ?? '', /response="6629fae49393a05397450978507c4ef1"/);
  assert.match(q ?? '', /opaque="5ccc069c403ebaf9f0171e9517f40e41"/);
});
