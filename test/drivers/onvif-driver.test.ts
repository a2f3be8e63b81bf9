// OnvifDriver against a small fake ONVIF device on loopback (127.35.0.0/16 belongs to this file):
// clock skew and WS-Security Created, the Digest-only fallback, host rewriting, set time, reboot.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { OnvifDriver, DriverError } from '../../drivers';
import { startFakeOnvif, type FakeOnvif } from './helpers/fake-onvif';

const fakes: FakeOnvif[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});
async function fake(opts: Parameters<typeof startFakeOnvif>[0]) {
  const f = await startFakeOnvif(opts);
  fakes.push(f);
  return f;
}
const creds = { username: 'admin', password: 'admin123' };

test('clock 1 h ahead: WS-Security Created follows the device clock, identify works, offset ≈ 3.6e6', async () => {
  const f = await fake({ host: '127.35.0.1', auth: 'wsse', clockSkewMs: 3_600_000 });
  const d = new OnvifDriver({ host: '127.35.0.1', credentials: creds, timeoutMs: 2000 });
  const report = await d.report();
  assert.equal(report.identity.firmware, '1.00');
  assert.equal(report.identity.serial, '000123');
  assert.ok(Math.abs(report.clock!.offsetMs - 3_600_000) < 1500, `offset ${report.clock!.offsetMs}`);
  assert.equal(report.clock!.timeZone, 'CST-8');
  assert.ok(f.wsseSeen.length > 0);
  for (const w of f.wsseSeen) {
    const diff = Date.parse(w.created) - w.deviceNowMs;
    assert.ok(Math.abs(diff) < 1500, `Created ${w.created} is ${diff} ms off the device clock`);
  }
  const created = Date.parse(d.wsSecurityCreated()!);
  assert.ok(Math.abs(created - (Date.now() + 3_600_000)) < 1500);
  assert.equal(d.usingWsSecurity, true);
  d.close();
});

test('clock 2 h behind also works', async () => {
  await fake({ host: '127.35.0.2', auth: 'wsse', clockSkewMs: -7_200_000 });
  const d = new OnvifDriver({ host: '127.35.0.2', credentials: creds, timeoutMs: 2000 });
  const clock = await d.time();
  assert.ok(Math.abs(clock.offsetMs + 7_200_000) < 1500);
  assert.equal((await d.identify()).model, 'FK-1');
  d.close();
});

test('Digest-only device refusing WS-Security: falls back to Digest, which then sticks', async () => {
  const f = await fake({ host: '127.35.0.3', auth: 'digest', clockSkewMs: 90_000 });
  const d = new OnvifDriver({ host: '127.35.0.3', credentials: creds, timeoutMs: 2000 });
  const id = await d.identify();
  assert.equal(id.manufacturer, 'FakeVendor');
  assert.equal(d.usingWsSecurity, false);
  const before = f.wsseSeen.length;
  await d.identify();
  assert.equal(f.wsseSeen.length, before, 'no WS-Security header after the fallback');
  d.close();
});

test('wrong password → auth naming device and user, for both auth styles', async () => {
  await fake({ host: '127.35.0.4', auth: 'wsse' });
  await fake({ host: '127.35.0.5', auth: 'digest' });
  for (const host of ['127.35.0.4', '127.35.0.5']) {
    const d = new OnvifDriver({ host, credentials: { username: 'admin', password: 'wrong' }, timeoutMs: 2000 });
    await assert.rejects(d.identify(), (e: unknown) => {
      assert.ok(e instanceof DriverError);
      assert.equal(e.code, 'auth');
      assert.equal(e.message, `authentication failed for ${host}:80 (admin): check the camera's username/password`);
      return true;
    });
    d.close();
  }
});

