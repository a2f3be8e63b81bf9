import test from 'node:test';
import assert from 'node:assert/strict';
import { CameraHealth, HealthRules } from '../../agent/health/state';
import type { ClockResult, PictureFault, PictureResult, ReachResult, StreamCheck } from '../../agent/health/types';
import { fakeDiagnosis } from '../kit/diagnosis';

const rules: HealthRules = { offlineAfterFailures: 3, onlineAfterSuccesses: 2, flapTransitions: 4, flapWindowMs: 60_000, maxDriftMs: 5000, confirmProbes: 1 };
const up: ReachResult = { ok: true, latencyMs: 2 };
const down: ReachResult = { ok: false, latencyMs: null, error: { code: 'refused', message: '127.0.0.9:80 refused the connection' } };
const clockAt = (offsetMs: number): ClockResult => ({ ok: true, offsetMs, latencyMs: 3 });
const T0 = Date.parse('2026-01-01T00:00:00Z');
const types = (events: { type: string }[]) => events.map((e) => e.type);

test('an unknown camera that answers is online at once, without an event', () => {
  const h = new CameraHealth('cam-1', rules);
  assert.equal(h.status().state, 'unknown');
  const out = h.onReach(up, clockAt(100), T0);
  assert.deepEqual(out.events, []);
  assert.equal(out.changed, true);
  const s = h.status();
  assert.equal(s.state, 'online');
  assert.equal(s.since, new Date(T0).toISOString());
  assert.equal(s.lastSeen, new Date(T0).toISOString());
  assert.equal(s.clockOffsetMs, 100);
  assert.equal(s.reach?.ok, true);
  assert.equal(s.onvif?.ok, true);
});

test('offline after N failures in a row, with one alarm naming the reason; pending asks for confirmation', () => {
  const h = new CameraHealth('cam-1', rules);
  h.onReach(up, null, T0);
  let out = h.onReach(down, null, T0 + 30_000);
  assert.deepEqual(out.events, []);
  assert.equal(h.status().state, 'online');
  assert.equal(h.pending().reach, true);
  out = h.onReach(down, null, T0 + 30_200);
  assert.deepEqual(out.events, []);
  out = h.onReach(down, null, T0 + 30_400);
  assert.deepEqual(types(out.events), ['camera-offline']);
  assert.equal(out.events[0].severity, 'alarm');
  assert.match(out.events[0].message, /refused/);
  assert.equal((out.events[0].detail as { code: string }).code, 'refused');
  assert.equal(h.status().state, 'offline');
  assert.equal(h.status().reason, '127.0.0.9:80 refused the connection');
  assert.equal(h.pending().reach, false);
  // Staying offline: no more events, no status change.
  out = h.onReach(down, null, T0 + 60_000);
  assert.deepEqual(out.events, []);
  assert.equal(out.changed, false);
});

test('a single success between failures resets the count (no offline)', () => {
  const h = new CameraHealth('cam-1', rules);
  h.onReach(up, null, T0);
  h.onReach(down, null, T0 + 1);
  h.onReach(down, null, T0 + 2);
  h.onReach(up, null, T0 + 3);
  const out = h.onReach(down, null, T0 + 4);
  assert.deepEqual(out.events, []);
  assert.equal(h.status().state, 'online');
});

test('back online after M successes, with the downtime', () => {
  const h = new CameraHealth('cam-1', rules);
  h.onReach(up, null, T0);
  for (let i = 1; i <= 3; i++) h.onReach(down, null, T0 + i * 100);
  let out = h.onReach(up, null, T0 + 10_300);
  assert.deepEqual(out.events, []);
  assert.equal(h.pending().reach, true);
  out = h.onReach(up, null, T0 + 10_500);
  assert.deepEqual(types(out.events), ['camera-online']);
  assert.equal((out.events[0].detail as { downSec: number }).downSec, 10);
  assert.equal(h.status().state, 'online');
  assert.equal(h.status().reason, null);
});

