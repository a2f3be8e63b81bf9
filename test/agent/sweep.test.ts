import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceDriver, DeviceReport, Credentials } from '../../drivers/types';
import { DriverError } from '../../drivers/types';
import { sweep, SweepDeps, SweepOptions, targetsFromMatches } from '../../agent/discovery/sweep';
import type { DriverTarget, ProbeMatch, ProbeOptions } from '../../agent/discovery/drivers-api';
import { addressFromMatch } from '../../agent/discovery/targets';
import { UsageError } from '../../agent/errors';
import { report } from './helpers';

const options = (o: Partial<SweepOptions> = {}): SweepOptions => ({
  ranges: [],
  force: false,
  multicast: true,
  interfaces: [],
  probeTimeoutMs: 100,
  identifyTimeoutMs: 200,
  concurrency: 4,
  known: [],
  ...o,
});

const match = (host: string, uuid = `urn:uuid:${host}`, xaddr = `http://${host}:80/onvif/device_service`): ProbeMatch => ({
  endpointUuid: uuid,
  xaddrs: [xaddr],
  scopes: ['onvif://www.onvif.org/name/x'],
  types: ['dn:NetworkVideoTransmitter'],
  from: host,
});

type Behaviour = 'ok' | 'auth' | 'hang' | 'throw-open';

interface FakeLog {
  probes: ProbeOptions[];
  opened: Array<{ target: DriverTarget; credentials?: Credentials }>;
  closed: string[];
  maxInFlight: number;
}

function fakeDeps(matches: ProbeMatch[], behaviour: (host: string) => Behaviour, extra: Partial<SweepDeps> = {}): { deps: SweepDeps; log: FakeLog } {
  const log: FakeLog = { probes: [], opened: [], closed: [], maxInFlight: 0 };
  let inFlight = 0;
  const deps: SweepDeps = {
    probe: async (o) => {
      log.probes.push(o);
      return matches;
    },
    expandTargets: (spec) => (Array.isArray(spec) ? spec : [spec]).flatMap((s) => s.split('-')),
    openDriver: (target, credentials) => {
      const host = target.kind === 'onvif' ? target.host : target.url;
      if (behaviour(host) === 'throw-open') throw new Error('socket exploded');
      log.opened.push({ target, credentials });
      const driver: Partial<DeviceDriver> = {
        kind: 'onvif',
        report: async (): Promise<DeviceReport> => {
          inFlight++;
          log.maxInFlight = Math.max(log.maxInFlight, inFlight);
          try {
            await new Promise((r) => setTimeout(r, 20));
            const b = behaviour(host);
            if (b === 'auth') throw new DriverError('auth', `authentication failed for ${host}:80`, host);
            if (b === 'hang') await new Promise(() => undefined);
            return report({ host, endpointUuid: undefined });
          } finally {
            inFlight--;
          }
        },
        close: () => {
          log.closed.push(host);
        },
      };
      return driver as DeviceDriver;
    },
    credentialsFor: () => ({ username: 'admin', password: 'pw' }),
    ...extra,
  };
  return { deps, log };
}

test('every device is identified; one bad device never stops the sweep', async () => {
  const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'];
  const { deps, log } = fakeDeps(hosts.map((h) => match(h)), (h) => (h === '10.0.0.2' ? 'auth' : h === '10.0.0.3' ? 'throw-open' : 'ok'));
  const result = await sweep(options(), deps);
  assert.equal(result.outcomes.length, 4);
  const byHost = new Map(result.outcomes.map((o) => [o.target.host, o]));
  assert.ok(byHost.get('10.0.0.1')!.report);
  assert.deepEqual(byHost.get('10.0.0.2')!.error, { code: 'auth', message: 'authentication failed for 10.0.0.2:80' });
  assert.equal(byHost.get('10.0.0.3')!.error!.code, 'error');
  assert.match(byHost.get('10.0.0.3')!.error!.message, /^10\.0\.0\.3:80: socket exploded/);
  assert.ok(byHost.get('10.0.0.4')!.report);
  // The probe's UUID and scopes complete a report that lacks them.
  assert.equal(byHost.get('10.0.0.1')!.report!.endpointUuid, 'urn:uuid:10.0.0.1');
  assert.deepEqual(log.opened[0].credentials, { username: 'admin', password: 'pw' });
  assert.ok(['10.0.0.1', '10.0.0.2', '10.0.0.4'].every((h) => log.closed.includes(h)), 'every opened driver is closed');
});

