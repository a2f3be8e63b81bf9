// Writes what the sites sent into the central's database, order-independent and idempotent:
// a message delivered twice (QoS 1, a replayed backlog) counts once by its messageId; a late
// message lands at its observedAt (a status older than the latest one joins the camera's timeline
// without changing its current state; an older meta joins the meta history). Nothing assumes the
// messages of a site arrive in order: several central instances may split them between them.
import { sql, type Kysely, type Transaction } from 'kysely';
import { recordSiteAudit } from '../audit/log';
import type { CentralDb, Dialect } from '../store/open';
import type { CentralTables } from '../store/schema';
import { largerOf, largerOfKnown, ROWS_PER_JSON_TABLE, smallerOf, smallerOfKnown, rowsTable, type ValueType } from '../store/sql';
import { inChunks } from '../../lib/chunks';
import {
  currentStates,
  type CurrentState,
  evidenceChange,
  foldHourly,
  type EvidenceChange,
  latestByKey,
  spanMoves,
  spansBySite,
  statusRows,
  type StatusPointRow,
} from './batch-sets';
import type { Accepted, Refused } from './classify';
import { union, type Interval } from '../../lib/intervals';
import { markDirty } from '../figures/store';

export type Tx = Transaction<CentralTables> | Kysely<CentralTables>;

export interface Received {
  message: Accepted;
  /** When the central took it in (its own clock): the Will carries the time of its connection, not of its death. */
  receivedAt: number;
  /** Delivered as a retained message (a snapshot at subscribe time, not news). */
  retained?: boolean;
}

/** Refused messages of one site and reason, counted together. */
export interface RefusedCount {
  refused: Refused;
  /** When the latest of them came. */
  at: number;
  count: number;
}

export interface WriteResult {
  written: number;
  duplicates: number;
}

/** What one batch's follower does with the batch's writes. */
export interface FollowedBatch {
  /**
   * With the rows every instance writes (write: before the batch's transaction on PostgreSQL, at
   * its start on SQLite), given the batch's status, metrics and event messages, duplicates among
   * them: what it writes must change nothing the second time.
   */
  early(tx: Tx, messages: readonly Received[]): Promise<void>;
  /** After a message was applied (duplicates are not). */
  collect(tx: Tx, r: Received): Promise<void>;
  /** After the batch's last write, before it commits. */
  finish(tx: Tx): Promise<void>;
}

/** Something that follows every batch in its transaction (the alarms: central/alarms/store.ts). */
export interface BatchFollower {
  batch(): FollowedBatch;
}

export interface WriterOptions {
  /** central.staleAfterSec in ms: a message observed at x is evidence of the site's life over [x, x + this]. */
  staleAfterMs: number;
  /** The local day of an instant: every site day a message touches is marked for its figures to be measured again. */
  dayOf?: (ms: number) => string;
  follower?: BatchFollower;
  /**
   * This instance's name on the rows each instance adds to on its own (metrics_hourly's samples):
   * its MQTT client id, unique per instance. Instances with the same name still count right, but
   * wait for each other's commits.
   */
  writer?: string;
}

function observedAt(m: Accepted): number | undefined {
  return m.kind === 'meta-cleared' ? undefined : Date.parse(m.payload.observedAt);
}

/** The message id that makes a message count once (a cleared meta has none: clearing twice is the same). */
function messageIdOf(m: Accepted): string | undefined {
  return m.kind === 'meta-cleared' ? undefined : m.payload.messageId;
}

/** Does this message say the site was alive at its observedAt? The Will is written at connect time and
 * published at the death: its observedAt is no evidence of anything. */
function isEvidence(m: Accepted): boolean {
  if (m.kind === 'meta-cleared') return false;
  return !(m.kind === 'state' && m.payload.state === 'offline' && m.payload.reason === 'will');
}

/** Rows one multi-row statement writes at most (at most 9 parameters a row: far under either driver's limit). */
const ROWS_PER_STATEMENT = 500;

type Status = Extract<Accepted, { kind: 'status' }>;
type Metrics = Extract<Accepted, { kind: 'metrics' }>;
type Event = Extract<Accepted, { kind: 'event' }>;
type SetBased = Received & { message: Status | Metrics | Event };

