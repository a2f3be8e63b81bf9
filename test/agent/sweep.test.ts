// The sweep's orchestration with fake drivers, on virtual time: its deadlines run on the
// FakeClock in deps.clock, and so do the fake drivers' delays, so what is checked is when things
// happen on that clock, exact and independent of how loaded the machine is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceDriver, DeviceReport, Credentials } from '../../drivers/types';
import { DriverError } from '../../drivers/types';
import { NoMulticastInterfaceError } from '../../drivers/onvif/discovery';
import { oneLine, planProbe, sweep as sweepNow, SweepDeps, SweepOptions, SweepProgress, SweepResult, targetsFromMatches } from '../../agent/discovery/sweep';
import type { DriverTarget, ProbeMatch, ProbeOptions } from '../../drivers/api';
import { addressFromMatch } from '../../agent/discovery/targets';
import { CamgateError, UsageError } from '../../lib/errors';
import { report } from '../kit/reports';
import { FakeClock } from '../kit/clock';
import { sleep } from '../../lib/clock';

/** sweep() on the deps' FakeClock: virtual time moves in 5 ms steps until the sweep settles (each
 * timer still runs at its exact due time). */
function sweep(options: SweepOptions, deps: SweepDeps): Promise<SweepResult> {
  const clock = deps.clock as FakeClock;
  const work = sweepNow(options, deps);
  let settled = false;
  work.then(
    () => (settled = true),
    () => (settled = true),
  );
  return clock.until(() => settled, { stepMs: 5, what: 'the end of the sweep' }).then(() => work);
}

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

/** Fake drivers on `extra.clock` (a new FakeClock when not given), which also becomes deps.clock. */
function fakeDeps(
  matches: ProbeMatch[],
  behaviour: (host: string) => Behaviour,
  extra: Partial<SweepDeps> = {},
): { deps: SweepDeps; log: FakeLog; clock: FakeClock } {
  const clock = (extra.clock as FakeClock | undefined) ?? new FakeClock();
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
            await sleep(clock, 20);
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
    clock,
  };
  return { deps, log, clock };
}

test('every device is identified; one bad device never stops the sweep', async () => {
  const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'];
  const { deps, log } = fakeDeps(
    hosts.map((h) => match(h)),
    (h) => (h === '10.0.0.2' ? 'auth' : h === '10.0.0.3' ? 'throw-open' : 'ok'),
  );
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
  assert.ok(
    ['10.0.0.1', '10.0.0.2', '10.0.0.4'].every((h) => log.closed.includes(h)),
    'every opened driver is closed',
  );
});

test('identification respects the concurrency limit', async () => {
  const hosts = Array.from({ length: 10 }, (_, i) => `10.0.1.${i + 1}`);
  const { deps, log } = fakeDeps(
    hosts.map((h) => match(h)),
    () => 'ok',
  );
  const result = await sweep(options({ concurrency: 3 }), deps);
  assert.equal(result.outcomes.filter((o) => o.report).length, 10);
  assert.equal(log.maxInFlight, 3);
});

test('a device that never answers is cut off at identifyTimeoutMs', async () => {
  const { deps, log } = fakeDeps([match('10.0.0.1'), match('10.0.0.2')], (h) => (h === '10.0.0.2' ? 'hang' : 'ok'));
  const result = await sweep(options({ identifyTimeoutMs: 150 }), deps);
  // Over when the hung one's deadline comes, not later.
  assert.equal(result.durationMs, 150);
  const hung = result.outcomes.find((o) => o.target.host === '10.0.0.2')!;
  assert.equal(hung.durationMs, 150);
  assert.equal(hung.error?.code, 'timeout');
  assert.match(hung.error.message, /did not finish within 150 ms/);
  assert.ok(log.closed.includes('10.0.0.2'));
});

test('probe options: multicast, interfaces, unicast targets from ranges, probe window', async () => {
  const { deps, log } = fakeDeps([], () => 'ok');
  await sweep(options({ multicast: false, ranges: ['10.0.0.1-10.0.0.2'], interfaces: ['eth0'], probeTimeoutMs: 1234 }), deps);
  const { multicast, interfaces, targets, timeoutMs, signal, onProgress } = log.probes[0];
  assert.deepEqual(
    { multicast, interfaces, targets, timeoutMs },
    { multicast: false, interfaces: ['eth0'], targets: ['10.0.0.1', '10.0.0.2'], timeoutMs: 1234 },
  );
  assert.ok(signal instanceof AbortSignal && !signal.aborted);
  assert.equal(typeof onProgress, 'function');
});

