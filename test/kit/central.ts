// The central in tests: started in-process on a real broker with its own database (a temp SQLite
// file, or a fresh PostgreSQL database), its API on a free loopback port, stopped after the test.
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { centralConfig } from '../../central/config/spec';
import type { CentralConfig } from '../../central/config/schema';
import { startCentral, type CentralDeps, type RunningCentral } from '../../central/central';
import type { TelemetryMessage } from '../../scripts/sim/telemetry';
import { silentLogger } from './logger';
import { tempDir, type TestContext } from './temp';

export interface CentralOptions {
  brokerUrl: string;
  /** A postgres:// URL; default a SQLite file in a temp dir. */
  db?: string;
  env?: Record<string, string>;
  deps?: Partial<Omit<CentralDeps, 'config'>>;
}

export interface TestCentral extends RunningCentral {
  config: CentralConfig;
  get<T = unknown>(path: string): Promise<{ status: number; body: T }>;
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

export async function startTestCentral(t: TestContext, options: CentralOptions, config = centralTestConfig(options, t)): Promise<TestCentral> {
  const central = await startCentral({ logger: silentLogger, ...options.deps, config });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await central.stop();
  };
  t.after(stop);
  return {
    ...central,
    config,
    stop,
    async get<T>(path: string) {
      const res = await fetch(central.url + path);
      return { status: res.status, body: (await res.json()) as T };
    },
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
