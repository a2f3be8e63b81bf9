// Alarms kept in the central's database: the observations of a written batch applied inside the
// ingest writer's transaction, key by key in one order (site, camera, kind). Each key's
// alarm_latest row is locked first (SELECT … FOR UPDATE on PostgreSQL; SQLite has one writer), so
// two instances sharing a database decide one key one after the other and never open it twice;
// the unique partial index alarms_one_open is the guarantee behind that. docs/alarms.md.
import { randomUUID } from 'node:crypto';
import { inChunks } from '../../lib/chunks';
import { ROWS_PER_JSON_TABLE, rowsTable } from '../store/sql';
import type { BatchFollower, FollowedBatch, Received, Tx } from '../ingest/writer';
import type { Dialect } from '../store/open';
import type { CentralTables } from '../store/schema';
import { CAMERA_KINDS, observe, type KeyedObservation, type ObserveOptions } from './observe';
import { apply, type AlarmKind, type KeyState, type Latest, type Observation, type Period } from './rules';

/** Keys read or written by one statement at most (3 to 6 parameters each, far below either database's limit). */
const KEYS_PER_STATEMENT = 300;

/**
 * Observations that only say again that all is well: all-clears newer than a latest all-clear.
 * The key has no open alarm then (an all-clear newer than every fault cleared it), and each
 * decision is a plain note (rules.ts: decide), so the periods need not be read: only the latest
 * moves. Most of a city's statuses are this.
 */
function onlyNewAllClears(latest: Latest | null, ordered: readonly Observation[]): boolean {
  return latest !== null && !latest.fault && ordered.every((o) => !o.fault && !o.removal) && ordered[0].at > latest.at;
}

/** The latest after such all-clears: what rules.ts's apply makes of them without periods. */
function quietLatest(latest: Latest | null, ordered: readonly Observation[]): Latest | null {
  let state: KeyState = { latest, periods: [] };
  for (const o of ordered) state = apply(state, o).state;
  return state.latest;
}

export interface AlarmSettings extends ObserveOptions {
  dialect: Dialect;
}

function keyOf(o: Pick<KeyedObservation, 'site' | 'camera' | 'kind'>): string {
  return `${o.site}\u0000${o.camera}\u0000${o.kind}`;
}

function periodOf(row: CentralTables['alarms']): Period {
  return {
    id: row.alarm_id,
    openedAt: row.opened_at,
    openedBy: row.opened_by,
    lastFaultAt: row.last_fault_at,
    clearedAt: row.cleared_at,
    clearedBy: row.cleared_by,
    okBefore: row.ok_before,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    historical: row.historical === 1,
  };
}

function columnsOf(p: Period) {
  return {
    opened_at: p.openedAt,
    opened_by: p.openedBy,
    last_fault_at: p.lastFaultAt,
    ok_before: p.okBefore,
    detail: JSON.stringify(p.detail),
    historical: p.historical ? 1 : 0,
    cleared_at: p.clearedAt,
    cleared_by: p.clearedBy,
  };
}

/** A period's columns as it is updated (a type, not an interface: rowsTable takes it as a record). */
type PeriodUpdate = { alarm_id: string } & ReturnType<typeof columnsOf>;

const PERIOD_COLUMN_TYPES = {
  alarm_id: 'text',
  opened_at: 'bigint',
  opened_by: 'text',
  last_fault_at: 'bigint',
  ok_before: 'bigint',
  detail: 'text',
  historical: 'bigint',
  cleared_at: 'bigint',
  cleared_by: 'text',
} as const;

/** The periods a batch opened and the stored ones it changed. */
interface PeriodChanges {
  inserted: Array<CentralTables['alarms']>;
  updated: PeriodUpdate[];
}

export class AlarmStore implements BatchFollower {
  constructor(
    private readonly settings: AlarmSettings,
    private readonly newId: () => string = randomUUID,
  ) {}

  /**
   * The alarms' part of one ingest batch: the keys whose observations only say again that all is
   * well settled early (settleQuiet), the others' observations collected message by message and
   * applied at its end.
   */
  batch(): FollowedBatch {
    const observations: KeyedObservation[] = [];
    const settled = new Set<string>();
    const settledFrom = new Set<Received>();
    return {
      early: async (tx, messages) => {
        for (const r of messages) settledFrom.add(r);
        for (const k of await this.settleQuiet(
          tx,
          messages.flatMap((r) => this.pureObservationsOf(r)),
        ))
          settled.add(k);
      },
      collect: async (tx, r) => {
        const found = await this.observationsOf(tx, r);
        // Only the early messages' own observations were settled: another message's (a removal, a
        // connection) of a settled key is still applied, after the settled ones.
        observations.push(...(settledFrom.has(r) ? found.filter((o) => !settled.has(keyOf(o))) : found));
      },
      finish: (tx) => this.record(tx, observations),
    };
  }

