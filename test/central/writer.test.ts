// The ingest writer's promise: the ledger it builds does not depend on the order messages come in,
// how they are batched, or how often each is delivered. Checked by property: one site's history
// (connects, metas that change, statuses, events, metrics) written in order, one message per
// batch, and then shuffled, duplicated and cut into random batches must leave the same tables,
// on SQLite and on PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { classify, type Accepted } from '../../central/ingest/classify';
import { IngestWriter, type Received } from '../../central/ingest/writer';
import { metricsByHour } from '../../central/ledger/history';
import { openCentralDb, type CentralDb } from '../../central/store/open';
import { SimulatedSite, type TelemetryMessage } from '../../scripts/sim/telemetry';
import { testDatabase } from '../kit/postgres';
import { tempDir, type TestContext } from '../kit/temp';

const STALE_MS = 180_000;

function accepted(m: TelemetryMessage): Accepted {
  const c = classify(m.topic, Buffer.from(m.payload), 1 << 20);
  if (!c.ok || !c.message) throw new Error(`the simulator built a message the central refuses: ${JSON.stringify(c)}`);
  return c.message;
}

/** Two sites' half hour: connections, labels that change, statuses, events, metrics, a late backlog. */
function history(): Received[] {
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  const site = new SimulatedSite('v-01', [
    { camera: 'c1', class: 1, region: 'r/a', latitude: 30, longitude: 120 },
    { camera: 'c2', class: 2, region: 'r/b' },
  ]);
  const other = new SimulatedSite('v-02', [{ camera: 'c1', class: 3, region: 'r/a' }]);
  const out: TelemetryMessage[] = [...site.connect(t0, { c1: { state: 'online', picture: { ok: true } }, c2: { state: 'offline' } })];
  out.push(...other.connect(t0 + 90_000, { c1: { state: 'online', picture: { ok: true } } }));
  for (let i = 1; i <= 12; i++) {
    out.push(site.status('c1', i % 3 === 0 ? 'offline' : 'online', t0 + i * 60_000, i % 4 === 0 ? { ok: false, faults: ['frozen'] } : { ok: true }));
    out.push(site.status('c2', i % 2 === 0 ? 'online' : 'offline', t0 + i * 60_000 + 500));
    // Metrics across an hour's turn, some with the disk (whose minimum is kept) and some without.
    out.push(site.metrics(t0 - 6 * 60_000 + i * 60_000, i % 2 === 0 ? { diskFreePercent: 40 - i } : {}));
    // The other site is silent for a while: its evidence has a gap.
    if (i < 4 || i > 9) out.push(other.status('c1', i % 5 === 0 ? 'offline' : 'online', t0 + i * 60_000 + 200, { ok: true }));
    if (i < 4 || i > 9) out.push(other.metrics(t0 + i * 60_000 + 300, { outboxDropped: i }));
  }
  out.push(site.meta({ camera: 'c2', class: 1, region: 'r/c', latitude: 31, longitude: 121 }, t0 + 5 * 60_000));
  out.push(site.event({ type: 'camera-offline', severity: 'warning', camera: 'c1', message: 'c1 offline', detail: {} }, t0 + 3 * 60_000));
  out.push(other.event({ type: 'camera-offline', severity: 'warning', camera: 'c1', message: 'c1 offline', detail: {} }, t0 + 5 * 60_000 + 200));
  out.push(...site.connect(t0 + 20 * 60_000, { c1: { state: 'online', picture: { ok: true } }, c2: { state: 'online', picture: null } }));
  // A backlog from the outage between the connections, replayed late.
  for (let i = 13; i < 18; i++) out.push(site.status('c1', 'online', t0 + i * 60_000, { ok: true }, { historical: true }));
  out.push(site.metrics(t0 + 14 * 60_000, { historical: true, diskFreePercent: 5 }));
  return out.map((m, i) => ({ message: accepted(m), receivedAt: t0 + 30 * 60_000 + i }));
}

