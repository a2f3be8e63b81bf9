// The folds a batch is written with (central/ingest/batch-sets.ts), without a database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evidenceChange, foldHourly, latestByKey, spanMoves, spansBySite, type HourlyRow } from '../../central/ingest/batch-sets';

test('latestByKey keeps each key’s latest item, the later of equal times', () => {
  const items = [
    { k: 'a', at: 5, n: 1 },
    { k: 'b', at: 3, n: 2 },
    { k: 'a', at: 2, n: 3 },
    { k: 'a', at: 5, n: 4 },
  ];
  const latest = latestByKey(
    items,
    (i) => i.k,
    (i) => i.at,
  );
  assert.deepEqual([...latest.values()].map((i) => i.n).sort(), [2, 4]);
});

test('a site’s span is written only when the batch widens it', () => {
  const spans = spansBySite([
    { site: 's', at: 20 },
    { site: 's', at: 10 },
    { site: 't', at: 7 },
  ]);
  assert.deepEqual(spans.get('s'), { first: 10, last: 20 });
  assert.equal(spanMoves(undefined, spans.get('t')!), true);
  assert.equal(spanMoves({ first_seen: 5, last_observed: 25 }, spans.get('s')!), false);
  assert.equal(spanMoves({ first_seen: 11, last_observed: 25 }, spans.get('s')!), true);
  assert.equal(spanMoves({ first_seen: 5, last_observed: 19 }, spans.get('s')!), true);
});

test('foldHourly counts the samples of an hour and keeps the worst of each known value', () => {
  const row = (hour: number, over: Partial<HourlyRow>): HourlyRow => ({
    site_id: 's',
    hour,
    samples: 1,
    load_avg_max: 1,
    cpu_percent_max: null,
    mem_free_min: 100,
    disk_free_percent_min: null,
    temperature_max: null,
    agent_rss_max: 10,
    outbox_depth_max: 0,
    outbox_dropped_max: 0,
    cameras_offline_max: null,
    ...over,
  });
  const folded = foldHourly([
    row(0, { load_avg_max: 3, disk_free_percent_min: 40 }),
    row(0, { mem_free_min: 50, disk_free_percent_min: null }),
    row(3_600_000, {}),
  ]);
  assert.equal(folded.length, 2);
  const first = folded.find((r) => r.hour === 0)!;
  assert.equal(first.samples, 2);
  assert.equal(first.load_avg_max, 3);
  assert.equal(first.mem_free_min, 50);
  assert.equal(first.disk_free_percent_min, 40, 'an unknown value does not hide a known one');
  assert.equal(first.cpu_percent_max, null);
});

test('evidenceChange merges what the batch’s intervals overlap and leaves covered ones alone', () => {
  const stored = [
    { start: 0, end: 10 },
    { start: 20, end: 30 },
    { start: 50, end: 60 },
  ];
  assert.deepEqual(evidenceChange(stored, [{ start: 2, end: 8 }]), { removed: [], inserted: [] });
  assert.deepEqual(evidenceChange(stored, [{ start: 8, end: 22 }]), {
    removed: [
      { start: 0, end: 10 },
      { start: 20, end: 30 },
    ],
    inserted: [{ start: 0, end: 30 }],
  });
  assert.deepEqual(
    evidenceChange(stored, [
      { start: 35, end: 40 },
      { start: 55, end: 70 },
    ]),
    {
      removed: [{ start: 50, end: 60 }],
      inserted: [
        { start: 35, end: 40 },
        { start: 50, end: 70 },
      ],
    },
  );
  assert.deepEqual(evidenceChange([], [{ start: 1, end: 2 }]), { removed: [], inserted: [{ start: 1, end: 2 }] });
});