test('a camera unreachable from the start raises an alarm', () => {
  const h = new CameraHealth('cam-1', rules);
  h.onReach(down, null, T0);
  h.onReach(down, null, T0 + 200);
  const out = h.onReach(down, null, T0 + 400);
  assert.deepEqual(types(out.events), ['camera-offline']);
});

test('a flapping camera emits a bounded number of events, then one event when stable', () => {
  const h = new CameraHealth('cam-1', rules);
  h.onReach(up, null, T0);
  const all: string[] = [];
  let t = T0;
  // 100 cycles of down (3 failures) / up (2 successes) within minutes.
  for (let cycle = 0; cycle < 100; cycle++) {
    for (let i = 0; i < 3; i++) all.push(...types(h.onReach(down, null, (t += 100)).events));
    for (let i = 0; i < 2; i++) all.push(...types(h.onReach(up, null, (t += 100)).events));
  }
  assert.ok(all.length <= rules.flapTransitions + 1, `got ${all.length} events: ${all.join(' ')}`);
  assert.ok(all.includes('camera-flapping'));
  assert.equal(h.status().flapping, true);
  // Ends online; stable for a whole window → flapping ends; the last announced state was offline or online.
  const out = h.onReach(up, null, t + rules.flapWindowMs + 1);
  assert.equal(h.status().flapping, false);
  assert.equal(out.events[0].type, 'camera-flapping');
  assert.equal((out.events[0].detail as { flapping: boolean }).flapping, false);
});

test('ONVIF not answering while TCP connects: degraded with a reason, onvif-fault once', () => {
  const h = new CameraHealth('cam-1', rules);
  h.onReach(up, clockAt(0), T0);
  const hung: ClockResult = {
    ok: false,
    offsetMs: null,
    latencyMs: null,
    error: { code: 'timeout', message: '127.0.0.9:80 accepted the connection but sent no answer within 3000 ms' },
  };
  const events: string[] = [];
  for (let i = 1; i <= 5; i++) events.push(...types(h.onReach(up, hung, T0 + i).events));
  assert.deepEqual(events, ['onvif-fault']);
  assert.equal(h.status().state, 'degraded');
  assert.match(h.status().reason ?? '', /ONVIF: .*no answer within 3000 ms/);
  h.onReach(up, clockAt(0), T0 + 10);
  const out = h.onReach(up, clockAt(0), T0 + 11);
  assert.deepEqual(types(out.events), ['onvif-ok']);
  assert.equal(h.status().state, 'online');
});

test('stream faults are debounced and reported per stream', () => {
  const h = new CameraHealth('cam-1', rules);
  h.onReach(up, null, T0);
  const ok = (stream: 'main' | 'sub'): StreamCheck => ({ ok: true, stream, codec: 'H264', width: 1920, height: 1080, latencyMs: 5 });
  const bad: StreamCheck = {
    ok: false,
    stream: 'main',
    codec: null,
    width: null,
    height: null,
    latencyMs: null,
    error: { code: 'auth', message: 'rtsp://127.0.0.9:554/main: login refused (401)' },
  };
  assert.deepEqual(h.onStreams([ok('main'), ok('sub')], T0 + 1).events, []);
  assert.equal(h.status().streams?.length, 2);
  h.onStreams([bad, ok('sub')], T0 + 2);
  assert.equal(h.pending().streams, true);
  h.onStreams([bad, ok('sub')], T0 + 3);
  const out = h.onStreams([bad, ok('sub')], T0 + 4);
  assert.deepEqual(types(out.events), ['stream-fault']);
  assert.equal(h.status().state, 'degraded');
  assert.match(h.status().reason ?? '', /main stream: .*401/);
  h.onStreams([ok('main'), ok('sub')], T0 + 5);
  assert.deepEqual(types(h.onStreams([ok('main'), ok('sub')], T0 + 6).events), ['stream-ok']);
  assert.equal(h.status().state, 'online');
});