async function dump(db: CentralDb): Promise<Record<string, unknown[]>> {
  const k = db.db;
  return {
    sites: await k.selectFrom('sites').selectAll().orderBy('site_id').execute(),
    evidence: await k.selectFrom('site_evidence').selectAll().orderBy('site_id').orderBy('start_ms').execute(),
    cameras: await k.selectFrom('cameras').selectAll().orderBy('site_id').orderBy('camera_id').execute(),
    lifetimes: await k.selectFrom('camera_lifetimes').selectAll().orderBy('site_id').orderBy('camera_id').orderBy('start_ms').execute(),
    metaHistory: await k.selectFrom('meta_history').selectAll().orderBy('site_id').orderBy('camera_id').orderBy('at').execute(),
    points: await k.selectFrom('status_points').selectAll().orderBy('site_id').orderBy('camera_id').orderBy('at').execute(),
    metricsLatest: await k.selectFrom('metrics_latest').selectAll().orderBy('site_id').execute(),
    metricsHourly: (await metricsByHour(k).orderBy('site_id').orderBy('hour').execute()).map((row) => ({ ...row, samples: Number(row.samples) })),
    events: await k.selectFrom('events').selectAll().orderBy('message_id').execute(),
    seen: await k.selectFrom('messages_seen').select(['message_id', 'kind']).orderBy('message_id').execute(),
  };
}

async function freshDb(t: TestContext, dialect: 'sqlite' | 'postgres', name: string): Promise<CentralDb> {
  return openCentralDb(dialect === 'postgres' ? await testDatabase(t) : join(tempDir(t), `${name}.db`));
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`${dialect}: the ledger does not depend on delivery order, batching or duplicates`, async (t) => {
    const messages = history();
    const reference = await freshDb(t, dialect, 'reference');
    t.after(() => reference.close());
    const writer = new IngestWriter(reference, { staleAfterMs: STALE_MS });
    for (const m of messages) await writer.write([m]);
    const expected = await dump(reference);
    assert.equal(expected.points.length, 2 + 24 + 2 + 5 + 1 + 6, 'every status once');
    assert.equal(expected.cameras.length, 3);
    assert.equal(expected.metricsHourly.length, 3, 'two hours of one site, one of the other');
    assert.ok(expected.evidence.length >= 3, 'the silent site has a gap in its evidence');

    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(messages, { minLength: messages.length, maxLength: messages.length }),
        fc.array(fc.nat(messages.length - 1), { maxLength: 15 }),
        fc.integer({ min: 1, max: 12 }),
        async (shuffled, repeats, batchSize) => {
          const db = await freshDb(t, dialect, `run-${run++}`);
          try {
            const delivered = [...shuffled, ...repeats.map((i) => shuffled[i])];
            const w = new IngestWriter(db, { staleAfterMs: STALE_MS });
            let duplicates = 0;
            for (let i = 0; i < delivered.length; i += batchSize) duplicates += (await w.write(delivered.slice(i, i + batchSize))).duplicates;
            assert.equal(duplicates, repeats.length);
            const got = await dump(db);
            for (const table of Object.keys(expected)) {
              const rows = got[table];
              const want = expected[table];
              const i = want.findIndex((row, k) => JSON.stringify(row) !== JSON.stringify(rows[k]));
              if (i >= 0 || rows.length !== want.length) {
                throw new Error(`${table} differs (batches of ${batchSize}): row ${i}: ${JSON.stringify(rows[i])} instead of ${JSON.stringify(want[i])}`);
              }
            }
          } finally {
            await db.close();
          }
        },
      ),
      // The counterexample is the whole message list: the error above says what differs.
      {
        // A PostgreSQL database a run costs a CREATE DATABASE and the migrations: fewer runs there.
        numRuns: dialect === 'postgres' ? 12 : 40,
        seed: 0x1a9e57,
        reporter: (details) => {
          if (details.failed)
            throw new Error(`after ${details.numRuns} runs (seed ${details.seed}): ${String((details.errorInstance as Error | undefined)?.message)}`);
        },
      },
    );
  });
}
