// Access to the central's API over real HTTP: the first-run 503, logins and sessions (expiry on
// an injected clock), API tokens, roles (401/403), region scope (404 outside it), scoped admins
// who cannot escalate, the login throttle, the audit log (the central's own records and the agents'
// audit events through a real Mosquitto), the route-declaration check and the CLI from a script.
// Storage parts run on SQLite and on the real PostgreSQL server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import { installGuard } from '../../central/api/guard';
import { classify } from '../../central/ingest/classify';
import { IngestWriter } from '../../central/ingest/writer';
import { createUser } from '../../central/auth/users';
import { SessionStore } from '../../central/auth/sessions';
import { TokenStore } from '../../central/auth/tokens';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { SimulatedSite } from '../../scripts/sim/telemetry';
import { clockReading } from '../kit/clock';
import { publisher, startTestCentral, type TestCentral } from '../kit/central';
import { cookieFrom, type ApiClient } from '../kit/api';
import { testDatabase } from '../kit/postgres';
import { tempDir, type TestContext } from '../kit/temp';
import { waitFor } from '../kit/wait';

const T0 = Date.parse('2026-12-07T08:00:00Z');
const NO_BROKER = 'mqtt://127.0.0.1:9';
const YUHANG = '浙江省/杭州市/余杭区';
const XIHU = '浙江省/杭州市/西湖区';

interface Ctx {
  central: TestCentral;
  /** Moves the central's clock. */
  advance(ms: number): void;
}

/** A central without ingest on a clock the test moves, its ledger written by the real writer. */
async function centralWithLedger(t: TestContext, options: { db?: string; env?: Record<string, string>; admin?: boolean } = {}): Promise<Ctx> {
  let now = T0;
  const central = await startTestCentral(t, {
    brokerUrl: NO_BROKER,
    db: options.db,
    env: options.env,
    admin: options.admin,
    deps: { ingest: false, clock: clockReading(() => now) },
  });
  const writer = new IngestWriter(central.db, { staleAfterMs: 180_000 });
  const sites = [
    new SimulatedSite('town-yh', [
      { camera: 'cam-1', class: 1, region: `${YUHANG}/仓前街道` },
      { camera: 'cam-2', class: 2, region: YUHANG },
    ]),
    new SimulatedSite('town-xh', [{ camera: 'cam-9', class: 1, region: `${XIHU}/留下街道` }]),
  ];
  const messages = sites.flatMap((s) => s.connect(T0 - 1000, Object.fromEntries(s.cameras.map((c) => [c.camera, { state: 'online' as const }]))));
  for (const m of messages) {
    const c = classify(m.topic, Buffer.from(m.payload), 1 << 20);
    if (!c.ok || !c.message) throw new Error(`refused: ${JSON.stringify(c)}`);
    await writer.write([{ message: c.message, receivedAt: T0 }]);
  }
  return {
    central,
    advance: (ms) => {
      now += ms;
    },
  };
}