test('bad ranges and an empty plan are usage errors', async () => {
  const { deps } = fakeDeps([], () => 'ok');
  await assert.rejects(
    sweep(options({ ranges: ['x'] }), {
      ...deps,
      expandTargets: () => {
        throw new Error('"x" is not an IPv4 address or range');
      },
    }),
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
  assert.deepEqual(addressFromMatch(match('10.0.0.5', 'u', 'http://192.168.1.64:8899/onvif/device_service')), {
    host: '10.0.0.5',
    port: 8899,
    path: '/onvif/device_service',
  });
  assert.deepEqual(addressFromMatch({ ...match('10.0.0.5'), xaddrs: ['http://[fe80::1]/onvif', 'http://10.0.0.5:2020/onvif/service'] }), {
    host: '10.0.0.5',
    port: 2020,
    path: '/onvif/service',
  });
  assert.deepEqual(addressFromMatch({ ...match('10.0.0.5:3702'), xaddrs: [] }), { host: '10.0.0.5', port: 80, path: '/onvif/device_service' });
});

test('progress events go to the callback in order', async () => {
  const events: string[] = [];
  const { deps } = fakeDeps([match('10.0.0.1')], () => 'ok', { onProgress: (e) => events.push(e.type) });
  await sweep(options(), deps);
  assert.deepEqual(events, ['probe-start', 'probe-done', 'identify-start', 'identified']);
});

// --- the overall deadline (discover --timeout) ---

/** A probe that, like the real one, collects answers for its whole window (or until aborted), on
 * `clock`. `answerAt` (ms after the probe started, per match): hand each match to onMatch then,
 * as the real probe does when the answer arrives; omitted: onMatch is never called (an older driver). */
function windowedProbe(clock: FakeClock, matches: ProbeMatch[], log: ProbeOptions[] = [], answerAt?: (m: ProbeMatch, i: number) => number): SweepDeps['probe'] {
  return (o) => {
    log.push(o);
    return new Promise((resolve, reject) => {
      const timers = answerAt ? matches.map((m, i) => clock.setTimeout(() => o.onMatch?.(m), answerAt(m, i))) : [];
      const t = clock.setTimeout(() => resolve(matches), o.timeoutMs);
      o.signal?.addEventListener('abort', () => {
        clock.clearTimeout(t);
        timers.forEach((x) => clock.clearTimeout(x));
        reject(new Error('probe aborted'));
      });
    });
  };
}

test('probe plan: the probe gets min(timeout × 3/4, window cap), unicast pacing comes out of it', () => {
  assert.deepEqual(planProbe(undefined, 5000, 0), { shareMs: 5000, windowMs: 5000 });
  assert.deepEqual(planProbe(8000, 5000, 15), { shareMs: 5000, windowMs: 4990 });
  assert.deepEqual(planProbe(6000, 5000, 256), { shareMs: 4500, windowMs: 4480 });
  assert.deepEqual(planProbe(4000, 5000, 0), { shareMs: 3000, windowMs: 3000 });
  assert.deepEqual(planProbe(30000, 5000, 0), { shareMs: 5000, windowMs: 5000 });
  assert.deepEqual(planProbe(30000, 5000, 254), { shareMs: 5000, windowMs: 4980 });
  // A /16 takes ~5 s just to send: the window keeps a quarter of the share.
  assert.deepEqual(planProbe(8000, 5000, 65536), { shareMs: 5000, windowMs: 1250 });
  for (const t of [100, 1000, 8000, 30000, 600000]) {
    const p = planProbe(t, 5000, 1000);
    // At least a quarter of the budget is left after the probe (late answers, added devices).
    assert.ok(p.shareMs <= (t * 3) / 4 && t - p.shareMs >= t / 4 && p.windowMs <= p.shareMs && p.windowMs > 0, `${t}: ${JSON.stringify(p)}`);
  }
});

test('the overall deadline bounds probe + identification; devices it stops are reported, the rest kept', async () => {
  const hosts = ['10.0.2.1', '10.0.2.2', '10.0.2.3', '10.0.2.4'];
  const behaviour = (h: string): Behaviour => (h === '10.0.2.2' || h === '10.0.2.3' ? 'hang' : 'ok');
  const probes: ProbeOptions[] = [];
  const events: SweepProgress[] = [];
  // Every device answers at once, as unicast answers do: identification starts right away.
  const clock = new FakeClock();
  const { deps, log } = fakeDeps([], behaviour, {
    clock,
    probe: windowedProbe(
      clock,
      hosts.map((h) => match(h)),
      probes,
      () => 0,
    ),
    onProgress: (e) => events.push(e),
  });
  const result = await sweep(
    options({
      timeoutMs: 600,
      probeTimeoutMs: 5000,
      identifyTimeoutMs: 60_000,
      concurrency: 2,
      timeoutLabel: 'overall --timeout',
      timeoutAdvice: 'raise --timeout',
    }),
    deps,
  );
  // Done at the deadline, not at identifyTimeoutMs (60 s).
  assert.equal(result.durationMs, 600);
  assert.equal(probes[0].timeoutMs, 450, 'the probe window is three quarters of the budget (below the 5000 ms cap)');
  assert.equal(result.probeWindowMs, 450);
  assert.equal(result.outcomes.length, 4, 'no device dropped');
  const byHost = new Map(result.outcomes.map((o) => [o.target.host, o]));
  assert.ok(byHost.get('10.0.2.1')!.report, 'identified before the deadline: kept');
  for (const h of ['10.0.2.2', '10.0.2.3']) {
    const e = byHost.get(h)!.error!;
    assert.equal(e.code, 'timeout');
    assert.equal(e.deadline, 'overall');
    assert.match(
      e.message,
      new RegExp(`^${h.replace(/\./g, '\\.')}:80: identification cut off after \\d+ ms: the overall --timeout of 600 ms ran out; raise --timeout$`),
    );
    assert.ok(log.closed.includes(h), `${h} closed`);
  }
  // Queued behind the two hung devices: never started, still reported.
  const queued = byHost.get('10.0.2.4')!.error!;
  assert.equal(queued.code, 'timeout');
  assert.equal(queued.deadline, 'overall');
  assert.match(queued.message, /^10\.0\.2\.4:80: not identified: the overall --timeout of 600 ms ran out before its turn came; raise --timeout$/);
  assert.ok(!log.opened.some((o) => o.target.kind === 'onvif' && o.target.host === '10.0.2.4'), 'no driver opened after the deadline');
  assert.equal(result.cutOff, 3);
  assert.ok(result.durationMs < 600 + 1000);
  const start = events.find((e) => e.type === 'identify-start');
  assert.ok(start && start.type === 'identify-start' && start.remainingMs !== undefined && start.remainingMs <= 150, JSON.stringify(start));
  assert.equal(start.total, 4);
  assert.equal(start.done, 1, '10.0.2.1 was identified while the probe listened');
  assert.equal(events.filter((e) => e.type === 'identified').length, 4);
  // The hung devices held their slots from the start: cut off at the overall deadline, after ~600 ms.
  for (const h of ['10.0.2.2', '10.0.2.3']) assert.ok(byHost.get(h)!.durationMs >= 500, `${h}: ${byHost.get(h)!.durationMs} ms`);
});

test('the device deadline still applies when it comes before the overall one', async () => {
  const { deps } = fakeDeps([match('10.0.3.1'), match('10.0.3.2')], (h) => (h === '10.0.3.2' ? 'hang' : 'ok'));
  const result = await sweep(options({ timeoutMs: 10_000, probeTimeoutMs: 50, identifyTimeoutMs: 150 }), deps);
  const hung = result.outcomes.find((o) => o.target.host === '10.0.3.2')!;
  assert.equal(hung.error?.code, 'timeout');
  assert.equal(hung.error?.deadline, undefined);
  assert.match(hung.error.message, /did not finish within 150 ms \(onvif\.timeoutMs\)/);
  assert.equal(result.cutOff, 0);
});

test('a budget already spent: every device is reported as timeout, none is opened', async () => {
  const known = [
    { deviceId: 'cam-aaaaaaaaaa', host: '10.0.4.1', port: 80 },
    { deviceId: 'cam-bbbbbbbbbb', host: '10.0.4.2', port: 80 },
  ];
  const { deps, log, clock } = fakeDeps([], () => 'ok');
  const result = await sweep(options({ multicast: false, known, timeoutMs: 500, startedAt: clock.now() - 1000 }), deps);
  assert.deepEqual(
    result.outcomes.map((o) => [o.address, o.error?.code, o.error?.deadline]),
    [
      ['10.0.4.1:80', 'timeout', 'overall'],
      ['10.0.4.2:80', 'timeout', 'overall'],
    ],
  );
  assert.equal(log.opened.length, 0);
});

test('a probe that overruns the overall deadline is aborted and reported, not waited for', async () => {
  let aborted = false;
  // 10.0.7.1 answered and is being identified (it hangs) when the probe has to be given up.
  const { deps, log, clock } = fakeDeps([], (h) => (h === '10.0.7.1' ? 'hang' : 'ok'), {
    probe: (o) =>
      new Promise((_, reject) => {
        o.onMatch?.(match('10.0.7.1'));
        o.signal?.addEventListener('abort', () => {
          aborted = true;
          reject(new Error('aborted'));
        });
      }),
  });
  const t0 = clock.now();
  let failedAfter = NaN;
  await assert.rejects(
    sweep(options({ timeoutMs: 300, identifyTimeoutMs: 60_000 }), deps).catch((err: unknown) => {
      failedAfter = clock.now() - t0;
      throw err;
    }),
    (err: Error) => err instanceof CamgateError && /WS-Discovery probe did not finish/.test(err.message),
  );
  assert.equal(failedAfter, 300, 'given up at the overall deadline');
  assert.ok(aborted, 'the probe was told to stop');
  assert.equal(log.opened.length, 1);
  assert.ok(log.closed.includes('10.0.7.1'), 'the identification under way was stopped, its driver closed');
});

test("a probe that fails after devices answered: identifications under way are stopped, the error is the probe's", async () => {
  const events: string[] = [];
  const clock = new FakeClock();
  const { deps, log } = fakeDeps([], (h) => (h === '10.0.7.2' ? 'hang' : 'ok'), {
    clock,
    probe: async (o) => {
      o.onMatch?.(match('10.0.7.2'));
      await sleep(clock, 50);
      throw new DriverError('unreachable', 'no usable IPv4 interface');
    },
    onProgress: (e) => events.push(e.type),
  });
  const t0 = clock.now();
  let failedAfter = NaN;
  await assert.rejects(
    sweep(options({ identifyTimeoutMs: 60_000 }), deps).catch((err: unknown) => {
      failedAfter = clock.now() - t0;
      throw err;
    }),
    /no usable IPv4 interface/,
  );
  assert.equal(failedAfter, 50, 'not waiting for the hung identification');
  assert.equal(log.opened.length, 1);
  assert.ok(log.closed.includes('10.0.7.2'), 'its driver was closed');
  assert.deepEqual(events, ['probe-start'], 'no progress after the failure');
});

test('junk answers on the discovery port are counted, with where they came from', async () => {
  const events: SweepProgress[] = [];
  const { deps } = fakeDeps([], () => 'ok', {
    probe: async (o) => {
      o.onProgress?.({ type: 'answer', from: '10.0.5.1', endpointUuid: 'urn:uuid:x', duplicate: false });
      o.onProgress?.({ type: 'ignored', from: '10.0.5.9', reason: 'malformed' });
      o.onProgress?.({ type: 'ignored', from: '10.0.5.9', reason: 'malformed' });
      o.onProgress?.({ type: 'ignored', from: '10.0.5.8:3702', reason: 'not-probe-match' });
      return [match('10.0.5.1')];
    },
    onProgress: (e) => events.push(e),
  });
  const result = await sweep(options(), deps);
  assert.equal(result.probeIgnored, 3);
  assert.deepEqual(result.probeIgnoredFrom, ['10.0.5.9', '10.0.5.8']);
  assert.deepEqual(
    events.find((e) => e.type === 'probe-done'),
    { type: 'probe-done', matches: 1, ignored: 3, ignoredFrom: ['10.0.5.9', '10.0.5.8'] },
  );
});

test('no multicast interface: a warning when ranges or added devices are left to probe, else an error saying what to do', async () => {
  const reason = 'no IPv4 interface to send the multicast probe on: only loopback is up (lo 127.0.0.1), which multicast discovery skips';
  // With unicast targets the driver goes on and reports the missing interface as progress.
  const events: SweepProgress[] = [];
  const withRange = fakeDeps([match('10.0.6.1')], () => 'ok', {
    probe: async (o) => {
      o.onProgress?.({ type: 'multicast-unavailable', reason });
      return [match('10.0.6.1')];
    },
    onProgress: (e) => events.push(e),
  });
  const ranged = await sweep(options({ ranges: ['10.0.6.1-10.0.6.2'] }), withRange.deps);
  assert.equal(ranged.outcomes.filter((o) => o.report).length, 1);
  const warning = {
    code: 'no-multicast-interface',
    message: `${reason}; probing only the 2 address(es) of --range (or discovery.ranges) by unicast: devices outside them are not found`,
  };
  assert.deepEqual(ranged.warnings, [warning]);
  assert.deepEqual(events[1], { type: 'warning', ...warning }, 'the warning comes while probing');

  // Multicast alone: the driver throws; devices added by hand are still identified.
  const throwing = (): SweepDeps['probe'] => async () => {
    throw new NoMulticastInterfaceError(reason);
  };
  const known = [{ deviceId: 'cam-cccccccccc', host: '10.0.6.9', port: 80 }];
  const added = await sweep(options({ known }), fakeDeps([], () => 'ok', { probe: throwing() }).deps);
  assert.deepEqual(
    added.outcomes.map((o) => [o.address, !!o.report]),
    [['10.0.6.9:80', true]],
  );
  assert.deepEqual(added.warnings, [
    { code: 'no-multicast-interface', message: `${reason}; identifying only the 1 device(s) added by hand: give --range (or discovery.ranges) to find others` },
  ]);

  const err = await sweep(options(), fakeDeps([], () => 'ok', { probe: throwing() }).deps).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CamgateError);
  assert.equal(err.exitCode, 1);
  assert.ok(
    err.message.startsWith(
      `${reason}. With no --range (nor discovery.ranges in the config) there is nothing else to probe: give the cameras' addresses with --range`,
    ),
    err.message,
  );
  assert.match(err.message, /--interface \(or discovery\.interfaces\)$/);
});

