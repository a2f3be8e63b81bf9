// A simulated site's history (scripts/sim/history.ts), without sockets: every message contract-valid
// and historical, the same plan the same facts, incidents that clear, a bad day now and then,
// metrics through the whole span, and each camera ending as planned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePayload, type PayloadKind } from '../../contract';
import { siteHistory, isBadDay, type CameraEnd, type HistoryPlan } from '../../scripts/sim/history';
import { SimulatedSite, type SimCameraLabel, type TelemetryMessage } from '../../scripts/sim/telemetry';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 2026-11-08 00:00 in Asia/Shanghai. */
const FROM = Date.parse('2026-11-07T16:00:00Z');
const TO = FROM + 30 * DAY + 10 * HOUR;

const LABELS: SimCameraLabel[] = Array.from({ length: 8 }, (_, i) => ({
  camera: `cam-${i + 1}`,
  name: `路口${i + 1}`,
  class: ((i % 3) + 1) as 1 | 2 | 3,
  region: '浙江省/杭州市/萧山区/瓜沥镇',
  latitude: i === 7 ? null : 30.18 + i / 1000,
  longitude: i === 7 ? null : 120.47 + i / 1000,
}));

const ENDS: Record<string, CameraEnd> = {
  'cam-1': { state: 'online', picture: { ok: true } },
  'cam-2': { state: 'online', picture: { ok: true } },
  'cam-3': { state: 'online', picture: { ok: false, faults: ['black'] } },
  'cam-4': { state: 'offline' },
  'cam-5': { state: 'online' },
  'cam-6': { state: 'online', picture: { ok: true } },
  'cam-7': { state: 'online', picture: { ok: false, faults: ['frozen'] } },
  // cam-8 never reported a state: in the ledger only.
};

function plan(overrides: Partial<HistoryPlan> = {}): HistoryPlan {
  return { from: FROM, to: TO, seed: 7, metricsEveryMs: 150_000, ends: ENDS, ...overrides };
}

type Payload = { kind: string; observedAt: string; camera?: string; state?: string; picture?: { ok: boolean; faults: string[] } | null };

function payloads(messages: TelemetryMessage[]): Payload[] {
  return messages.map((m) => JSON.parse(m.payload) as Payload);
}

/** The facts of a history, without what is fresh each time (message ids, outbox sequences). */
function facts(messages: TelemetryMessage[]): string[] {
  return messages.map((m) => {
    const { messageId, seq, ...rest } = JSON.parse(m.payload) as Record<string, unknown>;
    assert.equal(typeof messageId, 'string');
    assert.equal(typeof seq, 'number');
    return `${m.topic} ${JSON.stringify(rest)}`;
  });
}

test('history: every message contract-valid, historical, not retained, inside the span, oldest first', () => {
  const messages = siteHistory(new SimulatedSite('guali', LABELS), plan());
  assert.ok(messages.length > 30 * 24 * 20, `metrics every 150 s for 30 days at least (${messages.length} messages)`);
  let previous = -Infinity;
  for (const m of messages) {
    const body = JSON.parse(m.payload) as { kind: PayloadKind; observedAt: string; historical?: boolean; site: string };
    const check = validatePayload(body.kind, body);
    assert.ok(check.ok, `${m.topic}: ${check.errors.join('; ')}`);
    assert.equal(body.historical, true, m.topic);
    assert.equal(body.site, 'guali');
    assert.equal(m.retain, false, m.topic);
    const at = Date.parse(body.observedAt);
    assert.ok(at >= FROM && at < TO, `${m.topic} at ${body.observedAt}`);
    assert.ok(at >= previous, 'oldest first');
    previous = at;
  }
  const ids = new Set(messages.map((m) => (JSON.parse(m.payload) as { messageId: string }).messageId));
  assert.equal(ids.size, messages.length, 'a fresh message id each');
});

