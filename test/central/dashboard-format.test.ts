// The dashboard's number formats (central/dashboard/src/format.ts) that the reports page uses: a
// change in points and a duration are written exactly as the reports' own text formats write them
// (central/reports/labels.ts; the dashboard cannot import that file, which needs luxon), so the
// page and its CSV say the same; percent with its decimals; a signed count; a list in each language.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countDelta, duration, listed, percent, points } from '../../central/dashboard/src/format';
import { countDeltaText, durationText, percentText, pointsText } from '../../central/reports/labels';

test('points, duration and percent(…, 2) write what the reports write', () => {
  const changes = [0, 1.25, -4.17, 0.004, -0.004, 0.005, -0.005, 12.345, -99.999, 100, 1 / 3, -2 / 3];
  for (const p of changes) assert.equal(points(p), pointsText(p), `points ${p}`);
  for (let i = 0; i < 500; i++) {
    const p = Math.round((Math.sin(i) * 200 + Math.cos(i * 7)) * 1000) / 1000;
    assert.equal(points(p), pointsText(p), `points ${p}`);
  }
  for (const s of [0, 1, 59, 60, 3599, 3600, 86_399, 93_600, 1_000_000, 0.4, 0.6, -5]) assert.equal(duration(s), durationText(s), `duration ${s}`);
  for (const r of [0, 1, 0.9792, 0.5, 1 / 3, 0.99995, 0.123456]) assert.equal(percent(r, 2), percentText(r), `percent ${r}`);
  for (const d of [0, 2, -1, 40]) assert.equal(countDelta(d), countDeltaText(d), `count ${d}`);
});

test('what is missing reads as a dash; percent has one decimal unless asked; lists in each language', () => {
  assert.equal(points(null), '—');
  assert.equal(countDelta(undefined), '—');
  assert.equal(percent(null, 2), '—');
  assert.equal(percent(0.9792), '97.9%');
  assert.equal(points(0.004), '0.00', 'a change that rounds to nothing has no sign');
  assert.equal(duration(93_600), '26:00:00', 'hours past a day stay hours');
  assert.equal(listed(['在线率', '完好率'], 'zh'), '在线率、完好率');
  assert.equal(listed(['online rate', 'intact rate'], 'en'), 'online rate, intact rate');
  assert.equal(listed([], 'zh'), '');
});