test('error messages are one printable line, even when they quote device bytes', async () => {
  assert.equal(oneLine('XML from 10.0.0.1:80 is not well-formed (char \u0000 at\n line 1)'), 'XML from 10.0.0.1:80 is not well-formed (char \\x00 at line 1)');
  assert.ok(oneLine('x'.repeat(5000)).length <= 400);
  const { deps } = fakeDeps([match('10.0.6.1')], () => 'ok', {
    openDriver: () => {
      throw new DriverError('malformed', 'XML from 10.0.6.1:80 is not well-formed:\n\u0000\u00ff<<junk', '10.0.6.1');
    },
  });
  const result = await sweep(options(), deps);
  assert.equal(result.outcomes[0].error!.message, 'XML from 10.0.6.1:80 is not well-formed: \\x00\u00ff<<junk');
});

// --- identification while the probe is still listening ---

test('identification starts as answers arrive, before the probe has ended', async () => {
  const events: SweepProgress[] = [];
  const probeEnd: number[] = [];
  const opened: number[] = [];
  const hosts = ['10.0.8.1', '10.0.8.2', '10.0.8.3'];
  const clock = new FakeClock();
  const t0 = clock.now();
  const probes: ProbeOptions[] = [];
  const base = fakeDeps([], () => 'ok', { clock });
  const { deps } = fakeDeps([], () => 'ok', {
    clock,
    probe: async (o) => {
      const matches = await windowedProbe(
        clock,
        hosts.map((h) => match(h)),
        probes,
        (_, i) => i * 30,
      )(o);
      probeEnd.push(clock.now() - t0);
      return matches;
    },
    openDriver: (t, c, o) => {
      opened.push(clock.now() - t0);
      return base.deps.openDriver(t, c, o);
    },
    onProgress: (e) => events.push(e),
  });
  const result = await sweep(options({ probeTimeoutMs: 400 }), deps);
  assert.equal(probes[0].timeoutMs, 400);
  assert.equal(typeof probes[0].onMatch, 'function');
  assert.equal(opened.length, 3);
  assert.ok(
    opened.every((t) => t < probeEnd[0] - 200),
    `opened at ${opened} ms, probe ended at ${probeEnd[0]} ms`,
  );
  assert.deepEqual([opened, probeEnd], [[0, 30, 60], [400]], 'each opened as its answer came');
  // The events: identified while probing (total growing, flagged), then the probe's end.
  const types = events.map((e) => e.type);
  assert.deepEqual(types, ['probe-start', 'identified', 'identified', 'identified', 'probe-done', 'identify-start']);
  const identified = events.filter((e): e is Extract<SweepProgress, { type: 'identified' }> => e.type === 'identified');
  assert.deepEqual(
    identified.map((e) => [e.done, e.total, e.probing]),
    [
      [1, 1, true],
      [2, 2, true],
      [3, 3, true],
    ],
  );
  assert.deepEqual(events.at(-1), { type: 'identify-start', total: 3, done: 3 });
  // Same result shape as before: outcomes in the order the devices answered.
  assert.equal(result.probeMatches, 3);
  assert.deepEqual(
    result.outcomes.map((o) => [o.address, !!o.report, o.target.source]),
    hosts.map((h) => [`${h}:80`, true, 'probe']),
  );
  assert.ok(
    result.outcomes.every((o) => o.durationMs >= 15 && o.durationMs < 1000),
    'measured from when each one started',
  );
});

