// The API's users in the central's database: created, listed, changed, removed; the first admin
// made for a fresh install. Passwords only as scrypt hashes (password.ts); the rules of who may
// grant what are in roles.ts, and the callers (the API, the CLI) apply them before these writes.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock';
import { CamgateError, EXIT_USAGE } from '../../lib/errors';
import { EVERYWHERE, scopeProblem, trimRegion, type RegionScope } from '../ledger/scope';
import type { CentralTables, UsersTable } from '../store/schema';
import { hashPassword, passwordProblem } from './password';
import { isRole, usernameProblem, type Role } from './roles';

type Db = Kysely<CentralTables>;

export interface UserView {
  username: string;
  role: Role;
  scope: RegionScope;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  passwordChangedAt: string;
  /** The last successful login; null: never logged in. */
  lastLoginAt: string | null;
}

export interface StoredUser extends UserView {
  passwordHash: string;
}

/** A user input that cannot be taken, with the message that says what to change. */
export class UserInputError extends CamgateError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UserInputError';
  }
}

/** A change that would leave no enabled admin who sees everything. */
export class LastAdminError extends CamgateError {
  constructor(what: string) {
    super(`${what} would leave no enabled admin with the whole region (scope ''): create or enable another one first`, EXIT_USAGE);
    this.name = 'LastAdminError';
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function view(row: UsersTable): StoredUser {
  return {
    username: row.username,
    role: isRole(row.role) ? row.role : 'viewer',
    scope: row.scope,
    disabled: row.disabled !== 0,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    passwordChangedAt: iso(row.password_changed_at),
    lastLoginAt: row.last_login_at === null ? null : iso(row.last_login_at),
    passwordHash: row.password_hash,
  };
}

/** The public face of a stored user (no hash). */
export function publicUser(user: StoredUser): UserView {
  const { passwordHash: _hash, ...rest } = user;
  return rest;
}

export function normalizeScope(scope: string | undefined): RegionScope {
  const s = trimRegion(scope ?? EVERYWHERE);
  const problem = scopeProblem(s);
  if (problem) throw new UserInputError(problem);
  return s;
}

function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new UserInputError(problem);
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function getUser(db: Db, username: string): Promise<StoredUser | undefined> {
  const row = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  return row ? view(row) : undefined;
}

export async function listUsers(db: Db): Promise<StoredUser[]> {
  const rows = await db.selectFrom('users').selectAll().orderBy('username').execute();
  return rows.map(view);
}

export interface NewUser {
  username: string;
  role: Role;
  scope?: RegionScope;
  password: string;
}

export async function createUser(db: Db, clock: Clock, user: NewUser): Promise<StoredUser> {
  const nameProblem = usernameProblem(user.username);
  if (nameProblem) throw new UserInputError(nameProblem);
  const scope = normalizeScope(user.scope);
  checkPassword(user.password);
  const now = clock.now();
  const hash = await hashPassword(user.password);
  const inserted = await db
    .insertInto('users')
    .values({ username: user.username, role: user.role, scope, password_hash: hash, disabled: 0, created_at: now, updated_at: now, password_changed_at: now })
    .onConflict((oc) => oc.column('username').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0)
    throw new UserInputError(`user ${user.username} exists already (change it instead, or pick another name)`);
  return (await getUser(db, user.username))!;
}

export interface UserChange {
  role?: Role;
  scope?: RegionScope;
  password?: string;
  disabled?: boolean;
}

async function unrestrictedAdminsBesides(db: Db, username: string): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('scope', '=', EVERYWHERE)
    .where('disabled', '=', 0)
    .where('username', '!=', username)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function isUnrestrictedAdmin(u: { role: Role; scope: RegionScope; disabled: boolean }): boolean {
  return u.role === 'admin' && u.scope === EVERYWHERE && !u.disabled;
}

/** Applies a change; a new password, a disable or a new role or scope ends the user's sessions. */
export async function updateUser(db: Db, clock: Clock, username: string, change: UserChange): Promise<StoredUser> {
  const before = await getUser(db, username);
  if (!before) throw new UserInputError(`no user ${username} (camgate central user list shows them)`);
  const scope = change.scope !== undefined ? normalizeScope(change.scope) : undefined;
  if (change.password !== undefined) checkPassword(change.password);
  const after = { role: change.role ?? before.role, scope: scope ?? before.scope, disabled: change.disabled ?? before.disabled };
  if (isUnrestrictedAdmin(before) && !isUnrestrictedAdmin(after) && (await unrestrictedAdminsBesides(db, username)) === 0) {
    throw new LastAdminError(`changing ${username}`);
  }
  const now = clock.now();
  const hash = change.password !== undefined ? await hashPassword(change.password) : undefined;
  await db
    .updateTable('users')
    .set({
      role: after.role,
      scope: after.scope,
      disabled: after.disabled ? 1 : 0,
      updated_at: now,
      ...(hash !== undefined ? { password_hash: hash, password_changed_at: now } : {}),
    })
    .where('username', '=', username)
    .execute();
  if (hash !== undefined || after.disabled || after.role !== before.role || after.scope !== before.scope) {
    await db.deleteFrom('sessions').where('username', '=', username).execute();
  }
  return (await getUser(db, username))!;
}

/** Notes a successful login. */
export async function recordLogin(db: Db, username: string, at: number): Promise<void> {
  await db.updateTable('users').set({ last_login_at: at }).where('username', '=', username).execute();
}

/** Removes a user with its sessions and API tokens. */
export async function removeUser(db: Db, username: string): Promise<void> {
  const before = await getUser(db, username);
  if (!before) throw new UserInputError(`no user ${username} (camgate central user list shows them)`);
  if (isUnrestrictedAdmin(before) && (await unrestrictedAdminsBesides(db, username)) === 0) throw new LastAdminError(`removing ${username}`);
  await db.transaction().execute(async (tx) => {
    await tx.deleteFrom('sessions').where('username', '=', username).execute();
    await tx.deleteFrom('api_tokens').where('username', '=', username).execute();
    await tx.deleteFrom('users').where('username', '=', username).execute();
  });
}

/** A password of 20 random characters from an alphabet without look-alikes (0/O, 1/l/I). */
export function generatePassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(40);
  let out = '';
  // 256 is not a multiple of the alphabet's size: bytes beyond the last whole multiple are skipped (no bias).
  const limit = 256 - (256 % alphabet.length);
  for (const b of bytes) {
    if (b >= limit) continue;
    out += alphabet[b % alphabet.length];
    if (out.length === 20) break;
  }
  return out.length === 20 ? out : generatePassword();
}

/**
 * For an install that must come up usable without a person at a terminal (the all-in-one box):
 * when no user exists yet, creates `username` (default admin) as an admin of everything with a
 * generated password and returns it, to be shown once; when users exist, returns undefined.
 */
export async function ensureFirstAdmin(db: Db, clock: Clock, username = 'admin'): Promise<{ username: string; password: string } | undefined> {
  if ((await countUsers(db)) > 0) return undefined;
  const password = generatePassword();
  try {
    await createUser(db, clock, { username, role: 'admin', scope: EVERYWHERE, password });
  } catch (err) {
    // Another instance made one meanwhile: that one is the first admin.
    if (err instanceof UserInputError && (await countUsers(db)) > 0) return undefined;
    throw err;
  }
  return { username, password };
}
