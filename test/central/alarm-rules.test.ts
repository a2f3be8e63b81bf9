// The alarm rule without a database: one (site, camera, kind)'s alarm periods after observations
// delivered in order, out of order, twice, replayed after an outage, flapping, and removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apply, decide, type KeyState, type Observation } from '../../central/alarms/rules';
import { observe, type ObserveOptions } from '../../central/alarms/observe';
import { ALARM_KINDS } from '../../central/alarms/rules';
import { statusPayload, type CameraStatus, type StatusPayload } from '../../contract';

const EMPTY: KeyState = { latest: null, periods: [] };

const fault = (at: number, extra: Partial<Observation> = {}): Observation => ({ at, fault: true, evidence: `fault@${at}`, ...extra });
const ok = (at: number, extra: Partial<Observation> = {}): Observation => ({ at, fault: false, evidence: `ok@${at}`, ...extra });

function run(observations: Observation[], start: KeyState = EMPTY): KeyState {
  return observations.reduce((s, o) => apply(s, o).state, start);
}

/** Periods as [openedAt, clearedAt or null]. */
function periods(s: KeyState): Array<[number, number | null]> {
  return s.periods.map((p) => [p.openedAt, p.clearedAt]);
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));
}

test('in order: a fault opens, more faults keep it open, an all-clear clears it at its observedAt', () => {
  const s = run([ok(5), fault(10), fault(20), ok(30)]);
  assert.deepEqual(periods(s), [[10, 30]]);
  assert.equal(s.periods[0].openedBy, 'fault@10');
  assert.equal(s.periods[0].clearedBy, 'ok@30');
  assert.equal(s.periods[0].lastFaultAt, 20);
  assert.equal(s.periods[0].historical, false);
});

test('recurrence: a fault after the clear opens a new alarm', () => {
  const s = run([fault(10), ok(20), fault(30)]);
  assert.deepEqual(periods(s), [
    [10, 20],
    [30, null],
  ]);
});

test('out of order: one fault run gives the same alarm whatever order its observations come in', () => {
  for (const order of permutations([fault(10), fault(20), fault(30), ok(40)])) {
    assert.deepEqual(periods(run(order)), [[10, 40]], `order ${order.map((o) => o.evidence).join(', ')}`);
  }
});

test('a status older than the one that decided neither clears nor reopens', () => {
  // Open since 10 (latest fault at 30): a late all-clear at 20 does not clear it.
  const open = run([fault(10), fault(30), ok(20)]);
  assert.deepEqual(periods(open), [[10, null]]);
  assert.equal(decide(run([fault(10), fault(30)]), ok(20)).action, 'ignore');
  // Cleared at 50: a late fault at 60 is newer and opens; a late one at 45 does not reopen.
  const cleared = run([fault(10), ok(50), fault(45)]);
  assert.deepEqual(periods(cleared), [[10, 50]]);
  assert.equal(cleared.periods[0].lastFaultAt, 45);
});

test('duplicates change nothing', () => {
  const once = run([fault(10), ok(20), fault(30)]);
  const twice = run([fault(10), fault(10), ok(20), ok(20), fault(30), fault(10), ok(20), fault(30)]);
  assert.deepEqual(twice, once);
});

test('a fault that opened and cleared during an outage, replayed later, is a cleared alarm with its real times', () => {
  // Live: the camera is fine now (1000). The backlog then brings a fault at 100 and its end at 200.
  const live = run([ok(1000)]);
  for (const backlog of permutations([fault(100, { historical: true }), fault(150, { historical: true }), ok(200, { historical: true })])) {
    const s = run(backlog, live);
    assert.deepEqual(periods(s), [[100, 200]], `order ${backlog.map((o) => o.evidence).join(', ')}`);
    assert.equal(s.periods[0].historical, true);
    assert.deepEqual([s.latest?.at, s.latest?.fault], [1000, false], 'the live decision stands');
  }
  // Two faults in the outage: two cleared alarms, none open.
  const two = run([fault(100), ok(200), fault(300), ok(400)], live);
  assert.deepEqual(periods(two), [
    [100, 200],
    [300, 400],
  ]);
  // The end not (yet) replayed: it ended at the latest all-clear known, and moves earlier when its end comes.
  const unended = run([fault(100)], live);
  assert.deepEqual(periods(unended), [[100, 1000]]);
  assert.deepEqual(periods(run([ok(200)], unended)), [[100, 200]]);
});