test('host rewriting: device reports 127.99.99.99 (nothing there); URIs come back on the answering host', async () => {
  const f = await fake({ host: '127.35.0.6', auth: 'wsse', reportedHost: '127.99.99.99' });
  const d = new OnvifDriver({ host: '127.35.0.6', credentials: creds, timeoutMs: 2000 });
  const report = await d.report();
  assert.equal(report.url, 'http://127.35.0.6:80/onvif/device_service');
  assert.equal(report.isNvr, false);
  assert.equal(report.channels.length, 1);
  const [main, sub] = report.channels[0].profiles;
  // Main first (largest), Hikvision encoding attribute honoured, credentials and newlines gone.
  assert.equal(main.token, 'main');
  assert.equal(main.codec, 'H265');
  assert.equal(main.streamUri, 'rtsp://127.35.0.6:554/live?ch=1&sub=0');
  assert.equal(sub.token, 'sub');
  assert.equal(main.snapshotUri, undefined); // GetSnapshotUri not implemented by this device
  assert.deepEqual(report.scopes, ['onvif://www.onvif.org/name/Fake Cam']);
  assert.equal(report.endpointUuid, undefined);
  // Media requests went to the service path from GetServices, on our host.
  assert.ok(f.operations.includes('GetProfiles'));
  // streamUri() asks the device again every time (InvalidAfterConnect).
  const n = f.operations.filter((o) => o === 'GetStreamUri').length;
  assert.equal(await d.streamUri('main'), 'rtsp://127.35.0.6:554/live?ch=1&sub=0');
  assert.equal(await d.streamUri('main'), 'rtsp://127.35.0.6:554/live?ch=1&sub=0');
  assert.equal(f.operations.filter((o) => o === 'GetStreamUri').length, n + 2);
  d.close();
});

test('discovery hints are used instead of asking again', async () => {
  await fake({ host: '127.35.0.7', auth: 'wsse' });
  const d = new OnvifDriver({
    host: '127.35.0.7',
    credentials: creds,
    discovered: { endpointUuid: 'uuid:ABCDEF00-0000-4000-8000-000000000001', scopes: ['onvif://www.onvif.org/name/X'] },
  });
  const r = await d.report();
  assert.equal(r.endpointUuid, 'urn:uuid:abcdef00-0000-4000-8000-000000000001');
  assert.deepEqual(r.scopes, ['onvif://www.onvif.org/name/X']);
  d.close();
});

test('setTime sets UTC Manual and WS-Security keeps working on the new clock; reboot', async () => {
  const f = await fake({ host: '127.35.0.8', auth: 'wsse', clockSkewMs: 3_600_000 });
  const d = new OnvifDriver({ host: '127.35.0.8', credentials: creds, timeoutMs: 2000 });
  await d.identify();
  await d.setTime(new Date());
  assert.ok(Math.abs(f.skewMs()) < 1500, `device skew now ${f.skewMs()}`);
  const clock = await d.time();
  assert.ok(Math.abs(clock.offsetMs) < 1500);
  assert.equal((await d.identify()).model, 'FK-1', 'authenticated calls still accepted after the clock jump');
  await d.reboot();
  assert.ok(f.operations.includes('SystemReboot'));
  d.close();
});

test('methods after close() reject with DriverError', async () => {
  await fake({ host: '127.35.0.9', auth: 'wsse' });
  const d = new OnvifDriver({ host: '127.35.0.9', credentials: creds });
  d.close();
  await assert.rejects(d.identify(), (e: unknown) => e instanceof DriverError && e.code === 'unreachable');
});

test('no path given and the default path answers 404: /onvif/service (Tapo) is tried', async () => {
  const f = await fake({ host: '127.35.0.10', port: 2020, auth: 'wsse', onlyPath: '/onvif/service' });
  const d = new OnvifDriver({ host: '127.35.0.10', port: 2020, credentials: creds, timeoutMs: 2000 });
  const r = await d.report();
  assert.equal(r.url, 'http://127.35.0.10:2020/onvif/service');
  assert.equal(r.channels[0].profiles[0].streamUri, 'rtsp://127.35.0.10:554/live?ch=1&sub=0');
  assert.ok(f.operations.includes('GetProfiles'));
  d.close();
  // With an explicit path, no guessing: the 404 is reported as not ONVIF.
  const explicit = new OnvifDriver({ host: '127.35.0.10', port: 2020, path: '/onvif/device_service', credentials: creds, timeoutMs: 2000 });
  await assert.rejects(explicit.identify(), (e: unknown) => e instanceof DriverError && e.code === 'not-onvif' && /HTTP 404 text\/html/.test(e.message));
  explicit.close();
});
