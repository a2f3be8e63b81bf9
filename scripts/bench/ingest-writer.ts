// Benchmark: the central's ingest writer alone, in this process, without MQTT: the same sites and
// stream as bench:ingest (ingest-stream.ts), classified as the subscriber classifies them, then
// written by IngestWriter with the alarm follower in batches, as the central writes a backlog.
// The CPU this process spent per message (process.cpuUsage) is the steadier figure on a shared
// box: the wall time follows the load; on PostgreSQL the server's own CPU is not in it.
//
//   npx tsc -p tsconfig.json && node dist/scripts/bench/ingest-writer.js
//     --sites 100            simulated sites
//     --cameras 10           cameras per site
//     --messages 20000       messages in the timed stream (after every site's connect messages)
//     --batch 500            messages per write (ingest.batchMax; the central's default is 2000, 500 keeps the
//                            figures in docs/benchmarks.md comparable)
//     --runs 2               rounds (each round: every database once, in turn)
//     --db sqlite,postgres   which databases
//     --pg-server URL        PostgreSQL server for the scratch database
//                            (default postgres://postgres@127.0.0.1:5432/postgres)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AlarmStore } from '../../central/alarms/store';
import { ALARM_KINDS } from '../../central/alarms/rules';
import { dayFinder } from '../../central/figures/days';
import { classify } from '../../central/ingest/classify';
import { IngestWriter, type Received } from '../../central/ingest/writer';
import { openCentralDb } from '../../central/store/open';
import type { TelemetryMessage } from '../sim/telemetry';
import { createScratchDatabase } from '../peers/postgres';
import { sitesOf, streamMessage } from './ingest-stream';

const DATABASES = ['sqlite', 'postgres'] as const;
type Database = (typeof DATABASES)[number];

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: a positive integer, not "${text}"`);
  return n;
}

function readArgs() {
  const { values } = parseArgs({
    options: {
      sites: { type: 'string', default: '100' },
      cameras: { type: 'string', default: '10' },
      messages: { type: 'string', default: '20000' },
      batch: { type: 'string', default: '500' },
      runs: { type: 'string', default: '2' },
      db: { type: 'string', default: 'sqlite,postgres' },
      'pg-server': { type: 'string', default: process.env.CAMGATE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    },
    allowPositionals: false,
  });
  const databases = values.db.split(',').map((d) => d.trim());
  for (const d of databases) {
    if (!(DATABASES as readonly string[]).includes(d)) throw new Error(`--db: unknown database "${d}" (choose from ${DATABASES.join(', ')})`);
  }
  return {
    sites: positive('sites', values.sites),
    cameras: positive('cameras', values.cameras),
    messages: positive('messages', values.messages),
    batch: positive('batch', values.batch),
    runs: positive('runs', values.runs),
    databases: databases as Database[],
    pgServer: values['pg-server'],
  };
}

function received(m: TelemetryMessage, receivedAt: number): Received {
  const c = classify(m.topic, Buffer.from(m.payload), 1_000_000);
  if (!c.ok || !c.message) throw new Error(`the bench's own message was not accepted: ${m.topic} ${c.ok ? '(nothing to take in)' : c.refused.detail}`);
  return { message: c.message, receivedAt, retained: m.retain };
}

async function run(database: Database, args: ReturnType<typeof readArgs>): Promise<string> {
  const scratch = database === 'postgres' ? await createScratchDatabase(args.pgServer, 'bench_writer') : undefined;
  const dir = database === 'sqlite' ? mkdtempSync(join(tmpdir(), 'camgate-bench-writer-')) : undefined;
  const db = await openCentralDb(scratch?.url ?? join(dir!, 'central.db'));
  try {
    const alarms = new AlarmStore({ dialect: db.dialect, kinds: new Set(ALARM_KINDS), diskLowPercent: 10 });
    const writer = new IngestWriter(db, { staleAfterMs: 180_000, dayOf: dayFinder('Asia/Shanghai'), follower: alarms, writer: 'bench' });
    const sites = sitesOf(0, 1, args.sites, args.cameras);
    const now = Date.now();
    const connect = sites.flatMap((s) => s.connect(now - 3_600_000)).map((m) => received(m, now));
    for (let i = 0; i < connect.length; i += args.batch) await writer.write(connect.slice(i, i + args.batch));
    const start = now - 600_000;
    const stream = Array.from({ length: args.messages }, (_, i) => received(streamMessage(sites, i, start + Math.floor((i * 600_000) / args.messages)), now));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let written = 0;
    for (let i = 0; i < stream.length; i += args.batch) written += (await writer.write(stream.slice(i, i + args.batch))).written;
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (written !== stream.length) throw new Error(`${database}: ${written} of ${stream.length} messages written`);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return `${database.padEnd(8)} ${args.messages} msgs in ${ms.toFixed(0)} ms = ${Math.round((args.messages / ms) * 1000)} msg/s; this process's CPU ${cpuMs.toFixed(0)} ms = ${Math.round((cpuMs * 1000) / args.messages)} µs a message; load ${loadavg()[0].toFixed(1)}`;
  } finally {
    await db.close();
    await scratch?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = readArgs();
  console.log(
    `${args.sites} sites x ${args.cameras} cameras, ${args.messages} messages in batches of ${args.batch}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (let round = 1; round <= args.runs; round++) {
    for (const database of args.databases) console.log(`round ${round}: ${await run(database, args)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
