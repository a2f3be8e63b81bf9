// Login sessions: a random id in an HttpOnly cookie, its hash in the database. A session ends
// after auth.sessionIdleMin without a request, after auth.sessionMaxHours whatever happens, at
// logout, and when its user's password, role or scope changes or the user is disabled.
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock';
import type { CentralTables } from '../store/schema';
import { randomSecret, secretHash } from './secrets';
import { isRole, type Principal } from './roles';

export const SESSION_COOKIE = 'camgate_session';

/** last_seen is written at most this often (a request each second would be a write each second). */
const TOUCH_EVERY_MS = 15_000;

export interface SessionLimits {
  idleMs: number;
  maxMs: number;
}

export class SessionStore {
  constructor(
    private readonly db: Kysely<CentralTables>,
    private readonly clock: Clock,
    private readonly limits: SessionLimits,
  ) {}

  /** Starts a session; returns the cookie value (the only copy of the id). */
  async create(username: string, address: string): Promise<string> {
    const id = randomSecret();
    const now = this.clock.now();
    await this.db
      .insertInto('sessions')
      .values({ id_hash: secretHash(id), username, created_at: now, last_seen: now, address })
      .execute();
    await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('last_seen', '<', now - this.limits.idleMs), eb('created_at', '<', now - this.limits.maxMs)]))
      .execute();
    return id;
  }

  /** Who the session acts for, or undefined (unknown, ended, expired, or its user disabled or gone). */
  async principal(id: string): Promise<Principal | undefined> {
    const hash = secretHash(id);
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.username', 'sessions.username')
      .select(['sessions.created_at', 'sessions.last_seen', 'users.username', 'users.role', 'users.scope', 'users.disabled'])
      .where('sessions.id_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    const now = this.clock.now();
    if (now - row.last_seen > this.limits.idleMs || now - row.created_at > this.limits.maxMs || row.disabled !== 0 || !isRole(row.role)) {
      await this.db.deleteFrom('sessions').where('id_hash', '=', hash).execute();
      return undefined;
    }
    if (now - row.last_seen >= TOUCH_EVERY_MS) await this.db.updateTable('sessions').set({ last_seen: now }).where('id_hash', '=', hash).execute();
    return { username: row.username, role: row.role, scope: row.scope };
  }

  async end(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', secretHash(id)).execute();
  }
}
