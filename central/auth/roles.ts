// Who may do what (分层分级授权), as pure rules: three roles, each including the one below it
// (viewer reads; operator also sends commands and acknowledges alarms; admin also manages users),
// and a region scope each user sees (central/ledger/scope.ts). An admin manages only users within
// its own scope and never grants a wider one; an admin with a scope (a county's, say) manages the
// admins below it (its townships') but not its peers or those above.
import { EVERYWHERE, scopeWithin, type RegionScope } from '../ledger/scope';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who a request acts for. */
export interface Principal {
  username: string;
  role: Role;
  scope: RegionScope;
}

export const USERNAME_PATTERN = '^[A-Za-z0-9][\\w.@-]{0,63}$';
// Without the i flag: the same text is the JSON Schema pattern of the API, which has no flags.
// eslint-disable-next-line regexp/use-ignore-case
const USERNAME = new RegExp(USERNAME_PATTERN);

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

/** The lower of two roles (a token never acts above its user). */
export function lowerRole(a: Role, b: Role): Role {
  return ROLES.indexOf(a) <= ROLES.indexOf(b) ? a : b;
}

export function usernameProblem(name: string): string | undefined {
  if (USERNAME.test(name)) return undefined;
  return `a user name is 1 to 64 letters, digits and . _ @ - (starting with a letter or digit): ${JSON.stringify(name.slice(0, 80))} is not`;
}

/** Is `a` strictly narrower than `b`? */
function strictlyWithin(a: RegionScope, b: RegionScope): boolean {
  return a !== b && scopeWithin(a, b);
}

/** A refusal: not-found (the target is outside the actor's scope: it does not exist for it) or forbidden. */
export interface Refusal {
  kind: 'not-found' | 'forbidden';
  message: string;
}

/** May `actor` see or change the existing user `target` at all? */
export function manageRefusal(actor: Principal, target: Principal): Refusal | undefined {
  if (!scopeWithin(target.scope, actor.scope)) return { kind: 'not-found', message: `no user ${target.username}` };
  if (actor.role !== 'admin') return { kind: 'forbidden', message: 'managing users needs the admin role' };
  if (actor.scope === EVERYWHERE || target.username === actor.username) return undefined;
  if (target.role === 'admin' && !strictlyWithin(target.scope, actor.scope)) {
    return { kind: 'forbidden', message: `${target.username} is an admin of the same region as you (${actor.scope}): an admin above you manages it` };
  }
  return undefined;
}

/** May `actor` give a user (new, or `existing`) the role and scope `wanted`? */
export function grantRefusal(actor: Principal, wanted: { role: Role; scope: RegionScope }): Refusal | undefined {
  if (actor.role !== 'admin') return { kind: 'forbidden', message: 'managing users needs the admin role' };
  if (!scopeWithin(wanted.scope, actor.scope)) {
    return {
      kind: 'forbidden',
      message: `scope ${JSON.stringify(wanted.scope)} is ${wanted.scope === EVERYWHERE ? 'everything, ' : ''}wider than or outside your own (${JSON.stringify(actor.scope)}): give one within it`,
    };
  }
  if (actor.scope !== EVERYWHERE && wanted.role === 'admin' && !strictlyWithin(wanted.scope, actor.scope)) {
    return { kind: 'forbidden', message: `an admin with a scope grants the admin role only for a narrower region than its own (${actor.scope}/…)` };
  }
  return undefined;
}
