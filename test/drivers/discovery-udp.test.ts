// Unicast WS-Discovery over real loopback sockets (127.31.0.0/16 belongs to this file). The
// answers travel for real; the answer window runs on a FakeClock, so it ends when the test has
// seen the answers arrive and moves the clock, never because a loaded machine was slow.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { probe, probeWithStats, type ProbeMatch, type ProbeOptions, type ProbeProgress } from '../../drivers';
import { probeMatchXml, startResponder, type FakeResponder } from './helpers/fake-discovery';
import { FakeClock } from '../kit/clock';
import { waitFor } from '../kit/wait';

const responders: FakeResponder[] = [];
/** Clocks of the probes started: a test that failed half-way may have left its probe listening. */
const clocks: FakeClock[] = [];
after(async () => {
  for (const c of clocks) await c.advance(3_600_000);
  for (const r of responders) await r.close();
});

async function responder(...args: Parameters<typeof startResponder>) {
  const r = await startResponder(...args);
  responders.push(r);
  return r;
}

/** A probe on virtual time, with what it reported so far. */
function virtualProbe(options: Omit<ProbeOptions, 'clock'>) {
  const clock = new FakeClock();
  clocks.push(clock);
  const events: ProbeProgress[] = [];
  let settled = false;
  const result = probeWithStats({
    ...options,
    clock,
    onProgress: (e) => {
      events.push(e);
      options.onProgress?.(e);
    },
  });
  result.then(
    () => (settled = true),
    () => (settled = true),
  );
  const count = (type: ProbeProgress['type']) => events.filter((e) => e.type === type).length;
  return {
    clock,
    events,
    result,
    count,
    settled: () => settled,
    /** Waits (really) until every probe is out, so the window is open, and `ready` holds. */
    listening: (ready: () => boolean = () => true, what = 'the answers') =>
      waitFor(
        () => events.some((e) => e.type === 'sent' && e.sent === e.total) && ready(),
        what,
        30_000,
        () => `events so far: ${JSON.stringify(events)}`,
      ),
  };
}

const UUID_A = 'uuid:0A0A0A0A-0000-4000-8000-000000000001';
const UUID_B = 'urn:uuid:0b0b0b0b-0000-4000-8000-000000000002';

test('unicast to several loopback addresses finds each device once, from the answering address', async () => {
  await responder('127.31.0.2', () => probeMatchXml(UUID_A, 'http://192.168.1.64/onvif/device_service'));
  await responder('127.31.0.3', () => probeMatchXml(UUID_B, 'http://127.31.0.3:8080/onvif/device_service http://[fe80::1]/onvif/device_service'));
  const run = virtualProbe({ targets: ['127.31.0.2', '127.31.0.3', '127.31.0.4'], timeoutMs: 300 });
  await run.listening(() => run.count('answer') === 4);
  await run.clock.advance(300);
  const { matches, stats } = await run.result;
  const events = run.events;
  const byUuid = Object.fromEntries(matches.map((m) => [m.endpointUuid, m]));
  assert.equal(matches.length, 2);
  assert.equal(byUuid['urn:uuid:0a0a0a0a-0000-4000-8000-000000000001'].from, '127.31.0.2');
  assert.deepEqual(byUuid['urn:uuid:0a0a0a0a-0000-4000-8000-000000000001'].scopes, [
    'onvif://www.onvif.org/name/Test Cam',
    'onvif://www.onvif.org/hardware/X1',
  ]);
  assert.deepEqual(byUuid[UUID_B].xaddrs, ['http://127.31.0.3:8080/onvif/device_service', 'http://[fe80::1]/onvif/device_service']);
  // Two probe types per target, three targets; each device answers both probes.
  assert.equal(stats.sent, 6);
  assert.equal(stats.answers, 4);
  assert.equal(stats.duplicates, 2);
  assert.ok(events.some((e) => e.type === 'sent' && e.sent === 3 && e.total === 3));
});

test('the same device answering from two addresses is deduplicated, XAddrs merged', async () => {
  const uuid = 'urn:uuid:0c0c0c0c-0000-4000-8000-000000000003';
  await responder('127.31.1.1', () => probeMatchXml(uuid, 'http://10.0.0.1/onvif/device_service'));
  await responder('127.31.1.2', () => probeMatchXml(uuid.toUpperCase().replace('URN:UUID:', 'uuid:'), 'http://10.0.1.1/onvif/device_service'));
  const run = virtualProbe({ targets: ['127.31.1.1', '127.31.1.2'], timeoutMs: 300 });
  await run.listening(() => run.count('answer') === 4);
  await run.clock.advance(300);
  const { matches } = await run.result;
  assert.equal(matches.length, 1);
  assert.deepEqual(matches[0].xaddrs.sort(), ['http://10.0.0.1/onvif/device_service', 'http://10.0.1.1/onvif/device_service']);
});

test('junk answers are ignored and counted; a good answer after junk still counts', async () => {
  const bigJunk = Buffer.alloc(60000, 0x41);
  await responder('127.31.2.1', () => [
    'not xml',
    Buffer.from([0, 1, 2, 3, 255]),
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><Envelope><Body>&lol;</Body></Envelope>',
    bigJunk,
    '<Envelope><Body><Hello/></Body></Envelope>',
    'HTTP/1.1 200 OK\r\n\r\n<html>not onvif</html>',
    probeMatchXml('urn:uuid:0d0d0d0d-0000-4000-8000-000000000004', 'http://127.31.2.1/onvif/device_service'),
  ]);
  const run = virtualProbe({
    targets: ['127.31.2.1'],
    timeoutMs: 400,
    types: ['dn:NetworkVideoTransmitter'],
    maxAnswerBytes: 32 * 1024,
  });
  await run.listening(() => run.count('ignored') + run.count('answer') === 7);
  await run.clock.advance(400);
  const { matches, stats } = await run.result;
  assert.equal(matches.length, 1);
  assert.deepEqual(stats.ignored, { malformed: 3, 'unsafe-xml': 1, oversized: 1, 'not-probe-match': 1 });
});

