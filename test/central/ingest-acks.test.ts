// Ingest loses nothing: a QoS 1 message is acknowledged only once its batch has committed, so a
// central killed mid-stream (SIGKILL, as the installed `camgate central` runs), one whose queue
// is full (ingest.queueMax: it stops reading), one held up so long it leaves the broker, or one
// stopped while sites send, gets what it had not written from its broker session, and every
// message lands in the database exactly once. Real Mosquitto, real processes, real SQLite and PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { SimulatedSite, type TelemetryMessage } from '../../scripts/sim/telemetry';
import { centralTestConfig, publisher, startTestCentral } from '../kit/central';
import { captureLogger } from '../kit/logger';
import { testDatabase } from '../kit/postgres';
import { tempDir, type TestContext } from '../kit/temp';
import { waitFor } from '../kit/wait';

const BIN = resolve(__dirname, '../../../bin/camgate.js');

interface CentralChild {
  child: ChildProcess;
  output(): string;
  kill(): Promise<void>;
}

/** `camgate central` in its own process, so it can die without writing what it holds. */
async function spawnCentral(t: TestContext, env: Record<string, string>): Promise<CentralChild> {
  const child = spawn(process.execPath, [BIN, 'central'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CAMGATE_CENTRAL_HTTP_PORT: '0', CAMGATE_CENTRAL_BROKER_RECONNECT_MS: '200', CAMGATE_CENTRAL_LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  t.after(kill);
  await waitFor(
    () => out.includes('connected to the broker'),
    'the central process connected',
    30_000,
    () => out.slice(-2000),
  );
  return { child, output: () => out, kill };
}

/** A site with cameras, its opening messages, then `n` messages at distinct times: statuses and, every tenth, metrics. */
function siteAndStream(name: string, n: number): { opening: TelemetryMessage[]; stream: TelemetryMessage[]; expected: Counts } {
  const site = new SimulatedSite(
    name,
    Array.from({ length: 10 }, (_, c) => ({ camera: `cam-${c}`, class: 1 as const })),
  );
  const t0 = Date.now() - 3_600_000;
  const opening = site.connect(t0, Object.fromEntries(site.cameras.map((c) => [c.camera, { state: 'online' as const }])));
  const stream = Array.from({ length: n }, (_, i) =>
    i % 10 === 9
      ? site.metrics(t0 + 10 * (i + 1), { historical: true })
      : site.status(`cam-${i % 10}`, i % 3 ? 'online' : 'offline', t0 + 10 * (i + 1), null, { historical: true }),
  );
  const all = [...opening, ...stream];
  return {
    opening,
    stream,
    expected: { points: all.filter((m) => m.topic.endsWith('/status')).length, samples: all.filter((m) => m.topic.endsWith('/metrics')).length },
  };
}

/** Status points and hourly metrics samples in the database: a message written twice would add a sample twice. */
interface Counts {
  points: number;
  samples: number;
}

const COUNTS = 'select (select count(*) from status_points) as points, (select coalesce(sum(samples), 0) from metrics_hourly) as samples';

/** Publishes at QoS 1 with many in flight (the broker has them once this resolves). */
async function publishAll(client: Awaited<ReturnType<typeof publisher>>['client'], messages: readonly TelemetryMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 500) {
    await Promise.all(messages.slice(i, i + 500).map((m) => client.publishAsync(m.topic, m.payload, { qos: 1, retain: m.retain })));
  }
}

function sqliteCounts(file: string): Counts {
  if (!existsSync(file)) return { points: 0, samples: 0 };
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const ready = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'metrics_hourly'").get();
    if (!ready) return { points: 0, samples: 0 };
    const r = db.prepare(COUNTS).get() as Counts;
    return { points: Number(r.points), samples: Number(r.samples) };
  } finally {
    db.close();
  }
}

async function pgCounts(url: string): Promise<Counts> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ points: string; samples: string }>(COUNTS);
    return { points: Number(r.rows[0].points), samples: Number(r.rows[0].samples) };
  } catch {
    return { points: 0, samples: 0 };
  } finally {
    await client.end();
  }
}

const all = (c: Counts, e: Counts) => c.points >= e.points && c.samples >= e.samples;

