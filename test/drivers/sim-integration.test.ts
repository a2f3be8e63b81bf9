// Drivers against the camera simulator (scripts/sim) over real loopback sockets; 127.34.0.0/16
// belongs to this file. Discovery by unicast, identification of every vendor personality,
// auth failures, clock skew, NVR channels, host rewriting and every simulated fault.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../scripts/sim';
import type { Simulator, RunningSimCamera } from '../../scripts/sim/types';
import {
  openDriver,
  probeWithStats,
  targetFromProbeMatch,
  DriverError,
  OnvifDriver,
  type DeviceReport,
  type DriverErrorCode,
  type ProbeMatch,
} from '../../drivers';
import { splitUrl } from '../../lib/url';

let sim: Simulator;
const cam = (host: string): RunningSimCamera => sim.cameras.find((c) => c.spec.host === host)!;
const creds = (c: RunningSimCamera) => ({ username: c.spec.username, password: c.spec.password });

const GOOD = {
  hikvision: '127.34.0.2',
  dahua: '127.34.0.3',
  nvr: '127.34.0.4',
  tapo: '127.34.0.5',
  generic: '127.34.0.6', // reports 127.99.99.99, where nothing listens
} as const;
const FAULTS = {
  hang: '127.34.1.1',
  huge: '127.34.1.2',
  doctype: '127.34.1.3',
  garbage: '127.34.1.4',
  truncated: '127.34.1.5',
  'not-onvif': '127.34.1.6',
} as const;

before(async () => {
  sim = await startSimulator({
    rtsp: false,
    cameras: [
      { host: GOOD.hikvision, vendor: 'hikvision', clockSkewMs: 3_600_000 },
      { host: GOOD.dahua, vendor: 'dahua' },
      { host: GOOD.nvr, vendor: 'nvr' },
      { host: GOOD.tapo, vendor: 'tapo' },
      { host: GOOD.generic, vendor: 'generic', reportedHost: '127.99.99.99' },
      { host: '127.34.2.1', vendor: 'generic', clockSkewMs: -5_400_000, rebootDowntimeMs: 300 },
      ...Object.entries(FAULTS).map(([fault, host]) => ({ host, vendor: 'generic' as const, fault: fault as keyof typeof FAULTS })),
    ],
  });
});
after(async () => {
  await sim?.stop();
});

const matches = new Map<string, ProbeMatch>();
const reports = new Map<string, DeviceReport>();

test('unicast discovery finds every well-behaved device once; junk UDP answers are ignored', async () => {
  const t0 = Date.now();
  const { matches: found, stats } = await probeWithStats({ targets: [...Object.values(GOOD), FAULTS['not-onvif'], '127.34.9.9'], timeoutMs: 400 });
  for (const m of found) matches.set(m.from, m);
  console.log(`probe: ${found.length} devices in ${Date.now() - t0} ms, ignored ${JSON.stringify(stats.ignored)}`);
  assert.deepEqual([...matches.keys()].sort(), Object.values(GOOD).sort());
  for (const host of Object.values(GOOD)) {
    assert.equal(matches.get(host)!.endpointUuid, `urn:uuid:${cam(host).spec.uuid.toLowerCase()}`);
  }
  assert.ok(Object.values(stats.ignored).reduce((a, b) => a + b, 0) >= 1, 'the not-onvif device answered junk');
  // XAddrs are reported as the device believes them; the target uses the answering host.
  assert.ok(matches.get(GOOD.generic)!.xaddrs.some((x) => x.includes('127.99.99.99')));
  assert.equal(targetFromProbeMatch(matches.get(GOOD.generic)!).host, GOOD.generic);
  assert.deepEqual(
    { port: targetFromProbeMatch(matches.get(GOOD.tapo)!).port, path: targetFromProbeMatch(matches.get(GOOD.tapo)!).path },
    { port: 2020, path: '/onvif/service' },
  );
});

test('identify every vendor from its discovery answer: identity strings exact, URIs on the answering host', async () => {
  const t0 = Date.now();
  await Promise.all(
    Object.values(GOOD).map(async (host) => {
      const m = matches.get(host);
      assert.ok(m, `${host} was discovered`);
      const d = openDriver(targetFromProbeMatch(m), creds(cam(host)));
      try {
        reports.set(host, await d.report());
      } finally {
        d.close();
      }
    }),
  );
  console.log(`identify: ${reports.size} devices in ${Date.now() - t0} ms (in parallel)`);
  for (const host of Object.values(GOOD)) {
    const r = reports.get(host)!;
    const spec = cam(host).spec;
    assert.deepEqual(
      { serial: r.identity.serial, model: r.identity.model, firmware: r.identity.firmware, mac: r.identity.mac },
      { serial: spec.serial, model: spec.model, firmware: spec.firmware, mac: spec.mac.toLowerCase() },
      host,
    );
    assert.equal(r.host, host);
    assert.equal(r.endpointUuid, `urn:uuid:${spec.uuid.toLowerCase()}`);
    assert.equal(splitUrl(r.url)!.host, host);
    assert.equal(r.channels.length, spec.channels);
    for (const ch of r.channels) {
      assert.equal(ch.profiles.length, 2, `${host} ch${ch.channel}`);
      for (const p of ch.profiles) {
        assert.ok(p.streamUri, `${host} ${p.token} has a stream URI`);
        const u = splitUrl(p.streamUri)!;
        assert.equal(u.host, host, `${p.streamUri} must use the answering host`);
        assert.equal(u.userinfo, undefined);
        assert.ok(!/\s|&amp;/.test(p.streamUri), p.streamUri);
        if (p.snapshotUri) assert.equal(splitUrl(p.snapshotUri)!.host, host);
      }
      assert.ok((ch.profiles[0].width ?? 0) >= (ch.profiles[1].width ?? 0), 'main stream first');
    }
    assert.ok(r.scopes && r.scopes.length > 0);
  }
  const hik = reports.get(GOOD.hikvision)!;
  assert.equal(hik.channels[0].profiles[0].codec, 'H265', 'encoding="H265" attribute wins over <Encoding>H264');
  assert.equal(reports.get(GOOD.dahua)!.identity.hardwareId, '1.00');
  assert.equal(reports.get(GOOD.tapo)!.port, 2020);
  assert.match(reports.get(GOOD.tapo)!.url, /^http:\/\/127\.34\.0\.5:2020\/onvif\/service$/);
});

