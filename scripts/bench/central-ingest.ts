// Benchmark: the central's ingest, from sites' publishers through a real Mosquitto into the
// database, beside a bare mqtt.js subscriber taking the same stream in the same run.
//
//   npm run bench:ingest      (= npx tsc -p tsconfig.json && node dist/scripts/bench/central-ingest.js)
//     --sites 500            simulated sites (scripts/sim/telemetry.ts), split between the publishers
//     --cameras 20           cameras per site
//     --messages 100000      messages in the timed stream (70% statuses, 20% metrics, 10% events)
//     --publishers 3         publisher processes, one MQTT connection each
//     --window 200           QoS 1 publishes in flight per publisher
//     --runs 2               rounds of the scenarios (each round: every scenario once, in turn)
//     --scenarios bare1,sqlite,bare2,pg2   which, in this order each round
//     --pg-server URL        PostgreSQL server to create the benchmark's database on
//                            (default postgres://postgres@127.0.0.1:5432/postgres)
//     --batch-max N          the central's ingest.batchMax (default: its default)
//     --receive-maximum N    the central's ingest.receiveMaximum: messages in flight unacknowledged
//                            until their commit (default: its default)
//     --cpu-prof DIR         profile the central processes (node --cpu-prof) into DIR
//     --json                 also print the results as one JSON line
//   Each central run also reports the CPU its processes spent during the timed stream per message:
//   steadier than the rate on a shared box, where the wall time follows the load.
//
// Each scenario gets a fresh Mosquitto (scripts/peers/mosquitto.ts: free loopback port,
// persistence off, queues without limit) and, for a central, a fresh database. The consumers
// subscribe first; the publishers then send every site's connect messages (state, birth, the
// cameras' retained metas), which are waited for and are not timed; then, after the central's
// retained-status snapshot window has passed, the timed stream: the publishers start together and
// each keeps `window` QoS 1 publishes in flight. The stream is built before it is timed.
//   bare1   one bare mqtt.js subscriber (MQTT 5, QoS 1, the central's six subscriptions, the busy
//           ones through $share/<group>/), counting: the baseline for one central
//   bare2   two such subscribers in one share group: the baseline for two centrals
//   sqlite  one central (its own process, startCentral) into a SQLite file
//   pg2     two centrals, one PostgreSQL database, one share group
// A run's time is from the publishers' start to the moment the consumers had all N (for a
// central: written, duplicate or refused, as its ingest counters say, polled every 10 ms).
// After a central run the database is counted: every message of the stream exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import mqtt from 'mqtt';
import { createScratchDatabase, type ScratchDatabase } from '../peers/postgres';
import { openCentralDb } from '../../central/store/open';
import { FILTERS } from '../../central/ingest/subscriber';
import type { TelemetryMessage } from '../sim/telemetry';
import { sitesOf, streamMessage } from './ingest-stream';
import { startMosquitto } from '../peers/mosquitto';
import { centralProcess, type CentralProcess, type StatsAnswer } from './central-process';