test('identification respects the concurrency limit', async () => {
  const hosts = Array.from({ length: 10 }, (_, i) => `10.0.1.${i + 1}`);
  const { deps, log } = fakeDeps(hosts.map((h) => match(h)), () => 'ok');
  const result = await sweep(options({ concurrency: 3 }), deps);
  assert.equal(result.outcomes.filter((o) => o.report).length, 10);
  assert.equal(log.maxInFlight, 3);
});

test('a device that never answers is cut off at identifyTimeoutMs', async () => {
  const { deps, log } = fakeDeps([match('10.0.0.1'), match('10.0.0.2')], (h) => (h === '10.0.0.2' ? 'hang' : 'ok'));
  const t0 = Date.now();
  const result = await sweep(options({ identifyTimeoutMs: 150 }), deps);
  const elapsed = Date.now() - t0;
  assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  const hung = result.outcomes.find((o) => o.target.host === '10.0.0.2')!;
  assert.equal(hung.error?.code, 'timeout');
  assert.match(hung.error!.message, /did not finish within 150 ms/);
  assert.ok(log.closed.includes('10.0.0.2'));
});

test('probe options: multicast, interfaces, unicast targets from ranges, probe window', async () => {
  const { deps, log } = fakeDeps([], () => 'ok');
  await sweep(options({ multicast: false, ranges: ['10.0.0.1-10.0.0.2'], interfaces: ['eth0'], probeTimeoutMs: 1234 }), deps);
  assert.deepEqual(log.probes[0], { multicast: false, interfaces: ['eth0'], targets: ['10.0.0.1', '10.0.0.2'], timeoutMs: 1234 });
});

test('bad ranges and an empty plan are usage errors', async () => {
  const { deps } = fakeDeps([], () => 'ok');
  await assert.rejects(
    sweep(options({ ranges: ['x'] }), { ...deps, expandTargets: () => { throw new Error('"x" is not an IPv4 address or range'); } }),
    (err: Error) => err instanceof UsageError && /not an IPv4 address/.test(err.message),
  );
  await assert.rejects(sweep(options({ multicast: false }), deps), (err: Error) => err instanceof UsageError && /nothing to discover/.test(err.message));
});

test('answers are deduplicated by UUID; added devices are identified even without an answer', async () => {
  const known = [
    { deviceId: 'cam-aaaaaaaaaa', host: '10.0.0.1', port: 80, endpointUuid: 'urn:uuid:a' },
    { deviceId: 'cam-bbbbbbbbbb', host: '10.0.9.9', port: 8080, path: '/onvif/device_service' },
  ];
  const targets = targetsFromMatches([match('10.0.0.1', 'urn:uuid:A'), match('10.0.0.1', 'uuid:a'), match('10.0.0.2')], known);
  assert.deepEqual(
    targets.map((t) => [t.host, t.port, t.source, t.deviceId ?? null]),
    [
      ['10.0.0.1', 80, 'probe', 'cam-aaaaaaaaaa'],
      ['10.0.0.2', 80, 'probe', null],
      ['10.0.9.9', 8080, 'added', 'cam-bbbbbbbbbb'],
    ],
  );
  const { deps, log } = fakeDeps([], () => 'ok');
  const result = await sweep(options({ multicast: false, known }), deps);
  assert.equal(log.probes.length, 0, 'no probe without multicast or ranges');
  assert.equal(result.outcomes.length, 2);
});

test('XAddrs: port and path from the device, host from the answering address', () => {
  assert.deepEqual(addressFromMatch(match('10.0.0.5', 'u', 'http://192.168.1.64:8899/onvif/device_service')), { host: '10.0.0.5', port: 8899, path: '/onvif/device_service' });
  assert.deepEqual(
    addressFromMatch({ ...match('10.0.0.5'), xaddrs: ['http://[fe80::1]/onvif', 'http://10.0.0.5:2020/onvif/service'] }),
    { host: '10.0.0.5', port: 2020, path: '/onvif/service' },
  );
  assert.deepEqual(addressFromMatch({ ...match('10.0.0.5:3702'), xaddrs: [] }), { host: '10.0.0.5', port: 80, path: '/onvif/device_service' });
});

test('progress events go to the callback in order', async () => {
  const events: string[] = [];
  const { deps } = fakeDeps([match('10.0.0.1')], () => 'ok', { onProgress: (e) => events.push(e.type) });
  await sweep(options(), deps);
  assert.deepEqual(events, ['probe-start', 'probe-done', 'identify-start', 'identified']);
});
