// The pure parts of the regions, cameras and camera pages: the cameras table's filters to and from
// the page's address and to the API's query, the sort a heading click asks for, the timeline's
// bands placed on the day's bar with its hour ticks, and which rows of the region tree show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFilter, apiPage, filtersFromQuery, filtersToQuery, NO_FILTERS, PAGE_SIZE, sortedBy } from '../../central/dashboard/src/cameras/filters';
import { hourTicks, placeBands } from '../../central/dashboard/src/camera/timeline-layout';
import { initiallyExpanded, shownRows, withChildren } from '../../central/dashboard/src/regions/tree';

test('cameras filters: an address gives the filters, the filters give the same address back; defaults stay out of it', () => {
  const query = {
    condition: 'fault',
    fault: 'black',
    class: '2',
    region: '浙江省/杭州市',
    site: 'yh-a',
    owner: '公安',
    text: 'cam',
    sort: 'name',
    order: 'desc',
    page: '3',
  };
  const f = filtersFromQuery(query);
  assert.deepEqual(f, {
    condition: 'fault',
    fault: 'black',
    class: '2',
    region: '浙江省/杭州市',
    site: 'yh-a',
    owner: '公安',
    text: 'cam',
    sort: 'name',
    order: 'desc',
    page: 2,
  });
  assert.deepEqual(filtersToQuery(f), query);
  assert.deepEqual(filtersToQuery(filtersFromQuery({})), {});
  assert.deepEqual(filtersFromQuery({}), {
    ...NO_FILTERS,
    condition: undefined,
    fault: undefined,
    class: undefined,
    region: undefined,
    site: undefined,
    owner: undefined,
    text: undefined,
  });
});

test('cameras filters: what the API would refuse is dropped from a hand-edited address; blanks are no filter', () => {
  const f = filtersFromQuery({ condition: 'sleeping', class: '7', sort: 'brightness', order: 'sideways', page: '-2', region: '  ', text: ['a', 'b'] });
  assert.equal(f.condition, undefined);
  assert.equal(f.class, undefined);
  assert.equal(f.sort, 'site');
  assert.equal(f.order, 'asc');
  assert.equal(f.page, 0);
  assert.equal(f.region, undefined);
  assert.equal(f.text, 'a', 'a repeated key: the first');
  assert.equal(filtersFromQuery({ page: '1.5' }).page, 0);
});

test('cameras filters: the API query has the filters and sort, a page adds limit and offset, the export has no paging', () => {
  const f = filtersFromQuery({ condition: 'offline', region: '浙江省', sort: 'statusAt', order: 'desc', page: '2' });
  assert.deepEqual(apiFilter(f), { condition: 'offline', region: '浙江省', sort: 'statusAt', order: 'desc' });
  assert.deepEqual(apiPage(f), { condition: 'offline', region: '浙江省', sort: 'statusAt', order: 'desc', limit: PAGE_SIZE, offset: PAGE_SIZE });
});

test('a click on a heading sorts by it ascending, a second click descending, and goes back to the first page', () => {
  const onPage3 = { ...NO_FILTERS, page: 2 };
  const byName = sortedBy(onPage3, 'name');
  assert.deepEqual([byName.sort, byName.order, byName.page], ['name', 'asc', 0]);
  const again = sortedBy(byName, 'name');
  assert.deepEqual([again.sort, again.order], ['name', 'desc']);
  assert.deepEqual([sortedBy(again, 'name').order, sortedBy(again, 'class').order], ['asc', 'asc']);
});

test('timeline: bands placed in percent of the day, clipped to it; nothing for an empty span', () => {
  const day = { from: '2026-12-06T16:00:00.000Z', to: '2026-12-07T16:00:00.000Z' };
  const placed = placeBands(
    [
      { from: '2026-12-06T15:00:00.000Z', to: '2026-12-06T22:00:00.000Z', state: 'uncounted', faults: [] },
      { from: '2026-12-06T22:00:00.000Z', to: '2026-12-07T04:00:00.000Z', state: 'fault', faults: ['black'] },
      { from: '2026-12-07T04:00:00.000Z', to: '2026-12-07T04:00:00.000Z', state: 'offline', faults: [] },
      { from: '2026-12-07T04:00:00.000Z', to: '2026-12-07T10:00:00.000Z', state: 'online', faults: [] },
    ],
    day.from,
    day.to,
  );
  assert.deepEqual(
    placed.map((b) => [b.state, b.left, b.width]),
    [
      ['uncounted', 0, 25],
      ['fault', 25, 25],
      ['online', 50, 25],
    ],
  );
  assert.deepEqual(placeBands([{ from: day.from, to: day.to, state: 'online', faults: [] }], day.to, day.from), []);
});

test('timeline: an hour tick every hour from 00:00 to 24:00', () => {
  const ticks = hourTicks('2026-12-06T16:00:00.000Z', '2026-12-07T16:00:00.000Z');
  assert.equal(ticks.length, 25);
  assert.deepEqual(ticks[0], { left: 0, label: '00:00' });
  assert.deepEqual(ticks[6], { left: 25, label: '06:00' });
  assert.deepEqual(ticks[24], { left: 100, label: '24:00' });
});

test('region tree: a row shows when every region above it is expanded; single regions open down to the first choice', () => {
  const rows = [
    { region: '浙江省', parent: null, depth: 1 },
    { region: '浙江省/杭州市', parent: '浙江省', depth: 2 },
    { region: '浙江省/杭州市/余杭区', parent: '浙江省/杭州市', depth: 3 },
    { region: '浙江省/杭州市/余杭区/仓前街道', parent: '浙江省/杭州市/余杭区', depth: 4 },
    { region: '浙江省/杭州市/西湖区', parent: '浙江省/杭州市', depth: 3 },
  ];
  const open = initiallyExpanded(rows);
  assert.deepEqual([...open], ['浙江省', '浙江省/杭州市']);
  assert.deepEqual(
    shownRows(rows, open).map((r) => r.region),
    ['浙江省', '浙江省/杭州市', '浙江省/杭州市/余杭区', '浙江省/杭州市/西湖区'],
  );
  assert.deepEqual(
    shownRows(rows, new Set([...open, '浙江省/杭州市/余杭区'])).map((r) => r.depth),
    [1, 2, 3, 4, 3],
  );
  assert.deepEqual(
    shownRows(rows, new Set(['浙江省/杭州市'])).map((r) => r.region),
    ['浙江省'],
    'a collapsed region hides everything below it',
  );
  assert.deepEqual([...withChildren(rows)].sort(), ['浙江省', '浙江省/杭州市', '浙江省/杭州市/余杭区']);
});