test('sqlite: a central killed mid-stream gets what it had not committed from its session: every message exactly once', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const file = join(tempDir(t, 'camgate-acks-'), 'central.db');
  const clientId = `central-acks-${Math.random().toString(16).slice(2)}`;
  // Small batches: the stream takes long enough to be cut in the middle.
  const env = {
    CAMGATE_CENTRAL_BROKER_URLS: broker.url,
    CAMGATE_CENTRAL_DB: file,
    CAMGATE_CENTRAL_BROKER_CLIENT_ID: clientId,
    CAMGATE_CENTRAL_INGEST_BATCH_MAX: '10',
  };
  const first = await spawnCentral(t, env);
  const pub = await publisher(t, broker.url);
  const { opening, stream, expected } = siteAndStream('town-k', 6000);
  await pub.send(opening);
  await waitFor(
    () => sqliteCounts(file).points >= 10,
    'the opening statuses written',
    30_000,
    () => first.output().slice(-2000),
  );
  await publishAll(pub.client, stream);
  await waitFor(() => sqliteCounts(file).points >= 300, 'part of the stream written', 30_000);
  await first.kill();
  const atKill = sqliteCounts(file);
  assert.ok(!all(atKill, expected), `killed mid-stream (${JSON.stringify(atKill)} of ${JSON.stringify(expected)} written)`);

  const config = centralTestConfig({ brokerUrl: broker.url, db: file, env: { CAMGATE_CENTRAL_BROKER_CLIENT_ID: clientId } }, t);
  const second = await startTestCentral(t, { brokerUrl: broker.url, db: file }, config);
  await waitFor(
    () => all(sqliteCounts(file), expected),
    'every message written',
    60_000,
    () => `${JSON.stringify(sqliteCounts(file))} of ${JSON.stringify(expected)}; ${JSON.stringify(second.ingest!.stats())}`,
  );
  await second.ingest!.drained();
  assert.deepEqual(sqliteCounts(file), expected, 'each message once');
});

test('sqlite: a central whose queue is full (ingest.queueMax) stops reading the socket: nothing lost, nothing sent twice, the queue never past its bound', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const file = join(tempDir(t, 'camgate-acks-'), 'central.db');
  const log = captureLogger('info');
  const queueMax = 100;
  const env = { CAMGATE_CENTRAL_INGEST_QUEUE_MAX: String(queueMax), CAMGATE_CENTRAL_INGEST_RECEIVE_MAXIMUM: '1000', CAMGATE_CENTRAL_INGEST_BATCH_MAX: '20' };
  const central = await startTestCentral(t, { brokerUrl: broker.url, db: file, env, deps: { logger: log.logger } });
  await waitFor(() => central.ingest!.stats().connected, 'central connected');
  let mostQueued = 0;
  const sampler = setInterval(() => (mostQueued = Math.max(mostQueued, central.ingest!.stats().queued)), 1);
  t.after(() => clearInterval(sampler));
  const pub = await publisher(t, broker.url);
  const { opening, stream, expected } = siteAndStream('town-q', 3000);
  await pub.send(opening);
  await publishAll(pub.client, stream);
  await waitFor(
    () => all(sqliteCounts(file), expected),
    'every message written',
    60_000,
    () => `${JSON.stringify(sqliteCounts(file))} of ${JSON.stringify(expected)}; ${JSON.stringify(central.ingest!.stats())}`,
  );
  await central.ingest!.drained();
  clearInterval(sampler);
  const stats = central.ingest!.stats();
  assert.ok(mostQueued >= queueMax * 0.9, `the queue filled (at most ${mostQueued} queued): the bound was reached, so reading stalled`);
  assert.ok(mostQueued <= queueMax, `never more than ingest.queueMax queued (${mostQueued})`);
  assert.equal(stats.duplicates, 0, 'nothing came twice: the central never left the broker with messages in hand');
  assert.ok(!log.messages().some((m) => m.includes('leaving the broker')), 'the central stayed connected');
  assert.deepEqual(sqliteCounts(file), expected, 'each message once');
});

test('postgres: a central held up past half its keep-alive (a table locked) leaves the broker, comes back when the lock goes, and writes every message once', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const db = await testDatabase(t);
  const log = captureLogger('info');
  const env = {
    CAMGATE_CENTRAL_INGEST_QUEUE_MAX: '100',
    CAMGATE_CENTRAL_INGEST_RECEIVE_MAXIMUM: '1000',
    CAMGATE_CENTRAL_INGEST_BATCH_MAX: '20',
    CAMGATE_CENTRAL_BROKER_KEEPALIVE_SEC: '5',
  };
  const central = await startTestCentral(t, { brokerUrl: broker.url, db, env, deps: { logger: log.logger } });
  await waitFor(() => central.ingest!.stats().connected, 'central connected');
  const pub = await publisher(t, broker.url);
  const { opening, stream, expected } = siteAndStream('town-l', 2000);
  await pub.send(opening);
  await waitFor(async () => (await pgCounts(db)).points >= opening.filter((m) => m.topic.endsWith('/status')).length, 'the opening written', 30_000);
  // Another session takes the status table for itself (a long migration, a VACUUM FULL): every
  // batch waits, the queue fills, and reading stays stalled past the 2.5 s limit.
  const locker = new pg.Client({ connectionString: db });
  locker.on('error', () => undefined);
  await locker.connect();
  let lockerOpen = true;
  t.after(() => (lockerOpen ? locker.end() : undefined));
  await locker.query('begin');
  await locker.query('lock table status_points in access exclusive mode');
  await publishAll(pub.client, stream);
  await waitFor(() => log.messages().some((m) => m.includes('leaving the broker')), 'the central left the broker while held up', 30_000);
  assert.equal(central.ingest!.stats().paused, true, 'stats say it left (paused)');
  await locker.query('commit');
  await locker.end();
  lockerOpen = false;
  let seen: Counts = { points: 0, samples: 0 };
  await waitFor(
    async () => all((seen = await pgCounts(db)), expected),
    'every message written after the lock went',
    60_000,
    () => `${JSON.stringify(seen)} of ${JSON.stringify(expected)}; ${JSON.stringify(central.ingest!.stats())}`,
  );
  await central.ingest!.drained();
  await waitFor(() => central.ingest!.stats().connected && !central.ingest!.stats().paused, 'back at the broker', 30_000);
  assert.deepEqual(await pgCounts(db), expected, 'each message once');
});