/** The messages of one kind among these. */
function messagesOf<K extends SetBased['message']['kind']>(items: readonly SetBased[], kind: K): Array<Extract<SetBased['message'], { kind: K }>> {
  return items.flatMap((r) => (r.message.kind === kind ? [r.message as Extract<SetBased['message'], { kind: K }>] : []));
}

/**
 * Messages written a table at a time for the whole batch (most of the stream): their rows do not
 * depend on one another's. The others (connection states, births, metas, removals, audit records)
 * read what is stored to decide and are written one by one, in the batch's order.
 */
function isSetBased(m: Accepted): m is Status | Metrics | Event {
  return m.kind === 'status' || m.kind === 'metrics' || (m.kind === 'event' && m.payload.type !== 'camera-removed' && m.payload.type !== 'audit');
}

function byText<T>(keyOf: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0);
}

export class IngestWriter {
  private readonly db: Kysely<CentralTables>;
  private readonly dialect: Dialect;

  constructor(
    central: Pick<CentralDb, 'db' | 'dialect'>,
    private readonly options: WriterOptions,
  ) {
    this.db = central.db;
    this.dialect = central.dialect;
  }

  /**
   * Writes a batch a few multi-row statements per table rather than statements per message (on
   * PostgreSQL each is a round trip, and the rows stay locked until the commit). Rows are written
   * in key order, the one lock order of every instance.
   *
   * First, the rows every instance writes too (a site's span, evidence, figures marks and latest
   * metrics, a camera's current state, the alarm keys that only hear all is well), on PostgreSQL
   * each in a statement or short transaction of its own: with a shared subscription both
   * instances get messages of every site, and while these rows were written in the batch's own
   * transaction each instance's batch waited for the other's commit. Every one of these writes
   * only moves a value towards what the batch says (a span widens, intervals merge, the latest
   * wins), so it is written for every delivery, duplicates too, and a batch written again after a
   * failure changes nothing more. Then, in the batch's transaction, what each message adds once
   * (found new by its messageId): status points, events, hourly samples, the messages that read
   * what is stored to decide, and the alarms' other keys.
   */
  async write(batch: readonly Received[]): Promise<WriteResult> {
    if (batch.length === 0) return { written: 0, duplicates: 0 };
    const followed = this.options.follower?.batch();
    if (this.dialect === 'postgres') {
      await this.writeShared(this.db, batch, followed);
      return this.db.transaction().execute((tx) => this.writeOnce(tx, batch, followed));
    }
    // SQLite has one writer at a time, so nobody waits for these rows: one transaction writes
    // each page it changes to the log once, not once per statement.
    return this.db.transaction().execute(async (tx) => {
      await this.writeShared(tx, batch, followed);
      return this.writeOnce(tx, batch, followed);
    });
  }

  /**
   * The rows every instance writes, each in a statement or short transaction of its own (unless
   * `db` is a transaction already), for every delivery of the batch: see write.
   */
  private async writeShared(db: Tx, batch: readonly Received[], followed: FollowedBatch | undefined): Promise<void> {
    const setBased = batch.filter((r): r is SetBased => isSetBased(r.message));
    await this.touchSites(db, batch);
    const evidence = this.evidenceOf(batch);
    if (db.isTransaction) await this.addEvidence(db, evidence);
    else await db.transaction().execute((tx) => this.addEvidence(tx, evidence));
    await markDirty(db, this.marksOf(batch));
    await this.writeLatestMetrics(db, messagesOf(setBased, 'metrics'));
    await this.moveCurrentStates(db, currentStates(statusRows(messagesOf(setBased, 'status'))));
    await followed?.early(db, setBased);
  }

