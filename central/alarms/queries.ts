// Reading and acknowledging alarms: the duty desk's list (newest first, a cursor to page on), one
// alarm, and the acknowledgement (who, when, a note), which never clears it.
import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import { cameraInScope, EVERYWHERE, regionUnder, siteInScope, type RegionScope } from '../ledger/scope';
import type { CentralTables } from '../store/schema';
import { alarmState, type AlarmKind, type AlarmState } from './rules';

export interface AlarmView {
  id: string;
  site: string;
  /** null for an alarm of the site itself. */
  camera: string | null;
  kind: AlarmKind;
  state: AlarmState;
  openedAt: string;
  openedBy: string;
  lastFaultAt: string;
  detail: Record<string, unknown>;
  historical: boolean;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  note: string | null;
  clearedAt: string | null;
  clearedBy: string | null;
}

export interface AlarmFilter {
  /** active = open or acknowledged. */
  state?: AlarmState | 'active';
  kind?: AlarmKind;
  site?: string;
  /** A camera id; '' is not allowed (site alarms: kind site-offline, disk-low, outbox-dropping). */
  camera?: string;
  region?: string;
  /** The caller's region scope: alarms of cameras (or sites) outside it are not there. */
  scope: RegionScope;
  /** Alarms in force at some time in [from, to): opened before `to`, not cleared before `from`. */
  from?: number;
  to?: number;
  limit: number;
  cursor?: AlarmCursor;
}

/** Where a page ended: the last alarm's opening time and id. */
export interface AlarmCursor {
  openedAt: number;
  id: string;
}

export function encodeCursor(c: AlarmCursor): string {
  return Buffer.from(`${c.openedAt}:${c.id}`, 'utf8').toString('base64url');
}

/** The cursor a list returned, or undefined when it is not one. */
export function decodeCursor(text: string): AlarmCursor | undefined {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  const match = /^(\d{1,16}):([0-9a-f-]{1,64})$/.exec(decoded);
  return match ? { openedAt: Number(match[1]), id: match[2] } : undefined;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function view(r: CentralTables['alarms']): AlarmView {
  return {
    id: r.alarm_id,
    site: r.site_id,
    camera: r.camera_id === '' ? null : r.camera_id,
    kind: r.kind as AlarmKind,
    state: alarmState(r.cleared_at, r.acked_at),
    openedAt: iso(r.opened_at) ?? '',
    openedBy: r.opened_by,
    lastFaultAt: iso(r.last_fault_at) ?? '',
    detail: JSON.parse(r.detail) as Record<string, unknown>,
    historical: r.historical === 1,
    acknowledgedAt: iso(r.acked_at),
    acknowledgedBy: r.acked_by,
    note: r.ack_note,
    clearedAt: iso(r.cleared_at),
    clearedBy: r.cleared_by,
  };
}

export async function listAlarms(db: Kysely<CentralTables>, f: AlarmFilter): Promise<{ items: AlarmView[]; next: string | null }> {
  let q = db.selectFrom('alarms').selectAll('alarms');
  switch (f.state) {
    case 'open':
      q = q.where('cleared_at', 'is', null).where('acked_at', 'is', null);
      break;
    case 'acknowledged':
      q = q.where('cleared_at', 'is', null).where('acked_at', 'is not', null);
      break;
    case 'active':
      q = q.where('cleared_at', 'is', null);
      break;
    case 'cleared':
      q = q.where('cleared_at', 'is not', null);
      break;
  }
  if (f.kind !== undefined) q = q.where('kind', '=', f.kind);
  if (f.site !== undefined) q = q.where('alarms.site_id', '=', f.site);
  if (f.camera !== undefined) q = q.where('alarms.camera_id', '=', f.camera);
  if (f.region !== undefined) {
    const region = f.region;
    // A camera's alarm by its camera's region; a site's alarm when any of its cameras is in the region.
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('cameras')
          .select(sql`1`.as('one'))
          .whereRef('cameras.site_id', '=', 'alarms.site_id')
          .where((eb) => eb.or([eb('alarms.camera_id', '=', ''), eb('cameras.camera_id', '=', eb.ref('alarms.camera_id'))]))
          .where(regionUnder('cameras.region', region)),
      ),
    );
  }
  const scope = f.scope;
  if (scope !== EVERYWHERE) q = q.where((eb) => inScope(eb, scope));
  if (f.to !== undefined) q = q.where('opened_at', '<', f.to);
  if (f.from !== undefined) {
    const from = f.from;
    q = q.where((eb) => eb.or([eb('cleared_at', 'is', null), eb('cleared_at', '>=', from)]));
  }
  if (f.cursor) {
    const c = f.cursor;
    q = q.where((eb) => eb.or([eb('opened_at', '<', c.openedAt), eb.and([eb('opened_at', '=', c.openedAt), eb('alarm_id', '<', c.id)])]));
  }
  const rows = await q
    .orderBy('opened_at', 'desc')
    .orderBy('alarm_id', 'desc')
    .limit(f.limit + 1)
    .execute();
  const items = rows.slice(0, f.limit);
  const last = items[items.length - 1];
  return { items: items.map(view), next: rows.length > f.limit && last ? encodeCursor({ openedAt: last.opened_at, id: last.alarm_id }) : null };
}

/** A camera's alarm when its camera is in scope; a site's when the site is. */
function inScope(eb: ExpressionBuilder<CentralTables, 'alarms'>, scope: RegionScope) {
  return eb.or([
    eb.and([eb('alarms.camera_id', '!=', ''), cameraInScope('alarms.site_id', 'alarms.camera_id', scope)]),
    eb.and([eb('alarms.camera_id', '=', ''), siteInScope('alarms.site_id', scope)]),
  ]);
}

export async function getAlarm(db: Kysely<CentralTables>, id: string, scope: RegionScope): Promise<AlarmView | undefined> {
  const row = await db
    .selectFrom('alarms')
    .selectAll()
    .where('alarm_id', '=', id)
    .$if(scope !== EVERYWHERE, (q) => q.where((eb) => inScope(eb, scope)))
    .executeTakeFirst();
  return row ? view(row) : undefined;
}

export type AckResult = { ok: true; alarm: AlarmView } | { ok: false; why: 'not-found' | 'cleared' | 'acknowledged'; alarm?: AlarmView };

/** Acknowledges an alarm not cleared and not yet acknowledged; the first acknowledgement stands. */
export async function acknowledgeAlarm(
  db: Kysely<CentralTables>,
  id: string,
  by: string,
  note: string | null,
  at: number,
  scope: RegionScope,
): Promise<AckResult> {
  if (!(await getAlarm(db, id, scope))) return { ok: false, why: 'not-found' };
  const res = await db
    .updateTable('alarms')
    .set({ acked_at: at, acked_by: by, ack_note: note })
    .where('alarm_id', '=', id)
    .where('cleared_at', 'is', null)
    .where('acked_at', 'is', null)
    .executeTakeFirst();
  const alarm = await getAlarm(db, id, scope);
  if (Number(res.numUpdatedRows) > 0 && alarm) return { ok: true, alarm };
  if (!alarm) return { ok: false, why: 'not-found' };
  return { ok: false, why: alarm.state === 'cleared' ? 'cleared' : 'acknowledged', alarm };
}