test('answers arriving after timeoutMs are not waited for', async () => {
  const r = await responder('127.31.3.1', () => undefined);
  const run = virtualProbe({ targets: ['127.31.3.1'], timeoutMs: 200 });
  // The device answers 600 ms (virtual) after each probe, long after the window.
  const timers: unknown[] = [];
  r.socket.on('message', (_m, rinfo) => {
    timers.push(run.clock.setTimeout(() => r.socket.send(probeMatchXml('urn:uuid:late', 'http://x/'), rinfo.port, rinfo.address), 600));
  });
  await run.listening(() => timers.length === 2, 'both probes at the responder');
  await run.clock.advance(199);
  assert.equal(run.settled(), false, 'still listening 1 ms before the window ends');
  await run.clock.advance(1);
  assert.equal(run.settled(), true, 'done when the window ends, without waiting for the late answers');
  const { matches, stats } = await run.result;
  assert.equal(timers.length, 2, 'the responder did get both probes');
  assert.equal(matches.length, 0);
  assert.equal(stats.elapsedMs, 200);
});

test('abort signal stops the probe with an AbortError', async () => {
  const ac = new AbortController();
  const run = virtualProbe({ targets: ['127.31.4.1'], timeoutMs: 5000, signal: ac.signal });
  await run.listening();
  ac.abort();
  // No virtual time passes: the abort, not the end of the window, is what stops it.
  await waitFor(run.settled, 'the probe to stop on the abort');
  await assert.rejects(run.result, (e: Error) => e.name === 'AbortError');
  assert.equal(run.clock.count, 0, 'the window timer is gone');
});

test('nothing to probe and unknown interfaces are clear errors', async () => {
  await assert.rejects(probe({ timeoutMs: 10 }), /nothing to probe/);
  await assert.rejects(probe({ targets: ['127.31.5.1'], interfaces: ['no-such-nic0'], timeoutMs: 10 }), /no IPv4 interface matches no-such-nic0/);
});

test('unicast from an explicitly selected interface (lo) reports it as via', async () => {
  await responder('127.31.6.1', () => probeMatchXml('urn:uuid:0e0e0e0e-0000-4000-8000-000000000005', 'http://127.31.6.1/onvif/device_service'));
  const run = virtualProbe({ targets: ['127.31.6.1'], interfaces: ['lo'], timeoutMs: 200 });
  await run.listening(() => run.count('answer') === 2);
  await run.clock.advance(200);
  const { matches } = await run.result;
  assert.equal(matches.length, 1);
  assert.equal(matches[0].via, 'lo');
});

test('onMatch: each new endpoint handed over as soon as it answers, once, with the match the result holds', async () => {
  const uuid = 'urn:uuid:0f0f0f0f-0000-4000-8000-000000000006';
  // One device answering each probe type twice (a second interface), and one answering late.
  await responder('127.31.7.1', () => [
    probeMatchXml(uuid, 'http://127.31.7.1/onvif/device_service'),
    probeMatchXml(uuid.replace('urn:uuid:', 'uuid:').toUpperCase(), 'http://10.9.9.9/onvif/device_service'),
  ]);
  const late = await responder('127.31.7.2', () => undefined);
  const handed: Array<{ at: number; listening: boolean; match: ProbeMatch }> = [];
  const run = virtualProbe({
    targets: ['127.31.7.1', '127.31.7.2'],
    timeoutMs: 400,
    onMatch: (m) => {
      handed.push({ at: run.clock.now() - t0, listening: !run.settled(), match: m });
      if (handed.length === 1) throw new Error('a throwing callback does not break the probe');
    },
  });
  const t0 = run.clock.now();
  let lateProbes = 0;
  late.socket.on('message', (_m, rinfo) => {
    lateProbes++;
    run.clock.setTimeout(
      () =>
        late.socket.send(probeMatchXml('urn:uuid:0f0f0f0f-0000-4000-8000-000000000007', 'http://127.31.7.2/onvif/device_service'), rinfo.port, rinfo.address),
      150,
    );
  });
  await run.listening(() => run.count('answer') === 4 && lateProbes === 2, 'the first device answering, the late one probed');
  assert.equal(handed.length, 1, 'the late device has not answered yet');
  await run.clock.advance(150);
  await waitFor(() => run.count('answer') === 6, 'the late answers');
  await run.clock.advance(250);
  const { matches, stats } = await run.result;
  assert.equal(stats.answers, 2 * 2 + 2, 'four answers from the first device, two (one per probe) from the late one');
  assert.deepEqual(
    handed.map((h) => h.match.endpointUuid),
    [uuid, 'urn:uuid:0f0f0f0f-0000-4000-8000-000000000007'],
  );
  // Each handed over when its answer came (virtual ms after the probes went out), while the
  // probe was still listening: 0 and 150 of a 400 ms window.
  assert.deepEqual(
    handed.map((h) => [h.at, h.listening]),
    [
      [0, true],
      [150, true],
    ],
  );
  // The very objects the result holds (duplicates' XAddrs merged into them).
  assert.deepEqual(
    matches,
    handed.map((h) => h.match),
  );
  assert.deepEqual(matches[0].xaddrs.sort(), ['http://10.9.9.9/onvif/device_service', 'http://127.31.7.1/onvif/device_service']);
});