  /** What each message adds once, in the batch's transaction: see write. */
  private async writeOnce(tx: Tx, batch: readonly Received[], followed: FollowedBatch | undefined): Promise<WriteResult> {
    const fresh = await this.firstTimeOnes(tx, batch);
    const freshSetBased = fresh.filter((r): r is SetBased => isSetBased(r.message));
    // Status points before the metas: a camera's first meta takes its latest point as its state.
    await this.insertStatusPoints(tx, statusRows(messagesOf(freshSetBased, 'status')));
    await this.insertEvents(tx, messagesOf(freshSetBased, 'event'));
    await this.addHourlyMetrics(tx, messagesOf(freshSetBased, 'metrics'));
    for (const r of fresh) {
      if (isSetBased(r.message)) continue;
      await this.apply(tx, r);
      await followed?.collect(tx, r);
    }
    if (followed) {
      for (const r of freshSetBased) await followed.collect(tx, r);
      await followed.finish(tx);
    }
    return { written: fresh.length, duplicates: batch.length - fresh.length };
  }

  /**
   * Rows to insert, as a select of one JSON table (rowsTable): one parameter instead of one per
   * value. `where true`: SQLite would read an upsert's ON after a bare SELECT as a join's.
   */
  private rowsOf<R extends Record<string, string | number | null>>(tx: Tx, rows: readonly R[], types: { [K in keyof R]: ValueType }) {
    return tx
      .selectFrom(rowsTable(this.dialect, rows, types, 'r'))
      .selectAll()
      .where(sql<boolean>`true`);
  }

  /** Per site, the observedAt of its messages that are evidence of its life. */
  private evidenceOf(batch: readonly Received[]): Map<string, number[]> {
    const evidence = new Map<string, number[]>();
    for (const r of batch) {
      const at = observedAt(r.message);
      if (at === undefined || !isEvidence(r.message)) continue;
      const list = evidence.get(r.message.site) ?? [];
      list.push(at);
      evidence.set(r.message.site, list);
    }
    return evidence;
  }

  /** Every site day the batch's messages (and the evidence they give) touch: their figures are measured again. */
  private marksOf(batch: readonly Received[]): Array<{ site: string; day: string }> {
    const dayOf = this.options.dayOf;
    if (!dayOf) return [];
    const touched = new Map<string, { site: string; day: string }>();
    const touch = (site: string, ms: number) => {
      const day = dayOf(ms);
      touched.set(`${site}\u0000${day}`, { site, day });
    };
    for (const r of batch) {
      const at = observedAt(r.message);
      touch(r.message.site, at ?? r.receivedAt);
      if (at !== undefined && isEvidence(r.message)) touch(r.message.site, at + this.options.staleAfterMs);
    }
    return [...touched.values()];
  }

  /** Adds refused messages to the per-site, per-reason counts (the example kept is the latest). */
  async refuse(items: readonly RefusedCount[]): Promise<void> {
    for (const { refused, at, count } of items) {
      await this.db
        .insertInto('ingest_rejects')
        .values({ site_id: refused.site, reason: refused.reason, count, first_at: at, last_at: at, example: refused.detail })
        .onConflict((oc) =>
          oc.columns(['site_id', 'reason']).doUpdateSet((eb) => ({ count: eb('ingest_rejects.count', '+', count), last_at: at, example: refused.detail })),
        )
        .execute();
    }
  }

