// What the dashboard's Users page shows of logins: each user's last successful login
// (lastLoginAt in GET /api/users, null until the first; a wrong password leaves it), and the
// recent failed logins through GET /api/audit's outcome filter (action=login&outcome=failed):
// only those records come, paging keeps the filter, a county admin sees its own county's
// failures only, and an outcome the log does not know is a 400 that names the parameter. On
// SQLite and on the real PostgreSQL server (the column comes from migration 0009).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUser } from '../../central/auth/users';
import { clockReading } from '../kit/clock';
import { startTestCentral } from '../kit/central';
import { testDatabase } from '../kit/postgres';

const NO_BROKER = 'mqtt://127.0.0.1:9';
const T0 = Date.parse('2026-12-07T08:00:00Z');
const YUHANG = '浙江省/杭州市/余杭区';
const XIHU = '浙江省/杭州市/西湖区';

interface Entry {
  actor: string;
  action: string;
  outcome: string;
  detail: { reason?: string };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`${dialect}: users' last logins; /api/audit?action=login&outcome=failed lists the wrong passwords, newest first, within the reader's scope`, async (t) => {
    let now = T0;
    const clock = clockReading(() => now);
    const central = await startTestCentral(t, {
      brokerUrl: NO_BROKER,
      db: dialect === 'postgres' ? await testDatabase(t) : undefined,
      deps: { ingest: false, clock },
    });
    await createUser(central.db.db, clock, { username: 'yh-op', role: 'operator', scope: YUHANG, password: 'yh-op-password-1' });
    await createUser(central.db.db, clock, { username: 'xh-op', role: 'operator', scope: XIHU, password: 'xh-op-password-1' });
    await createUser(central.db.db, clock, { username: 'yh-admin', role: 'admin', scope: YUHANG, password: 'yh-admin-password-1' });
    const login = (username: string, password: string) => central.client().request('POST', '/api/login', { username, password });

    now += 1000;
    assert.equal((await login('yh-op', 'wrong-1')).status, 401);
    now += 1000;
    assert.equal((await login('xh-op', 'wrong-2')).status, 401);
    now += 1000;
    assert.equal((await login('yh-op', 'yh-op-password-1')).status, 200);
    now += 1000;
    assert.equal((await login('nobody', 'wrong-3')).status, 401);

    const failed = await central.get<{ items: Entry[]; next: string | null }>('/api/audit?action=login&outcome=failed');
    assert.equal(failed.status, 200);
    assert.deepEqual(
      failed.body.items.map((e) => [e.actor, e.action, e.outcome, e.detail.reason]),
      [
        ['nobody', 'login', 'failed', 'unknown-user'],
        ['xh-op', 'login', 'failed', 'wrong-password'],
        ['yh-op', 'login', 'failed', 'wrong-password'],
      ],
    );
    const all = await central.get<{ items: Entry[] }>('/api/audit?action=login');
    assert.ok(
      all.body.items.some((e) => e.outcome === 'ok'),
      'without the filter the successful logins come too',
    );

    const first = await central.get<{ items: Entry[]; next: string | null }>('/api/audit?action=login&outcome=failed&limit=2');
    assert.equal(first.body.items.length, 2);
    const rest = await central.get<{ items: Entry[] }>(`/api/audit?action=login&outcome=failed&limit=2&cursor=${encodeURIComponent(first.body.next!)}`);
    assert.deepEqual(
      rest.body.items.map((e) => e.actor),
      ['yh-op'],
      'the next page keeps the filter',
    );

    const county = await central.login('yh-admin', 'yh-admin-password-1');
    const own = await county.get<{ items: Entry[] }>('/api/audit?action=login&outcome=failed');
    assert.deepEqual(
      own.body.items.map((e) => e.actor),
      ['yh-op'],
      "a county admin sees its county's failures, not another county's nor an unknown name's",
    );

    const users = await central.get<Array<{ username: string; lastLoginAt: string | null }>>('/api/users');
    const last = Object.fromEntries(users.body.map((u) => [u.username, u.lastLoginAt]));
    assert.equal(last['yh-op'], new Date(T0 + 3000).toISOString(), 'its one good login, not the wrong password before it');
    assert.equal(last['xh-op'], null, 'a wrong password is no login');
    assert.equal(last['yh-admin'], new Date(T0 + 4000).toISOString());
    now += 60_000;
    await central.login('yh-op', 'yh-op-password-1');
    assert.equal(
      (await central.get<Array<{ username: string; lastLoginAt: string | null }>>('/api/users')).body.find((u) => u.username === 'yh-op')?.lastLoginAt,
      new Date(T0 + 64_000).toISOString(),
      'the newest login',
    );

    const bad = await central.get<{ error: string; message: string }>('/api/audit?outcome=wrong');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /outcome/);
  });
}
