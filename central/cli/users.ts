// camgate central user … and token …: the API's users and tokens from the command line, on the
// database the service uses (--db, --config). The first admin of a fresh install is made here
// (there is no default password); passwords are asked twice without echo on a terminal, or read
// as one line from stdin with --password-stdin (for scripts). Changes are audited as the CLI.
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { systemClock, type Clock } from '../../lib/clock';
import { CamgateError, UsageError } from '../../lib/errors';
import { terminalSafe } from '../../lib/text';
import { AuditLog } from '../audit/log';
import { TokenStore } from '../auth/tokens';
import { countUsers, createUser, getUser, listUsers, normalizeScope, removeUser, updateUser, UserInputError } from '../auth/users';
import { passwordProblem } from '../auth/password';
import { isRole, roleAtLeast, ROLES, type Role } from '../auth/roles';
import { scopeWithin } from '../ledger/scope';
import type { CentralConfig } from '../config/schema';
import { openCentralDb, type CentralDb } from '../store/open';

const DAY_MS = 86_400_000;

export interface UserCliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  stdinIsTTY: boolean;
  /** One line of stdin (--password-stdin). */
  readStdinLine(): Promise<string>;
  /** Asks on the terminal without echo. */
  promptSecret(question: string): Promise<string>;
}

export interface UserCliContext {
  io: UserCliIo;
  /** The configuration as `camgate central` would run with it (--config, --db, variables). */
  loadConfig(): CentralConfig;
  clock?: Clock;
}

function cliActor(): string {
  let who = 'unknown';
  try {
    who = userInfo().username;
  } catch {
    // No passwd entry for this uid (a container): the uid alone is unknown.
  }
  return `cli (${who})`;
}

function role(value: string): Role {
  if (!isRole(value)) throw new UsageError(`--role: ${JSON.stringify(value)} is not a role: use one of ${ROLES.join(', ')}`);
  return value;
}

/** Reads a new password: one line of stdin, or twice on the terminal. */
export async function newPassword(io: UserCliIo, fromStdin: boolean, whose: string): Promise<string> {
  if (fromStdin) {
    const password = await io.readStdinLine();
    const problem = passwordProblem(password);
    if (problem) throw new UsageError(`the password on stdin: ${problem}`);
    return password;
  }
  if (!io.stdinIsTTY) throw new UsageError('no terminal to ask the password on: give it as one line on stdin with --password-stdin');
  for (let attempt = 1; ; attempt++) {
    const first = await io.promptSecret(`New password for ${whose} (at least 10 characters): `);
    const problem = passwordProblem(first);
    const again = problem ? '' : await io.promptSecret('The same again: ');
    if (!problem && again === first) return first;
    io.stderr.write(`camgate central: ${problem ?? 'the two passwords differ'}\n`);
    if (attempt === 3) throw new UsageError('no password set (three tries)');
  }
}

async function withDb<T>(ctx: UserCliContext, fn: (db: CentralDb, clock: Clock, audit: AuditLog) => Promise<T>): Promise<T> {
  const db = await openCentralDb(ctx.loadConfig().db);
  const clock = ctx.clock ?? systemClock;
  try {
    return await fn(db, clock, new AuditLog(db.db, clock));
  } catch (err) {
    if (err instanceof UserInputError) throw new UsageError(err.message);
    throw err;
  } finally {
    await db.close();
  }
}