test('with confirmProbes 1, picture faults are reported at the first probe, changes of the set too, and cleared once', () => {
  const h = new CameraHealth('cam-1', rules);
  h.onReach(up, null, T0);
  const pic = (faults: PictureResult['diagnosis'] extends infer D ? (D extends { faults: infer F } ? F : never) : never): PictureResult => ({
    ok: true,
    source: 'stream',
    diagnosis: fakeDiagnosis(faults, { black: 0, frozen: 0.9 }),
    thumbnail: Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
    frames: 6,
    latencyMs: 3200,
  });
  assert.deepEqual(h.onPicture(pic([]), T0 + 1).events, []);
  assert.equal(h.status().picture?.ok, true);
  let out = h.onPicture(pic(['frozen']), T0 + 2);
  assert.deepEqual(types(out.events), ['picture-fault']);
  assert.deepEqual((out.events[0].detail as { faults: string[] }).faults, ['frozen']);
  assert.equal(h.status().state, 'degraded');
  assert.equal(h.status().picture?.scores?.frozen, 0.9);
  assert.deepEqual(h.status().picture?.thumbnail, { bytes: 4, takenAt: new Date(T0 + 2).toISOString() });
  assert.deepEqual(h.onPicture(pic(['frozen']), T0 + 3).events, []);
  out = h.onPicture(pic(['frozen', 'blurred']), T0 + 4);
  assert.deepEqual((out.events[0].detail as { added: string[] }).added, ['blurred']);
  out = h.onPicture(pic([]), T0 + 5);
  assert.deepEqual(types(out.events), ['picture-ok']);
  assert.equal(h.status().state, 'online');
});

test("no picture at all is a no-picture fault with the reason; a missing ffmpeg is not the camera's fault", () => {
  const h = new CameraHealth('cam-1', rules);
  h.onReach(up, null, T0);
  const failed: PictureResult = {
    ok: false,
    source: 'snapshot',
    diagnosis: null,
    frames: 0,
    latencyMs: null,
    error: { code: 'too-large', message: 'snapshot of cam-1 is over 4194304 bytes' },
  };
  const out = h.onPicture(failed, T0 + 1);
  assert.deepEqual(types(out.events), ['picture-fault']);
  assert.deepEqual(h.status().picture?.faults, ['no-picture']);
  assert.equal(h.status().picture?.error?.code, 'too-large');
  assert.match(h.status().reason ?? '', /no picture: snapshot of cam-1 is over/);
  const h2 = new CameraHealth('cam-2', rules);
  h2.onReach(up, null, T0);
  const missing: PictureResult = {
    ok: false,
    source: null,
    diagnosis: null,
    frames: 0,
    latencyMs: null,
    error: { code: 'ffmpeg-missing', message: 'ffmpeg not found' },
  };
  assert.deepEqual(h2.onPicture(missing, T0 + 1), { events: [], changed: false });
  assert.equal(h2.status().picture, null);
  assert.equal(h2.status().state, 'online');
});

test('clock drift: one event beyond the limit, clock-ok when back under half', () => {
  const h = new CameraHealth('cam-1', rules);
  assert.deepEqual(types(h.onReach(up, clockAt(60_000), T0).events), ['clock-drift']);
  assert.equal(h.clockDrifting, true);
  assert.deepEqual(h.onReach(up, clockAt(61_000), T0 + 1).events, []);
  assert.deepEqual(h.onReach(up, clockAt(4000), T0 + 2).events, []); // under the limit, not under half
  assert.deepEqual(types(h.onReach(up, clockAt(-200), T0 + 3).events), ['clock-ok']);
  assert.equal(h.status().clockOffsetMs, -200);
});

test('a restored offline camera that is still down raises no second alarm', () => {
  const before = new CameraHealth('cam-1', rules);
  before.onReach(up, null, T0);
  for (let i = 1; i <= 3; i++) before.onReach(down, null, T0 + i);
  const saved = JSON.parse(JSON.stringify(before.status()));
  const after = new CameraHealth('cam-1', rules, saved);
  assert.equal(after.status().state, 'offline');
  const events: string[] = [];
  for (let i = 0; i < 5; i++) events.push(...types(after.onReach(down, null, T0 + 100 + i).events));
  assert.deepEqual(events, []);
  after.onReach(up, null, T0 + 200);
  assert.deepEqual(types(after.onReach(up, null, T0 + 201).events), ['camera-online']);
});