const SHARE_GROUP = 'camgate-central';
const SCENARIOS = ['bare1', 'bare2', 'sqlite', 'pg2'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Args {
  sites: number;
  cameras: number;
  messages: number;
  publishers: number;
  window: number;
  runs: number;
  scenarios: Scenario[];
  pgServer: string;
  batchMax: number | undefined;
  receiveMaximum: number | undefined;
  cpuProf: string | undefined;
  json: boolean;
}

function readArgs(): Args {
  const { values } = parseArgs({
    options: {
      sites: { type: 'string', default: '500' },
      cameras: { type: 'string', default: '20' },
      messages: { type: 'string', default: '100000' },
      publishers: { type: 'string', default: '3' },
      window: { type: 'string', default: '200' },
      runs: { type: 'string', default: '2' },
      scenarios: { type: 'string', default: 'bare1,sqlite,bare2,pg2' },
      'pg-server': { type: 'string', default: process.env.CAMGATE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      'batch-max': { type: 'string' },
      'receive-maximum': { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'boolean', default: false },
      role: { type: 'string' },
    },
    allowPositionals: false,
    strict: false,
  });
  const scenarios = String(values.scenarios)
    .split(',')
    .map((s) => s.trim());
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`--scenarios: unknown scenario "${s}" (choose from ${SCENARIOS.join(', ')})`);
  }
  return {
    sites: Number(values.sites),
    cameras: Number(values.cameras),
    messages: Number(values.messages),
    publishers: Number(values.publishers),
    window: Number(values.window),
    runs: Number(values.runs),
    scenarios: scenarios as Scenario[],
    pgServer: String(values['pg-server']),
    batchMax: values['batch-max'] === undefined ? undefined : Number(values['batch-max']),
    receiveMaximum: values['receive-maximum'] === undefined ? undefined : Number(values['receive-maximum']),
    cpuProf: typeof values['cpu-prof'] === 'string' ? values['cpu-prof'] : undefined,
    json: values.json === true,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

// ---------------------------------------------------------------------------------------------
// The sites and their messages

// ---------------------------------------------------------------------------------------------
// Publisher process

type PublisherRequest = { type: 'setup' } | { type: 'build'; n: number } | { type: 'go' } | { type: 'exit' };

async function publisherMain(url: string, index: number, publishers: number, sites: number, cameras: number, window: number): Promise<void> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
    clientId: `bench-pub-${index}-${randomBytes(3).toString('hex')}`,
  });
  const mine = sitesOf(index, publishers, sites, cameras);
  let stream: TelemetryMessage[] = [];
  const send = (messages: TelemetryMessage[]) =>
    new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      let inFlight = 0;
      let scheduled = false;
      if (messages.length === 0) return resolve();
      const launch = () => {
        scheduled = false;
        while (inFlight < window && next < messages.length) {
          const m = messages[next++];
          inFlight++;
          client.publish(m.topic, m.payload, { qos: 1, retain: m.retain }, (err) => {
            if (err) return reject(err);
            done++;
            inFlight--;
            if (done === messages.length) return resolve();
            // Refill once per burst of PUBACKs (the faster form, docs/benchmarks.md, outbox).
            if (!scheduled) {
              scheduled = true;
              queueMicrotask(launch);
            }
          });
        }
      };
      launch();
    });
  process.on('message', (req: PublisherRequest) => {
    void (async () => {
      switch (req.type) {
        case 'setup': {
          const at = Date.now() - 3_600_000;
          const messages = mine.flatMap((s) => s.connect(at));
          await send(messages);
          return process.send?.({ type: 'setup-done', count: messages.length });
        }
        case 'build': {
          const start = Date.now() - 600_000;
          stream = Array.from({ length: req.n }, (_, i) => streamMessage(mine, i, start + Math.floor((i * 600_000) / req.n)));
          const kinds = { status: 0, metrics: 0, event: 0 };
          for (const m of stream) kinds[m.topic.endsWith('/status') ? 'status' : m.topic.endsWith('/metrics') ? 'metrics' : 'event']++;
          const bytes = stream.reduce((n, m) => n + Buffer.byteLength(m.payload), 0);
          return process.send?.({ type: 'built', kinds, bytes });
        }
        case 'go': {
          const t0 = performance.timeOrigin + performance.now();
          await send(stream);
          const t1 = performance.timeOrigin + performance.now();
          stream = [];
          return process.send?.({ type: 'sent', startedAt: t0, pubackedAt: t1 });
        }
        case 'exit':
          await client.endAsync();
          process.exit(0);
      }
    })().catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  });
  process.send?.({ type: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// Bare subscriber process: the central's subscriptions, counting

async function bareMain(url: string): Promise<void> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
    clientId: `bench-bare-${randomBytes(3).toString('hex')}`,
  });
  let count = 0;
  client.on('message', () => {
    count++;
  });
  const share = (f: string) => `$share/${SHARE_GROUP}/${f}`;
  await client.subscribeAsync(
    {
      [FILTERS.state]: { qos: 1 },
      [FILTERS.meta]: { qos: 1 },
      [share(FILTERS.status)]: { qos: 1 },
      [share(FILTERS.birth)]: { qos: 1 },
      [share(FILTERS.events)]: { qos: 1 },
      [share(FILTERS.metrics)]: { qos: 1 },
    },
    {},
  );
  process.on('message', (req: { id: number; type: string }) => {
    if (req.type === 'count') process.send?.({ id: req.id, count });
    else if (req.type === 'stop') void client.endAsync().then(() => process.exit(0));
  });
  process.send?.({ id: 0, ready: true });
}

// ---------------------------------------------------------------------------------------------
// Driving the processes