test('a later duplicate answer does not start a second identification', async () => {
  const answers = [
    match('10.0.9.1', 'urn:uuid:AAAA'),
    // The same camera answering on a second interface (UUID spelt differently), and again.
    match('10.0.9.1', 'uuid:aaaa'),
    { ...match('192.168.9.1', 'urn:uuid:aaaa'), xaddrs: ['http://192.168.9.1/onvif/device_service'] },
    // Without a UUID: deduplicated by address.
    match('10.0.9.2', ''),
    match('10.0.9.2', ''),
    match('10.0.9.3'),
  ];
  const clock = new FakeClock();
  const { deps, log } = fakeDeps([], () => 'ok', {
    clock,
    probe: async (o) => {
      for (const m of answers) o.onMatch?.(m);
      await sleep(clock, 50);
      // The driver's own list, handed over again at the end: nothing new in it.
      return answers;
    },
  });
  const result = await sweep(options(), deps);
  const hostsOpened = log.opened.map((o) => (o.target.kind === 'onvif' ? o.target.host : ''));
  assert.deepEqual(hostsOpened, ['10.0.9.1', '10.0.9.2', '10.0.9.3']);
  assert.deepEqual(
    result.outcomes.map((o) => [o.address, o.target.endpointUuid ?? null]),
    [
      ['10.0.9.1:80', 'urn:uuid:aaaa'],
      ['10.0.9.2:80', null],
      ['10.0.9.3:80', 'urn:uuid:10.0.9.3'],
    ],
  );
  // Same as the batch form.
  assert.deepEqual(
    targetsFromMatches(answers, []).map((t) => `${t.host}:${t.port}`),
    ['10.0.9.1:80', '10.0.9.2:80', '10.0.9.3:80'],
  );
});