const picture = (faults: PictureFault[]): PictureResult => ({
  ok: true,
  source: 'stream',
  diagnosis: fakeDiagnosis(faults, { frozen: faults.includes('frozen') ? 0.99 : 0.1 }),
  thumbnail: Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
  frames: 6,
  latencyMs: 3000,
});
const noPicture: PictureResult = {
  ok: false,
  source: 'stream',
  diagnosis: null,
  frames: 0,
  latencyMs: null,
  error: { code: 'timeout', message: 'no frames within 15000 ms' },
};

test('persistence: a fault is reported only when confirmProbes probes in a row found it; until then the status keeps what was reported', () => {
  const h = new CameraHealth('cam-1', { ...rules, confirmProbes: 2 });
  h.onReach(up, null, T0);
  assert.deepEqual(h.onPicture(picture([]), T0 + 1).events, []);
  assert.equal(h.status().picture?.ok, true);
  assert.equal(h.pending().picture, false);
  // One probe: seen, not reported; the latest scores are shown, the confirming probe is asked for.
  let out = h.onPicture(picture(['frozen']), T0 + 2);
  assert.deepEqual(out.events, []);
  assert.equal(out.changed, true, 'the unconfirmed fault is news for the status');
  assert.deepEqual(h.status().picture?.faults, []);
  assert.equal(h.status().picture?.ok, true);
  assert.deepEqual(h.status().picture?.unconfirmed, ['frozen']);
  assert.equal(h.status().picture?.scores?.frozen, 0.99);
  assert.equal(h.status().state, 'online');
  assert.equal(h.pending().picture, true);
  // A probe without it: the count starts again (a truck passing close).
  out = h.onPicture(picture([]), T0 + 3);
  assert.deepEqual(out.events, []);
  assert.equal(h.status().picture?.unconfirmed, undefined);
  assert.equal(h.pending().picture, false);
  h.onPicture(picture(['frozen']), T0 + 4);
  // Two in a row: reported, one alarm.
  out = h.onPicture(picture(['frozen']), T0 + 5);
  assert.deepEqual(types(out.events), ['picture-fault']);
  assert.deepEqual((out.events[0].detail as { added: string[] }).added, ['frozen']);
  assert.deepEqual(h.status().picture?.faults, ['frozen']);
  assert.equal(h.status().picture?.unconfirmed, undefined);
  assert.equal(h.status().state, 'degraded');
  assert.equal(h.pending().picture, false);
  // A second fault waits for its own confirmation; the first stays reported meanwhile.
  out = h.onPicture(picture(['frozen', 'blurred']), T0 + 6);
  assert.deepEqual(out.events, []);
  assert.deepEqual(h.status().picture?.faults, ['frozen']);
  assert.deepEqual(h.status().picture?.unconfirmed, ['blurred']);
  out = h.onPicture(picture(['frozen', 'blurred']), T0 + 7);
  assert.deepEqual(types(out.events), ['picture-fault']);
  assert.deepEqual((out.events[0].detail as { added: string[] }).added, ['blurred']);
  // Cleared at the first probe without them: no confirming needed.
  out = h.onPicture(picture([]), T0 + 8);
  assert.deepEqual(types(out.events), ['picture-ok']);
  assert.deepEqual((out.events[0].detail as { cleared: string[] }).cleared, ['frozen', 'blurred']);
  assert.equal(h.status().state, 'online');
});

test('persistence: a camera whose first probes find a fault has no picture verdict until it is confirmed', () => {
  const h = new CameraHealth('cam-1', { ...rules, confirmProbes: 3 });
  h.onReach(up, null, T0);
  for (let i = 1; i <= 2; i++) {
    assert.deepEqual(h.onPicture(picture(['black']), T0 + i).events, []);
    assert.equal(h.status().picture, null, `no verdict after ${i} probes`);
    assert.equal(h.pending().picture, true);
    assert.equal(h.status().state, 'online');
  }
  assert.deepEqual(types(h.onPicture(picture(['black']), T0 + 3).events), ['picture-fault']);
  assert.deepEqual(h.status().picture?.faults, ['black']);
  assert.equal(h.status().picture?.ok, false);
});

