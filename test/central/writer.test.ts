// The ingest writer's promise: the ledger it builds does not depend on the order messages come in,
// how they are batched, or how often each is delivered. Checked by property: one site's history
// (connects, metas that change, statuses, events, metrics) written in order, one message per
// batch, and then shuffled, duplicated and cut into random batches must leave the same tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { classify, type Accepted } from '../../central/ingest/classify';
import { IngestWriter, type Received } from '../../central/ingest/writer';
import { openCentralDb, type CentralDb } from '../../central/store/open';
import { SimulatedSite, type TelemetryMessage } from '../../scripts/sim/telemetry';
import { tempDir } from '../kit/temp';

const STALE_MS = 180_000;

function accepted(m: TelemetryMessage): Accepted {
  const c = classify(m.topic, Buffer.from(m.payload), 1 << 20);
  if (!c.ok || !c.message) throw new Error(`the simulator built a message the central refuses: ${JSON.stringify(c)}`);
  return c.message;
}

/** One site's day: two connections, labels that change, statuses, events, metrics-free. */
function history(): Received[] {
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  const site = new SimulatedSite('v-01', [
    { camera: 'c1', class: 1, region: 'r/a', latitude: 30, longitude: 120 },
    { camera: 'c2', class: 2, region: 'r/b' },
  ]);
  const out: TelemetryMessage[] = [...site.connect(t0, { c1: { state: 'online', picture: { ok: true } }, c2: { state: 'offline' } })];
  for (let i = 1; i <= 12; i++) {
    out.push(site.status('c1', i % 3 === 0 ? 'offline' : 'online', t0 + i * 60_000, i % 4 === 0 ? { ok: false, faults: ['frozen'] } : { ok: true }));
    out.push(site.status('c2', i % 2 === 0 ? 'online' : 'offline', t0 + i * 60_000 + 500));
  }
  out.push(site.meta({ camera: 'c2', class: 1, region: 'r/c', latitude: 31, longitude: 121 }, t0 + 5 * 60_000));
  out.push(site.event({ type: 'camera-offline', severity: 'warning', camera: 'c1', message: 'c1 offline', detail: {} }, t0 + 3 * 60_000));
  out.push(...site.connect(t0 + 20 * 60_000, { c1: { state: 'online', picture: { ok: true } }, c2: { state: 'online', picture: null } }));
  // A backlog from the outage between the connections, replayed late.
  for (let i = 13; i < 18; i++) out.push(site.status('c1', 'online', t0 + i * 60_000, { ok: true }, { historical: true }));
  return out.map((m, i) => ({ message: accepted(m), receivedAt: t0 + 30 * 60_000 + i }));
}

async function dump(db: CentralDb): Promise<Record<string, unknown[]>> {
  const k = db.db;
  return {
    sites: await k.selectFrom('sites').selectAll().orderBy('site_id').execute(),
    evidence: await k.selectFrom('site_evidence').selectAll().orderBy('start_ms').execute(),
    cameras: await k.selectFrom('cameras').selectAll().orderBy('camera_id').execute(),
    lifetimes: await k.selectFrom('camera_lifetimes').selectAll().orderBy('camera_id').orderBy('start_ms').execute(),
    metaHistory: await k.selectFrom('meta_history').selectAll().orderBy('camera_id').orderBy('at').execute(),
    points: await k.selectFrom('status_points').selectAll().orderBy('camera_id').orderBy('at').execute(),
    events: await k.selectFrom('events').selectAll().orderBy('message_id').execute(),
    seen: await k.selectFrom('messages_seen').select(['message_id', 'kind']).orderBy('message_id').execute(),
  };
}

test('the ledger does not depend on delivery order, batching or duplicates', async (t) => {
  const dir = tempDir(t);
  const messages = history();
  const reference = await openCentralDb(join(dir, 'reference.db'));
  t.after(() => reference.close());
  const writer = new IngestWriter(reference.db, { staleAfterMs: STALE_MS });
  for (const m of messages) await writer.write([m]);
  const expected = await dump(reference);
  assert.equal(expected.points.length, 2 + 24 + 2 + 5, 'every status once');
  assert.equal(expected.cameras.length, 2);

  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.shuffledSubarray(messages, { minLength: messages.length, maxLength: messages.length }),
      fc.array(fc.nat(messages.length - 1), { maxLength: 15 }),
      fc.integer({ min: 1, max: 12 }),
      async (shuffled, repeats, batchSize) => {
        const db = await openCentralDb(join(dir, `run-${run++}.db`));
        try {
          const delivered = [...shuffled, ...repeats.map((i) => shuffled[i])];
          const w = new IngestWriter(db.db, { staleAfterMs: STALE_MS });
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
      numRuns: 40,
      seed: 0x1a9e57,
      reporter: (details) => {
        if (details.failed)
          throw new Error(`after ${details.numRuns} runs (seed ${details.seed}): ${String((details.errorInstance as Error | undefined)?.message)}`);
      },
    },
  );
});