test('added devices that did not answer are identified once the probe has ended; those that answered only once', async () => {
  const known = [
    // Answers (matched by UUID although it answers from another address): identified once, as a probe answer.
    { deviceId: 'cam-aaaaaaaaaa', host: '10.0.10.1', port: 80, endpointUuid: 'urn:uuid:k1' },
    // Answers (matched by address).
    { deviceId: 'cam-bbbbbbbbbb', host: '10.0.10.2', port: 80 },
    // Silent: only tried after the probe.
    { deviceId: 'cam-cccccccccc', host: '10.0.10.3', port: 8080, path: '/onvif/device_service' },
  ];
  const openedAt = new Map<string, number>();
  let probeEndedAt = Infinity;
  const clock = new FakeClock();
  const t0 = clock.now();
  const base = fakeDeps([], () => 'ok', { clock });
  const { deps } = fakeDeps([], () => 'ok', {
    clock,
    probe: async (o) => {
      const matches = await windowedProbe(clock, [match('10.0.10.11', 'urn:uuid:K1'), match('10.0.10.2', 'urn:uuid:k2')], [], () => 0)(o);
      probeEndedAt = clock.now() - t0;
      return matches;
    },
    openDriver: (t, c, o) => {
      if (t.kind === 'onvif') {
        assert.ok(!openedAt.has(t.host), `${t.host} opened twice`);
        openedAt.set(t.host, clock.now() - t0);
      }
      return base.deps.openDriver(t, c, o);
    },
  });
  const result = await sweep(options({ probeTimeoutMs: 200, known }), deps);
  assert.deepEqual(
    result.outcomes.map((o) => [o.address, o.target.source, o.target.deviceId, !!o.report]),
    [
      ['10.0.10.11:80', 'probe', 'cam-aaaaaaaaaa', true],
      ['10.0.10.2:80', 'probe', 'cam-bbbbbbbbbb', true],
      ['10.0.10.3:8080', 'added', 'cam-cccccccccc', true],
    ],
  );
  assert.ok(openedAt.get('10.0.10.11')! < 100 && openedAt.get('10.0.10.2')! < 100, 'answers identified right away');
  assert.ok(openedAt.get('10.0.10.3')! >= probeEndedAt, `the silent one after the probe (${openedAt.get('10.0.10.3')} ms, probe ended at ${probeEndedAt} ms)`);
});