test('clock skew 1 h: identification worked and offsetMs ≈ 3.6e6', () => {
  const clock = reports.get(GOOD.hikvision)!.clock!;
  assert.ok(Math.abs(clock.offsetMs - 3_600_000) < 1500, `offset ${clock.offsetMs}`);
  assert.ok(Math.abs(reports.get(GOOD.dahua)!.clock!.offsetMs) < 1500);
});

test('NVR: one channel per video source, numbered 1..N in source order, isNvr', () => {
  const r = reports.get(GOOD.nvr)!;
  assert.equal(r.isNvr, true);
  assert.deepEqual(
    r.channels.map((c) => c.channel),
    [1, 2, 3, 4],
  );
  assert.equal(new Set(r.channels.map((c) => c.videoSourceToken)).size, 4);
  for (const ch of r.channels) {
    assert.deepEqual(
      ch.profiles.map((p) => p.token),
      [`media_profile_ch${ch.channel}_0`, `media_profile_ch${ch.channel}_1`],
    );
    assert.equal(ch.profiles[1].codec, undefined, 'sub profiles without <Encoding> stay undefined');
  }
  for (const host of [GOOD.hikvision, GOOD.dahua, GOOD.tapo, GOOD.generic]) assert.equal(reports.get(host)!.isNvr, false);
});

test('wrong password → auth, for digest-only, WS-Security-only and both', async () => {
  for (const host of [GOOD.hikvision, GOOD.tapo, GOOD.dahua]) {
    const d = openDriver(targetFromProbeMatch(matches.get(host)!), { username: 'admin', password: 'wrong' });
    const port = cam(host).spec.httpPort;
    await assert.rejects(d.identify(), (e: unknown) => {
      assert.ok(e instanceof DriverError, String(e));
      assert.equal(e.code, 'auth', e.message);
      assert.equal(e.message, `authentication failed for ${host}:${port} (admin): check the camera's username/password`);
      return true;
    });
    d.close();
  }
});

test('Dahua: streamUri() fetches a fresh, clean URI each time', async () => {
  const d = openDriver({ kind: 'onvif', host: GOOD.dahua }, creds(cam(GOOD.dahua)));
  const token = reports.get(GOOD.dahua)!.channels[0].profiles[0].token;
  const a = await d.streamUri(token);
  const b = await d.streamUri(token);
  assert.equal(a, b);
  assert.match(a, /^rtsp:\/\/127\.34\.0\.3(:\d+)?\/\S*&/);
  d.close();
});

test('setTime fixes a device 1.5 h behind, and WS-Security keeps working; reboot', async () => {
  const c = cam('127.34.2.1');
  const d = new OnvifDriver({ host: '127.34.2.1', credentials: creds(c) });
  assert.ok(Math.abs((await d.time()).offsetMs + 5_400_000) < 1500);
  await d.setTime(new Date());
  assert.ok(Math.abs(c.clockSkewMs()) < 1500, `device skew after setTime: ${c.clockSkewMs()}`);
  assert.ok(Math.abs((await d.time()).offsetMs) < 1500);
  assert.equal((await d.identify()).serial, c.spec.serial);
  await d.reboot();
  d.close();
});

const FAULT_CODES: Record<keyof typeof FAULTS, DriverErrorCode[]> = {
  hang: ['timeout'],
  huge: ['too-large'],
  doctype: ['unsafe-xml'],
  garbage: ['not-onvif', 'malformed'],
  truncated: ['malformed'],
  'not-onvif': ['not-onvif'],
};

test('simulated faults map to DriverError codes naming the device', async () => {
  await Promise.all(
    Object.entries(FAULTS).map(async ([fault, host]) => {
      const d = openDriver({ kind: 'onvif', host }, creds(cam(host)), { timeoutMs: 1000 });
      const t0 = Date.now();
      await assert.rejects(d.identify(), (e: unknown) => {
        assert.ok(e instanceof DriverError, `${fault}: ${e}`);
        assert.ok(FAULT_CODES[fault as keyof typeof FAULTS].includes(e.code), `${fault}: got ${e.code} (${e.message})`);
        assert.ok(e.message.includes(`${host}:80`), e.message);
        return true;
      });
      assert.ok(Date.now() - t0 < 3000, `${fault} took ${Date.now() - t0} ms`);
      d.close();
    }),
  );
});

test('Tapo added by hand as host:2020 without a path is identified', async () => {
  const d = openDriver({ kind: 'onvif', host: GOOD.tapo, port: 2020 }, creds(cam(GOOD.tapo)));
  const r = await d.report();
  assert.equal(r.url, 'http://127.34.0.5:2020/onvif/service');
  assert.equal(r.identity.serial, cam(GOOD.tapo).spec.serial);
  d.close();
});