export function addUserCommands(program: Command, ctx: UserCliContext): void {
  const { io } = ctx;
  const user = program.command('user').description('users of the HTTP API (docs/access.md)');
  user
    .command('add <name>')
    .description('create a user (the first one: --role admin)')
    .requiredOption('--role <role>', `${ROLES.join(' | ')}`)
    .option('--region <scope>', "region path prefix the user sees, e.g. 浙江省/杭州市/余杭区 ('' = everything)", '')
    .option('--password-stdin', 'read the password as one line from stdin (for scripts)')
    .action(async (name: string, o: { role: string; region: string; passwordStdin?: boolean }) => {
      const wanted = role(o.role);
      const scope = normalizeScope(o.region);
      const password = await newPassword(io, o.passwordStdin === true, name);
      await withDb(ctx, async (db, clock, audit) => {
        const created = await createUser(db.db, clock, { username: name, role: wanted, scope, password });
        await audit.record({ actor: cliActor(), action: 'user-create', outcome: 'ok', scope, detail: { user: name, role: wanted, scope } });
        io.stdout.write(`user ${created.username} created: ${created.role}, scope ${JSON.stringify(created.scope)}\n`);
      });
    });
  user
    .command('list')
    .description('every user with role, scope and state')
    .action(async () => {
      await withDb(ctx, async (db) => {
        const users = await listUsers(db.db);
        if (users.length === 0) io.stdout.write('no users yet: camgate central user add <name> --role admin\n');
        for (const u of users) {
          io.stdout.write(
            terminalSafe(`${u.username}\t${u.role}\t${u.scope === '' ? '(everything)' : u.scope}\t${u.disabled ? 'disabled' : 'enabled'}`) + '\n',
          );
        }
      });
    });
  user
    .command('passwd <name>')
    .description("set a user's password (ends its sessions)")
    .option('--password-stdin', 'read the password as one line from stdin (for scripts)')
    .action(async (name: string, o: { passwordStdin?: boolean }) => {
      await withDb(ctx, async (db, clock, audit) => {
        const found = await getUser(db.db, name);
        if (!found) throw new UsageError(`no user ${name} (camgate central user list shows them)`);
        const password = await newPassword(io, o.passwordStdin === true, name);
        await updateUser(db.db, clock, name, { password });
        await audit.record({ actor: cliActor(), action: 'password-change', outcome: 'ok', scope: found.scope, detail: { user: name, password: 'changed' } });
        io.stdout.write(`password of ${name} changed\n`);
      });
    });
  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    user
      .command(`${verb} <name>`)
      .description(disabled ? 'stop a user from logging in (its sessions end, its tokens stop working)' : 'let a disabled user log in again')
      .action(async (name: string) => {
        await withDb(ctx, async (db, clock, audit) => {
          const changed = await updateUser(db.db, clock, name, { disabled });
          await audit.record({ actor: cliActor(), action: 'user-change', outcome: 'ok', scope: changed.scope, detail: { user: name, disabled } });
          io.stdout.write(`user ${name} ${verb}d\n`);
        });
      });
  }
  user
    .command('remove <name>')
    .description('remove a user with its sessions and API tokens')
    .action(async (name: string) => {
      await withDb(ctx, async (db, _clock, audit) => {
        const found = await getUser(db.db, name);
        await removeUser(db.db, name);
        await audit.record({ actor: cliActor(), action: 'user-remove', outcome: 'ok', scope: found?.scope ?? null, detail: { user: name } });
        io.stdout.write(`user ${name} removed\n`);
      });
    });

  const token = program.command('token').description('API tokens for other systems (docs/access.md)');
  token
    .command('create <name>')
    .description('create an API token for a user and print it (shown this once)')
    .requiredOption('--user <user>', 'the user it acts for (its role and scope at most)')
    .option('--role <role>', 'a narrower role than the user’s')
    .option('--region <scope>', 'a narrower scope than the user’s')
    .option('--expires-days <n>', 'expires after this many days (default: never)')
    .action(async (name: string, o: { user: string; role?: string; region?: string; expiresDays?: string }) => {
      const days = o.expiresDays === undefined ? undefined : Number(o.expiresDays);
      if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) throw new UsageError('--expires-days: a whole number of days, 1 to 3650');
      if (name.length === 0 || name.length > 64) throw new UsageError('a token name is 1 to 64 characters (what uses it)');
      await withDb(ctx, async (db, clock, audit) => {
        const owner = await getUser(db.db, o.user);
        if (!owner) throw new UsageError(`--user: no user ${o.user} (camgate central user list shows them)`);
        const wanted = o.role === undefined ? undefined : role(o.role);
        if (wanted !== undefined && !roleAtLeast(owner.role, wanted)) {
          throw new UsageError(`--role: ${wanted} is above ${owner.username}'s (${owner.role}): a token acts at most as its user`);
        }
        const scope = o.region === undefined ? undefined : normalizeScope(o.region);
        if (scope !== undefined && !scopeWithin(scope, owner.scope)) {
          throw new UsageError(`--region: ${JSON.stringify(scope)} is not within ${owner.username}'s scope (${JSON.stringify(owner.scope)})`);
        }
        const created = await new TokenStore(db.db, clock).create({
          name,
          username: owner.username,
          role: wanted,
          scope,
          expiresAt: days === undefined ? undefined : clock.now() + days * DAY_MS,
          createdBy: cliActor(),
        });
        await audit.record({
          actor: cliActor(),
          action: 'token-create',
          outcome: 'ok',
          scope: scope ?? owner.scope,
          detail: { id: created.token.id, name, user: owner.username, role: wanted ?? null, scope: scope ?? null, expiresAt: created.token.expiresAt },
        });
        io.stderr.write(
          `token ${created.token.id} (${name}) for ${owner.username}${created.token.expiresAt ? `, expires ${created.token.expiresAt}` : ''}; shown this once:\n`,
        );
        io.stdout.write(`${created.secret}\n`);
      });
    });
}

/** `camgate central` on a fresh database: ask for the first admin's password on a terminal; say what to do otherwise. */
export async function firstAdminAtStart(
  db: CentralDb,
  ctx: { io: UserCliIo; clock: Clock; stdinIsTTY: boolean; log: { error(msg: string): void; info(msg: string): void } },
): Promise<void> {
  if ((await countUsers(db.db)) > 0) return;
  if (!ctx.stdinIsTTY) {
    ctx.log.error(
      'no user of the HTTP API exists: the API answers 503 until one does (ingest goes on). Create the first admin: camgate central user add <name> --role admin (with the same --db or --config)',
    );
    return;
  }
  ctx.io.stderr.write('No user of the HTTP API exists yet. Creating the first admin, "admin" (everything in scope).\n');
  try {
    const password = await newPassword(ctx.io, false, 'admin');
    await createUser(db.db, ctx.clock, { username: 'admin', role: 'admin', scope: '', password });
    await new AuditLog(db.db, ctx.clock).record({
      actor: cliActor(),
      action: 'user-create',
      outcome: 'ok',
      scope: '',
      detail: { user: 'admin', role: 'admin', scope: '' },
    });
    ctx.log.info('central: first admin "admin" created; log in with POST /api/login');
  } catch (err) {
    ctx.log.error(`no first admin created (${err instanceof CamgateError ? err.message : String(err)}): camgate central user add <name> --role admin`);
  }
}