function spawnRole(role: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [__filename, '--role', role, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type?: string }) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null) => reject(new Error(`a ${type} was awaited but the process exited (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** What a consumer (bare subscriber or central) has taken in so far. */
interface Consumer {
  taken(): Promise<number>;
  stop(): Promise<void>;
}

function bareConsumer(child: ChildProcess): Consumer {
  let id = 1;
  return {
    taken: () =>
      new Promise((resolve) => {
        const mine = id++;
        const on = (m: { id: number; count: number }) => {
          if (m.id !== mine) return;
          child.off('message', on);
          resolve(m.count);
        };
        child.on('message', on);
        child.send({ id: mine, type: 'count' });
      }),
    stop: async () => {
      const gone = new Promise((r) => child.once('exit', r));
      child.send({ id: 0, type: 'stop' });
      await gone;
    },
  };
}

async function startBare(url: string): Promise<Consumer> {
  const child = spawnRole('bare', ['--url', url]);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`bare subscriber exited (${code})`)));
  });
  return bareConsumer(child);
}

function centralConsumer(central: CentralProcess): Consumer & { stats(): Promise<StatsAnswer> } {
  const stats = () => central.call<StatsAnswer>({ type: 'stats' });
  return {
    stats,
    taken: async () => {
      const s = (await stats()).stats;
      return s ? s.written + s.duplicates + s.refused + s.failed : 0;
    },
    stop: () => central.stop(),
  };
}

async function takenBy(consumers: Consumer[]): Promise<number> {
  return (await Promise.all(consumers.map((c) => c.taken()))).reduce((a, b) => a + b, 0);
}

/** Polls until the consumers together took `n` more than `from`; the wall time it was seen, or throws when nothing moves for 60 s. */
async function waitTaken(consumers: Consumer[], from: number, n: number): Promise<number> {
  let last = -1;
  let lastMoved = performance.now();
  for (;;) {
    const taken = (await takenBy(consumers)) - from;
    const now = performance.timeOrigin + performance.now();
    if (taken >= n) return now;
    if (taken !== last) {
      last = taken;
      lastMoved = performance.now();
    } else if (performance.now() - lastMoved > 60_000) {
      throw new Error(`stuck at ${taken} of ${n} for 60 s`);
    }
    await sleep(10);
  }
}

interface RunResult {
  scenario: Scenario;
  round: number;
  load1: number;
  messages: number;
  /** Publishers' start to the last PUBACK. */
  publishMs: number;
  publishRate: number;
  /** Publishers' start to the last message taken in (a central: committed). */
  ms: number;
  rate: number;
  perInstance?: Array<{
    written: number;
    duplicates: number;
    refused: number;
    failed: number;
    batches: number;
    rssMb: number;
    heapUsedMb: number;
    cpuMs: number;
  }>;
  check?: Record<string, { expected: number; found: number }>;
  exactlyOnce?: boolean;
}

interface Setup {
  /** Per instance: the connect messages each instance receives (state, meta unshared; births shared). */
  connectTotal: number;
  kinds: { status: number; metrics: number; event: number };
  bytes: number;
}

/** Counts what the database holds of the stream: every message exactly once. */
async function checkDatabase(target: string, setup: Setup, args: Args): Promise<Record<string, { expected: number; found: number }>> {
  const db = await openCentralDb(target);
  try {
    const count = async (q: RawBuilder<{ n: number | string }>) => Number((await q.execute(db.db)).rows[0]?.n ?? 0);
    return {
      'messages_seen (connect + stream)': {
        expected: args.sites * (2 + args.cameras) + args.messages,
        found: await count(sql<{ n: number }>`select count(*) as n from messages_seen`),
      },
      'status_points (stream statuses)': { expected: setup.kinds.status, found: await count(sql<{ n: number }>`select count(*) as n from status_points`) },
      'events (stream events)': { expected: setup.kinds.event, found: await count(sql<{ n: number }>`select count(*) as n from events`) },
      'metrics_hourly samples (stream metrics)': {
        expected: setup.kinds.metrics,
        found: await count(sql<{ n: number }>`select coalesce(sum(samples), 0) as n from metrics_hourly`),
      },
      'cameras (metas)': { expected: args.sites * args.cameras, found: await count(sql<{ n: number }>`select count(*) as n from cameras`) },
    };
  } finally {
    await db.close();
  }
}

async function runScenario(scenario: Scenario, round: number, args: Args, dir: string): Promise<RunResult> {
  const broker = await startMosquitto();
  const publishers: ChildProcess[] = [];
  const consumers: Consumer[] = [];
  const centrals: Array<ReturnType<typeof centralConsumer>> = [];
  let pg: ScratchDatabase | undefined;
  let dbTarget: string | undefined;
  try {
    const instances = scenario === 'bare2' || scenario === 'pg2' ? 2 : 1;
    if (scenario === 'bare1' || scenario === 'bare2') {
      for (let i = 0; i < instances; i++) consumers.push(await startBare(broker.url));
    } else {
      if (scenario === 'pg2') {
        pg = await createScratchDatabase(args.pgServer, 'camgate_bench');
        dbTarget = pg.url;
      } else {
        dbTarget = join(dir, `central-${round}.db`);
      }
      for (let i = 0; i < instances; i++) {
        const env: Record<string, string> = {
          CAMGATE_CENTRAL_BROKER_URLS: broker.url,
          CAMGATE_CENTRAL_DB: dbTarget,
          CAMGATE_CENTRAL_HTTP_PORT: '0',
          CAMGATE_CENTRAL_BROKER_CLIENT_ID: `bench-central-${i}-${randomBytes(3).toString('hex')}`,
          CAMGATE_CENTRAL_BROKER_SHARE_GROUP: SHARE_GROUP,
          ...(args.batchMax !== undefined ? { CAMGATE_CENTRAL_INGEST_BATCH_MAX: String(args.batchMax) } : {}),
          ...(args.receiveMaximum !== undefined ? { CAMGATE_CENTRAL_INGEST_RECEIVE_MAXIMUM: String(args.receiveMaximum) } : {}),
        };
        const nodeArgs = args.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', args.cpuProf] : [];
        // One after the other: both migrate the same database at start.
        const central = centralConsumer(await centralProcess(env, { nodeArgs }));
        centrals.push(central);
        consumers.push(central);
      }
    }
    for (let p = 0; p < args.publishers; p++) {
      const child = spawnRole('publisher', [
        '--url',
        broker.url,
        '--index',
        String(p),
        '--publishers',
        String(args.publishers),
        '--sites',
        String(args.sites),
        '--cameras',
        String(args.cameras),
        '--window',
        String(args.window),
      ]);
      publishers.push(child);
      await nextMessage(child, 'ready');
    }
    // The connect messages: state and meta reach every instance, births one of them.
    const connectDone = publishers.map((c) => nextMessage<{ count: number }>(c, 'setup-done'));
    for (const c of publishers) c.send({ type: 'setup' });
    await Promise.all(connectDone);
    const connectTotal = instances * args.sites * (1 + args.cameras) + args.sites;
    await waitTaken(consumers, 0, connectTotal);
    // The central's retained-status snapshot subscription ends 2 s after the last retained status.
    await sleep(3000);
    const before = await takenBy(consumers);

    const share = (p: number) => Math.floor(args.messages / args.publishers) + (p < args.messages % args.publishers ? 1 : 0);
    const built = publishers.map((c) => nextMessage<{ kinds: Setup['kinds']; bytes: number }>(c, 'built'));
    publishers.forEach((c, p) => c.send({ type: 'build', n: share(p) }));
    const builds = await Promise.all(built);
    const setup: Setup = {
      connectTotal,
      kinds: builds.reduce((k, b) => ({ status: k.status + b.kinds.status, metrics: k.metrics + b.kinds.metrics, event: k.event + b.kinds.event }), {
        status: 0,
        metrics: 0,
        event: 0,
      }),
      bytes: builds.reduce((n, b) => n + b.bytes, 0),
    };

    const cpuBefore = await Promise.all(centrals.map(async (c) => (await c.stats()).cpuMs));
    const sent = publishers.map((c) => nextMessage<{ startedAt: number; pubackedAt: number }>(c, 'sent'));
    const t0 = performance.timeOrigin + performance.now();
    for (const c of publishers) c.send({ type: 'go' });
    const tEnd = await waitTaken(consumers, before, args.messages);
    const sends = await Promise.all(sent);
    const pubackedAt = Math.max(...sends.map((s) => s.pubackedAt));
    const ms = tEnd - t0;
    const result: RunResult = {
      scenario,
      round,
      load1: Math.round(loadavg()[0] * 100) / 100,
      messages: args.messages,
      publishMs: Math.round(pubackedAt - t0),
      publishRate: rate(args.messages, pubackedAt - t0),
      ms: Math.round(ms),
      rate: rate(args.messages, ms),
    };
    if (centrals.length > 0) {
      const answers = await Promise.all(centrals.map((c) => c.stats()));
      result.perInstance = answers.map((a, i) => ({
        written: a.stats?.written ?? 0,
        duplicates: a.stats?.duplicates ?? 0,
        refused: a.stats?.refused ?? 0,
        failed: a.stats?.failed ?? 0,
        batches: a.stats?.batches ?? 0,
        rssMb: a.memory.rssMb,
        heapUsedMb: a.memory.heapUsedMb,
        cpuMs: Math.round(a.cpuMs - cpuBefore[i]),
      }));
      for (const c of consumers) await c.stop();
      consumers.length = 0;
      result.check = await checkDatabase(dbTarget as string, setup, args);
      result.exactlyOnce =
        Object.values(result.check).every((c) => c.expected === c.found) && result.perInstance.every((p) => p.refused === 0 && p.failed === 0);
    }
    console.log(
      `${scenario.padEnd(6)} round ${round}: ${args.messages} msgs (${Math.round(setup.bytes / args.messages)} B avg) taken in ${result.ms} ms = ${result.rate} msg/s; ` +
        `publishers done ${result.publishMs} ms (${result.publishRate} msg/s); load ${result.load1}` +
        (result.perInstance
          ? `\n         per instance: ${result.perInstance.map((p) => `written ${p.written} dup ${p.duplicates} refused ${p.refused} failed ${p.failed} batches ${p.batches} rss ${p.rssMb} MB cpu ${p.cpuMs} ms`).join(' | ')}; centrals' CPU ${Math.round((result.perInstance.reduce((n, p) => n + p.cpuMs, 0) * 1000) / result.messages)} µs a message` +
            `\n         database: ${Object.entries(result.check ?? {})
              .map(([k, v]) => `${k} ${v.found}/${v.expected}`)
              .join(', ')} -> ${result.exactlyOnce ? 'every message exactly once' : 'MISMATCH'}`
          : ''),
    );
    return result;
  } finally {
    for (const c of publishers) if (c.exitCode === null) c.send({ type: 'exit' });
    for (const c of consumers) await c.stop().catch(() => undefined);
    await broker.stop();
    await pg?.drop().catch((err: unknown) => console.error(`could not drop the benchmark database: ${String(err)}`));
  }
}

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const h = Math.floor(v.length / 2);
  return v.length % 2 ? v[h] : Math.round((v[h - 1] + v[h]) / 2);
};