  /** Does the database answer? */
  async ping(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The batch's messages not seen before, in the batch's order: one `insert … on conflict do
   * nothing returning` of their ids per chunk answers which ones are new. A message twice in
   * the batch counts once (its first delivery); a cleared meta has no id and always counts.
   */
  private async firstTimeOnes(tx: Tx, batch: readonly Received[]): Promise<Received[]> {
    const firstDelivery = new Map<string, Received>();
    for (const r of batch) {
      const id = messageIdOf(r.message);
      if (id !== undefined && !firstDelivery.has(id)) firstDelivery.set(id, r);
    }
    const rows = [...firstDelivery]
      .map(([id, r]) => ({ message_id: id, site_id: r.message.site, kind: r.message.kind, received_at: r.receivedAt }))
      .sort(byText((row) => row.message_id));
    const inserted = new Set<string>();
    for (const chunk of inChunks(rows, ROWS_PER_JSON_TABLE)) {
      const answered = await tx
        .insertInto('messages_seen')
        .columns(['message_id', 'site_id', 'kind', 'received_at'])
        .expression(this.rowsOf(tx, chunk, { message_id: 'text', site_id: 'text', kind: 'text', received_at: 'bigint' }))
        .onConflict((oc) => oc.column('message_id').doNothing())
        .returning('message_id')
        .execute();
      for (const { message_id } of answered) inserted.add(message_id);
    }
    // The same delivery may be in the batch twice (the same object): each id is taken once.
    return batch.filter((r) => {
      const id = messageIdOf(r.message);
      return id === undefined || inserted.delete(id);
    });
  }

  /**
   * The sites' first and latest observation moved to include the batch's (the site's row created
   * where there is none, as the batch's other writes need it). The stored spans are
   * read first and only the sites whose span the batch widens are written: most batches widen
   * none, and on PostgreSQL an upsert locks its row until the commit, which made every instance
   * wait for the others' transactions on the same sites.
   */
  private async touchSites(tx: Tx, batch: readonly Received[]): Promise<void> {
    const spans = spansBySite(batch.map((r) => ({ site: r.message.site, at: observedAt(r.message) ?? r.receivedAt })));
    const sites = [...spans.keys()].sort();
    const moving: string[] = [];
    for (const chunk of inChunks(sites, ROWS_PER_STATEMENT)) {
      const stored = await tx.selectFrom('sites').select(['site_id', 'first_seen', 'last_observed']).where('site_id', 'in', chunk).execute();
      const bySite = new Map(stored.map((row) => [row.site_id, row]));
      moving.push(...chunk.filter((site) => spanMoves(bySite.get(site), spans.get(site)!)));
    }
    for (const chunk of inChunks(moving, ROWS_PER_STATEMENT)) {
      await tx
        .insertInto('sites')
        .values(
          chunk.map((site) => ({
            site_id: site,
            name: null,
            first_seen: spans.get(site)!.first,
            last_observed: spans.get(site)!.last,
            boot_id: null,
            bd_seq: null,
            version: null,
            connection: 'unknown',
            connection_since: null,
            roster: null,
          })),
        )
        .onConflict((oc) =>
          oc.column('site_id').doUpdateSet({
            first_seen: smallerOf('sites.first_seen', 'excluded.first_seen'),
            last_observed: largerOf('sites.last_observed', 'excluded.last_observed'),
          }),
        )
        .execute();
    }
  }

  private async apply(tx: Tx, r: Received): Promise<void> {
    const m = r.message;
    switch (m.kind) {
      case 'state':
        return this.applyState(tx, m, r);
      case 'birth': {
        const p = m.payload;
        await tx
          .updateTable('sites')
          .set({ name: p.siteName ?? null, boot_id: p.bootId, version: p.version, bd_seq: p.bdSeq, roster: JSON.stringify(p.cameras.items) })
          .where('site_id', '=', m.site)
          .where((eb) => eb.or([eb('bd_seq', 'is', null), eb('bd_seq', '<=', p.bdSeq)]))
          .execute();
        return;
      }
      case 'meta':
        return this.applyMeta(tx, m);
      case 'meta-cleared':
        return this.removeCamera(tx, m.site, m.camera, r.receivedAt, false);
      case 'status':
      case 'metrics':
        throw new Error(`ingest: a ${m.kind} message is written with its batch's (writeStatuses, writeMetrics), not one by one`);
      case 'event': {
        const p = m.payload;
        const at = Date.parse(p.observedAt);
        await this.insertEvents(tx, [m]);
        if (p.type === 'camera-removed' && p.camera) await this.removeCamera(tx, m.site, p.camera, at, true);
        // A site's own audit records (who watched what on its page) join the central's audit log.
        if (p.type === 'audit') await recordSiteAudit(tx, m.site, p);
        return;
      }
    }
  }

  /** Events, once each (by message id). */
  private async insertEvents(tx: Tx, events: readonly Event[]): Promise<void> {
    const rows = events
      .map((m) => ({
        message_id: m.payload.messageId,
        site_id: m.site,
        camera_id: m.payload.camera ?? null,
        at: Date.parse(m.payload.observedAt),
        type: m.payload.type,
        severity: m.payload.severity,
        message: m.payload.message,
        detail: JSON.stringify(m.payload.detail),
        historical: m.payload.historical ? 1 : 0,
      }))
      .sort(byText((row) => row.message_id));
    for (const chunk of inChunks(rows, ROWS_PER_STATEMENT)) {
      await tx
        .insertInto('events')
        .values(chunk)
        .onConflict((oc) => oc.column('message_id').doNothing())
        .execute();
    }
  }

  /** Each site's latest metrics sample of the batch replaces an older stored one. */
  private async writeLatestMetrics(tx: Tx, metrics: readonly Metrics[]): Promise<void> {
    if (metrics.length === 0) return;
    const latest = [
      ...latestByKey(
        metrics,
        (m) => m.site,
        (m) => Date.parse(m.payload.observedAt),
      ).values(),
    ]
      .map((m) => ({ site_id: m.site, at: Date.parse(m.payload.observedAt), payload: JSON.stringify(m.payload) }))
      .sort(byText((row) => row.site_id));
    for (const chunk of inChunks(latest, ROWS_PER_STATEMENT)) {
      await tx
        .insertInto('metrics_latest')
        .values(chunk)
        .onConflict((oc) =>
          oc
            .column('site_id')
            .doUpdateSet((eb) => ({ at: eb.ref('excluded.at'), payload: eb.ref('excluded.payload') }))
            .where((eb) => eb('metrics_latest.at', '<=', eb.ref('excluded.at'))),
        )
        .execute();
    }
  }

  /** Every sample folded into its site's hour: the samples counted, the worst of each value (maxima of load, minima of what is free). */
  private async addHourlyMetrics(tx: Tx, metrics: readonly Metrics[]): Promise<void> {
    const hours = foldHourly(
      metrics.map((m) => {
        const p = m.payload;
        const at = Date.parse(p.observedAt);
        return {
          site_id: m.site,
          hour: at - (at % 3_600_000),
          samples: 1,
          load_avg_max: p.host.loadAvg1,
          cpu_percent_max: p.host.cpuLoadPercent ?? null,
          mem_free_min: p.host.memAvailableBytes ?? p.host.memFreeBytes,
          disk_free_percent_min: p.host.disk?.freePercent ?? null,
          temperature_max: p.host.temperatureC ?? null,
          agent_rss_max: p.agent.rssBytes,
          outbox_depth_max: p.outbox?.depth ?? null,
          outbox_dropped_max: p.outbox?.droppedTotal ?? null,
          cameras_offline_max: p.health?.offline ?? null,
        };
      }),
    )
      .map((row) => ({ ...row, writer: this.options.writer ?? '' }))
      .sort((a, b) => (a.site_id < b.site_id ? -1 : a.site_id > b.site_id ? 1 : a.hour - b.hour));
    for (const chunk of inChunks(hours, ROWS_PER_STATEMENT)) {
      await tx
        .insertInto('metrics_hourly')
        .values(chunk)
        .onConflict((oc) =>
          oc.columns(['site_id', 'hour', 'writer']).doUpdateSet((eb) => ({
            samples: eb('metrics_hourly.samples', '+', eb.ref('excluded.samples')),
            load_avg_max: largerOfKnown('metrics_hourly.load_avg_max', 'excluded.load_avg_max'),
            cpu_percent_max: largerOfKnown('metrics_hourly.cpu_percent_max', 'excluded.cpu_percent_max'),
            mem_free_min: smallerOfKnown('metrics_hourly.mem_free_min', 'excluded.mem_free_min'),
            disk_free_percent_min: smallerOfKnown('metrics_hourly.disk_free_percent_min', 'excluded.disk_free_percent_min'),
            temperature_max: largerOfKnown('metrics_hourly.temperature_max', 'excluded.temperature_max'),
            agent_rss_max: largerOfKnown('metrics_hourly.agent_rss_max', 'excluded.agent_rss_max'),
            outbox_depth_max: largerOfKnown('metrics_hourly.outbox_depth_max', 'excluded.outbox_depth_max'),
            outbox_dropped_max: largerOfKnown('metrics_hourly.outbox_dropped_max', 'excluded.outbox_dropped_max'),
            cameras_offline_max: largerOfKnown('metrics_hourly.cameras_offline_max', 'excluded.cameras_offline_max'),
          })),
        )
        .execute();
    }
  }

  private async applyState(tx: Tx, m: Extract<Accepted, { kind: 'state' }>, r: Received): Promise<void> {
    const p = m.payload;
    const site = await tx
      .selectFrom('sites')
      .select(['bd_seq', 'connection', 'connection_since', 'last_observed'])
      .where('site_id', '=', m.site)
      .executeTakeFirst();
    // An offline state of an older connection than the latest birth's is old news (Sparkplug's bdSeq rule).
    if (p.state === 'offline' && site?.bd_seq !== null && site?.bd_seq !== undefined && p.bdSeq < site.bd_seq) return;
    // The same death again (the retained Will, delivered anew at every subscribe): it says nothing new.
    if (p.state === 'offline' && site?.connection === 'offline' && site.bd_seq === p.bdSeq) return;
    // The Will is written at connect time: its death is when the broker published it, or, when it
    // comes retained (the central was away then), after the site's last sign of life.
    const since = p.state === 'offline' && p.reason === 'will' ? (r.retained && site ? site.last_observed : r.receivedAt) : Date.parse(p.observedAt);
    // A late change joins the timeline without changing the current connection.
    await tx
      .insertInto('site_connections')
      .values({ site_id: m.site, at: since, connection: p.state, reason: p.reason ?? null, bd_seq: p.bdSeq })
      .onConflict((oc) => oc.doNothing())
      .execute();
    if (site?.connection_since !== null && site?.connection_since !== undefined && since < site.connection_since) return;
    await tx
      .updateTable('sites')
      .set({ connection: p.state, connection_since: since, ...(p.state === 'online' ? { bd_seq: p.bdSeq } : {}) })
      .where('site_id', '=', m.site)
      .execute();
  }

  private async applyMeta(tx: Tx, m: Extract<Accepted, { kind: 'meta' }>): Promise<void> {
    const p = m.payload;
    const at = Date.parse(p.observedAt);
    const main = p.profiles[0];
    const columns = {
      name: p.name,
      class: p.class,
      latitude: p.latitude,
      longitude: p.longitude,
      region: p.region,
      owner: p.owner ?? null,
      manufacturer: p.device.manufacturer ?? null,
      model: p.device.model ?? null,
      firmware: p.device.firmware ?? null,
      serial: p.device.serial ?? null,
      main_height: main?.height ?? null,
      meta: JSON.stringify(p),
    };
    await tx
      .insertInto('meta_history')
      .values({
        site_id: m.site,
        camera_id: m.camera,
        at,
        message_id: p.messageId,
        class: p.class,
        region: p.region,
        owner: p.owner ?? null,
        has_coordinates: p.latitude !== null && p.longitude !== null ? 1 : 0,
        main_height: main?.height ?? null,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const row = await tx
      .selectFrom('cameras')
      .select(['first_meta_at', 'meta_at', 'removed_at'])
      .where('site_id', '=', m.site)
      .where('camera_id', '=', m.camera)
      .executeTakeFirst();
    if (!row) {
      // Statuses may come before the first meta (another instance, another batch): the latest is the current state.
      const latest = await tx
        .selectFrom('status_points')
        .select(['state', 'at', 'picture', 'faults', 'reason'])
        .where('site_id', '=', m.site)
        .where('camera_id', '=', m.camera)
        .orderBy('at', 'desc')
        .limit(1)
        .executeTakeFirst();
      await tx
        .insertInto('cameras')
        .values({
          site_id: m.site,
          camera_id: m.camera,
          first_meta_at: at,
          removed_at: null,
          meta_at: at,
          ...columns,
          state: latest?.state ?? null,
          status_at: latest?.at ?? null,
          picture: latest?.picture ?? null,
          faults: latest?.faults ?? null,
          reason: latest?.reason ?? null,
        })
        .execute();
      await tx.insertInto('camera_lifetimes').values({ site_id: m.site, camera_id: m.camera, start_ms: at, end_ms: null }).execute();
      return;
    }
    if (row.removed_at !== null && at > row.removed_at) {
      // Announced again after its removal: counted again from now.
      await tx
        .insertInto('camera_lifetimes')
        .values({ site_id: m.site, camera_id: m.camera, start_ms: at, end_ms: null })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await tx.updateTable('cameras').set({ removed_at: null }).where('site_id', '=', m.site).where('camera_id', '=', m.camera).execute();
    }
    if (at < row.first_meta_at) {
      // A meta older than the first one seen (a backlog replayed late): the camera counted from it.
      await tx
        .updateTable('camera_lifetimes')
        .set({ start_ms: at })
        .where('site_id', '=', m.site)
        .where('camera_id', '=', m.camera)
        .where('start_ms', '=', row.first_meta_at)
        .execute();
      await tx.updateTable('cameras').set({ first_meta_at: at }).where('site_id', '=', m.site).where('camera_id', '=', m.camera).execute();
    }
    if (at >= row.meta_at) {
      await tx
        .updateTable('cameras')
        .set({ ...columns, meta_at: at })
        .where('site_id', '=', m.site)
        .where('camera_id', '=', m.camera)
        .execute();
    }
  }

  /**
   * A camera removed at `at`: its open lifetime ends there. `authoritative`: the camera-removed
   * event's observedAt; otherwise (the retained meta cleared) the time it was taken in, unless a
   * removal is already known.
   */
  private async removeCamera(tx: Tx, site: string, camera: string, at: number, authoritative: boolean): Promise<void> {
    const row = await tx
      .selectFrom('cameras')
      .select(['removed_at', 'first_meta_at'])
      .where('site_id', '=', site)
      .where('camera_id', '=', camera)
      .executeTakeFirst();
    if (!row) return;
    if (row.removed_at !== null && !authoritative) return;
    const open = await tx
      .selectFrom('camera_lifetimes')
      .select(['start_ms', 'end_ms'])
      .where('site_id', '=', site)
      .where('camera_id', '=', camera)
      .orderBy('start_ms', 'desc')
      .executeTakeFirst();
    if (!open || at < open.start_ms) return;
    await tx.updateTable('cameras').set({ removed_at: at }).where('site_id', '=', site).where('camera_id', '=', camera).execute();
    await tx
      .updateTable('camera_lifetimes')
      .set({ end_ms: at })
      .where('site_id', '=', site)
      .where('camera_id', '=', camera)
      .where('start_ms', '=', open.start_ms)
      .execute();
  }

  /** Statuses, every one a point of its camera's timeline (once: the points' key includes the message id). */
  private async insertStatusPoints(tx: Tx, rows: readonly StatusPointRow[]): Promise<void> {
    for (const chunk of inChunks(rows, ROWS_PER_JSON_TABLE)) {
      await tx
        .insertInto('status_points')
        .columns(['site_id', 'camera_id', 'at', 'message_id', 'seq', 'state', 'picture', 'faults', 'reason'])
        .expression(
          this.rowsOf(tx, chunk, {
            site_id: 'text',
            camera_id: 'text',
            at: 'bigint',
            message_id: 'text',
            seq: 'bigint',
            state: 'text',
            picture: 'text',
            faults: 'text',
            reason: 'text',
          }),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }

  /**
   * Each camera's current state from its latest status of the batch, unless a later one is
   * stored (the status_at guard: whatever the order statuses come in, the latest wins). One
   * statement: a row the guard leaves alone is neither written nor, on PostgreSQL, locked.
   * Cameras without a meta yet have no row: their first meta takes the latest point (applyMeta).
   */
  private async moveCurrentStates(tx: Tx, current: readonly CurrentState[]): Promise<void> {
    for (const chunk of inChunks(current, ROWS_PER_JSON_TABLE)) {
      const latest = rowsTable(
        this.dialect,
        chunk,
        { site_id: 'text', camera_id: 'text', state: 'text', at: 'bigint', picture: 'text', faults: 'text', reason: 'text' },
        'latest',
      );
      await tx
        .updateTable('cameras')
        .from(latest)
        .set((eb) => ({
          state: eb.ref('latest.state'),
          status_at: eb.ref('latest.at'),
          picture: eb.ref('latest.picture'),
          faults: eb.ref('latest.faults'),
          reason: eb.ref('latest.reason'),
        }))
        .whereRef('cameras.site_id', '=', 'latest.site_id')
        .whereRef('cameras.camera_id', '=', 'latest.camera_id')
        .where((eb) => eb.or([eb('cameras.status_at', 'is', null), eb('cameras.status_at', '<=', eb.ref('latest.at'))]))
        .execute();
    }
  }

  /** The sites whose stored evidence the added intervals change, and how (as stored now). */
  private async evidenceChanges(tx: Tx, added: ReadonlyArray<{ site: string; intervals: Interval[] }>): Promise<Array<{ site: string } & EvidenceChange>> {
    const out: Array<{ site: string } & EvidenceChange> = [];
    for (const chunk of inChunks(added, ROWS_PER_STATEMENT / 2)) {
      const stored = await tx
        .selectFrom('site_evidence')
        .select(['site_id', 'start_ms', 'end_ms'])
        .where((eb) =>
          eb.or(
            chunk.map((a) =>
              eb.and([eb('site_id', '=', a.site), eb('start_ms', '<=', a.intervals[a.intervals.length - 1].end), eb('end_ms', '>=', a.intervals[0].start)]),
            ),
          ),
        )
        .execute();
      for (const a of chunk) {
        const change = evidenceChange(
          stored.filter((row) => row.site_id === a.site).map((row) => ({ start: row.start_ms, end: row.end_ms })),
          a.intervals,
        );
        if (change.removed.length > 0 || change.inserted.length > 0) out.push({ site: a.site, ...change });
      }
    }
    return out;
  }

  /**
   * Merges the evidence of these observedAt times (per site) into the sites' stored intervals:
   * the stored intervals the batch's may touch are read in one statement, the changes decided
   * per site (evidenceChange), the replaced rows deleted and the new ones inserted in one each.
   * Another instance may be merging the same site's: on PostgreSQL the sites that change are
   * locked (their sites rows, in order) and their intervals read again under the lock; a site
   * whose intervals already cover the batch's needs neither (merging only widens them).
   */
  private async addEvidence(tx: Tx, timesBySite: ReadonlyMap<string, number[]>): Promise<void> {
    const added = [...timesBySite]
      .map(([site, times]) => ({
        site,
        intervals: union(
          [],
          times.map((t) => ({ start: t, end: t + this.options.staleAfterMs })),
        ),
      }))
      .filter((a) => a.intervals.length > 0)
      .sort(byText((a) => a.site));
    let changes = await this.evidenceChanges(tx, added);
    if (this.dialect === 'postgres' && changes.length > 0) {
      const changing = new Set(changes.map((c) => c.site));
      for (const chunk of inChunks([...changing], ROWS_PER_STATEMENT)) {
        await tx.selectFrom('sites').select('site_id').where('site_id', 'in', chunk).orderBy('site_id').forUpdate().execute();
      }
      changes = await this.evidenceChanges(
        tx,
        added.filter((a) => changing.has(a.site)),
      );
    }
    const removed = changes.flatMap((c) => c.removed.map((i) => ({ site: c.site, start: i.start })));
    const inserted = changes.flatMap((c) => c.inserted.map((i) => ({ site_id: c.site, start_ms: i.start, end_ms: i.end })));
    for (const chunk of inChunks(removed, ROWS_PER_STATEMENT)) {
      await tx
        .deleteFrom('site_evidence')
        .where(({ eb, refTuple, tuple }) =>
          eb(
            refTuple('site_id', 'start_ms'),
            'in',
            chunk.map((r) => tuple(r.site, r.start)),
          ),
        )
        .execute();
    }
    for (const chunk of inChunks(inserted, ROWS_PER_STATEMENT)) await tx.insertInto('site_evidence').values(chunk).execute();
  }
}