test('pipelined: the overall deadline still bounds everything, including late answers and added devices', async () => {
  const known = [
    { deviceId: 'cam-aaaaaaaaaa', host: '10.0.11.8', port: 80 }, // silent, quick once tried
    { deviceId: 'cam-bbbbbbbbbb', host: '10.0.11.9', port: 80 }, // silent, hangs
  ];
  const answers = [match('10.0.11.1'), match('10.0.11.2'), match('10.0.11.3')];
  const events: SweepProgress[] = [];
  const clock = new FakeClock();
  const { deps, log } = fakeDeps([], (h) => (h === '10.0.11.2' || h === '10.0.11.9' ? 'hang' : 'ok'), {
    clock,
    // 10.0.11.3 answers at the very end of the 450 ms window.
    probe: windowedProbe(clock, answers, [], (_, i) => (i < 2 ? 0 : 420)),
    onProgress: (e) => events.push(e),
  });
  const result = await sweep(options({ timeoutMs: 600, probeTimeoutMs: 5000, identifyTimeoutMs: 60_000, concurrency: 4, known }), deps);
  assert.equal(result.durationMs, 600);
  assert.equal(result.probeWindowMs, 450);
  const byHost = new Map(result.outcomes.map((o) => [o.target.host, o]));
  assert.ok(byHost.get('10.0.11.1')!.report);
  assert.ok(byHost.get('10.0.11.3')!.report, 'a late answer is still identified in the time left');
  assert.ok(byHost.get('10.0.11.8')!.report, 'a silent added device is identified after the probe');
  for (const h of ['10.0.11.2', '10.0.11.9']) {
    assert.equal(byHost.get(h)!.error?.deadline, 'overall', h);
    assert.match(byHost.get(h)!.error!.message, /identification cut off after \d+ ms: the overall discovery timeout of 600 ms ran out/);
    assert.ok(log.closed.includes(h), `${h} closed`);
  }
  // Answered at once, hung: it held on for (nearly) the whole budget, not just what the probe left.
  assert.ok(byHost.get('10.0.11.2')!.durationMs >= 550, `${byHost.get('10.0.11.2')!.durationMs} ms`);
  assert.equal(result.cutOff, 2);
  assert.equal(result.outcomes.length, 5);
  assert.equal(events.filter((e) => e.type === 'identified').length, 5);
});
