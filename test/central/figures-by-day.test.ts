// groupBy=day through the whole central: three simulated days taken in over Mosquitto, measured,
// and each day's group of one request compared with what a request for that day alone answers
// (all cameras, a region, a class, a county viewer's scope), on SQLite and on PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUser } from '../../central/auth/users';
import { systemClock } from '../../lib/clock';
import type { ApiClient } from '../kit/api';
import { testDatabase } from '../kit/postgres';
import { D1, D2, D3, filledCentral, LIANGZHU, LINPING, NOW, YUHANG } from '../kit/report-days';
import type { TestContext } from '../kit/temp';

interface Answer {
  period: { from: string; to: string };
  daysMissing: string[];
  total: Record<string, unknown> & { cameras: number };
  groups: Array<{ key: string; figure: Record<string, unknown> & { cameras: number } }>;
}

const BEFORE = '2026-11-21';

async function get(client: ApiClient, path: string): Promise<Answer> {
  const res = await client.get<Answer>(path);
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The by-day answer for `filter` against one request per day and one for the whole range. */
async function sameAsEachDay(client: ApiClient, filter: string): Promise<Answer> {
  const byDay = await get(client, `/api/figures?from=${BEFORE}&to=${D3}&groupBy=day${filter}`);
  assert.deepEqual(byDay.daysMissing, [BEFORE], 'the day before the first camera has no figures');
  assert.deepEqual(
    byDay.groups.map((g) => g.key),
    [D1, D2, D3],
    `${filter}: one group per measured day, in order`,
  );
  for (const g of byDay.groups) {
    const alone = await get(client, `/api/figures?from=${g.key}&to=${g.key}${filter}`);
    assert.deepEqual(g.figure, alone.total, `${filter}: ${g.key} as asked alone`);
  }
  const whole = await get(client, `/api/figures?from=${BEFORE}&to=${D3}${filter}`);
  assert.deepEqual(byDay.total, whole.total, `${filter}: the total is the range's`);
  return byDay;
}

async function byDay(t: TestContext, db?: string): Promise<void> {
  const central = await filledCentral(t, db);
  const as = central.as as ApiClient;
  const all = await sameAsEachDay(as, '');
  assert.deepEqual(
    all.groups.map((g) => g.figure.cameras),
    [5, 5, 5],
    'five cameras every day',
  );
  // The days differ (D2 had the outages), so a day's group is not the range pooled again.
  assert.notDeepEqual(all.groups[0].figure, all.groups[1].figure);
  const liangzhu = await sameAsEachDay(as, `&region=${encodeURIComponent(LIANGZHU)}`);
  assert.deepEqual(
    liangzhu.groups.map((g) => g.figure.cameras),
    [2, 2, 2],
  );
  await sameAsEachDay(as, `&region=${encodeURIComponent(YUHANG)}&class=1`);
  await sameAsEachDay(as, '&site=liangzhu');

  await createUser(
    central.db.db,
    { ...systemClock, now: () => NOW },
    { username: 'linping-viewer', role: 'viewer', scope: LINPING, password: 'linping-pass-2026' },
  );
  const county = await central.login('linping-viewer', 'linping-pass-2026');
  const scoped = await sameAsEachDay(county, '');
  assert.deepEqual(
    scoped.groups.map((g) => g.figure.cameras),
    [1, 1, 1],
    'a county viewer sees its own camera only',
  );

  const refused = await as.get<{ message: string }>(`/api/figures?groupBy=days`);
  assert.equal(refused.status, 400);
  assert.match(refused.body.message, /groupBy/);
}

test('figures by day: each day as asked alone, SQLite', async (t) => {
  await byDay(t);
});

test('figures by day: each day as asked alone, PostgreSQL', async (t) => {
  await byDay(t, await testDatabase(t));
});
