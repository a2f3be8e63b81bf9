// The central in tests: started in-process on a real broker with its own database (a temp SQLite
// file, or a fresh PostgreSQL database), its API on a free loopback port, stopped after the test.
// It gets a first admin (ensureFirstAdmin, as the box makes one) and `get`/`request` ask as that
// admin in a login session.
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { centralConfig } from '../../central/config/spec';
import type { CentralConfig } from '../../central/config/schema';
import { startCentral, type CentralDeps, type RunningCentral } from '../../central/central';
import type { TelemetryMessage } from '../../scripts/sim/telemetry';
import { randomBytes } from 'node:crypto';
import { createUser, ensureFirstAdmin } from '../../central/auth/users';
import { systemClock, type Clock } from '../../lib/clock';
import { apiClient, loginClient, type ApiClient, type ApiResponse } from './api';
import { silentLogger } from './logger';
import { tempDir, type TestContext } from './temp';

export interface CentralOptions {
  brokerUrl: string;
  /** A postgres:// URL; default a SQLite file in a temp dir. */
  db?: string;
  env?: Record<string, string>;
  deps?: Partial<Omit<CentralDeps, 'config'>>;
  /** false: no first admin (the API answers 503 until a user is made). */
  admin?: boolean;
}

export interface TestCentral extends RunningCentral {
  config: CentralConfig;
  /** The first admin's login (undefined with admin: false). */
  admin?: { username: string; password: string };
  /** A client logged in as the first admin. */
  as?: ApiClient;
  /** GET as the first admin. */
  get<T = unknown>(path: string): Promise<ApiResponse<T>>;
  /** Any request as the first admin. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** A client without credentials (or with these). */
  client(options?: Parameters<typeof apiClient>[1]): ApiClient;
  /** A client logged in as this user. */
  login(username: string, password: string): Promise<ApiClient>;
}

export function centralTestConfig(options: CentralOptions, t: TestContext): CentralConfig {
  const db = options.db ?? join(tempDir(t, 'camgate-central-'), 'central.db');
  return centralConfig.load({
    env: {
      CAMGATE_CENTRAL_BROKER_URLS: options.brokerUrl,
      CAMGATE_CENTRAL_DB: db,
      CAMGATE_CENTRAL_HTTP_PORT: '0',
      CAMGATE_CENTRAL_BROKER_RECONNECT_MS: '200',
      CAMGATE_CENTRAL_BROKER_CLIENT_ID: `central-test-${Math.random().toString(16).slice(2)}`,
      ...options.env,
    },
  }).config;
}

/** The first admin, as the box makes it; on a database that has users already (a second instance,
 * a restart), another admin of everything. */
async function testAdmin(central: RunningCentral, clock: Clock): Promise<{ username: string; password: string }> {
  const first = await ensureFirstAdmin(central.db.db, clock);
  if (first) return first;
  const another = { username: `admin-${randomBytes(3).toString('hex')}`, password: randomBytes(12).toString('base64url') };
  await createUser(central.db.db, clock, { ...another, role: 'admin', scope: '' });
  return another;
}

export async function startTestCentral(t: TestContext, options: CentralOptions, config = centralTestConfig(options, t)): Promise<TestCentral> {
  const central = await startCentral({ logger: silentLogger, ...options.deps, config });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await central.stop();
  };
  t.after(stop);
  const admin = options.admin === false ? undefined : await testAdmin(central, options.deps?.clock ?? systemClock);
  const as = admin ? await loginClient(central.url, admin.username, admin.password) : undefined;
  const anonymous = apiClient(central.url);
  return {
    ...central,
    config,
    stop,
    admin,
    as,
    get: <T>(path: string) => (as ?? anonymous).get<T>(path),
    request: <T>(method: string, path: string, body?: unknown) => (as ?? anonymous).request<T>(method, path, body),
    client: (clientOptions) => apiClient(central.url, clientOptions),
    login: (username, password) => loginClient(central.url, username, password),
  };
}

/** A plain publisher standing in for sites. */
export async function publisher(
  t: TestContext,
  url: string,
): Promise<{ client: MqttClient; send(messages: TelemetryMessage[] | TelemetryMessage): Promise<void> }> {
  const client = connect(url, { protocolVersion: 5, reconnectPeriod: 0, clientId: `pub-${Math.random().toString(16).slice(2)}` });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  t.after(() => new Promise<void>((resolve) => client.end(false, {}, () => resolve())));
  return {
    client,
    async send(messages) {
      for (const m of Array.isArray(messages) ? messages : [messages]) await client.publishAsync(m.topic, m.payload, { qos: 1, retain: m.retain });
    },
  };
}

/** The central's audit records, oldest first (what the audit log holds, as GET /api/audit shows it). */
export async function auditTrail(central: RunningCentral): Promise<Awaited<ReturnType<RunningCentral['audit']['list']>>['items']> {
  const page = await central.audit.list({ limit: 1000 }, '');
  return page.items.reverse();
}
