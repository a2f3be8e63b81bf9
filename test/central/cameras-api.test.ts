// GET /api/cameras on SQLite and PostgreSQL: the condition filter (what a camera needs now) gives
// exactly the cameras whose condition it names; sorting orders by the column with empty values
// last either way and ties by site and camera; csv and xlsx carry every camera of the filter (more
// than a page), with the bilingual headings, a byte-order mark and formula-looking text escaped,
// within the caller's scope; a removed camera is unknown to the filters as to the list; a camera's
// timeline comes with its bands and takes today as the central's day; bad parameters are refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Workbook } from 'exceljs';
import { request as httpRequest } from 'node:http';
import { parse } from 'csv-parse/sync';
import { createUser } from '../../central/auth/users';
import { CAMERA_HEADINGS } from '../../central/ledger/camera-export';
import { dayBounds, dayOf } from '../../central/figures/days';
import { systemClock } from '../../lib/clock';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { SimulatedSite, type SimCameraLabel } from '../../scripts/sim/telemetry';
import { publisher, startTestCentral, type TestCentral } from '../kit/central';
import type { ApiClient } from '../kit/api';
import { testDatabase } from '../kit/postgres';
import { waitFor } from '../kit/wait';

interface Camera {
  site: string;
  camera: string;
  name: string | null;
  class: number | null;
  owner: string | null;
  condition: string;
  statusAt: string | null;
}
interface CameraList {
  total: number;
  items: Camera[];
}

const YUHANG = '浙江省/杭州市/余杭区/仓前街道';
const XIHU = '浙江省/杭州市/西湖区/留下街道';
/** Cameras a site: the two sites hold more than the default page of 100. */
const PER_SITE = 60;

function labels(region: string): SimCameraLabel[] {
  return Array.from({ length: PER_SITE }, (_, i) => ({
    camera: `cam-${String(i).padStart(3, '0')}`,
    name: i === 7 ? '=HYPERLINK("http://x")' : `point ${String(i).padStart(3, '0')}`,
    class: i % 5 === 4 ? undefined : (((i % 3) + 1) as 1 | 2 | 3),
    region,
    owner: i % 3 === 0 ? undefined : i % 3 === 1 ? 'police' : 'civic',
  }));
}

/** i % 4: offline, online with a black picture, online and intact, never reported (unknown). */
function statuses(now: number, sim: SimulatedSite) {
  const out = [];
  for (const [i, c] of sim.cameras.entries()) {
    if (i % 4 === 0) out.push(sim.status(c.camera, 'offline', now - 1000 * i));
    if (i % 4 === 1) out.push(sim.status(c.camera, 'online', now - 1000 * i, { ok: false, faults: ['black'] }));
    if (i % 4 === 2) out.push(sim.status(c.camera, 'online', now - 1000 * i, { ok: true }));
  }
  return out;
}

