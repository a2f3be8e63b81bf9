// A small agent process for the kill -9 test: the real SQLite outbox (synchronous=FULL), the real
// Uplink/session and bdSeq file, and a producer of events at a steady rate. Not a test file.
//
// Environment: HARNESS_DIR (data dir), HARNESS_URL (broker), HARNESS_SITE, HARNESS_PRODUCE
// ("1": produce, "0": only drain), HARNESS_BURST (events per tick), HARNESS_TICK_MS.
// stdout, one line each (pipes are synchronous on Linux, so a line written before a SIGKILL
// reaches the parent): "producing" when the first burst goes to the outbox, "connected <bdSeq>",
// "committed <n> <seq>" once event n is durable in the outbox, and "idle" when not producing and
// the outbox is empty.
//
// The producer counter is persisted (HARNESS_DIR/counter, fsync'ed before event n is enqueued),
// so n is unique across restarts even when a kill lands between the two.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../../agent/inventory/open';
import { openOutbox } from '../../agent/uplink/outbox';
import { FileBdSeqStore } from '../../agent/uplink/bdseq';
import { Uplink } from '../../agent/uplink/uplink';

const dir = process.env.HARNESS_DIR as string;
const url = process.env.HARNESS_URL as string;
const site = process.env.HARNESS_SITE ?? 'kill-site';
const produce = process.env.HARNESS_PRODUCE !== '0';
const burst = Number(process.env.HARNESS_BURST ?? '5');
const tickMs = Number(process.env.HARNESS_TICK_MS ?? '10');

const counterFile = join(dir, 'counter');
function readCounter(): number {
  try {
    return Number(readFileSync(counterFile, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}
/** Atomic (temp file, fsync, rename): a kill mid-write leaves the old value, never an empty file. */
function writeCounter(value: number): void {
  const tmp = `${counterFile}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, String(value));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, counterFile);
}

const out = (line: string) => process.stdout.write(line + '\n');

const db = openDatabase(join(dir, 'inv'));
const outbox = openOutbox({ file: join(dir, 'outbox.db'), quotaBytes: 512 * 1024 * 1024 });
const uplink = new Uplink({
  site,
  version: '0.0.0-harness',
  db,
  outbox,
  bdSeq: FileBdSeqStore.inDataDir(dir),
  broker: { urls: [url], protocolVersion: 5, clientId: `camgate-${site}`, keepaliveSec: 10, connectTimeoutMs: 3000, reconnectMinMs: 50, reconnectMaxMs: 500 },
  uplink: {
    outboxQuotaMb: 512,
    replayWindow: 16,
    replayMaxPerSec: 0,
    metricsIntervalSec: 0,
    commandTimeoutMs: 5000,
    commandMaxBytes: 65536,
    commandConcurrency: 4,
  },
});
uplink.session.on('connected', (c) => out(`connected ${c.bdSeq}`));
uplink.start();

let next = readCounter();
if (produce) {
  let started = false;
  setInterval(() => {
    // One fsync of the counter per burst, before any of the burst's events can enter the outbox.
    const first = next;
    next += burst;
    writeCounter(next);
    if (!started) {
      started = true;
      out('producing');
    }
    for (let n = first; n < next; n++) {
      uplink
        .event({ type: 'audit', severity: 'info', message: `event ${n}`, detail: { n } })
        .then((seq) => out(`committed ${n} ${seq}`))
        .catch((err) => out(`enqueue-failed ${n} ${(err as Error).message}`));
    }
  }, tickMs);
} else {
  const check = setInterval(() => {
    const s = uplink.session.status();
    if (s.connected && !s.replaying && outbox.stats().depth === 0) {
      out('idle');
      clearInterval(check);
    }
  }, 50);
}

process.on('SIGTERM', () => {
  void uplink
    .stop()
    .then(() => outbox.close())
    .finally(() => process.exit(0));
});
