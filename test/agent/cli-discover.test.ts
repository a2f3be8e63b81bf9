// discover and cameras add through main(), with fake drivers: output shape, saving, credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Credentials, DeviceDriver, DeviceReport } from '../../drivers/types';
import { DriverError } from '../../drivers/types';
import type { DriversApi, DriverTarget, ProbeMatch } from '../../drivers/api';
import { runMain } from './helpers';
import { tempDir } from '../kit/temp';
import { channel, report } from '../kit/reports';
import { PLANTED } from '../kit/secrets';

interface FakeDevice {
  report: DeviceReport;
  /** Accepted login; undefined = no auth needed. */
  login?: Credentials;
  answersProbe?: boolean;
}

function fakeDrivers(devices: FakeDevice[]): DriversApi & { seen: Array<{ host: string; credentials?: Credentials }> } {
  const seen: Array<{ host: string; credentials?: Credentials }> = [];
  return {
    seen,
    probe: async (o) =>
      devices
        .filter((d) => d.answersProbe !== false && (o.targets ?? []).includes(d.report.host))
        .map<ProbeMatch>((d) => ({ endpointUuid: d.report.endpointUuid ?? '', xaddrs: [d.report.url], scopes: [], types: [], from: d.report.host })),
    expandTargets: (spec) => (Array.isArray(spec) ? spec : [spec]).flatMap((s) => s.split(',')),
    openDriver: (target: DriverTarget, credentials?: Credentials) => {
      const host = target.kind === 'onvif' ? target.host : new URL(target.url).hostname;
      seen.push({ host, credentials });
      const device = devices.find((d) => d.report.host === host);
      const driver: Partial<DeviceDriver> = {
        kind: 'onvif',
        report: async () => {
          if (!device) throw new DriverError('unreachable', `${host}: connection refused`, host);
          if (device.login && (credentials?.username !== device.login.username || credentials?.password !== device.login.password)) {
            throw new DriverError('auth', `authentication failed for ${host}:80`, host);
          }
          return device.report;
        },
        close: () => undefined,
      };
      return driver as DeviceDriver;
    },
  };
}

const camA = () => report({ host: '10.1.0.2' });
const nvrB = () =>
  report({
    host: '10.1.0.3',
    endpointUuid: 'urn:uuid:b',
    identity: { manufacturer: 'Acme', model: 'NVR-8', firmware: '4.00', serial: 'NVR-B' },
    isNvr: true,
    channels: [1, 2, 3].map((n) => channel(n, '10.1.0.3')),
  });

test('discover --json: clean JSON on stdout, progress on stderr, devices saved with their channels', async (t) => {
  const dir = tempDir(t);
  const drivers = fakeDrivers([{ report: camA() }, { report: nvrB() }]);
  const r = await runMain(['discover', '--range', '10.1.0.2,10.1.0.3', '--no-multicast', '--json', '--data-dir', dir], { drivers });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.summary.identified, 2);
  assert.equal(out.summary.saved, 2);
  const nvr = out.devices.find((d: { host: string }) => d.host === '10.1.0.3');
  assert.equal(nvr.isNvr, true);
  assert.equal(nvr.firmware, '4.00');
  assert.deepEqual(
    nvr.channels.map((c: { cameraId: string }) => c.cameraId),
    [1, 2, 3].map((n) => `${nvr.deviceId}-ch0${n}`),
  );
  assert.equal(nvr.channels[0].profiles[0].codec, 'H264');
  assert.equal(nvr.channels[0].profiles[0].width, 1920);
  assert.match(r.stderr, /probing: unicast to 2 address\(es\)/);
  assert.match(r.stderr, /\[2\/2\]/);
  const list = await runMain(['cameras', 'list', '--json', '--data-dir', dir]);
  assert.equal(JSON.parse(list.stdout).length, 4);
});

test('discover: per-device errors are shown, the rest saved, exit 1; --no-save saves nothing', async (t) => {
  const dir = tempDir(t);
  const drivers = fakeDrivers([{ report: camA(), login: { username: 'admin', password: 'right' } }, { report: nvrB() }]);
  const human = await runMain(['discover', '--range', '10.1.0.2,10.1.0.3', '--no-multicast', '--no-save', '--data-dir', dir], { drivers });
  assert.equal(human.code, 1);
  assert.match(human.stdout, /✗ 10\.1\.0\.2:80 {2}authentication failed for 10\.1\.0\.2:80 → store its login: camgate cameras add onvif 10\.1\.0\.2:80/);
  assert.match(human.stdout, /✓ 10\.1\.0\.3:80 {2}Acme NVR-8, firmware 4\.00, NVR with 3 channels/);
  assert.match(human.stdout, /not saved \(--no-save\)/);
  assert.equal(JSON.parse((await runMain(['cameras', 'list', '--json', '--data-dir', dir])).stdout).length, 0);

  const saved = await runMain(['discover', '--range', '10.1.0.2,10.1.0.3', '--no-multicast', '--json', '--data-dir', dir], { drivers });
  assert.equal(saved.code, 1);
  const out = JSON.parse(saved.stdout);
  assert.deepEqual(out.devices.find((d: { address: string }) => d.address === '10.1.0.2:80').error, {
    code: 'auth',
    message: 'authentication failed for 10.1.0.2:80',
  });
  assert.equal(out.summary.saved, 1);
});