async function addUser(central: TestCentral, username: string, role: 'viewer' | 'operator' | 'admin', scope: string): Promise<ApiClient> {
  const password = `${username}-password-1`;
  await createUser(
    central.db.db,
    clockReading(() => T0),
    { username, role, scope, password },
  );
  return central.login(username, password);
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`${dialect}: ledger routes answer 401 without credentials, 403 below the role, 404 outside the scope, 400 when malformed`, async (t) => {
    const { central } = await centralWithLedger(t, dialect === 'postgres' ? { db: await testDatabase(t) } : {});
    const anonymous = central.client();
    for (const path of ['/api/sites', '/api/cameras', '/api/cameras/town-yh/cam-1', '/api/ingest/rejects', '/api/service', '/api/me']) {
      const res = await anonymous.get<{ error: string; message: string }>(path);
      assert.equal(res.status, 401, path);
      assert.equal(res.body.error, 'unauthorized');
      assert.match(res.body.message, /POST \/api\/login/);
    }
    const badToken = await central.client({ token: 'cg_not-a-real-token' }).get<{ message: string }>('/api/cameras');
    assert.equal(badToken.status, 401);
    assert.match(badToken.body.message, /unknown API token/);
    const badScheme = await anonymous.request<{ message: string }>('GET', '/api/cameras', undefined, { authorization: 'Basic YTpi' });
    assert.equal(badScheme.status, 401);
    assert.match(badScheme.body.message, /only "Bearer <API token>"/);
    const badCookie = await central.client({ cookie: 'camgate_session=forged' }).get<{ message: string }>('/api/cameras');
    assert.equal(badCookie.status, 401);

    const yuhang = await addUser(central, 'yh-viewer', 'viewer', YUHANG);
    const cams = await yuhang.get<{ total: number; items: Array<{ camera: string }> }>('/api/cameras');
    assert.equal(cams.status, 200);
    assert.deepEqual(
      cams.body.items.map((c) => c.camera),
      ['cam-1', 'cam-2'],
      'only cameras within 余杭区',
    );
    const sites = await yuhang.get<Array<{ site: string; cameras: number }>>('/api/sites');
    assert.deepEqual(
      sites.body.map((s) => [s.site, s.cameras]),
      [['town-yh', 2]],
      'only sites with a camera in scope',
    );
    const inside = await yuhang.get('/api/cameras/town-yh/cam-1');
    assert.equal(inside.status, 200);
    const outside = await yuhang.get<{ error: string; message: string }>('/api/cameras/town-xh/cam-9');
    const missing = await yuhang.get<{ error: string; message: string }>('/api/cameras/town-xh/cam-404');
    assert.equal(outside.status, 404);
    assert.equal(outside.body.error, missing.body.error);
    assert.equal(outside.body.message.replace('cam-9', 'X'), missing.body.message.replace('cam-404', 'X'), 'outside the scope reads exactly as missing');
    assert.equal((await yuhang.get<{ total: number }>(`/api/cameras?site=town-xh`)).body.total, 0);
    assert.equal((await yuhang.get<{ total: number }>(`/api/cameras?region=${encodeURIComponent(XIHU)}`)).body.total, 0);
    const admin = await central.get<{ total: number }>('/api/cameras');
    assert.equal(admin.body.total, 3, 'the unscoped admin sees all three');

    const forbidden = await yuhang.get<{ error: string; message: string }>('/api/users');
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.body.message, /needs the admin role; yh-viewer has viewer/);
    const malformed = await yuhang.get<{ error: string; message: string }>('/api/cameras?limit=0');
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.message, /limit/);
    const unknown = await yuhang.get<{ error: string }>('/api/cameras?colour=red');
    assert.equal(unknown.status, 400);
  });

  test(`${dialect}: API tokens: shown once, used as Bearer, narrower than their user, revoked and expired`, async (t) => {
    const ctx = await centralWithLedger(t, dialect === 'postgres' ? { db: await testDatabase(t) } : {});
    const { central } = ctx;
    let operator = await addUser(central, 'ops', 'operator', '');
    const created = await operator.request<{ token: { id: string; user: string; expiresAt: string | null }; secret: string }>('POST', '/api/tokens', {
      name: 'gis',
      scope: YUHANG,
      role: 'viewer',
      expiresDays: 1,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.secret, /^cg_[\w-]{43}$/);
    assert.equal(created.body.token.user, 'ops');
    const listed = await operator.get<unknown[]>('/api/tokens');
    assert.ok(!JSON.stringify(listed.body).includes(created.body.secret), 'the secret is not listed');
    const stored = JSON.stringify(await central.db.db.selectFrom('api_tokens').selectAll().execute());
    assert.ok(!stored.includes(created.body.secret.slice(3)), 'nor stored');

    const gis = central.client({ token: created.body.secret });
    const me = await gis.get<{ username: string; role: string; scope: string; via: string; token: string }>('/api/me');
    assert.deepEqual(me.body, { username: 'ops', role: 'viewer', scope: YUHANG, via: 'token', token: 'gis', timezone: 'Asia/Shanghai' });
    assert.equal((await gis.get<{ total: number }>('/api/cameras')).body.total, 2, 'the token’s narrower scope');
    assert.equal((await gis.get('/api/cameras/town-xh/cam-9')).status, 404);
    const lastUsed = await operator.get<Array<{ lastUsedAt: string | null }>>('/api/tokens');
    assert.ok(lastUsed.body[0].lastUsedAt, 'its last use is recorded');
    const mint = await gis.request<{ message: string }>('POST', '/api/tokens', { name: 'more' });
    assert.equal(mint.status, 403, 'a token does not make tokens');
    const above = await operator.request<{ message: string }>('POST', '/api/tokens', { name: 'x', role: 'admin' });
    assert.equal(above.status, 400);
    assert.match(above.body.message, /above ops's \(operator\)/);

    ctx.advance(86_400_000);
    const expired = await gis.get<{ message: string }>('/api/cameras');
    assert.equal(expired.status, 401);
    assert.match(expired.body.message, /expired/);
    // A day later the operator's session has ended too.
    operator = await central.login('ops', 'ops-password-1');

    const second = await operator.request<{ token: { id: string }; secret: string }>('POST', '/api/tokens', { name: 'report-system' });
    const reporter = central.client({ token: second.body.secret });
    assert.equal((await reporter.get('/api/cameras')).status, 200);
    const viewer = await addUser(central, 'someone-else', 'viewer', '');
    assert.equal((await viewer.request('DELETE', `/api/tokens/${second.body.token.id}`)).status, 404, 'another’s token is not there for a viewer');
    assert.equal((await operator.request('DELETE', `/api/tokens/${second.body.token.id}`)).status, 204);
    const revoked = await reporter.get<{ message: string }>('/api/cameras');
    assert.equal(revoked.status, 401);
    assert.match(revoked.body.message, /revoked/);
  });
}

test('before the first user the API answers 503 naming the command; health and the OpenAPI document stay public and say nothing else', async (t) => {
  const { central } = await centralWithLedger(t, { admin: false });
  const anonymous = central.client();
  const cams = await anonymous.get<{ error: string; message: string }>('/api/cameras');
  assert.equal(cams.status, 503);
  assert.match(cams.body.message, /camgate central user add <name> --role admin/);
  const login = await anonymous.request<{ message: string }>('POST', '/api/login', { username: 'admin', password: 'whatever-it-is' });
  assert.equal(login.status, 503);
  const health = await anonymous.get<Record<string, unknown>>('/api/health');
  assert.equal(health.status, 200);
  assert.deepEqual(health.body, { status: 'ok' }, 'no version, no database, no figures');
  const doc = await anonymous.get<{
    components: { securitySchemes: Record<string, { type: string }> };
    security: unknown[];
    paths: Record<string, Record<string, { security?: unknown[]; description?: string }>>;
  }>('/api/openapi.json');
  assert.equal(doc.status, 200);
  assert.deepEqual(Object.keys(doc.body.components.securitySchemes).sort(), ['session', 'token']);
  assert.equal(doc.body.components.securitySchemes.token.type, 'http');
  assert.deepEqual(doc.body.paths['/api/health'].get.security, []);
  assert.deepEqual(doc.body.paths['/api/login'].post.security, []);
  assert.match(doc.body.paths['/api/users'].get.description ?? '', /Needs the admin role/);

  await createUser(
    central.db.db,
    clockReading(() => T0),
    { username: 'first', role: 'admin', scope: '', password: 'first-admin-password' },
  );
  const as = await central.login('first', 'first-admin-password');
  assert.equal((await as.get('/api/cameras')).status, 200);
});

test('login, me, logout; the cookie is HttpOnly, SameSite=Strict; sessions end when idle and when too old', async (t) => {
  const ctx = await centralWithLedger(t, { env: { CAMGATE_CENTRAL_AUTH_SESSION_IDLE_MIN: '30', CAMGATE_CENTRAL_AUTH_SESSION_MAX_HOURS: '2' } });
  const { central, advance } = ctx;
  await createUser(
    central.db.db,
    clockReading(() => T0),
    { username: 'li', role: 'operator', scope: YUHANG, password: 'li-password-123' },
  );
  const wrong = await central.client().request<{ error: string; message: string }>('POST', '/api/login', { username: 'li', password: 'not-the-password' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.message, 'wrong user name or password');
  const unknown = await central.client().request<{ message: string }>('POST', '/api/login', { username: 'nobody', password: 'not-the-password' });
  assert.equal(unknown.body.message, wrong.body.message, 'an unknown name reads like a wrong password');

  const client = central.client();
  const login = await client.request<{ username: string; role: string; scope: string }>('POST', '/api/login', { username: 'li', password: 'li-password-123' });
  assert.equal(login.status, 200);
  const setCookie = ([] as string[]).concat(login.headers['set-cookie'] ?? []).join('\n');
  assert.match(setCookie, /camgate_session=[\w-]{43}; Max-Age=7200; Path=\/api; HttpOnly; SameSite=Strict/);
  assert.doesNotMatch(setCookie, /Secure/, 'plain http, auth.secureCookie off');
  const sessionId = cookieFrom(login.headers['set-cookie'], 'camgate_session')!.split('=')[1];
  const stored = JSON.stringify(await central.db.db.selectFrom('sessions').selectAll().execute());
  assert.ok(!stored.includes(sessionId), 'the session id is stored hashed');
  assert.deepEqual((await client.get('/api/me')).body, {
    username: 'li',
    role: 'operator',
    scope: YUHANG,
    via: 'session',
    token: null,
    timezone: 'Asia/Shanghai',
  });

  // Idle: 29 minutes between requests keep it; 31 end it.
  for (let i = 0; i < 3; i++) {
    advance(29 * 60_000);
    assert.equal((await client.get('/api/me')).status, 200, `request ${i + 1} after 29 idle minutes`);
  }
  advance(31 * 60_000);
  const idle = await client.get<{ message: string }>('/api/me');
  assert.equal(idle.status, 401);
  assert.match(idle.body.message, /session has ended/);

  // Too old: requests every 20 minutes, ended two hours after the login.
  const fresh = await central.login('li', 'li-password-123');
  for (let minutes = 20; minutes < 120; minutes += 20) {
    advance(20 * 60_000);
    assert.equal((await fresh.get('/api/me')).status, 200, `${minutes} minutes after the login`);
  }
  advance(21 * 60_000);
  assert.equal((await fresh.get('/api/me')).status, 401, 'past sessionMaxHours');

  const third = await central.login('li', 'li-password-123');
  assert.equal((await third.request('POST', '/api/logout')).status, 204);
  assert.equal((await third.get('/api/me')).status, 401, 'logged out');
});

test('the session cookie is Secure when auth.secureCookie says so (a TLS proxy in front)', async (t) => {
  const { central } = await centralWithLedger(t, { env: { CAMGATE_CENTRAL_AUTH_SECURE_COOKIE: 'true' } });
  const res = await central.client().request('POST', '/api/login', central.admin);
  assert.match(([] as string[]).concat(res.headers['set-cookie'] ?? []).join(), /; Secure/);
});

test('a scoped admin manages users within its region only and cannot escalate; changes and logins are audited', async (t) => {
  const { central } = await centralWithLedger(t);
  const county = await addUser(central, 'yh-admin', 'admin', YUHANG);
  await addUser(central, 'xh-viewer', 'viewer', XIHU);
  await addUser(central, 'yh-peer', 'admin', YUHANG);

  const create = (body: Record<string, unknown>) => county.request<{ error: string; message: string; scope?: string }>('POST', '/api/users', body);
  const wider = await create({ username: 'city', role: 'viewer', scope: '浙江省/杭州市', password: 'a-long-password' });
  assert.equal(wider.status, 403);
  assert.match(wider.body.message, /wider than or outside your own/);
  assert.equal((await create({ username: 'all', role: 'viewer', scope: '', password: 'a-long-password' })).status, 403);
  assert.equal((await create({ username: 'peer2', role: 'admin', scope: YUHANG, password: 'a-long-password' })).status, 403, 'no peer admin');
  const short = await create({ username: 'town', role: 'viewer', password: 'short' });
  assert.equal(short.status, 400);
  assert.match(short.body.message, /at least 10 characters/);
  const town = await create({ username: 'town-admin', role: 'admin', scope: `${YUHANG}/仓前街道`, password: 'a-long-password' });
  assert.equal(town.status, 201, JSON.stringify(town.body));
  const defaulted = await create({ username: 'yh-op', role: 'operator', password: 'a-long-password' });
  assert.equal(defaulted.body.scope, YUHANG, 'the scope defaults to the creator’s');

  const names = (await county.get<Array<{ username: string }>>('/api/users')).body.map((u) => u.username);
  assert.deepEqual(names, ['town-admin', 'yh-admin', 'yh-op', 'yh-peer'], 'users within 余杭区 only');
  assert.equal((await county.request('PATCH', '/api/users/xh-viewer', { disabled: true })).status, 404, 'outside: not there');
  assert.equal((await county.request('PATCH', '/api/users/yh-peer', { disabled: true })).status, 403, 'a peer admin is not its to manage');
  assert.equal((await county.request('PATCH', '/api/users/yh-op', { scope: XIHU })).status, 403, 'nor may it move a user out of its region');
  assert.equal((await county.request('PATCH', '/api/users/yh-admin', { scope: '浙江省' })).status, 403, 'nor widen its own');
  const demoted = await county.request<{ role: string }>('PATCH', '/api/users/town-admin', { role: 'viewer' });
  assert.equal(demoted.status, 200);
  assert.equal(demoted.body.role, 'viewer');

  // Anyone changes its own password, giving the old one; the session goes on.
  const op = await central.login('yh-op', 'a-long-password');
  assert.equal((await op.request('PATCH', '/api/users/yh-op', { password: 'a-new-long-password', oldPassword: 'wrong' })).status, 403);
  assert.equal((await op.request('PATCH', '/api/users/yh-op', { role: 'admin' })).status, 403, 'but not its role');
  assert.equal((await op.request('PATCH', '/api/users/yh-op', { password: 'a-new-long-password', oldPassword: 'a-long-password' })).status, 200);
  assert.equal((await op.get('/api/me')).status, 200, 'a new session for the one that changed it');
  await central.login('yh-op', 'a-new-long-password');

  assert.equal((await county.request('DELETE', '/api/users/town-admin')).status, 204);
  const root = await central.request<{ error: string }>('PATCH', `/api/users/${central.admin!.username}`, { role: 'viewer' });
  assert.equal(root.status, 409, 'the last admin of everything stays one');

  const audit = await central.get<{ items: Array<{ actor: string; action: string; outcome: string; detail: Record<string, unknown> }> }>(
    '/api/audit?limit=1000',
  );
  const seen = audit.body.items.map((a) => `${a.actor} ${a.action} ${a.outcome}${a.detail.user ? ` ${JSON.stringify(a.detail.user)}` : ''}`);
  for (const line of [
    'yh-admin login ok',
    'yh-admin user-create ok "town-admin"',
    'yh-admin user-change ok "town-admin"',
    'yh-admin user-remove ok "town-admin"',
    'yh-op password-change denied',
    'yh-op password-change ok "yh-op"',
  ]) {
    assert.ok(seen.includes(line), `${line} in ${JSON.stringify(seen)}`);
  }
  // The county admin sees its region's records, not the 西湖区 viewer's login.
  const scoped = await county.get<{ items: Array<{ actor: string; action: string }> }>('/api/audit?action=login&limit=1000');
  const actors = new Set(scoped.body.items.map((a) => a.actor));
  assert.ok(actors.has('yh-op') && !actors.has('xh-viewer'), JSON.stringify([...actors]));
  const paged = await central.get<{ items: unknown[]; next: string | null }>('/api/audit?limit=2');
  assert.equal(paged.body.items.length, 2);
  const next = await central.get<{ items: Array<{ id: string }> }>(`/api/audit?limit=2&cursor=${encodeURIComponent(paged.body.next!)}`);
  assert.equal(next.body.items.length, 2);
  assert.equal((await central.get('/api/audit?cursor=nonsense')).status, 400);
});

test('wrong passwords are throttled per address and per user name: 429 with Retry-After, the lockout audited', async (t) => {
  const ctx = await centralWithLedger(t, {
    env: { CAMGATE_CENTRAL_AUTH_LOGIN_FREE_FAILURES: '2', CAMGATE_CENTRAL_AUTH_LOGIN_MAX_FAILURES: '3', CAMGATE_CENTRAL_AUTH_LOGIN_LOCKOUT_SEC: '600' },
  });
  const { central, advance } = ctx;
  await createUser(
    central.db.db,
    clockReading(() => T0),
    { username: 'wang', role: 'viewer', scope: '', password: 'wang-password-1' },
  );
  const from = (address: string) => central.client({ localAddress: address });
  const attempt = (address: string, username: string, password = 'guess-guess-guess') =>
    from(address).request<{ error: string; message: string }>('POST', '/api/login', { username, password });

  // One address guessing many names.
  assert.equal((await attempt('127.0.0.2', 'a1')).status, 401);
  assert.equal((await attempt('127.0.0.2', 'a2')).status, 401);
  const slowed = await attempt('127.0.0.2', 'a3');
  assert.equal(slowed.status, 429);
  assert.equal(slowed.headers['retry-after'], '1');
  assert.equal((await attempt('127.0.0.3', 'wang', 'wang-password-1')).status, 200, 'another address is not held up');
  // Many addresses guessing one name.
  for (const address of ['127.0.0.4', '127.0.0.5']) assert.equal((await attempt(address, 'wang')).status, 401);
  const held = await attempt('127.0.0.6', 'wang', 'wang-password-1');
  assert.equal(held.status, 429, 'the right password is not even looked at while the name waits');
  advance(1000);
  assert.equal((await attempt('127.0.0.6', 'wang')).status, 401, 'the third wrong password locks the name');
  advance(60_000);
  const locked = await attempt('127.0.0.7', 'wang', 'wang-password-1');
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers['retry-after']) > 500);
  advance(600_000);
  assert.equal((await attempt('127.0.0.7', 'wang', 'wang-password-1')).status, 200, 'after the lockout');

  const audit = await central.get<{ items: Array<{ actor: string; action: string; outcome: string; address: string }> }>('/api/audit?actor=wang&limit=100');
  const lines = audit.body.items.map((a) => `${a.action} ${a.outcome} ${a.address}`);
  assert.ok(lines.includes('login-locked denied 127.0.0.6'), JSON.stringify(lines));
  assert.ok(lines.includes('login failed 127.0.0.4'));
  assert.ok(lines.includes('login ok 127.0.0.7'));
});

