import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLabel } from '../../agent/labels/fields';
import { planImport, planSet, CameraState, ImportRow } from '../../agent/labels/validate';
import { formatRegion, parseRegion } from '../../agent/labels/region';
import type { CameraLabels } from '../../agent/inventory/types';

const empty: CameraLabels = { name: null, class: null, latitude: null, longitude: null, region: null, owner: null, notes: null, installDate: null };
const cams = (...list: Array<[string, Partial<CameraLabels>]>): CameraState[] => list.map(([id, l]) => ({ id, labels: { ...empty, ...l } }));

test('single values: coordinates, class, date, text', () => {
  assert.deepEqual(parseLabel('latitude', ' 30.2741 '), { ok: true, value: 30.2741 });
  assert.deepEqual(parseLabel('longitude', '-180'), { ok: true, value: -180 });
  assert.deepEqual(parseLabel('latitude', ''), { ok: true, value: null });
  for (const bad of ['90.0001', 'abc', '1e2', 'NaN', '30.5N', '30,5']) {
    const r = parseLabel('latitude', bad);
    assert.equal(r.ok, false, bad);
  }
  const comma = parseLabel('latitude', '30,27');
  assert.ok(!comma.ok && /decimal separator/.test(comma.problem));
  const dms = parseLabel('longitude', `120°9'18"E`);
  assert.ok(!dms.ok && /decimal degrees/.test(dms.problem));
  assert.deepEqual(parseLabel('class', '2'), { ok: true, value: 2 });
  const cls = parseLabel('class', '4');
  assert.ok(!cls.ok && /must be 1, 2 or 3/.test(cls.problem));
  assert.deepEqual(parseLabel('installDate', '2024/5/1'), { ok: true, value: '2024-05-01' });
  assert.equal(parseLabel('installDate', '2024-02-30').ok, false);
  assert.equal(parseLabel('installDate', '01.05.2024').ok, false);
  assert.equal(parseLabel('name', 'a\nb').ok, false);
  assert.deepEqual(parseLabel('notes', 'line 1\nline 2'), { ok: true, value: 'line 1\nline 2' });
  assert.deepEqual(parseLabel('region', '浙江省 / 杭州市 /西湖区/'), { ok: true, value: '浙江省/杭州市/西湖区' });
  assert.equal(parseLabel('region', 'a/b/c/d/e/f').ok, false);
});

test('region paths map to the five levels and back', () => {
  const r = parseRegion('浙江省/杭州市//转塘街道');
  assert.deepEqual(r.parts, { province: '浙江省', city: '杭州市', county: null, township: '转塘街道', village: null });
  assert.equal(formatRegion(r.parts), '浙江省/杭州市//转塘街道');
});

test('set: every bad flag is reported, with the flag and the fix', () => {
  const plan = planSet('cam-a', { latitude: '91', class: '0', installDate: 'tomorrow' }, cams(['cam-a', {}]));
  assert.equal(plan.problems.length, 3);
  assert.match(plan.problems.join('\n'), /--lat "91": must be a number from -90 to 90/);
  assert.match(plan.problems.join('\n'), /--class "0": must be 1, 2 or 3/);
  assert.match(plan.problems.join('\n'), /--install-date "tomorrow": must be a date as YYYY-MM-DD/);
});

test('set: latitude and longitude both or neither, considering what is stored', () => {
  assert.match(planSet('cam-a', { latitude: '30' }, cams(['cam-a', {}])).problems[0], /give longitude too, or clear both/);
  assert.equal(planSet('cam-a', { latitude: '31' }, cams(['cam-a', { latitude: 30, longitude: 120 }])).problems.length, 0);
  assert.equal(planSet('cam-a', { latitude: '', longitude: '' }, cams(['cam-a', { latitude: 30, longitude: 120 }])).problems.length, 0);
  assert.equal(planSet('cam-a', { latitude: '' }, cams(['cam-a', { latitude: 30, longitude: 120 }])).problems.length, 1);
});

test('set: names are unique and must not look like ids', () => {
  const all = cams(['cam-a', {}], ['cam-b', { name: 'Gate' }]);
  assert.match(planSet('cam-a', { name: 'Gate' }, all).problems[0], /already the name of camera cam-b/);
  assert.equal(planSet('cam-b', { name: 'Gate' }, all).problems.length, 0);
  assert.match(planSet('cam-a', { name: 'cam-0123456789' }, all).problems[0], /looks like a camera id/);
});

test('import: every bad row is listed by line, field and fix; nothing is planned', () => {
  const all = cams(['cam-a', {}], ['cam-b', { name: 'Existing' }], ['cam-c', {}]);
  const rows: ImportRow[] = [
    { line: 2, id: 'cam-a', values: { name: 'North', latitude: '95', longitude: '120' } },
    { line: 3, id: 'cam-x', values: { name: 'Ghost' } },
    { line: 4, id: 'cam-c', values: { name: 'North', class: '5' } },
    { line: 5, id: 'cam-a', values: { name: 'Again' } },
    { line: 6, id: '', values: {} },
    { line: 7, id: 'cam-b', values: { latitude: '30' } },
  ];
  const plan = planImport(rows, all);
  assert.deepEqual(plan.updates, []);
  const text = plan.problems.join('\n');
  assert.match(text, /line 2 \(camera cam-a\): latitude = "95": must be a number from -90 to 90/);
  assert.match(text, /line 3: id "cam-x": no such camera/);
  assert.match(text, /line 4 \(camera cam-c\): class = "5": must be 1, 2 or 3/);
  assert.match(text, /line 5: camera cam-a appears again \(first on line 2\)/);
  assert.match(text, /line 6: id is empty/);
  assert.match(text, /line 7 \(camera cam-b\): latitude and longitude go together/);
  // Sorted by line, so people can walk the file top to bottom.
  const lines = plan.problems.map((p) => Number(/^line (\d+)/.exec(p)![1]));
  assert.deepEqual(
    lines,
    [...lines].sort((a, b) => a - b),
  );
});

test('import: duplicate names inside one file and against the ledger', () => {
  const all = cams(['cam-a', {}], ['cam-b', {}], ['cam-c', { name: 'Taken' }]);
  const plan = planImport(
    [
      { line: 2, id: 'cam-a', values: { name: 'Same' } },
      { line: 3, id: 'cam-b', values: { name: 'Same' } },
    ],
    all,
  );
  assert.match(plan.problems.join('\n'), /line 2 \(camera cam-a\): name "Same" is also given to camera cam-b on line 3/);
  const clash = planImport([{ line: 2, id: 'cam-a', values: { name: 'Taken' } }], all);
  assert.match(clash.problems[0], /also given to camera cam-c \(not in this file/);
});

test('import: names can move between cameras in one file', () => {
  const all = cams(['cam-a', { name: 'One' }], ['cam-b', { name: 'Two' }]);
  const plan = planImport(
    [
      { line: 2, id: 'cam-a', values: { name: 'Two' } },
      { line: 3, id: 'cam-b', values: { name: 'One' } },
    ],
    all,
  );
  assert.deepEqual(plan.problems, []);
  assert.equal(plan.updates.length, 2);
});

test('import: absent columns leave labels alone, empty cells clear them', () => {
  const all = cams(['cam-a', { name: 'Keep', owner: 'police' }]);
  const plan = planImport([{ line: 2, id: 'cam-a', values: { owner: '' } }], all);
  assert.deepEqual(plan.updates, [{ id: 'cam-a', patch: { owner: null } }]);
});