test('site default login from CAMGATE_PASSWORD; a device login stored by `cameras add` wins; no secret leaks', async (t) => {
  const dir = tempDir(t);
  const devices: FakeDevice[] = [
    { report: camA(), login: { username: 'admin', password: 'site-default-pw' } },
    // Answers no probe: only found because it was added by hand.
    {
      report: report({ host: '10.1.0.7', endpointUuid: 'urn:uuid:c', identity: { manufacturer: 'Acme', serial: 'C7' } }),
      login: { username: 'operator', password: PLANTED },
      answersProbe: false,
    },
  ];
  const drivers = fakeDrivers(devices);
  const env = { CAMGATE_USERNAME: 'admin', CAMGATE_PASSWORD: 'site-default-pw' };
  const outputs: string[] = [];

  const add = await runMain(
    ['cameras', 'add', 'onvif', '10.1.0.7', '--username', 'operator', '--password', '-', '--name', 'Back door', '--data-dir', dir, '--log-level', 'debug'],
    {
      drivers,
      env,
      stdin: `${PLANTED}\n`,
    },
  );
  outputs.push(add.stdout, add.stderr);
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /login stored encrypted/);

  const disc = await runMain(['discover', '--range', '10.1.0.2', '--no-multicast', '--json', '--data-dir', dir, '--log-level', 'debug'], { drivers, env });
  outputs.push(disc.stdout, disc.stderr);
  assert.equal(disc.code, 0, disc.stdout + disc.stderr);
  const out = JSON.parse(disc.stdout);
  assert.deepEqual(
    out.devices.map((d: { address: string; source: string }) => [d.address, d.source]),
    [
      ['10.1.0.2:80', 'probe'],
      ['10.1.0.7:80', 'added'],
    ],
  );
  // The added device was identified with its own login, the other with the site default.
  const logins = drivers.seen.map((s) => [s.host, s.credentials?.username]);
  assert.deepEqual(logins.slice(-2).sort(), [
    ['10.1.0.2', 'admin'],
    ['10.1.0.7', 'operator'],
  ]);

  for (const args of [
    ['cameras', 'list', '--json'],
    ['cameras', 'show', 'Back door'],
    ['cameras', 'show', 'Back door', '--json'],
    ['cameras', 'export', '--format', 'yaml'],
    ['cameras', 'export'],
    ['config', 'show'],
    ['config', 'show', '--json'],
  ]) {
    const r = await runMain([...args, '--data-dir', dir], { drivers, env });
    assert.equal(r.code, 0, r.stderr);
    outputs.push(r.stdout, r.stderr);
  }
  assert.match(outputs.join(''), /stored for this device \(encrypted\)/);
  for (const text of outputs) {
    assert.ok(!text.includes(PLANTED), `leaked the device password: ${text.slice(0, 200)}`);
    assert.ok(!text.includes('site-default-pw'), 'leaked the site password');
  }
  for (const name of readdirSync(dir).filter((n) => n.startsWith('camgate.db'))) {
    assert.ok(!readFileSync(join(dir, name)).includes(PLANTED), `${name} holds the password in clear`);
  }
});

test('cameras add: a failure saves nothing and says what to do; --name is refused for an NVR', async (t) => {
  const dir = tempDir(t);
  const drivers = fakeDrivers([{ report: camA(), login: { username: 'admin', password: 'x' } }, { report: nvrB() }]);
  const auth = await runMain(['cameras', 'add', 'onvif', '10.1.0.2', '--data-dir', dir], { drivers });
  assert.equal(auth.code, 1);
  assert.match(auth.stderr, /^camgate: authentication failed for 10\.1\.0\.2:80 → store its login: .*; nothing was saved\n$/);
  const bad = await runMain(['cameras', 'add', 'onvif', '10.1.0.2:99999', '--data-dir', dir], { drivers });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /port must be a number from 1 to 65535/);
  const kind = await runMain(['cameras', 'add', 'hdmi', 'x', '--data-dir', dir], { drivers });
  assert.equal(kind.code, 2);
  const nvr = await runMain(['cameras', 'add', 'onvif', '10.1.0.3', '--name', 'NVR', '--data-dir', dir], { drivers });
  assert.equal(nvr.code, 2);
  assert.match(nvr.stderr, /--name names one camera, but 10\.1\.0\.3 has 3 channels/);
  assert.equal(JSON.parse((await runMain(['cameras', 'list', '--json', '--data-dir', dir])).stdout).length, 0, 'nothing saved');
});