test('the agents’ own audit events reach /api/audit (origin site) through the broker, within the reader’s scope', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const central = await startTestCentral(t, { brokerUrl: broker.url });
  await waitFor(() => central.ingest!.stats().connected, 'central connected');
  const pub = await publisher(t, broker.url);
  const now = Date.now();
  const yh = new SimulatedSite('town-yh', [{ camera: 'cam-1', class: 1, region: YUHANG }]);
  const xh = new SimulatedSite('town-xh', [{ camera: 'cam-9', class: 1, region: XIHU }]);
  const view = (site: SimulatedSite, camera: string, user: string) =>
    site.event(
      {
        type: 'audit',
        severity: 'info',
        camera,
        message: `live view of ${camera} opened by ${user}`,
        detail: { action: 'live-view', phase: 'start', user, remote: '192.0.2.7' },
      },
      now,
    );
  await pub.send([...yh.connect(now - 1000), ...xh.connect(now - 1000), view(yh, 'cam-1', 'zhang'), view(xh, 'cam-9', 'zhao')]);
  const records = await waitFor(
    async () => {
      const res = await central.get<{ items: Array<{ origin: string; actor: string; action: string; site: string; camera: string; address: string }> }>(
        '/api/audit?action=live-view',
      );
      return res.body.items.length === 2 ? res.body.items : false;
    },
    'both live views in the audit log',
    20_000,
  );
  assert.deepEqual(records.map((r) => [r.origin, r.actor, r.site, r.camera, r.address]).sort(), [
    ['site', 'zhang', 'town-yh', 'cam-1', '192.0.2.7'],
    ['site', 'zhao', 'town-xh', 'cam-9', '192.0.2.7'],
  ]);
  const county = await addUser(central, 'yh-admin', 'admin', YUHANG);
  const scoped = await county.get<{ items: Array<{ actor: string }> }>('/api/audit?action=live-view');
  assert.deepEqual(
    scoped.body.items.map((r) => r.actor),
    ['zhang'],
  );
  // Delivered again (QoS 1, a replay): one record.
  await pub.send(view(yh, 'cam-1', 'zhang'));
  const again = view(yh, 'cam-1', 'zhang');
  await pub.send([again, again]);
  await waitFor(async () => (await central.get<{ items: unknown[] }>('/api/audit?action=live-view')).body.items.length === 4, 'the two new views');
});