  /**
   * Applies the keys whose observations are all all-clears newer than the key's stored latest,
   * itself an all-clear (onlyNewAllClears: most of a city's statuses), as one compare-and-set per
   * chunk: the latest moves to the newest all-clear where the stored row still says all is well
   * before the earliest one. Nothing else changes then (quietLatest: an all-clear latest keeps its
   * okSince), so neither the periods nor a lock taken beforehand are needed, and a second
   * application changes nothing. Answers the keys settled; the others (a fault, an older
   * all-clear, a key not stored yet, a row another batch changed meanwhile) go the whole way.
   */
  async settleQuiet(tx: Tx, observations: readonly KeyedObservation[]): Promise<Set<string>> {
    const byKey = new Map<string, { site: string; camera: string; kind: AlarmKind; first: number; last: number } | null>();
    for (const o of observations) {
      const k = keyOf(o);
      const known = byKey.get(k);
      if (known === null) continue;
      if (o.observation.fault || o.observation.removal) {
        byKey.set(k, null);
        continue;
      }
      const at = o.observation.at;
      // Widened in place: a batch of 2,000 statuses made as many copies here as observations.
      if (known === undefined) byKey.set(k, { site: o.site, camera: o.camera, kind: o.kind, first: at, last: at });
      else {
        if (at < known.first) known.first = at;
        if (at > known.last) known.last = at;
      }
    }
    const quiet = [...byKey]
      .filter((entry): entry is [string, NonNullable<(typeof entry)[1]>] => entry[1] !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, q]) => q);
    const settled = new Set<string>();
    for (const chunk of inChunks(quiet, ROWS_PER_JSON_TABLE)) {
      const clear = rowsTable(
        this.settings.dialect,
        chunk.map((q) => ({ site_id: q.site, camera_id: q.camera, kind: q.kind, first: q.first, last: q.last })),
        { site_id: 'text', camera_id: 'text', kind: 'text', first: 'bigint', last: 'bigint' },
        'clear',
      );
      const rows = await tx
        .updateTable('alarm_latest')
        .from(clear)
        .set((eb) => ({ at: eb.ref('clear.last') }))
        .whereRef('alarm_latest.site_id', '=', 'clear.site_id')
        .whereRef('alarm_latest.camera_id', '=', 'clear.camera_id')
        .whereRef('alarm_latest.kind', '=', 'clear.kind')
        .where('alarm_latest.fault', '=', 0)
        .where('alarm_latest.ok_since', 'is not', null)
        .whereRef('alarm_latest.at', '<', 'clear.first')
        .returning(['alarm_latest.site_id', 'alarm_latest.camera_id', 'alarm_latest.kind'])
        .execute();
      for (const r of rows) settled.add(`${r.site_id}\u0000${r.camera_id}\u0000${r.kind}`);
    }
    return settled;
  }

  /** Applies observations (any order, any keys) in one transaction the caller holds. */
  async record(tx: Tx, observations: readonly KeyedObservation[]): Promise<void> {
    const byKey = new Map<string, KeyedObservation[]>();
    for (const o of observations) {
      const list = byKey.get(keyOf(o)) ?? [];
      list.push(o);
      byKey.set(keyOf(o), list);
    }
    if (byKey.size === 0) return;
    const keys = [...byKey.keys()].sort().map((k) => {
      const list = byKey.get(k)!;
      const { site, camera, kind } = list[0];
      const ordered = list.map((o) => o.observation).sort((a, b) => a.at - b.at || Number(a.fault) - Number(b.fault));
      return { k, site, camera, kind, ordered };
    });
    const latestRows = await this.lockLatest(tx, keys);
    const latestOf = (k: string): Latest | null => {
      const row = latestRows.get(k);
      return row && row.at !== null ? { at: row.at, fault: row.fault === 1, okSince: row.ok_since } : null;
    };
    const loud = keys.filter(({ k, ordered }) => !onlyNewAllClears(latestOf(k), ordered));
    const periods = await this.periodsOf(tx, loud);
    const written: Array<CentralTables['alarm_latest']> = [];
    const changes: PeriodChanges = { inserted: [], updated: [] };
    for (const { k, site, camera, kind, ordered } of keys) {
      const latest = latestOf(k);
      const next = onlyNewAllClears(latest, ordered)
        ? quietLatest(latest, ordered)
        : this.recordKey(site, camera, kind, latest, ordered, periods.get(k) ?? [], changes);
      if (next) written.push({ site_id: site, camera_id: camera, kind, at: next.at, fault: next.fault ? 1 : 0, ok_since: next.okSince });
    }
    await this.writePeriods(tx, changes);
    for (const chunk of inChunks(written, KEYS_PER_STATEMENT)) {
      await tx
        .insertInto('alarm_latest')
        .values(chunk)
        .onConflict((oc) =>
          oc.columns(['site_id', 'camera_id', 'kind']).doUpdateSet((eb) => ({
            at: eb.ref('excluded.at'),
            fault: eb.ref('excluded.fault'),
            ok_since: eb.ref('excluded.ok_since'),
          })),
        )
        .execute();
    }
  }

  /**
   * The alarm_latest rows of these keys (sorted), created first where missing so that they can be
   * locked: on PostgreSQL they are locked in key order (FOR UPDATE after the ORDER BY), the one
   * order every instance takes them in.
   */
  private async lockLatest(tx: Tx, keys: ReadonlyArray<{ site: string; camera: string; kind: string }>): Promise<Map<string, CentralTables['alarm_latest']>> {
    const rows = new Map<string, CentralTables['alarm_latest']>();
    for (const chunk of inChunks(keys, KEYS_PER_STATEMENT)) {
      await tx
        .insertInto('alarm_latest')
        .values(chunk.map((k) => ({ site_id: k.site, camera_id: k.camera, kind: k.kind, at: null, fault: null, ok_since: null })))
        .onConflict((oc) => oc.columns(['site_id', 'camera_id', 'kind']).doNothing())
        .execute();
      let query = tx
        .selectFrom('alarm_latest')
        .selectAll()
        .where(({ eb, refTuple, tuple }) =>
          eb(
            refTuple('site_id', 'camera_id', 'kind'),
            'in',
            chunk.map((k) => tuple(k.site, k.camera, k.kind)),
          ),
        )
        .orderBy('site_id')
        .orderBy('camera_id')
        .orderBy('kind');
      if (this.settings.dialect === 'postgres') query = query.forUpdate();
      for (const r of await query.execute()) rows.set(`${r.site_id}\u0000${r.camera_id}\u0000${r.kind}`, r);
    }
    return rows;
  }

  /** What a status, metrics or event message says by itself (a removal's clearing is read from the writer's rows). */
  private pureObservationsOf(r: Received): KeyedObservation[] {
    const m = r.message;
    return m.kind === 'status' || m.kind === 'metrics' || m.kind === 'event' ? observe(m, this.settings) : [];
  }

  /** What the writer made of one message, as observations. */
  private async observationsOf(tx: Tx, r: Received): Promise<KeyedObservation[]> {
    const m = r.message;
    const kinds = this.settings.kinds;
    switch (m.kind) {
      case 'status':
      case 'metrics':
      case 'event': {
        const out = this.pureObservationsOf(r);
        if (m.kind === 'event' && m.payload.type === 'camera-removed' && m.payload.camera) out.push(...(await this.removal(tx, m.site, m.payload.camera)));
        return out;
      }
      case 'meta-cleared':
        return this.removal(tx, m.site, m.camera);
      case 'state': {
        if (!kinds.has('site-offline')) return [];
        // The site's connection as the writer decided it (the Will's time, the bdSeq rule).
        const site = await tx.selectFrom('sites').select(['connection', 'connection_since']).where('site_id', '=', m.site).executeTakeFirst();
        if (!site || site.connection_since === null || site.connection === 'unknown') return [];
        const offline = site.connection === 'offline';
        const why = m.payload.state === 'offline' && m.payload.reason ? ` (${m.payload.reason})` : '';
        return [
          {
            site: m.site,
            camera: '',
            kind: 'site-offline',
            observation: { at: site.connection_since, fault: offline, evidence: `state ${site.connection}${offline ? why : ''}` },
          },
        ];
      }
      default:
        return [];
    }
  }

  private async removal(tx: Tx, site: string, camera: string): Promise<KeyedObservation[]> {
    const row = await tx.selectFrom('cameras').select('removed_at').where('site_id', '=', site).where('camera_id', '=', camera).executeTakeFirst();
    if (!row || row.removed_at === null) return [];
    const at = row.removed_at;
    return CAMERA_KINDS.filter((k) => this.settings.kinds.has(k)).map((kind) => ({
      site,
      camera,
      kind,
      observation: { at, fault: false, evidence: 'camera removed', removal: true },
    }));
  }

  /**
   * The stored periods these keys' observations may change, per key, oldest first: the latest
   * opened at or before the key's earliest observation, and every one opened after it. One
   * statement per chunk of keys (it was two per key: most of a batch's keys, as statuses come
   * out of order).
   */
  private async periodsOf(
    tx: Tx,
    keys: ReadonlyArray<{ k: string; site: string; camera: string; kind: string; ordered: readonly Observation[] }>,
  ): Promise<Map<string, Period[]>> {
    const out = new Map<string, Period[]>();
    for (const chunk of inChunks(keys, KEYS_PER_STATEMENT)) {
      const wanted = rowsTable(
        this.settings.dialect,
        chunk.map((k) => ({ site_id: k.site, camera_id: k.camera, kind: k.kind, earliest: k.ordered[0].at })),
        { site_id: 'text', camera_id: 'text', kind: 'text', earliest: 'bigint' },
        'wanted',
      );
      const rows = await tx
        .selectFrom('alarms')
        .innerJoin(wanted, (join) =>
          join.onRef('alarms.site_id', '=', 'wanted.site_id').onRef('alarms.camera_id', '=', 'wanted.camera_id').onRef('alarms.kind', '=', 'wanted.kind'),
        )
        .selectAll('alarms')
        .select('wanted.earliest')
        .where((eb) =>
          eb.or([
            eb('alarms.opened_at', '>', eb.ref('wanted.earliest')),
            eb(
              'alarms.opened_at',
              '=',
              eb
                .selectFrom('alarms as before')
                .select((b) => b.fn.max('before.opened_at').as('opened_at'))
                .whereRef('before.site_id', '=', 'wanted.site_id')
                .whereRef('before.camera_id', '=', 'wanted.camera_id')
                .whereRef('before.kind', '=', 'wanted.kind')
                .whereRef('before.opened_at', '<=', 'wanted.earliest'),
            ),
          ]),
        )
        .orderBy('alarms.site_id')
        .orderBy('alarms.camera_id')
        .orderBy('alarms.kind')
        .orderBy('alarms.opened_at')
        .execute();
      for (const { earliest, ...row } of rows) {
        const k = `${row.site_id}\u0000${row.camera_id}\u0000${row.kind}`;
        const list = out.get(k) ?? [];
        // Of periods opened at the same instant before the earliest observation, one (as LIMIT 1 took).
        if (row.opened_at <= Number(earliest) && list.length > 0) list.pop();
        list.push(periodOf(row));
        out.set(k, list);
      }
    }
    return out;
  }

  /** A key's alarm periods under these observations (`loaded`: periodsOf's), the changed ones added to `changes`; answers its latest observation after them. */
  private recordKey(
    site: string,
    camera: string,
    kind: AlarmKind,
    latest: Latest | null,
    observations: Observation[],
    loaded: Period[],
    changes: PeriodChanges,
  ): Latest | null {
    const key = { site_id: site, camera_id: camera, kind };
    let state: KeyState = { latest, periods: loaded };
    for (const o of observations) state = apply(state, o).state;

    const stored = new Map(loaded.map((p) => [p.id, JSON.stringify(columnsOf(p))]));
    for (const p of state.periods) {
      if (p.id === undefined) changes.inserted.push({ alarm_id: this.newId(), ...key, ...columnsOf(p), acked_at: null, acked_by: null, ack_note: null });
      else if (stored.get(p.id) !== JSON.stringify(columnsOf(p))) changes.updated.push({ alarm_id: p.id, ...columnsOf(p) });
    }
    return state.latest;
  }

  /**
   * A batch's changed periods, a few statements for all its keys. At most one period of a key is
   * open (the unique index alarms_one_open, checked row by row): the periods that close are
   * written first, then those left open, then the new ones.
   */
  private async writePeriods(tx: Tx, changes: PeriodChanges): Promise<void> {
    const closing = changes.updated.filter((p) => p.cleared_at !== null);
    const open = changes.updated.filter((p) => p.cleared_at === null);
    for (const group of [closing, open]) {
      for (const chunk of inChunks(group, KEYS_PER_STATEMENT)) {
        const next = rowsTable(this.settings.dialect, chunk, PERIOD_COLUMN_TYPES, 'next');
        await tx
          .updateTable('alarms')
          .from(next)
          .set((eb) => ({
            opened_at: eb.ref('next.opened_at'),
            opened_by: eb.ref('next.opened_by'),
            last_fault_at: eb.ref('next.last_fault_at'),
            ok_before: eb.ref('next.ok_before'),
            detail: eb.ref('next.detail'),
            historical: eb.ref('next.historical'),
            cleared_at: eb.ref('next.cleared_at'),
            cleared_by: eb.ref('next.cleared_by'),
          }))
          .whereRef('alarms.alarm_id', '=', 'next.alarm_id')
          .execute();
      }
    }
    const inserted = [...changes.inserted].sort((a, b) => Number(a.cleared_at === null) - Number(b.cleared_at === null));
    for (const chunk of inChunks(inserted, KEYS_PER_STATEMENT)) await tx.insertInto('alarms').values(chunk).execute();
  }
}