function fetchRaw(
  client: ApiClient,
  url: string,
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), { headers: client.options.cookie ? { cookie: client.options.cookie } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The rows of a CSV answer, after its byte-order mark. */
function csvRows(body: Buffer): string[][] {
  const rows: string[][] = parse(body.toString('utf8').slice(1));
  return rows;
}

const ids = (items: Camera[]) => items.map((c) => `${c.site}/${c.camera}`);

async function feed(central: TestCentral, brokerUrl: string, t: Parameters<typeof publisher>[0]): Promise<void> {
  const pub = await publisher(t, brokerUrl);
  const now = Date.now();
  let sent = 0;
  for (const [site, region] of [
    ['yh-a', YUHANG],
    ['xh-b', XIHU],
  ] as const) {
    const sim = new SimulatedSite(site, labels(region));
    const messages = [...sim.connect(now - 120_000), ...statuses(now, sim)];
    await pub.send(messages);
    sent += messages.length;
  }
  await waitFor(
    () => {
      const st = central.ingest!.stats();
      return st.written + st.duplicates + st.refused >= sent && st.queued === 0;
    },
    `${sent} messages taken in`,
    30_000,
  );
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`${dialect}: /api/cameras filters by condition, sorts with empty values last, exports every camera of the filter as csv and xlsx`, async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const central = await startTestCentral(t, { brokerUrl: broker.url, ...(dialect === 'postgres' ? { db: await testDatabase(t) } : {}) });
    await waitFor(() => central.ingest!.stats().connected, 'central connected');
    await feed(central, broker.url, t);
    const all = (await central.get<CameraList>('/api/cameras?limit=5000')).body;
    assert.equal(all.total, 2 * PER_SITE);

    // Each condition: exactly the cameras the list says have it, and made to have it.
    for (const condition of ['offline', 'fault', 'unknown', 'online']) {
      const page = await central.get<CameraList>(`/api/cameras?condition=${condition}&limit=5000`);
      assert.equal(page.status, 200);
      assert.deepEqual(ids(page.body.items), ids(all.items.filter((c) => c.condition === condition)), condition);
      assert.equal(page.body.total, PER_SITE / 2, `${condition}: a quarter of the cameras`);
    }
    const faultyYuhang = await central.get<CameraList>(`/api/cameras?condition=fault&region=${encodeURIComponent(YUHANG)}&fault=black`);
    assert.deepEqual(ids(faultyYuhang.body.items), ids(all.items.filter((c) => c.condition === 'fault' && c.site === 'yh-a')));

    // Sorting: by class, empty last either way, ties by site then camera.
    const bySiteCamera = (a: Camera, b: Camera) => (a.site < b.site ? -1 : a.site > b.site ? 1 : a.camera < b.camera ? -1 : a.camera > b.camera ? 1 : 0);
    for (const order of ['asc', 'desc'] as const) {
      const sorted = (await central.get<CameraList>(`/api/cameras?sort=class&order=${order}&limit=5000`)).body.items;
      const expected = [...all.items].sort((a, b) => {
        if (a.class === null || b.class === null) return (a.class === null ? 1 : 0) - (b.class === null ? 1 : 0) || bySiteCamera(a, b);
        return (order === 'asc' ? a.class - b.class : b.class - a.class) || bySiteCamera(a, b);
      });
      assert.deepEqual(ids(sorted), ids(expected), `class ${order}`);
      assert.equal(sorted.at(-1)!.class, null, 'unclassified last');
      const byStatusAt = (await central.get<CameraList>(`/api/cameras?sort=statusAt&order=${order}&limit=5000`)).body.items;
      const times = byStatusAt.filter((c) => c.statusAt !== null).map((c) => Date.parse(c.statusAt!));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => (order === 'asc' ? a - b : b - a)),
      );
      assert.ok(
        byStatusAt.slice(times.length).every((c) => c.statusAt === null),
        'never reported: last',
      );
    }
    const owners = (await central.get<CameraList>('/api/cameras?sort=owner&order=desc&limit=5000')).body.items.map((c) => c.owner);
    assert.deepEqual(owners, [...Array(40).fill('police'), ...Array(40).fill('civic'), ...Array(40).fill(null)]);
    const paged = (await central.get<CameraList>('/api/cameras?sort=name&order=desc&limit=10&offset=5')).body;
    const nameDesc = (await central.get<CameraList>('/api/cameras?sort=name&order=desc&limit=5000')).body.items;
    assert.deepEqual(ids(paged.items), ids(nameDesc.slice(5, 15)), 'a page is a slice of the sorted list');

    // CSV: every camera of the filter (more than a page), in the filter's order.
    const csv = await fetchRaw(central.as!, central.url, '/api/cameras?format=csv&sort=name');
    assert.equal(csv.status, 200);
    assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
    assert.match(String(csv.headers['content-disposition']), /^attachment; filename="cameras_\d{4}-\d{2}-\d{2}\.csv"; filename\*=UTF-8''%E6%91%84/);
    assert.deepEqual([...csv.body.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a byte-order mark');
    const rows = csvRows(csv.body);
    assert.deepEqual(rows[0], [...CAMERA_HEADINGS]);
    assert.equal(rows[0][0], '站点 site');
    const byName = (await central.get<CameraList>('/api/cameras?sort=name&limit=5000')).body.items;
    assert.deepEqual(
      rows.slice(1).map((r) => `${r[0]}/${r[1]}`),
      ids(byName),
    );
    const formula = rows.find((r) => r[1] === 'cam-007')!;
    assert.equal(formula[2], '\'=HYPERLINK("http://x")', 'a formula-looking name is escaped');
    const offline = rows.find((r) => r[0] === 'yh-a' && r[1] === 'cam-000')!;
    assert.equal(offline[CAMERA_HEADINGS.indexOf('状态 condition')], '离线');
    const black = rows.find((r) => r[0] === 'yh-a' && r[1] === 'cam-001')!;
    assert.equal(black[CAMERA_HEADINGS.indexOf('画面故障 faults')], '黑屏');
    const filteredCsv = await fetchRaw(central.as!, central.url, `/api/cameras?format=csv&condition=offline&region=${encodeURIComponent(XIHU)}`);
    const filteredRows = csvRows(filteredCsv.body).slice(1);
    assert.deepEqual(
      filteredRows.map((r) => `${r[0]}/${r[1]}`),
      ids(all.items.filter((c) => c.site === 'xh-b' && c.condition === 'offline')),
    );

    // XLSX: the same rows, read back.
    const xlsx = await fetchRaw(central.as!, central.url, '/api/cameras?format=xlsx&condition=fault');
    assert.equal(xlsx.status, 200);
    assert.equal(xlsx.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const book = new Workbook();
    await book.xlsx.load(xlsx.body as unknown as ArrayBuffer);
    const sheet = book.getWorksheet('摄像机 Cameras')!;
    assert.deepEqual((sheet.getRow(1).values as unknown[]).slice(1), [...CAMERA_HEADINGS]);
    const sheetIds: string[] = [];
    sheet.eachRow((row, n) => {
      if (n > 1) sheetIds.push(`${row.getCell(1).text}/${row.getCell(2).text}`);
    });
    assert.deepEqual(sheetIds, ids(all.items.filter((c) => c.condition === 'fault')));

    // A county user's export holds its county only.
    await createUser(central.db.db, systemClock, { username: 'yh-user', role: 'viewer', scope: '浙江省/杭州市/余杭区', password: 'yh-user-pass-1' });
    const county = await central.login('yh-user', 'yh-user-pass-1');
    const countyCsv = await fetchRaw(county, central.url, '/api/cameras?format=csv');
    const countyRows = csvRows(countyCsv.body).slice(1);
    assert.equal(countyRows.length, PER_SITE);
    assert.ok(countyRows.every((r) => r[0] === 'yh-a'));

    // The timeline's bands: the last 24 h tiled, not counted before its first meta, offline since its status.
    const timeline = await central.get<{ from: string; points: Array<{ at: string }>; bands: Array<{ from: string; to: string; state: string }> }>(
      '/api/cameras/yh-a/cam-004/timeline',
    );
    assert.equal(timeline.status, 200);
    const bands = timeline.body.bands;
    assert.equal(bands[0].from, timeline.body.from);
    assert.equal(bands[0].state, 'uncounted');
    for (let i = 1; i < bands.length; i++) assert.equal(bands[i].from, bands[i - 1].to);
    assert.deepEqual({ state: bands.at(-1)!.state, from: bands.at(-1)!.from }, { state: 'offline', from: timeline.body.points.at(-1)!.at });

    // A removed camera (with removed=true) is unknown, whatever its last status said: the filters say so too.
    const pub = await publisher(t, broker.url);
    await pub.send(new SimulatedSite('yh-a', labels(YUHANG)).metaCleared('cam-000'));
    await waitFor(async () => (await central.get<CameraList>('/api/cameras?site=yh-a')).body.total === PER_SITE - 1, 'cam-000 removed');
    const removed = (await central.get<CameraList>('/api/cameras?site=yh-a&removed=true&limit=5000')).body.items.find((c) => c.camera === 'cam-000')!;
    assert.equal(removed.condition, 'unknown');
    const withRemoved = (condition: string, state: string) =>
      Promise.all([
        central.get<CameraList>(`/api/cameras?site=yh-a&removed=true&condition=${condition}&limit=5000`),
        central.get<CameraList>(`/api/cameras?site=yh-a&removed=true&state=${state}&limit=5000`),
      ]).then((pages) => pages.map((p) => p.body.items.some((c) => c.camera === 'cam-000')));
    assert.deepEqual(await withRemoved('unknown', 'unknown'), [true, true]);
    assert.deepEqual(await withRemoved('offline', 'offline'), [false, false]);

    // today: the central's local day, whatever the caller's time zone.
    const today = dayOf(Date.now(), central.config.timezone);
    const byToday = await central.get<{ from: string; to: string }>('/api/cameras/yh-a/cam-004/timeline?from=today&to=today');
    assert.equal(byToday.status, 200);
    assert.deepEqual(byToday.body.from, new Date(dayBounds(today, central.config.timezone).start).toISOString());
    assert.deepEqual(byToday.body.to, new Date(dayBounds(today, central.config.timezone).end).toISOString());
    const notADay = await central.get<{ message: string }>('/api/cameras/yh-a/cam-004/timeline?from=yesterday');
    assert.equal(notADay.status, 400);
    assert.match(notADay.body.message, /querystring from: "yesterday" is neither .* nor today/);

    for (const [query, named] of [
      ['sort=brightness', /querystring sort: .*use one of/],
      ['condition=broken', /querystring condition: .*use one of/],
      ['format=pdf', /querystring format: .*use one of/],
      ['order=up', /querystring order: .*use one of/],
    ] as const) {
      const refused = await central.get<{ error: string; message: string }>(`/api/cameras?${query}`);
      assert.equal(refused.status, 400, query);
      assert.match(refused.body.message, named, query);
    }
  });
}