test('a late fault just before an open alarm is the same fault: the alarm started earlier', () => {
  assert.deepEqual(periods(run([fault(20), fault(10)])), [[10, null]]);
  // ... unless an all-clear is known between them: then it was a fault of its own, already over.
  assert.deepEqual(periods(run([ok(5), fault(20), ok(15), fault(10)])), [
    [10, 15],
    [20, null],
  ]);
});

test('a removal clears what is open, however late it comes, and late statuses do not reopen it', () => {
  const s = run([fault(10), fault(30), ok(20, { removal: true, evidence: 'camera removed' })]);
  assert.deepEqual(periods(s), [[10, 20]]);
  assert.equal(s.periods[0].clearedBy, 'camera removed');
  // A status from before the removal, delivered after it.
  const removed = run([fault(10), fault(15), ok(20, { removal: true, evidence: 'camera removed' })]);
  assert.deepEqual(periods(run([fault(12), fault(18)], removed)), [[10, 20]]);
  // Announced again, a camera's new fault opens a new alarm.
  assert.deepEqual(periods(run([fault(40)], s)), [
    [10, 20],
    [40, null],
  ]);
});

const OPTIONS: ObserveOptions = { kinds: new Set(ALARM_KINDS), diskLowPercent: 10 };

function status(at: number, s: Partial<CameraStatus>): StatusPayload {
  return {
    ...statusPayload('s1', { camera: 'c1', state: 'online', since: null, lastSeen: null, clockOffsetMs: null, picture: null, ...s }, at),
    seq: 1,
  };
}

function cameraOffline(at: number, s: Partial<CameraStatus>): Observation {
  const found = observe({ kind: 'status', site: 's1', camera: 'c1', payload: status(at, s) }, OPTIONS).find((o) => o.kind === 'camera-offline');
  assert.ok(found, 'a camera-offline observation');
  return found.observation;
}

test('flapping: a camera that keeps going up and down is one offline alarm until it is stable again', () => {
  const statuses: Observation[] = [cameraOffline(10, { state: 'offline' })];
  for (let i = 1; i <= 10; i++) statuses.push(cameraOffline(10 + i * 10, { state: i % 2 ? 'online' : 'offline', flapping: true }));
  statuses.push(cameraOffline(200, { state: 'online', flapping: false }));
  assert.deepEqual(periods(run(statuses)), [[10, 200]]);
  assert.match(run(statuses).periods[0].clearedBy ?? '', /status online/);
});

test('a status says what it can: an offline camera leaves its picture and stream alarms as they are', () => {
  const kinds = (s: Partial<CameraStatus>) =>
    observe({ kind: 'status', site: 's1', camera: 'c1', payload: status(10, s) }, OPTIONS).map((o) => `${o.kind}:${o.observation.fault ? 'fault' : 'ok'}`);
  assert.deepEqual(kinds({ state: 'offline' }), ['camera-offline:fault', 'site-offline:ok']);
  assert.deepEqual(
    kinds({
      state: 'degraded',
      picture: { ok: false, faults: ['frozen'], checkedAt: new Date(10).toISOString() },
      streams: [
        { stream: 'main', ok: true, latencyMs: 5, checkedAt: new Date(10).toISOString(), codec: 'H264', width: 1920, height: 1080 },
        {
          stream: 'sub',
          ok: false,
          latencyMs: null,
          checkedAt: new Date(10).toISOString(),
          codec: null,
          width: null,
          height: null,
          error: { code: 'timeout', message: 'no answer' },
        },
      ],
    }),
    ['camera-offline:ok', 'picture-fault:fault', 'stream-fault:fault', 'site-offline:ok'],
  );
  // No picture at all is not a picture fault (the stream or the camera says why).
  assert.deepEqual(kinds({ state: 'degraded', picture: { ok: false, faults: ['no-picture'], checkedAt: new Date(10).toISOString() } }), [
    'camera-offline:ok',
    'picture-fault:ok',
    'site-offline:ok',
  ]);
  assert.deepEqual(kinds({ state: 'unknown' }), ['site-offline:ok']);
  // Kinds switched off give nothing.
  const only = observe({ kind: 'status', site: 's1', camera: 'c1', payload: status(10, { state: 'offline' }) }, { ...OPTIONS, kinds: new Set() });
  assert.deepEqual(only, []);
});