test('a route that declares no role is refused when it is added', async () => {
  const app = Fastify();
  await app.register(cookie);
  const db = {} as never;
  installGuard(app as never, {
    sessions: new SessionStore(db, { now: () => 0 } as never, { idleMs: 1, maxMs: 1 }),
    tokens: new TokenStore(db, { now: () => 0 } as never),
    hasUsers: () => Promise.resolve(true),
  });
  app.get('/api/declared', { config: { role: 'viewer' } }, () => 'ok');
  assert.throws(
    () => app.get('/api/forgotten', () => 'open to all'),
    /route GET \/api\/forgotten declares no access: give it config: \{ role: 'public' \| 'viewer'/,
  );
  await app.close();
});

test('camgate central user add --password-stdin from a script; then that user logs in', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'central.db');
  const bin = resolve(__dirname, '../../../bin/camgate.js');
  const run = (args: string[], input: string) =>
    new Promise<{ code: number | null; out: string; err: string }>((done) => {
      const child = spawn(process.execPath, [bin, 'central', ...args, '--db', db], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('close', (code) => done({ code, out, err }));
      child.stdin.end(input);
    });
  const short = await run(['user', 'add', 'ops', '--role', 'admin', '--password-stdin'], 'too-short\n');
  assert.equal(short.code, 2);
  assert.match(short.err, /at least 10 characters/);
  const added = await run(['user', 'add', 'ops', '--role', 'admin', '--region', YUHANG, '--password-stdin'], 'a passphrase from a script\n');
  assert.equal(added.code, 0, added.err);
  assert.match(added.out, /user ops created: admin, scope "浙江省\/杭州市\/余杭区"/);
  const token = await run(['token', 'create', 'gis', '--user', 'ops', '--expires-days', '7'], '');
  assert.equal(token.code, 0, token.err);
  const secret = token.out.trim();
  assert.match(secret, /^cg_/);

  const central = await startTestCentral(t, { brokerUrl: NO_BROKER, db, admin: false, deps: { ingest: false } });
  const ops = await central.login('ops', 'a passphrase from a script');
  assert.deepEqual((await ops.get('/api/me')).body, { username: 'ops', role: 'admin', scope: YUHANG, via: 'session', token: null, timezone: 'Asia/Shanghai' });
  assert.equal((await central.client({ token: secret }).get('/api/me')).status, 200);
  const audit = await ops.get<{ items: Array<{ actor: string; action: string }> }>('/api/audit?action=user-create');
  assert.match(audit.body.items[0]?.actor ?? '', /^cli \(/);
});
