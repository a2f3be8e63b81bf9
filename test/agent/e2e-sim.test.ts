// End to end against the camera simulator and the real drivers, through the spawned CLI.
// Loopback subnet 127.41.0.0/24 belongs to this file; nothing is sent off the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../scripts/sim/index';
import type { Simulator } from '../../scripts/sim/types';
import { runCli } from './helpers';
import { tempDir } from '../kit/temp';
import { PLANTED } from '../kit/secrets';

const SITE_LOGIN = { CAMGATE_USERNAME: 'admin', CAMGATE_PASSWORD: 'admin123' };

interface DiscoveredDevice {
  address: string;
  ok: boolean;
  deviceId: string;
  host: string;
  firmware: string;
  serial: string;
  mac: string;
  endpointUuid: string;
  isNvr: boolean;
  clockOffsetMs: number;
  channels: Array<{ cameraId: string; profiles: Array<{ codec: string; width: number; streamUri: string }> }>;
}

async function discover(dir: string, range: string, extra: string[] = [], env: Record<string, string> = SITE_LOGIN) {
  const r = await runCli(['discover', '--range', range, '--no-multicast', '--json', '--timeout', '2000', '--data-dir', dir, ...extra], { env });
  // A run that printed no JSON failed before its report: its stderr says why.
  assert.ok(r.stdout, `camgate discover printed nothing on stdout (exit ${r.code}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { devices: DiscoveredDevice[]; summary: { identified: number; failed: number; saved: number } };
  return { ...r, out };
}

test('discover → label → export → import → IP change (confirmed), against simulated cameras', async (t) => {
  const dir = tempDir(t);
  let sim: Simulator | undefined = await startSimulator({
    cameras: [
      { host: '127.41.0.2', clockSkewMs: 90_000 },
      { host: '127.41.0.3', vendor: 'nvr', channels: 2 },
    ],
    rtsp: false,
  });
  t.after(async () => sim?.stop());

  const first = await discover(dir, '127.41.0.2-127.41.0.4');
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.out.summary.identified, 2);
  assert.equal(first.out.summary.saved, 2);
  const cam = first.out.devices.find((d) => d.host === '127.41.0.2')!;
  const spec = sim.cameras[0].spec;
  assert.equal(cam.firmware, spec.firmware);
  assert.equal(typeof cam.firmware, 'string');
  assert.equal(cam.serial, spec.serial);
  assert.equal(cam.endpointUuid, `urn:uuid:${spec.uuid}`);
  assert.ok(Math.abs(cam.clockOffsetMs - 90_000) < 5_000, `clock offset ${cam.clockOffsetMs}`);
  assert.ok(cam.channels[0].profiles[0].streamUri.startsWith('rtsp://127.41.0.2'));
  const nvr = first.out.devices.find((d) => d.host === '127.41.0.3')!;
  assert.equal(nvr.isNvr, true);
  assert.equal(nvr.channels.length, 2);
  assert.match(first.stderr, /probing: unicast to 3 address\(es\)/);

  const list = await runCli(['cameras', 'list', '--json', '--data-dir', dir]);
  const cameras = JSON.parse(list.stdout) as Array<{ id: string }>;
  assert.deepEqual(cameras.map((c) => c.id).sort(), [cam.deviceId, ...nvr.channels.map((c) => c.cameraId)].sort());

  const cameraId = cam.channels[0].cameraId;
  const set = await runCli([
    'cameras',
    'set',
    cameraId,
    '--name',
    '长坞村口',
    '--class',
    '1',
    '--lat',
    '30.1234',
    '--lon',
    '120.5678',
    '--region',
    '浙江省/杭州市/西湖区/转塘街道/长坞村',
    '--install-date',
    '2024-05-01',
    '--data-dir',
    dir,
  ]);
  assert.equal(set.code, 0, set.stderr);

  const csv = join(dir, 'labels.csv');
  assert.equal((await runCli(['cameras', 'export', '-o', csv, '--data-dir', dir])).code, 0);
  const unchanged = await runCli(['cameras', 'import', csv, '--data-dir', dir]);
  assert.equal(unchanged.code, 0, unchanged.stderr);
  assert.match(unchanged.stdout, /3 rows, 0 cameras changed/);

  const yamlFile = join(dir, 'labels.yaml');
  assert.equal((await runCli(['cameras', 'export', '--format', 'yaml', '-o', yamlFile, '--data-dir', dir])).code, 0);
  const ch2 = nvr.channels[1].cameraId;
  const edited = readFileSync(yamlFile, 'utf8').replace(new RegExp(`(- id: ${ch2}\\n    name:) null`), '$1 NVR 通道2');
  assert.notEqual(edited, readFileSync(yamlFile, 'utf8'));
  writeFileSync(yamlFile, edited);
  const imported = await runCli(['cameras', 'import', yamlFile, '--data-dir', dir]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /1 camera changed/);
  assert.equal(JSON.parse((await runCli(['cameras', 'show', 'NVR 通道2', '--json', '--data-dir', dir])).stdout).id, ch2);

  // The camera comes back at another address: same id, labels kept.
  await sim.stop();
  sim = await startSimulator({
    cameras: [{ host: '127.41.0.4', uuid: spec.uuid, serial: spec.serial, mac: spec.mac, model: spec.model, firmware: spec.firmware }],
    rtsp: false,
  });
  const moved = await discover(dir, '127.41.0.2-127.41.0.4');
  assert.equal(moved.code, 0, moved.stderr);
  assert.equal(moved.out.devices.length, 1);
  assert.equal(moved.out.devices[0].deviceId, cam.deviceId);
  // A known identity at a new address is a claim until an installer confirms it (any device can claim one).
  assert.deepEqual((moved.out.devices[0] as unknown as { pendingMove: unknown }).pendingMove, {
    deviceId: cam.deviceId,
    from: '127.41.0.2:80',
    to: '127.41.0.4:80',
    matched: ['uuid', 'serial', 'mac'],
  });
  const confirmed = await runCli(['cameras', 'confirm-move', cameraId, '--yes', '--json', '--data-dir', dir]);
  assert.equal(confirmed.code, 0, confirmed.stderr);
  assert.equal((JSON.parse(confirmed.stdout) as { from: string }).from, '127.41.0.2:80');
  const after = JSON.parse((await runCli(['cameras', 'show', cameraId, '--json', '--data-dir', dir])).stdout);
  assert.equal(after.name, '长坞村口');
  assert.equal(after.latitude, 30.1234);
  assert.equal(after.device.host, '127.41.0.4');
  assert.equal(JSON.parse((await runCli(['cameras', 'list', '--json', '--data-dir', dir])).stdout).length, 3);
});

test('a device login is stored encrypted and never shows in output, logs or the database', async (t) => {
  const dir = tempDir(t);
  const sim = await startSimulator({
    cameras: [{ host: '127.41.0.12' }, { host: '127.41.0.13', vendor: 'hikvision', password: PLANTED }],
    rtsp: false,
  });
  t.after(() => sim.stop());
  const outputs: string[] = [];

  const failing = await discover(dir, '127.41.0.12-127.41.0.13', ['--log-level', 'debug']);
  outputs.push(failing.stdout, failing.stderr);
  assert.equal(failing.code, 1);
  const denied = failing.out.devices.find((d) => d.address === '127.41.0.13:80') as unknown as { ok: boolean; error: { code: string } };
  assert.equal(denied.ok, false);
  assert.equal(denied.error.code, 'auth');

  const add = await runCli(['cameras', 'add', 'onvif', '127.41.0.13', '--username', 'admin', '--password', '-', '--data-dir', dir, '--log-level', 'debug'], {
    input: `${PLANTED}\n`,
    env: SITE_LOGIN,
  });
  outputs.push(add.stdout, add.stderr);
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /login stored encrypted/);

  const again = await discover(dir, '127.41.0.12-127.41.0.13', ['--log-level', 'debug']);
  outputs.push(again.stdout, again.stderr);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.out.summary.identified, 2);
  assert.match(again.stderr, /"msg":"identifying device"/);
  assert.match(again.stderr, /"credentials":"\[redacted\]"/);

  for (const args of [
    ['cameras', 'list', '--json'],
    ['cameras', 'list'],
    ['cameras', 'export'],
    ['config', 'show'],
  ]) {
    const r = await runCli([...args, '--data-dir', dir], { env: { ...SITE_LOGIN, CAMGATE_LOG_LEVEL: 'debug' } });
    outputs.push(r.stdout, r.stderr);
  }
  for (const text of outputs) assert.ok(!text.includes(PLANTED), `password leaked: ${text.slice(0, 300)}`);
  for (const name of readdirSync(dir).filter((n) => n.startsWith('camgate.db'))) {
    assert.ok(!readFileSync(join(dir, name)).includes(PLANTED), `${name} holds the password in clear`);
  }
});

test('cameras add rtsp: the login inside the URL is stored encrypted, the URL without it', async (t) => {
  const dir = tempDir(t);
  const sim = await startSimulator({ cameras: [{ host: '127.41.0.20' }], rtsp: true });
  t.after(() => sim.stop());
  const url = sim.cameras[0].rtspUrl(1, 'main');
  const withLogin = url.replace('rtsp://', `rtsp://viewer:${encodeURIComponent(PLANTED)}@`);
  const add = await runCli(['cameras', 'add', 'rtsp', withLogin, '--name', 'Gate stream', '--json', '--data-dir', dir]);
  assert.equal(add.code, 0, add.stderr);
  const out = JSON.parse(add.stdout);
  assert.equal(out.driver, 'rtsp');
  assert.equal(out.url, url);
  assert.equal(out.channels[0].profiles[0].codec, 'H264');
  const shown = await runCli(['cameras', 'show', 'Gate stream', '--data-dir', dir]);
  assert.match(shown.stdout, /credentials\s+│ stored for this device \(encrypted\)/);
  assert.match(shown.stdout, /id from\s+│ url/);
  for (const text of [add.stdout, add.stderr, shown.stdout, shown.stderr]) assert.ok(!text.includes(PLANTED));
  for (const name of readdirSync(dir).filter((n) => n.startsWith('camgate.db'))) {
    assert.ok(!readFileSync(join(dir, name)).includes(PLANTED), `${name} holds the password in clear`);
  }
});
