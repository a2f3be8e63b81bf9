// API tokens for other systems (Authorization: Bearer cg_…): shown once at creation, kept as a
// hash. A token acts for its user with the user's role and scope, or narrower ones given at
// creation; it stops working when it expires, is revoked, or its user is disabled or removed, and
// narrows with its user (a demoted user's tokens are demoted too).
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock';
import { scopeWithin, type RegionScope } from '../ledger/scope';
import type { ApiTokensTable, CentralTables } from '../store/schema';
import { isRole, lowerRole, type Principal, type Role } from './roles';
import { randomSecret, secretHash } from './secrets';

export const TOKEN_PREFIX = 'cg_';

/** last_used_at is written at most this often. */
const TOUCH_EVERY_MS = 60_000;

export interface TokenView {
  id: string;
  name: string;
  user: string;
  /** The narrower role it was given, or null: its user's. */
  role: Role | null;
  /** The narrower scope it was given, or null: its user's. */
  scope: RegionScope | null;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface NewToken {
  name: string;
  username: string;
  role?: Role;
  scope?: RegionScope;
  expiresAt?: number;
  createdBy: string;
}

/** Who a token acts for, and under what name it is audited. */
export interface TokenPrincipal extends Principal {
  tokenId: string;
  tokenName: string;
}

export type TokenCheck = { ok: true; principal: TokenPrincipal } | { ok: false; reason: string };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function view(row: ApiTokensTable): TokenView {
  return {
    id: row.id,
    name: row.name,
    user: row.username,
    role: row.role !== null && isRole(row.role) ? row.role : null,
    scope: row.scope,
    createdAt: iso(row.created_at)!,
    createdBy: row.created_by,
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
  };
}

export class TokenStore {
  constructor(
    private readonly db: Kysely<CentralTables>,
    private readonly clock: Clock,
  ) {}

  /** Creates a token; returns it with the secret, which is never shown again. */
  async create(token: NewToken): Promise<{ token: TokenView; secret: string }> {
    const id = randomBytes(6).toString('hex');
    const secret = `${TOKEN_PREFIX}${randomSecret()}`;
    await this.db
      .insertInto('api_tokens')
      .values({
        id,
        secret_hash: secretHash(secret),
        name: token.name,
        username: token.username,
        role: token.role ?? null,
        scope: token.scope ?? null,
        created_at: this.clock.now(),
        created_by: token.createdBy,
        expires_at: token.expiresAt ?? null,
        last_used_at: null,
        revoked_at: null,
      })
      .execute();
    return { token: (await this.get(id))!, secret };
  }

  async get(id: string): Promise<TokenView | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? view(row) : undefined;
  }

  /** Tokens of these users (all when undefined), newest first. */
  async list(usernames?: readonly string[]): Promise<TokenView[]> {
    if (usernames !== undefined && usernames.length === 0) return [];
    let q = this.db.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc').orderBy('id');
    if (usernames !== undefined) q = q.where('username', 'in', usernames);
    return (await q.execute()).map(view);
  }

  async revoke(id: string): Promise<void> {
    await this.db.updateTable('api_tokens').set({ revoked_at: this.clock.now() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  /** Checks a presented token; a usable one gets its last use recorded. */
  async check(secret: string): Promise<TokenCheck> {
    if (!secret.startsWith(TOKEN_PREFIX)) return { ok: false, reason: `not a camgate API token (they start with ${TOKEN_PREFIX})` };
    const row = await this.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.username', 'api_tokens.username')
      .select([
        'api_tokens.id',
        'api_tokens.name',
        'api_tokens.role as token_role',
        'api_tokens.scope as token_scope',
        'api_tokens.expires_at',
        'api_tokens.revoked_at',
        'api_tokens.last_used_at',
        'users.username',
        'users.role',
        'users.scope',
        'users.disabled',
      ])
      .where('api_tokens.secret_hash', '=', secretHash(secret))
      .executeTakeFirst();
    if (!row) return { ok: false, reason: 'unknown API token' };
    const now = this.clock.now();
    if (row.revoked_at !== null) return { ok: false, reason: `API token ${row.name} was revoked` };
    if (row.expires_at !== null && now >= row.expires_at) return { ok: false, reason: `API token ${row.name} expired at ${iso(row.expires_at)}` };
    if (row.disabled !== 0 || !isRole(row.role)) return { ok: false, reason: `the user of API token ${row.name} is disabled` };
    const scope = row.token_scope ?? row.scope;
    if (!scopeWithin(scope, row.scope)) {
      return { ok: false, reason: `API token ${row.name}'s scope lies outside its user's now: create a new token` };
    }
    const role = row.token_role !== null && isRole(row.token_role) ? lowerRole(row.token_role, row.role) : row.role;
    if (row.last_used_at === null || now - row.last_used_at >= TOUCH_EVERY_MS) {
      await this.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', row.id).execute();
    }
    return { ok: true, principal: { username: row.username, role, scope, tokenId: row.id, tokenName: row.name } };
  }
}