test('persistence: no-picture is confirmed like any fault; until then it says nothing about the faults reported, once confirmed it replaces them', () => {
  const h = new CameraHealth('cam-1', { ...rules, confirmProbes: 2 });
  h.onReach(up, null, T0);
  h.onPicture(picture(['frozen']), T0 + 1);
  h.onPicture(picture(['frozen']), T0 + 2);
  assert.deepEqual(h.status().picture?.faults, ['frozen']);
  let out = h.onPicture(noPicture, T0 + 3);
  assert.deepEqual(out.events, []);
  assert.deepEqual(h.status().picture?.faults, ['frozen']);
  assert.deepEqual(h.status().picture?.unconfirmed, ['no-picture']);
  assert.equal(h.status().picture?.error?.code, 'timeout');
  assert.match(h.status().reason ?? '', /^picture frozen$/);
  assert.equal(h.pending().picture, true);
  // A picture again, still frozen: frozen never stopped being reported.
  assert.deepEqual(h.onPicture(picture(['frozen']), T0 + 4).events, []);
  h.onPicture(noPicture, T0 + 5);
  out = h.onPicture(noPicture, T0 + 6);
  assert.deepEqual(types(out.events), ['picture-fault']);
  assert.deepEqual(out.events[0].detail, {
    faults: ['no-picture'],
    added: ['no-picture'],
    cleared: ['frozen'],
    source: 'stream',
    code: 'timeout',
    error: 'no frames within 15000 ms',
  });
  assert.match(h.status().reason ?? '', /no picture: no frames within 15000 ms/);
  // The picture back and fine: cleared at once.
  assert.deepEqual(types(h.onPicture(picture([]), T0 + 7).events), ['picture-ok']);
  // Frozen again after the outage: counted from zero (the probes without a picture broke the row).
  assert.deepEqual(h.onPicture(picture(['frozen']), T0 + 8).events, []);
});

test('persistence: a fault reported before a restart stays reported while probes find it; unconfirmed ones start again', () => {
  const r2 = { ...rules, confirmProbes: 2 };
  const before = new CameraHealth('cam-1', r2);
  before.onReach(up, null, T0);
  before.onPicture(picture(['frozen']), T0 + 1);
  before.onPicture(picture(['frozen']), T0 + 2);
  before.onPicture(picture(['frozen', 'blurred']), T0 + 3);
  const saved = JSON.parse(JSON.stringify(before.status()));
  const after = new CameraHealth('cam-1', r2, saved);
  assert.equal(after.status().picture?.unconfirmed, undefined);
  after.onReach(up, null, T0 + 10);
  assert.deepEqual(after.onPicture(picture(['frozen', 'blurred']), T0 + 11).events, []);
  assert.deepEqual(after.status().picture?.faults, ['frozen']);
  assert.deepEqual(after.status().picture?.unconfirmed, ['blurred']);
});

test('the picture status names the reference in use: given, taken by a probe, cleared', () => {
  const h = new CameraHealth('cam-1', rules, null, undefined, { takenAt: '2026-01-01T00:00:00.000Z', origin: 'command' });
  h.onReach(up, null, T0);
  h.onPicture(picture([]), T0 + 1);
  assert.deepEqual(h.status().picture?.reference, { takenAt: '2026-01-01T00:00:00.000Z', origin: 'command' });
  const renewed = { takenAt: new Date(T0 + 2).toISOString(), origin: 'command' as const };
  assert.equal(h.onPicture(picture([]), T0 + 2, renewed).changed, true, 'a new reference is news');
  assert.deepEqual(h.status().picture?.reference, renewed);
  assert.equal(h.onPicture(picture([]), T0 + 3).changed, false, 'nothing moved');
  const out = h.onReference(null, T0 + 4);
  assert.deepEqual(out, { events: [], changed: true });
  assert.equal(h.status().picture?.reference, null);
});
