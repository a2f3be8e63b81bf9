// Benchmark: the durable outbox and its replay to a real local Mosquitto.
//
//   npx tsc -p tsconfig.json && node dist/scripts/bench/outbox.js [options]
//     --enqueue 200000      messages for the enqueue-rate runs
//     --backlog 1000000     messages in the backlog (disk size, replay)
//     --windows 64,1000     publish windows (in-flight QoS 1 publishes) for bare and replay
//                           (64 is the session's default replayWindow)
//     --runs 4              bare/replay pairs per window (alternating which goes first, same
//                           broker, same payloads)
//     --protocol 5          MQTT protocol version (4 = 3.1.1, 5)
//     --broker-inflight 20  Mosquitto max_inflight_messages (towards the subscriber; 20 is its default)
//     --bare-mode batched   baseline variant: batched | immediate (see barePublish)
//     --dir DIR             working directory (default: a temp dir, removed at the end)
//     --skip-replay         only the SQLite parts
//     --json                also print the results as one JSON line
//
// Phases:
//  1. enqueue rate: a fresh outbox, producers keep up to 10,000 enqueue() promises unresolved
//     (group commit, synchronous=FULL); the same with synchronous=NORMAL; one producer awaiting
//     each enqueue (one fsync per message); a run over quota (constant drops).
//  2. backlog: 1M messages, then wal_checkpoint(TRUNCATE): file size, per-table size (dbstat),
//     accounted bytes. read()+ack() rate over 200k of them, without MQTT.
//  3. replay: Mosquitto on a free loopback port (persistence off), a subscriber in its own process
//     (QoS 1 subscription) counting and checking seq order. For each window, alternately:
//       bare:   mqtt.js publishes the 1M payloads from an in-memory array with a callback window;
//       replay: agent/uplink/replay.ts drains a fresh copy of the 1M backlog file (read batches,
//               publish through the same client API, ack batches, markHistorical per message).
//     Both send identical bytes (the bare array holds the marked payloads read from the backlog;
//     it is built before each bare run and dropped after it, and a full GC precedes every run).
//     A run ends when every PUBACK arrived (and, for replay, every ack committed) AND the
//     subscriber received all N; the rate is N / that time.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { openOutbox, ROW_OVERHEAD_BYTES, type SqliteOutbox } from '../../agent/uplink/outbox';
import { replay } from '../../agent/uplink/replay';
import { DropClass, type OutboxInput } from '../../agent/uplink/types';
import { markHistorical } from '../../agent/uplink/splice';

// ---------------------------------------------------------------------------------------------
// Realistic payloads: per-camera status snapshots (70%), agent metrics (20%), transitions (10%).

const SITE = 'site-0042';
const CAMERAS = 64;
const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

export function makeInput(i: number): OutboxInput {
  const cam = `cam-${String(i % CAMERAS).padStart(3, '0')}`;
  const ts = new Date(T0 + i * 250).toISOString();
  const kind = i % 10;
  if (kind === 0) {
    return {
      topic: `camgate/v1/${SITE}/events`,
      dropClass: DropClass.Transition,
      payload: {
        type: 'camera.transition',
        camera: cam,
        ts,
        from: i % 20 === 0 ? 'online' : 'offline',
        to: i % 20 === 0 ? 'offline' : 'online',
        cause: 'rtsp: no data for 10 s after 3 retries',
        device: `uuid:5f5a69c2-e0ae-504f-829b-00${String(i % CAMERAS).padStart(4, '0')}`,
      },
    };
  }
  if (kind <= 2) {
    return {
      topic: `camgate/v1/${SITE}/metrics`,
      dropClass: DropClass.Metric,
      payload: {
        type: 'agent.metrics',
        ts,
        cpu: Math.round((i % 97) * 10.3) / 1000,
        rssMb: 61 + (i % 13),
        heapMb: 23 + (i % 7),
        diskFreeMb: 10231 - (i % 500),
        load: [0.31, 0.22, 0.18],
        uplinkRttMs: 80 + (i % 40),
        outboxDepth: i,
      },
    };
  }
  return {
    topic: `camgate/v1/${SITE}/status/${cam}`,
    dropClass: DropClass.PeriodicStatus,
    payload: {
      type: 'camera.status',
      camera: cam,
      ts,
      online: true,
      rtsp: { ok: true, latencyMs: 100 + (i % 300) },
      snapshot: { ok: i % 50 !== 0, bytes: 48213 + (i % 1000) },
      fps: 25,
      kbps: 4012 - (i % 200),
      clockOffsetMs: -12,
    },
  };
}