async function main(): Promise<void> {
  const args = readArgs();
  const dir = mkdtempSync(join(tmpdir(), 'camgate-bench-ingest-'));
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `${args.sites} sites x ${args.cameras} cameras, ${args.messages} messages a run, ${args.publishers} publishers x window ${args.window}, ${args.runs} round(s) of ${args.scenarios.join(', ')}`,
  );
  const runs: RunResult[] = [];
  try {
    for (let round = 1; round <= args.runs; round++) {
      for (const scenario of args.scenarios) runs.push(await runScenario(scenario, round, args, dir));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (s: Scenario) => {
    const rates = runs.filter((r) => r.scenario === s).map((r) => r.rate);
    return rates.length > 0 ? { median: median(rates), min: Math.min(...rates), max: Math.max(...rates) } : undefined;
  };
  const summary = Object.fromEntries(args.scenarios.map((s) => [s, med(s)]));
  console.log('summary (msg/s, median (min-max)):');
  for (const s of args.scenarios) {
    const m = summary[s];
    if (m) console.log(`  ${s.padEnd(6)} ${m.median} (${m.min}-${m.max})`);
  }
  const ratio = (a: Scenario, b: Scenario) => (summary[a] && summary[b] ? Math.round((summary[a].median / summary[b].median) * 100) : undefined);
  if (ratio('sqlite', 'bare1') !== undefined) console.log(`  sqlite / bare1: ${ratio('sqlite', 'bare1')}%`);
  if (ratio('pg2', 'bare2') !== undefined) console.log(`  pg2 / bare2: ${ratio('pg2', 'bare2')}%`);
  const failed = runs.filter((r) => r.exactlyOnce === false);
  if (failed.length > 0) {
    console.error(`${failed.length} run(s) did not store every message exactly once`);
    process.exitCode = 1;
  }
  if (args.json) console.log(JSON.stringify({ args, runs, summary }));
}

const { values: roleArgs } = parseArgs({ options: { role: { type: 'string' }, url: { type: 'string' } }, strict: false });
if (roleArgs.role === 'publisher') {
  const { values: v } = parseArgs({
    options: {
      role: { type: 'string' },
      url: { type: 'string' },
      index: { type: 'string' },
      publishers: { type: 'string' },
      sites: { type: 'string' },
      cameras: { type: 'string' },
      window: { type: 'string' },
    },
  });
  publisherMain(String(v.url), Number(v.index), Number(v.publishers), Number(v.sites), Number(v.cameras), Number(v.window)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else if (roleArgs.role === 'bare') {
  bareMain(String(roleArgs.url)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
