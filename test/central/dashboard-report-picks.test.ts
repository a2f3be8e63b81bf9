// The reports page's pickers (central/dashboard/src/reports/picks.ts): ISO weeks as luxon (the
// library the central's periods use) numbers them, over six years of days and the years with a
// week 53; the defaults (yesterday, last week, last month) at the turns of a week, a month and a
// year; a picker holding something else is named with its notation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import { defaultPicks, firstOfMonth, isoWeekOf, mondayOfWeek, pickedDay, picksAround, picksOf } from '../../central/dashboard/src/reports/picks';

test('isoWeekOf and mondayOfWeek agree with luxon on every day of 2024–2029', () => {
  for (let d = DateTime.fromISO('2024-01-01', { zone: 'UTC' }); d.year < 2030; d = d.plus({ days: 1 })) {
    const day = d.toISODate()!;
    const week = `${d.weekYear}-W${String(d.weekNumber).padStart(2, '0')}`;
    assert.equal(isoWeekOf(day), week, day);
    assert.equal(mondayOfWeek(week), d.startOf('week').toISODate(), week);
  }
  assert.equal(isoWeekOf('2026-12-31'), '2026-W53', '2026 has 53 weeks');
  assert.equal(mondayOfWeek('2026-W53'), '2026-12-28');
  assert.equal(isoWeekOf('2027-01-03'), '2026-W53', 'a January Sunday can be in the year before');
  assert.equal(isoWeekOf('2024-12-30'), '2025-W01', 'a December Monday can be in the year after');
  assert.equal(mondayOfWeek('2025-W53'), undefined, '2025 has 52');
  assert.equal(mondayOfWeek('2025-W00'), undefined);
  assert.equal(mondayOfWeek('2025-49'), undefined);
});

test('defaultPicks: yesterday, the week before this one, the month before this one', () => {
  // Today Monday 2026-12-07: yesterday Sunday, last week 2026-W49 (11-30 .. 12-06), last month November.
  assert.deepEqual(defaultPicks('2026-12-06'), { day: '2026-12-06', week: '2026-W49', month: '2026-11' });
  // Today Sunday 2026-12-06: last week is still W48 (this week, W49, is not over).
  assert.deepEqual(defaultPicks('2026-12-05'), { day: '2026-12-05', week: '2026-W48', month: '2026-11' });
  // Today the first of a month: yesterday is in last month.
  assert.deepEqual(defaultPicks('2026-11-30'), { day: '2026-11-30', week: '2026-W48', month: '2026-11' });
  // Today 2027-01-01 (a Friday): last month is December, last week 2026-W52.
  assert.deepEqual(defaultPicks('2026-12-31'), { day: '2026-12-31', week: '2026-W52', month: '2026-12' });
  // Today 2024-03-01, after a leap day: last month is February.
  assert.deepEqual(defaultPicks('2024-02-29'), { day: '2024-02-29', week: '2024-W08', month: '2024-02' });
});

test('pickedDay sends one day of the pick; picksOf follows the period the API answered', () => {
  const picks = { day: '2026-12-06', week: '2026-W49', month: '2026-11' };
  assert.deepEqual(pickedDay('daily', picks), { day: '2026-12-06' });
  assert.deepEqual(pickedDay('weekly', picks), { day: '2026-11-30' });
  assert.deepEqual(pickedDay('monthly', picks), { day: '2026-11-01' });
  assert.deepEqual(pickedDay('weekly', { ...picks, week: ' 2026-w49 ' }), { day: '2026-11-30' }, 'typed by hand');
  assert.deepEqual(pickedDay('weekly', { ...picks, week: '49' }), { wrong: 'week', example: '2026-W49' });
  assert.deepEqual(pickedDay('monthly', { ...picks, month: '2026-13' }), { wrong: 'month', example: '2026-11' });
  assert.deepEqual(pickedDay('daily', { ...picks, day: '' }), { wrong: 'day', example: '2026-12-06' });
  assert.equal(firstOfMonth('2026-1'), undefined);
  assert.deepEqual(picksOf('weekly', '2026-11-30', picks), { ...picks, week: '2026-W49' });
  assert.deepEqual(picksOf('monthly', '2026-10-01', picks), { ...picks, month: '2026-10' });
  assert.deepEqual(picksOf('daily', '2026-12-01', picks), { ...picks, day: '2026-12-01' });
  assert.deepEqual(picksAround('2027-01-02'), { day: '2027-01-02', week: '2026-W53', month: '2027-01' });
});