test('discover --timeout bounds the whole command: a hanging device is reported as timeout, the rest saved', async (t) => {
  const dir = tempDir(t);
  const base = fakeDrivers([{ report: camA() }, { report: nvrB() }]);
  const closed: string[] = [];
  const drivers: DriversApi = {
    ...base,
    probe: async (o) => [
      ...(await base.probe(o)),
      { endpointUuid: 'urn:uuid:hang', xaddrs: ['http://10.1.0.9/onvif/device_service'], scopes: [], types: [], from: '10.1.0.9' },
    ],
    openDriver: (target, credentials, options) => {
      if (target.kind !== 'onvif' || target.host !== '10.1.0.9') return base.openDriver(target, credentials, options);
      const hanging: Partial<DeviceDriver> = {
        kind: 'onvif',
        report: () => new Promise<DeviceReport>(() => undefined),
        close: () => void closed.push(target.host),
      };
      return hanging as DeviceDriver;
    },
  };
  const args = ['discover', '--range', '10.1.0.2,10.1.0.3,10.1.0.9', '--no-multicast', '--timeout', '600', '--data-dir', dir];
  const t0 = Date.now();
  const r = await runMain([...args, '--json'], { drivers });
  // Without the overall bound this would wait for onvif.timeoutMs (5 s).
  assert.ok(Date.now() - t0 < 600 + 1000, `took ${Date.now() - t0} ms`);
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  const hung = out.devices.find((d: { address: string }) => d.address === '10.1.0.9:80');
  assert.equal(hung.ok, false);
  assert.equal(hung.error.code, 'timeout');
  assert.equal(hung.error.deadline, 'overall');
  assert.match(hung.error.message, /^10\.1\.0\.9:80: identification cut off after \d+ ms: the overall --timeout of 600 ms ran out; raise --timeout/);
  assert.ok(closed.includes('10.1.0.9'));
  assert.equal(out.summary.timeoutMs, 600);
  assert.equal(out.summary.probeWindowMs, 440); // three quarters of 600, less 10 ms to send the unicast probes
  assert.equal(out.summary.timedOut, 1);
  assert.equal(out.summary.saved, 2, 'what was identified before the deadline is saved');
  assert.match(r.stderr, /waiting 440 ms for answers \(devices are identified as they answer\)/);
  assert.match(r.stderr, /identifying 3 device\(s\) \(\d+\.\d s left of --timeout\)/);
  assert.equal(JSON.parse((await runMain(['cameras', 'list', '--json', '--data-dir', dir])).stdout).length, 4);

  const human = await runMain([...args, '--no-save'], { drivers });
  assert.equal(human.code, 1);
  const line = human.stdout.split('\n').find((l) => l.startsWith('✗'));
  assert.match(
    line ?? '',
    /^✗ 10\.1\.0\.9:80 {2}10\.1\.0\.9:80: identification cut off after \d+ ms: the overall --timeout of 600 ms ran out; raise --timeout \(or discovery\.overallTimeoutMs\)/,
  );
  assert.doesNotMatch(human.stdout, /raise --onvif\.timeout-ms/, 'not the per-device hint');
  assert.match(human.stdout, /2 device\(s\) identified, 1 failed \(1 stopped by the overall 600 ms timeout\); not saved/);
});

test('discover identifies devices while the probe is still listening; progress says so', async (t) => {
  const dir = tempDir(t);
  const base = fakeDrivers([{ report: camA() }, { report: nvrB() }, { report: report({ host: '10.1.0.7', endpointUuid: 'urn:uuid:c' }), answersProbe: false }]);
  const openedBeforeProbeEnd: string[] = [];
  let probing = false;
  const drivers: DriversApi = {
    ...base,
    probe: async (o) => {
      probing = true;
      const matches = await base.probe(o);
      for (const m of matches) o.onMatch?.(m);
      // The rest of the probe window.
      await new Promise((r) => setTimeout(r, 300));
      probing = false;
      return matches;
    },
    openDriver: (target, credentials, options) => {
      if (probing && target.kind === 'onvif') openedBeforeProbeEnd.push(target.host);
      return base.openDriver(target, credentials, options);
    },
  };
  const add = await runMain(['cameras', 'add', 'onvif', '10.1.0.7', '--data-dir', dir], { drivers });
  assert.equal(add.code, 0, add.stderr);
  const r = await runMain(['discover', '--range', '10.1.0.2,10.1.0.3', '--no-multicast', '--json', '--data-dir', dir], { drivers });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(openedBeforeProbeEnd.sort(), ['10.1.0.2', '10.1.0.3']);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(
    out.devices.map((d: { address: string; source: string }) => [d.address, d.source]),
    [
      ['10.1.0.2:80', 'probe'],
      ['10.1.0.3:80', 'probe'],
      ['10.1.0.7:80', 'added'],
    ],
  );
  assert.equal(out.summary.identified, 3);
  assert.match(r.stderr, /\[1\/2\+\] 10\.1\.0\.[23]:80 ok/);
  assert.match(r.stderr, /\[2\/2\+\] 10\.1\.0\.[23]:80 ok/);
  assert.match(r.stderr, /probe: 2 answer\(s\)/);
  assert.match(r.stderr, /identifying 3 device\(s\), 2 already done \(\d+\.\d s left of --timeout\)/);
  assert.match(r.stderr, /\[3\/3\] 10\.1\.0\.7:80 ok/);
});