test('postgres: two instances share the stream; one killed mid-stream and started again: every message exactly once', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const db = await testDatabase(t);
  const ids = [`central-a-${Math.random().toString(16).slice(2)}`, `central-b-${Math.random().toString(16).slice(2)}`];
  const env = (id: string) => ({
    CAMGATE_CENTRAL_BROKER_URLS: broker.url,
    CAMGATE_CENTRAL_DB: db,
    CAMGATE_CENTRAL_BROKER_CLIENT_ID: id,
    CAMGATE_CENTRAL_INGEST_BATCH_MAX: '10',
  });
  const a = await spawnCentral(t, env(ids[0]));
  const b = await spawnCentral(t, env(ids[1]));
  const pub = await publisher(t, broker.url);
  const { opening, stream, expected } = siteAndStream('town-p', 6000);
  await pub.send(opening);
  await waitFor(
    async () => (await pgCounts(db)).points >= 10,
    'the opening statuses written',
    30_000,
    () => a.output().slice(-2000),
  );
  await publishAll(pub.client, stream);
  await waitFor(async () => (await pgCounts(db)).points >= 300, 'part of the stream written', 30_000);
  await a.kill();
  const atKill = await pgCounts(db);
  assert.ok(!all(atKill, expected), `killed mid-stream (${JSON.stringify(atKill)} of ${JSON.stringify(expected)} written)`);
  const again = await spawnCentral(t, env(ids[0]));
  let last: Counts = { points: 0, samples: 0 };
  await waitFor(
    async () => all((last = await pgCounts(db)), expected),
    'every message written',
    60_000,
    () => `${JSON.stringify(last)} of ${JSON.stringify(expected)}; ${again.output().slice(-1000)} ${b.output().slice(-1000)}`,
  );
  assert.deepEqual(await pgCounts(db), expected, 'each message once');
});

test('sqlite: a central stopped while sites keep sending stops (what came during the stop comes again at the next start)', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const file = join(tempDir(t, 'camgate-acks-'), 'central.db');
  // Sites faster than the central: the broker holds a backlog, and each commit's PUBACKs let more
  // through; a stop that wrote whatever came would go on as long as the sites send.
  const env = { CAMGATE_CENTRAL_INGEST_BATCH_MAX: '100', CAMGATE_CENTRAL_INGEST_RECEIVE_MAXIMUM: '1000' };
  const config = centralTestConfig({ brokerUrl: broker.url, db: file, env }, t);
  const first = await startTestCentral(t, { brokerUrl: broker.url, db: file }, config);
  await waitFor(() => first.ingest!.stats().connected, 'central connected');
  const pub = await publisher(t, broker.url);
  const { opening, stream, expected } = siteAndStream('town-s', 100_000);
  await pub.send(opening);
  // The sites go on sending throughout the stop.
  let sent = 0;
  let stopped = false;
  const sending = (async () => {
    while (!stopped && sent < stream.length) {
      await publishAll(pub.client, stream.slice(sent, sent + 200));
      sent += 200;
    }
  })();
  await waitFor(() => sqliteCounts(file).points >= 500, 'part of the stream written', 30_000);
  const stopping = first.stop();
  await waitFor(
    async () => (await Promise.race([stopping.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 100))])) || undefined,
    'the central stopped while the stream went on',
    30_000,
    () => `${sent} of ${stream.length} sent; ${JSON.stringify(first.ingest!.stats())}`,
  );
  assert.ok(sent < stream.length, 'the sites were still sending when it stopped');
  stopped = true;
  await sending;
  const part = stream.slice(0, sent);
  const partExpected = {
    points: expected.points - stream.filter((m) => m.topic.endsWith('/status')).length + part.filter((m) => m.topic.endsWith('/status')).length,
    samples: part.filter((m) => m.topic.endsWith('/metrics')).length,
  };
  const second = await startTestCentral(t, { brokerUrl: broker.url, db: file }, config);
  await waitFor(
    () => all(sqliteCounts(file), partExpected),
    'every message sent written',
    120_000,
    () => `${JSON.stringify(sqliteCounts(file))} of ${JSON.stringify(partExpected)}; ${JSON.stringify(second.ingest!.stats())}`,
  );
  await second.ingest!.drained();
  assert.deepEqual(sqliteCounts(file), partExpected, 'each message once');
});
