// Writes what the sites sent into the central's database, order-independent and idempotent:
// a message delivered twice (QoS 1, a replayed backlog) counts once by its messageId; a late
// message lands at its observedAt (a status older than the latest one joins the camera's timeline
// without changing its current state; an older meta joins the meta history). Nothing assumes the
// messages of a site arrive in order: several central instances may split them between them.
import { sql, type Kysely, type Transaction } from 'kysely';
import { recordSiteAudit } from '../audit/log';
import type { CentralTables } from '../store/schema';
import { largerOf, largerOfKnown, smallerOf, smallerOfKnown } from '../store/sql';
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

/** What one batch's follower does inside the batch's transaction. */
export interface FollowedBatch {
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

export class IngestWriter {
  constructor(
    private readonly db: Kysely<CentralTables>,
    private readonly options: WriterOptions,
  ) {}

  /** Writes a batch in one transaction. */
  async write(batch: readonly Received[]): Promise<WriteResult> {
    if (batch.length === 0) return { written: 0, duplicates: 0 };
    return this.db.transaction().execute(async (tx) => {
      let written = 0;
      let duplicates = 0;
      const evidence = new Map<string, number[]>();
      const touched = new Map<string, { site: string; day: string }>();
      const touch = (site: string, ms: number) => {
        const day = this.options.dayOf?.(ms);
        if (day !== undefined) touched.set(`${site}\u0000${day}`, { site, day });
      };
      const followed = this.options.follower?.batch();
      const sitesSpan = new Map<string, { first: number; last: number }>();
      for (const r of batch) {
        const id = messageIdOf(r.message);
        if (id !== undefined && !(await this.firstTime(tx, id, r))) {
          duplicates++;
          continue;
        }
        await this.touchSite(tx, r, sitesSpan);
        await this.apply(tx, r);
        await followed?.collect(tx, r);
        const at = observedAt(r.message);
        touch(r.message.site, at ?? r.receivedAt);
        if (at !== undefined && isEvidence(r.message)) {
          const list = evidence.get(r.message.site) ?? [];
          list.push(at);
          evidence.set(r.message.site, list);
          touch(r.message.site, at + this.options.staleAfterMs);
        }
        written++;
      }
      for (const [site, times] of evidence) await this.addEvidence(tx, site, times);
      await markDirty(tx, [...touched.values()]);
      await followed?.finish(tx);
      return { written, duplicates };
    });
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

  private async firstTime(tx: Tx, messageId: string, r: Received): Promise<boolean> {
    const res = await tx
      .insertInto('messages_seen')
      .values({ message_id: messageId, site_id: r.message.site, kind: r.message.kind, received_at: r.receivedAt })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /**
   * The site's first and latest observation moved to include this message's. `span` holds, per
   * site, the times this transaction already wrote: a time inside it would change neither (the
   * row's first_seen is at most its start, last_observed at least its end), so it is not written
   * again (one upsert a message was a seventh of ingest's CPU).
   */
  private async touchSite(tx: Tx, r: Received, span: Map<string, { first: number; last: number }>): Promise<void> {
    const at = observedAt(r.message) ?? r.receivedAt;
    const known = span.get(r.message.site);
    if (known && at >= known.first && at <= known.last) return;
    span.set(r.message.site, known ? { first: Math.min(known.first, at), last: Math.max(known.last, at) } : { first: at, last: at });
    await tx
      .insertInto('sites')
      .values({
        site_id: r.message.site,
        name: null,
        first_seen: at,
        last_observed: at,
        boot_id: null,
        bd_seq: null,
        version: null,
        connection: 'unknown',
        connection_since: null,
        roster: null,
      })
      .onConflict((oc) =>
        oc.column('site_id').doUpdateSet({
          first_seen: smallerOf('sites.first_seen', at),
          last_observed: largerOf('sites.last_observed', at),
        }),
      )
      .execute();
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
        return this.applyStatus(tx, m);
      case 'event': {
        const p = m.payload;
        const at = Date.parse(p.observedAt);
        await tx
          .insertInto('events')
          .values({
            message_id: p.messageId,
            site_id: m.site,
            camera_id: p.camera ?? null,
            at,
            type: p.type,
            severity: p.severity,
            message: p.message,
            detail: JSON.stringify(p.detail),
            historical: p.historical ? 1 : 0,
          })
          .onConflict((oc) => oc.column('message_id').doNothing())
          .execute();
        if (p.type === 'camera-removed' && p.camera) await this.removeCamera(tx, m.site, p.camera, at, true);
        // A site's own audit records (who watched what on its page) join the central's audit log.
        if (p.type === 'audit') await recordSiteAudit(tx, m.site, p);
        return;
      }
      case 'metrics': {
        const at = Date.parse(m.payload.observedAt);
        await tx
          .insertInto('metrics_latest')
          .values({ site_id: m.site, at, payload: JSON.stringify(m.payload) })
          .onConflict((oc) =>
            oc
              .column('site_id')
              .doUpdateSet({ at, payload: JSON.stringify(m.payload) })
              .where('metrics_latest.at', '<=', at),
          )
          .execute();
        await this.addHourlyMetrics(tx, m.site, at, m.payload);
        return;
      }
    }
  }

  /** Folds a sample into its hour: the worst of each value (maxima of load, minima of what is free). */
  private async addHourlyMetrics(tx: Tx, site: string, at: number, p: Extract<Accepted, { kind: 'metrics' }>['payload']): Promise<void> {
    const hour = at - (at % 3_600_000);
    const row = {
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
    await tx
      .insertInto('metrics_hourly')
      .values({ site_id: site, hour, samples: 1, ...row })
      .onConflict((oc) =>
        oc.columns(['site_id', 'hour']).doUpdateSet((eb) => ({
          samples: eb('metrics_hourly.samples', '+', 1),
          load_avg_max: largerOfKnown('metrics_hourly.load_avg_max', row.load_avg_max),
          cpu_percent_max: largerOfKnown('metrics_hourly.cpu_percent_max', row.cpu_percent_max),
          mem_free_min: smallerOfKnown('metrics_hourly.mem_free_min', row.mem_free_min),
          disk_free_percent_min: smallerOfKnown('metrics_hourly.disk_free_percent_min', row.disk_free_percent_min),
          temperature_max: largerOfKnown('metrics_hourly.temperature_max', row.temperature_max),
          agent_rss_max: largerOfKnown('metrics_hourly.agent_rss_max', row.agent_rss_max),
          outbox_depth_max: largerOfKnown('metrics_hourly.outbox_depth_max', row.outbox_depth_max),
          outbox_dropped_max: largerOfKnown('metrics_hourly.outbox_dropped_max', row.outbox_dropped_max),
          cameras_offline_max: largerOfKnown('metrics_hourly.cameras_offline_max', row.cameras_offline_max),
        })),
      )
      .execute();
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

  private async applyStatus(tx: Tx, m: Extract<Accepted, { kind: 'status' }>): Promise<void> {
    const p = m.payload;
    const at = Date.parse(p.observedAt);
    const picture = p.picture === null ? 'none' : p.picture.ok ? 'ok' : 'fault';
    const faults = p.picture && p.picture.faults.length > 0 ? JSON.stringify(p.picture.faults) : null;
    await tx
      .insertInto('status_points')
      .values({ site_id: m.site, camera_id: m.camera, at, message_id: p.messageId, seq: p.seq, state: p.state, picture, faults, reason: p.reason ?? null })
      .onConflict((oc) => oc.doNothing())
      .execute();
    await tx
      .updateTable('cameras')
      .set({ state: p.state, status_at: at, picture, faults, reason: p.reason ?? null })
      .where('site_id', '=', m.site)
      .where('camera_id', '=', m.camera)
      .where((eb) => eb.or([eb('status_at', 'is', null), eb('status_at', '<=', at)]))
      .execute();
  }

  /** Merges the evidence of these observedAt times into the site's stored intervals. */
  private async addEvidence(tx: Tx, site: string, times: number[]): Promise<void> {
    const added: Interval[] = union(
      [],
      times.map((t) => ({ start: t, end: t + this.options.staleAfterMs })),
    );
    for (const interval of added) {
      const overlapping = await tx
        .selectFrom('site_evidence')
        .select(['start_ms', 'end_ms'])
        .where('site_id', '=', site)
        .where('start_ms', '<=', interval.end)
        .where('end_ms', '>=', interval.start)
        .execute();
      if (overlapping.length === 1 && overlapping[0].start_ms <= interval.start && overlapping[0].end_ms >= interval.end) continue;
      const merged = union(
        overlapping.map((o) => ({ start: o.start_ms, end: o.end_ms })),
        [interval],
      );
      if (overlapping.length > 0) {
        await tx
          .deleteFrom('site_evidence')
          .where('site_id', '=', site)
          .where(
            'start_ms',
            'in',
            overlapping.map((o) => o.start_ms),
          )
          .execute();
      }
      await tx
        .insertInto('site_evidence')
        .values(merged.map((i) => ({ site_id: site, start_ms: i.start, end_ms: i.end })))
        .execute();
    }
  }
}