// ---------------------------------------------------------------------------------------------

interface Args {
  enqueue: number;
  backlog: number;
  windows: number[];
  runs: number;
  protocol: 4 | 5;
  brokerInflight: number;
  bareMode: 'batched' | 'immediate';
  dir: string | undefined;
  skipReplay: boolean;
  json: boolean;
}

function readArgs(): Args {
  const { values } = parseArgs({
    options: {
      enqueue: { type: 'string', default: '200000' },
      backlog: { type: 'string', default: '1000000' },
      windows: { type: 'string', default: '64,1000' },
      runs: { type: 'string', default: '4' },
      protocol: { type: 'string', default: '5' },
      'broker-inflight': { type: 'string', default: '20' },
      'bare-mode': { type: 'string', default: 'batched' },
      dir: { type: 'string' },
      'skip-replay': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      role: { type: 'string' },
      url: { type: 'string' },
    },
  });
  return {
    enqueue: Number(values.enqueue),
    backlog: Number(values.backlog),
    windows: String(values.windows).split(',').map(Number),
    runs: Number(values.runs),
    protocol: values.protocol === '4' ? 4 : 5,
    brokerInflight: Number(values['broker-inflight']),
    bareMode: values['bare-mode'] === 'immediate' ? 'immediate' : 'batched',
    dir: values.dir,
    skipReplay: values['skip-replay'] === true,
    json: values.json === true,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

function fileBytes(file: string): number {
  let total = 0;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) total += statSync(f).size;
  return total;
}

/** Enqueues inputs [from, from+n) keeping at most `outstanding` promises unresolved. */
async function enqueueMany(outbox: SqliteOutbox, from: number, n: number, outstanding: number): Promise<void> {
  let open = 0;
  let failed: Error | undefined;
  let wake: (() => void) | null = null;
  const settle = () => {
    open--;
    if (wake && open < outstanding) {
      const w = wake;
      wake = null;
      w();
    }
  };
  for (let i = from; i < from + n; i++) {
    if (failed) throw failed;
    if (open >= outstanding) await new Promise<void>((r) => (wake = r));
    open++;
    outbox.enqueue(makeInput(i)).then(settle, (err) => {
      failed = err;
      settle();
    });
  }
  await outbox.flush();
  while (open > 0) await new Promise<void>((r) => (wake = r));
  if (failed) throw failed;
}

interface EnqueueResult {
  label: string;
  messages: number;
  ms: number;
  rate: number;
  dropped?: number;
}

async function enqueueRun(
  dir: string,
  label: string,
  n: number,
  opts: { synchronous?: 'FULL' | 'NORMAL'; quotaBytes?: number; sequential?: boolean },
): Promise<EnqueueResult> {
  const file = join(dir, `enqueue-${label.replace(/\W+/g, '-')}.db`);
  const outbox = openOutbox({ file, quotaBytes: opts.quotaBytes ?? 1e12, synchronous: opts.synchronous });
  const t0 = performance.now();
  if (opts.sequential) {
    for (let i = 0; i < n; i++) await outbox.enqueue(makeInput(i));
  } else {
    await enqueueMany(outbox, 0, n, 10_000);
  }
  const ms = performance.now() - t0;
  const dropped = outbox.stats().droppedTotal;
  await outbox.close();
  rmSync(file, { force: true });
  return { label, messages: n, ms: Math.round(ms), rate: rate(n, ms), ...(opts.quotaBytes ? { dropped } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Mosquitto and the subscriber

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function startMosquitto(dir: string, inflight: number): Promise<{ child: ChildProcess; url: string; config: string }> {
  const port = await freePort();
  const config = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    // Outgoing QoS 1 window towards the subscriber (default 20; see docs/benchmarks.md).
    `max_inflight_messages ${inflight}`,
    // The subscriber must not lose anything while it lags behind the publisher.
    'max_queued_messages 0',
    'log_type error',
    'log_type warning',
  ].join('\n');
  const file = join(dir, 'mosquitto.conf');
  writeFileSync(file, `${config}\n`);
  const child = spawn('mosquitto', ['-c', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 1000 });
      await c.endAsync();
      return { child, url, config };
    } catch {
      await sleep(50);
    }
  }
  child.kill('SIGTERM');
  throw new Error('mosquitto did not start');
}

interface SubDone {
  type: 'done';
  count: number;
  outOfOrder: number;
}
type SubMessage = SubDone | { type: 'ready' | 'armed' };

/** Subscriber process: counts messages under camgate/#, checks that seqs increase. */
async function subscriberMain(url: string, protocol: 4 | 5): Promise<void> {
  const client = await mqtt.connectAsync(url, { protocolVersion: protocol, clean: true, reconnectPeriod: 0 });
  await client.subscribeAsync('camgate/#', { qos: 1 });
  let expect = 0;
  let count = 0;
  let lastSeq = 0;
  let outOfOrder = 0;
  const re = /"seq":(\d+)/;
  client.on('message', (_topic, payload) => {
    count++;
    const m = re.exec(payload.toString('latin1', 0, 48));
    const seq = m ? Number(m[1]) : -1;
    if (seq <= lastSeq) outOfOrder++;
    lastSeq = seq;
    if (count === expect) process.send!({ type: 'done', count, outOfOrder } satisfies SubDone);
  });
  process.on('message', (msg: { type: string; n: number }) => {
    if (msg.type === 'expect') {
      expect = msg.n;
      count = 0;
      lastSeq = 0;
      outOfOrder = 0;
      process.send!({ type: 'armed' });
    } else if (msg.type === 'exit') {
      void client.endAsync().then(() => process.exit(0));
    }
  });
  process.send!({ type: 'ready' });
}

class Subscriber {
  private waiters: Array<(m: SubMessage) => void> = [];
  constructor(readonly child: ChildProcess) {
    child.on('message', (m: SubMessage) => {
      const w = this.waiters.shift();
      if (w) w(m);
    });
  }
  next(): Promise<SubMessage> {
    return new Promise((r) => this.waiters.push(r));
  }
  static async start(url: string, protocol: 4 | 5): Promise<Subscriber> {
    const child = spawn(process.execPath, [__filename, '--role', 'subscriber', '--url', url, '--protocol', String(protocol)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const sub = new Subscriber(child);
    const m = await sub.next();
    if (m.type !== 'ready') throw new Error(`subscriber: ${JSON.stringify(m)}`);
    return sub;
  }
  /** Resets the subscriber's count; `done` resolves when it received n messages. */
  async arm(n: number): Promise<{ done: Promise<SubDone> }> {
    this.child.send({ type: 'expect', n });
    const m = await this.next();
    if (m.type !== 'armed') throw new Error(`subscriber: ${JSON.stringify(m)}`);
    return { done: this.next() as Promise<SubDone> };
  }
  stop(): void {
    this.child.send({ type: 'exit' });
  }
}

// ---------------------------------------------------------------------------------------------
// The two publishers

interface Wire {
  topic: string;
  payload: string;
}

/**
 * The baseline: mqtt.js alone, payloads from memory, `window` publishes in flight.
 * 'batched' refills the window once per burst of PUBACKs (in a microtask, so the new publishes
 * go out together); 'immediate' publishes from inside each PUBACK callback. The first was the
 * faster one here, so it is the default baseline.
 */
/** The exact bytes the replay sends: stored payloads, marked historical. */
function readWire(template: string): Wire[] {
  const wire: Wire[] = [];
  const ob = openOutbox({ file: template, quotaBytes: 1e12 });
  try {
    let after = 0;
    for (;;) {
      const batch = ob.read(after, 10_000);
      if (batch.length === 0) break;
      for (const m of batch) wire.push({ topic: m.topic, payload: markHistorical(m.payload) });
      after = batch[batch.length - 1].seq;
    }
    ob.checkpoint();
  } finally {
    void ob.close();
  }
  return wire;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function barePublish(client: MqttClient, msgs: Wire[], window: number, mode: 'batched' | 'immediate'): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    let inFlight = 0;
    let scheduled = false;
    const refill = () => {
      scheduled = false;
      launch();
    };
    const cb = (err?: Error) => {
      if (err) return reject(err);
      done++;
      inFlight--;
      if (done === msgs.length) return resolve();
      if (mode === 'immediate') launch();
      else if (!scheduled) {
        scheduled = true;
        queueMicrotask(refill);
      }
    };
    const launch = () => {
      while (inFlight < window && next < msgs.length) {
        const m = msgs[next++];
        inFlight++;
        client.publish(m.topic, m.payload, { qos: 1 }, cb);
      }
    };
    launch();
  });
}

interface ReplayRun {
  kind: 'bare' | 'replay';
  load1: number;
  window: number;
  messages: number;
  pubackMs: number;
  endToEndMs: number;
  rate: number;
  outOfOrder: number;
  fileAfterMb?: number;
  compactMs?: number;
  maxCompactStepMs?: number;
  fileCompactedMb?: number;
}

async function oneRun(
  kind: 'bare' | 'replay',
  args: { bareMode: 'batched' | 'immediate'; url: string; protocol: 4 | 5; window: number; n: number; sub: Subscriber; template: string; dir: string },
): Promise<ReplayRun> {
  const client = await mqtt.connectAsync(args.url, { protocolVersion: args.protocol, clean: true, reconnectPeriod: 0 });
  let outbox: SqliteOutbox | null = null;
  let wire: Wire[] | null = null;
  const file = join(args.dir, 'replay.db');
  if (kind === 'bare') {
    // Built for this run only and dropped after it: a 1M-entry array kept alive through the
    // replay runs made their garbage collections (which mark the old generation) much dearer.
    wire = readWire(args.template);
    if (wire.length !== args.n) throw new Error(`template holds ${wire.length} messages, expected ${args.n}`);
  } else {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    copyFileSync(args.template, file);
    // Flush the copy now: otherwise the first checkpoint's fsync inside the timed run pays for it.
    const fd = openSync(file, 'r+');
    fsyncSync(fd);
    closeSync(fd);
    outbox = openOutbox({ file, quotaBytes: 1e12 });
  }
  gc(); // the same clean heap for both kinds
  const { done: subDone } = await args.sub.arm(args.n);
  const t0 = performance.now();
  let pubackMs: number;
  if (kind === 'bare') {
    await barePublish(client, wire!, args.window, args.bareMode);
    pubackMs = performance.now() - t0;
  } else {
    const ob = outbox!;
    const result = await replay({
      outbox: ob,
      window: args.window,
      publish: (msg) =>
        new Promise<void>((resolve, reject) => {
          client.publish(msg.topic, markHistorical(msg.payload), { qos: 1 }, (err) => (err ? reject(err) : resolve()));
        }),
    });
    pubackMs = performance.now() - t0;
    if (result.reason !== 'drained' || result.published !== args.n) throw new Error(`replay: ${JSON.stringify(result)}`);
    if (ob.stats().depth !== 0) throw new Error(`replay left ${ob.stats().depth} messages`);
  }
  const done = await subDone;
  const endToEndMs = performance.now() - t0;
  await client.endAsync();
  let fileAfterMb: number | undefined;
  let compaction: { compactMs: number; maxCompactStepMs: number; fileCompactedMb: number } | undefined;
  if (outbox) {
    outbox.checkpoint();
    fileAfterMb = mb(fileBytes(file));
    // What an idle session would do after the drain: compact() in default-size steps.
    const tc = performance.now();
    let maxStep = 0;
    for (;;) {
      const ts = performance.now();
      const n = outbox.compact();
      maxStep = Math.max(maxStep, performance.now() - ts);
      if (n === 0) break;
    }
    const compactMs = performance.now() - tc;
    outbox.checkpoint();
    await outbox.close();
    compaction = { compactMs: Math.round(compactMs), maxCompactStepMs: Math.round(maxStep), fileCompactedMb: mb(fileBytes(file)) };
  }
  if (done.count !== args.n) throw new Error(`subscriber got ${done.count} of ${args.n}`);
  return {
    kind,
    load1: Math.round(loadavg()[0] * 100) / 100,
    window: args.window,
    messages: args.n,
    pubackMs: Math.round(pubackMs),
    endToEndMs: Math.round(endToEndMs),
    rate: rate(args.n, endToEndMs),
    outOfOrder: done.outOfOrder,
    ...(fileAfterMb !== undefined ? { fileAfterMb } : {}),
    ...compaction,
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = readArgs();
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'camgate-bench-outbox-'));
  const results: Record<string, unknown> = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, sqlite: '', loadAtStart: loadavg() },
  };
  let mosquitto: ChildProcess | null = null;
  try {
    const probe = new Database(':memory:');
    (results.machine as { sqlite: string }).sqlite = probe.prepare('SELECT sqlite_version()').pluck().get() as string;
    probe.close();
    const sample = openOutbox({ file: join(dir, 'sample.db'), quotaBytes: 1e9 });
    const samples = await Promise.all(Array.from({ length: 1000 }, (_, i) => sample.enqueue(makeInput(i))));
    const avgPayload = Math.round(sample.read(0, 1000).reduce((n, m) => n + Buffer.byteLength(m.payload), 0) / samples.length);
    await sample.close();
    results.avgPayloadBytes = avgPayload;
    console.log(
      `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(`payloads: average ${avgPayload} B stored (with "seq"), e.g. ${JSON.stringify(makeInput(3).payload)}`);

    // 1. enqueue rate
    const enq: EnqueueResult[] = [];
    enq.push(await enqueueRun(dir, 'group commit, FULL', args.enqueue, {}));
    enq.push(await enqueueRun(dir, 'group commit, NORMAL', args.enqueue, { synchronous: 'NORMAL' }));
    // Quota at about a quarter of what is enqueued: it drops (5% at a time) for most of the run.
    const quota = args.enqueue * 60;
    enq.push(await enqueueRun(dir, `over quota (${mb(quota)} MB), FULL`, args.enqueue, { quotaBytes: quota }));
    enq.push(await enqueueRun(dir, 'sequential await, FULL', Math.min(args.enqueue, 2000), { sequential: true }));
    for (const r of enq)
      console.log(`enqueue ${r.label}: ${r.messages} msgs in ${r.ms} ms = ${r.rate} msg/s${r.dropped !== undefined ? `, ${r.dropped} dropped` : ''}`);
    results.enqueue = enq;

    // 2. backlog
    const template = join(dir, 'backlog.db');
    const backlog = openOutbox({ file: template, quotaBytes: 1e12 });
    const t0 = performance.now();
    await enqueueMany(backlog, 0, args.backlog, 10_000);
    const backlogMs = performance.now() - t0;
    const stats = backlog.stats();
    backlog.checkpoint();
    await backlog.close();
    const db = new Database(template, { readonly: true });
    const perObject = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as Array<{
      name: string;
      bytes: number;
    }>;
    const payloadBytes = db.prepare('SELECT SUM(octet_length(payload)) FROM messages').pluck().get() as number;
    db.close();
    const size = fileBytes(template);
    const back = {
      messages: args.backlog,
      enqueueMs: Math.round(backlogMs),
      enqueueRate: rate(args.backlog, backlogMs),
      fileBytes: size,
      fileMb: mb(size),
      bytesPerMessage: Math.round(size / args.backlog),
      payloadBytesPerMessage: Math.round(payloadBytes / args.backlog),
      accountedBytes: stats.bytes,
      rowOverheadAssumed: ROW_OVERHEAD_BYTES,
      objects: perObject.map((o) => ({ name: o.name, mb: mb(o.bytes) })),
    };
    results.backlog = back;
    console.log(
      `backlog: ${args.backlog} msgs enqueued in ${back.enqueueMs} ms (${back.enqueueRate} msg/s); file after checkpoint ${back.fileMb} MB = ${back.bytesPerMessage} B/msg (payload ${back.payloadBytesPerMessage} B/msg); accounted ${mb(stats.bytes)} MB`,
    );
    console.log(`  by object: ${back.objects.map((o) => `${o.name} ${o.mb} MB`).join(', ')}`);

    // read + ack without MQTT, on a copy
    {
      const file = join(dir, 'ack.db');
      copyFileSync(template, file);
      const ob = openOutbox({ file, quotaBytes: 1e12 });
      const n = Math.min(200_000, args.backlog);
      const ta = performance.now();
      let after = 0;
      let acked = 0;
      while (acked < n) {
        const batch = ob.read(after, 1000);
        after = batch[batch.length - 1].seq;
        ob.ack(batch.map((m) => m.seq));
        acked += batch.length;
      }
      const ackMs = performance.now() - ta;
      await ob.close();
      rmSync(file, { force: true });
      results.readAck = { messages: acked, ms: Math.round(ackMs), rate: rate(acked, ackMs) };
      console.log(`read+ack (batches of 1000, no MQTT): ${acked} msgs in ${Math.round(ackMs)} ms = ${rate(acked, ackMs)} msg/s`);
    }

    if (args.skipReplay) return;

    // 3. replay vs bare
    const broker = await startMosquitto(dir, args.brokerInflight);
    mosquitto = broker.child;
    results.mosquittoConfig = broker.config.split('\n');
    results.bareMode = args.bareMode;
    results.protocol = args.protocol;
    const n = args.backlog;
    const sub = await Subscriber.start(broker.url, args.protocol);
    const runs: ReplayRun[] = [];
    for (const window of args.windows) {
      for (let r = 0; r < args.runs; r++) {
        // Alternate which one goes first, so a drift in the machine's load does not favour one.
        for (const kind of r % 2 === 0 ? (['bare', 'replay'] as const) : (['replay', 'bare'] as const)) {
          const run = await oneRun(kind, { bareMode: args.bareMode, url: broker.url, protocol: args.protocol, window, n, sub, template, dir });
          runs.push(run);
          console.log(
            `${kind.padEnd(6)} W=${window}: ${run.messages} msgs, all PUBACKs ${run.pubackMs} ms, subscriber done ${run.endToEndMs} ms = ${run.rate} msg/s (load ${run.load1})` +
              `${run.outOfOrder ? `, ${run.outOfOrder} out of order` : ''}` +
              `${run.fileAfterMb !== undefined ? `; outbox file after drain ${run.fileAfterMb} MB, compact() steps ${run.compactMs} ms (max step ${run.maxCompactStepMs} ms) -> ${run.fileCompactedMb} MB` : ''}`,
          );
        }
      }
    }
    sub.stop();
    results.replay = runs;
    const summary = args.windows.map((window) => {
      const of = (kind: string) => runs.filter((r) => r.window === window && r.kind === kind).map((r) => r.rate);
      const bare = of('bare');
      const rep = of('replay');
      const med = (xs: number[]) => {
        const v = [...xs].sort((a, b) => a - b);
        const h = Math.floor(v.length / 2);
        return v.length % 2 ? v[h] : Math.round((v[h - 1] + v[h]) / 2);
      };
      const ratios = bare.map((b, i) => Math.round((rep[i] / b) * 100)); // pair i = the i-th bare and i-th replay run
      return {
        window,
        bare: { median: med(bare), min: Math.min(...bare), max: Math.max(...bare) },
        replay: { median: med(rep), min: Math.min(...rep), max: Math.max(...rep) },
        ratioPercentPerPair: ratios,
        ratioPercentMedian: Math.round((med(rep) / med(bare)) * 100),
      };
    });
    results.summary = summary;
    for (const s of summary) {
      console.log(
        `W=${s.window}: bare median ${s.bare.median} (${s.bare.min}-${s.bare.max}), replay median ${s.replay.median} (${s.replay.min}-${s.replay.max}) msg/s; replay/bare ${s.ratioPercentMedian}% (pairs: ${s.ratioPercentPerPair.join(', ')}%)`,
      );
    }
  } finally {
    if (mosquitto) mosquitto.kill('SIGTERM');
    if (!args.dir) rmSync(dir, { recursive: true, force: true });
  }
  if (args.json) console.log(JSON.stringify(results));
}

const roleIndex = process.argv.indexOf('--role');
if (roleIndex > 0 && process.argv[roleIndex + 1] === 'subscriber') {
  const url = process.argv[process.argv.indexOf('--url') + 1];
  const protocol = process.argv[process.argv.indexOf('--protocol') + 1] === '4' ? 4 : 5;
  subscriberMain(url, protocol).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