test('history: the same plan gives the same facts; another seed, other ones', () => {
  const a = facts(siteHistory(new SimulatedSite('guali', LABELS), plan()));
  const b = facts(siteHistory(new SimulatedSite('guali', LABELS), plan()));
  assert.deepEqual(a, b);
  const c = facts(siteHistory(new SimulatedSite('guali', LABELS), plan({ seed: 8 })));
  assert.notDeepEqual(a, c);
});

test('history: every camera in the ledger from the start; metrics with no gap longer than asked', () => {
  const all = payloads(siteHistory(new SimulatedSite('guali', LABELS), plan()));
  const metas = all.filter((p) => p.kind === 'meta');
  assert.deepEqual(metas.map((p) => p.camera).sort(), LABELS.map((l) => l.camera).sort());
  for (const m of metas) assert.equal(Date.parse(m.observedAt), FROM);
  assert.equal(
    all.some((p) => p.kind === 'status' && p.camera === 'cam-8'),
    false,
    'a camera that never reported a state has none in its history',
  );
  const metrics = all.filter((p) => p.kind === 'metrics').map((p) => Date.parse(p.observedAt));
  assert.equal(metrics[0], FROM);
  assert.ok(TO - metrics[metrics.length - 1] <= 150_000, 'evidence up to the end');
  for (let i = 1; i < metrics.length; i++) assert.ok(metrics[i] - metrics[i - 1] <= 150_000);
});

test('history: each camera ends as planned; its incidents before then clear; outages and faults both happen', () => {
  const all = payloads(siteHistory(new SimulatedSite('guali', LABELS), plan()));
  let outages = 0;
  let faults = 0;
  for (const [camera, end] of Object.entries(ENDS)) {
    const statuses = all.filter((p) => p.kind === 'status' && p.camera === camera);
    const last = statuses[statuses.length - 1];
    assert.equal(last.state, end.state, `${camera} ends ${end.state}`);
    if (end.state === 'online') assert.deepEqual(last.picture?.ok, end.picture?.ok ?? true, `${camera}: its picture at the end`);
    if (end.picture?.ok === false) assert.deepEqual(last.picture?.faults, end.picture.faults);
    // Before the end state: every incident is followed by a clear (online, picture ok).
    const before = end.state === 'online' && end.picture?.ok !== false ? statuses : statuses.slice(0, -1);
    for (const [i, s] of before.entries()) {
      const bad = s.state === 'offline' || s.picture?.ok === false;
      if (!bad) continue;
      if (s.state === 'offline') outages++;
      else faults++;
      const next = before[i + 1];
      assert.ok(next && next.state === 'online' && next.picture?.ok === true, `${camera}: the incident at ${s.observedAt} clears`);
      const hours = (Date.parse(next.observedAt) - Date.parse(s.observedAt)) / HOUR;
      assert.ok(hours >= 2 && hours <= 9, `${camera}: an incident of a few hours (${hours} h)`);
    }
  }
  assert.ok(outages > 0 && faults > 0, `outages ${outages}, faults ${faults}`);
});

test('history: a bad day now and then takes many of a site’s cameras down at the same hours', () => {
  const badDays = Array.from({ length: 30 }, (_, d) => d).filter((d) => isBadDay(7, d));
  assert.ok(badDays.length >= 1 && badDays.length <= 10, `bad days of seed 7: ${badDays.join(', ')}`);
  const all = payloads(siteHistory(new SimulatedSite('guali', LABELS), plan()));
  const offlineOn = (d: number) =>
    new Set(
      all
        .filter((p) => p.kind === 'status' && p.state === 'offline')
        .filter((p) => Math.floor((Date.parse(p.observedAt) - FROM) / DAY) === d)
        .map((p) => p.observedAt),
    );
  const bad = badDays.filter((d) => d < 29).map(offlineOn);
  assert.ok(
    bad.some((starts) => starts.size === 1),
    'on a bad day the outages start together',
  );
});

test('history: none before its start; a bad interval refused', () => {
  assert.deepEqual(siteHistory(new SimulatedSite('guali', LABELS), plan({ to: FROM })), []);
  assert.throws(() => siteHistory(new SimulatedSite('guali', LABELS), plan({ metricsEveryMs: 0 })), /metricsEveryMs must be positive/);
});
