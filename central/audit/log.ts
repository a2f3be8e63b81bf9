// The audit log (安全使用审核): who (a user, an API token, a site's own page), from where, when, did
// what to what, and how it ended. Everything audited goes through here: record() for what happens
// at the central (logins, user and token changes; commands and live views from their features),
// and siteAuditRecord() for the agents' own `audit` events, which ingest writes in the same
// transaction as the event. Reading applies the reader's region scope (central/ledger/scope.ts).
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../lib/clock';
import type { EventPayload } from '../../contract';
import { cameraInScope, EVERYWHERE, regionInScope, siteInScope, type RegionScope } from '../ledger/scope';
import type { AuditTable, CentralTables } from '../store/schema';

export const AUDIT_OUTCOMES = ['ok', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
export type AuditOrigin = 'central' | 'site';

export interface AuditEntry {
  /** A user name, "token <name> of <user>", or what else acted. */
  actor: string;
  /** What was done: login, logout, user-create, token-revoke, command, live-view … */
  action: string;
  outcome: AuditOutcome;
  /** The address the request came from. */
  address?: string | null;
  site?: string | null;
  camera?: string | null;
  /** The region a record without a site concerns (the user's scope): scoped admins see records of their region only. */
  scope?: RegionScope | null;
  detail?: Record<string, unknown>;
  /** Default: now. */
  at?: number;
}

/** Who acted through the API, and from where. */
export interface Actor {
  name: string;
  address: string;
}

/** Where a feature records what it did (the log's record(), or nothing). */
export type Audit = (entry: AuditEntry) => void;

export const noAudit: Audit = () => undefined;

export interface AuditRecordView {
  id: string;
  at: string;
  origin: AuditOrigin;
  actor: string;
  address: string | null;
  action: string;
  site: string | null;
  camera: string | null;
  outcome: string;
  detail: Record<string, unknown>;
}

export interface AuditFilter {
  from?: number;
  to?: number;
  actor?: string;
  action?: string;
  outcome?: AuditOutcome;
  site?: string;
  camera?: string;
  limit: number;
  /** Where the previous page ended (AuditPage.next). */
  cursor?: string;
}

export interface AuditPage {
  items: AuditRecordView[];
  /** The cursor of the next (older) page; null at the end. */
  next: string | null;
}

type Db = Kysely<CentralTables> | Transaction<CentralTables>;

async function insert(db: Db, row: AuditTable): Promise<void> {
  await db
    .insertInto('audit')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** The audit record of an agent's `audit` event (its detail says action, user, remote, as the agent's page writes them). */
export function siteAuditRecord(site: string, event: EventPayload): AuditTable {
  const d = event.detail;
  const text = (key: string) => (typeof d[key] === 'string' && d[key] !== '' ? d[key] : undefined);
  const action = text('action') ?? 'audit';
  return {
    id: `site:${event.messageId}`,
    at: Date.parse(event.observedAt),
    origin: 'site',
    actor: text('user') ?? text('client') ?? `site ${site}`,
    address: text('remote') ?? null,
    action,
    site_id: site,
    camera_id: event.camera ?? null,
    scope: null,
    outcome: typeof d.outcome === 'string' ? d.outcome : event.severity === 'info' ? 'ok' : 'denied',
    detail: JSON.stringify({ ...d, message: event.message }),
  };
}

/** Writes an agent's audit event (ingest calls this inside its batch; idempotent by messageId). */
export async function recordSiteAudit(db: Db, site: string, event: EventPayload): Promise<void> {
  await insert(db, siteAuditRecord(site, event));
}

/** A cursor is "<at>:<id>" of the last record of a page. */
export function parseCursor(cursor: string): { at: number; id: string } | undefined {
  const colon = cursor.indexOf(':');
  if (colon <= 0) return undefined;
  const at = Number(cursor.slice(0, colon));
  const id = cursor.slice(colon + 1);
  return Number.isSafeInteger(at) && id !== '' ? { at, id } : undefined;
}

export class AuditLog {
  constructor(
    private readonly db: Kysely<CentralTables>,
    private readonly clock: Clock,
  ) {}

  /** Records one entry done at the central. */
  async record(entry: AuditEntry): Promise<void> {
    await insert(this.db, {
      id: randomUUID(),
      at: entry.at ?? this.clock.now(),
      origin: 'central',
      actor: entry.actor,
      address: entry.address ?? null,
      action: entry.action,
      site_id: entry.site ?? null,
      camera_id: entry.camera ?? null,
      scope: entry.scope ?? null,
      outcome: entry.outcome,
      detail: JSON.stringify(entry.detail ?? {}),
    });
  }

  /** Newest first, `filter.limit` at most, within `scope`. A bad cursor throws RangeError. */
  async list(filter: AuditFilter, scope: RegionScope): Promise<AuditPage> {
    let q = this.db.selectFrom('audit').selectAll();
    if (filter.from !== undefined) q = q.where('at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('at', '<', filter.to);
    if (filter.actor !== undefined) q = q.where('actor', '=', filter.actor);
    if (filter.action !== undefined) q = q.where('action', '=', filter.action);
    if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome);
    if (filter.site !== undefined) q = q.where('site_id', '=', filter.site);
    if (filter.camera !== undefined) q = q.where('camera_id', '=', filter.camera);
    if (filter.cursor !== undefined) {
      const c = parseCursor(filter.cursor);
      if (!c) throw new RangeError('cursor: not a cursor of this list (use the "next" of the previous page as it is)');
      q = q.where((eb) => eb.or([eb('at', '<', c.at), eb.and([eb('at', '=', c.at), eb('id', '<', c.id)])]));
    }
    if (scope !== EVERYWHERE) {
      q = q.where((eb) =>
        eb.or([
          eb.and([eb('camera_id', 'is not', null), cameraInScope('audit.site_id', 'audit.camera_id', scope)]),
          eb.and([eb('camera_id', 'is', null), eb('site_id', 'is not', null), siteInScope('audit.site_id', scope)]),
          eb.and([eb('site_id', 'is', null), regionInScope('audit.scope', scope)]),
        ]),
      );
    }
    const rows = await q
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit + 1)
      .execute();
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        id: r.id,
        at: new Date(r.at).toISOString(),
        origin: r.origin === 'site' ? 'site' : 'central',
        actor: r.actor,
        address: r.address,
        action: r.action,
        site: r.site_id,
        camera: r.camera_id,
        outcome: r.outcome,
        detail: JSON.parse(r.detail) as Record<string, unknown>,
      })),
      next: rows.length > filter.limit && last ? `${last.at}:${last.id}` : null,
    };
  }
}
