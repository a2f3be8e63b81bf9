// Access to the API, in one place. Every route declares the least role it needs in its options
// (`config: { role: 'viewer' }`, or 'public'); a route that declares none is refused when it is
// added, so none can be forgotten. One onRequest hook then lets a request through only with a
// login session (cookie) or an API token (Authorization: Bearer cg_…) of a role high enough:
// 401 without or with bad credentials, 403 for a role too low; scope is the routes' to apply (they
// pass request.caller.scope to the queries, and answer 404 for what lies outside it). While no user
// exists, every guarded route answers 503 naming the command that creates the first one. A change
// made through a login session must also carry the session's CSRF token (central/auth/csrf.ts).
import type { RouteOptions } from 'fastify';
import { ApiError } from './errors';
import type { Api } from './types';
import { roleAtLeast, ROLES, type Principal, type Role } from '../auth/roles';
import { SESSION_COOKIE, type SessionStore } from '../auth/sessions';
import type { TokenStore } from '../auth/tokens';
import { CSRF_COOKIE, CSRF_HEADER, csrfMatches, needsCsrf } from '../auth/csrf';

/** The least role a route needs, or public (no credentials). */
export type RouteRole = 'public' | Role;

/** Who a request acts for. */
export interface Caller extends Principal {
  via: 'session' | 'token';
  /** The session cookie's value (via session). */
  sessionId?: string;
  tokenId?: string;
  tokenName?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    role?: RouteRole;
  }
  interface FastifyRequest {
    caller: Caller | undefined;
  }
}

export const FIRST_USER_HINT = 'camgate central user add <name> --role admin (with --db or --config as the service runs; it asks for the password)';

export interface GuardDeps {
  sessions: SessionStore;
  tokens: TokenStore;
  /** Does any user exist? (Until one does, the API answers 503.) */
  hasUsers(): Promise<boolean>;
}

/** The name a caller is audited under: the user, or the token and its user. */
export function actorName(caller: Caller): string {
  return caller.via === 'token' ? `token ${caller.tokenName ?? caller.tokenId ?? '?'} of ${caller.username}` : caller.username;
}

/** The caller of a guarded route (the guard has run). */
export function callerOf(request: { caller: Caller | undefined; method: string; url: string }): Caller {
  if (!request.caller) throw new Error(`no caller on ${request.method} ${request.url}: the route is public but reads the caller`);
  return request.caller;
}

function refuseUndeclared(route: RouteOptions): void {
  const role = route.config?.role;
  if (role === 'public' || (role !== undefined && (ROLES as readonly string[]).includes(role))) return;
  const methods = Array.isArray(route.method) ? route.method.join(',') : route.method;
  throw new Error(
    `route ${methods} ${route.url} declares no access: give it config: { role: 'public' | ${ROLES.map((r) => `'${r}'`).join(' | ')} } (central/api/guard.ts)`,
  );
}

/** The route's role in its OpenAPI description, and public routes without the security requirement. */
function document(route: RouteOptions): void {
  const role = route.config?.role;
  const schema = (route.schema ??= {}) as Record<string, unknown>;
  if (role === 'public') {
    schema.security = [];
    return;
  }
  const note = `Needs the ${role} role (a login session or an API token); 401 without, 403 below it.`;
  schema.description = typeof schema.description === 'string' ? `${schema.description}\n\n${note}` : note;
}

/** Resolves the request's credentials: a caller, or why not. */
async function authenticate(header: string | undefined, sessionId: string | undefined, deps: GuardDeps): Promise<Caller | string> {
  if (header !== undefined) {
    const m = /^Bearer +(\S+) *$/i.exec(header);
    if (!m) return 'Authorization: only "Bearer <API token>" is accepted (or log in: POST /api/login)';
    const check = await deps.tokens.check(m[1]);
    if (!check.ok) return check.reason;
    const { tokenId, tokenName, ...principal } = check.principal;
    return { ...principal, via: 'token', tokenId, tokenName };
  }
  if (sessionId === undefined || sessionId === '') return 'log in first (POST /api/login), or send an API token (Authorization: Bearer cg_…)';
  const principal = await deps.sessions.principal(sessionId);
  if (!principal) return 'the session has ended (logged out, idle too long, or too old): log in again (POST /api/login)';
  return { ...principal, via: 'session', sessionId };
}

export function installGuard(app: Api, deps: GuardDeps): void {
  app.decorateRequest('caller', undefined);
  app.addHook('onRoute', (route) => {
    refuseUndeclared(route);
    document(route);
  });
  app.addHook('onRequest', async (request) => {
    const role = request.routeOptions.config?.role;
    // No route matched: the not-found handler answers, with nothing to protect.
    if (request.is404 || role === undefined || role === 'public') return;
    if (!(await deps.hasUsers())) throw new ApiError(503, 'no-users', `no user exists yet: create the first admin with ${FIRST_USER_HINT}`);
    // The Api's server types are any (types.ts), so are its headers: this is the one header read.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-member-access
    const header = request.headers.authorization as string | undefined;
    const caller = await authenticate(header, request.cookies[SESSION_COOKIE], deps);
    if (typeof caller === 'string') throw new ApiError(401, 'unauthorized', caller);
    // eslint-disable-next-line @typescript-eslint/no-unsafe-member-access
    if (caller.via === 'session' && needsCsrf(request.method) && !csrfMatches(caller.sessionId ?? '', request.headers[CSRF_HEADER])) {
      throw new ApiError(
        403,
        'forbidden',
        `${request.method} ${request.routeOptions.url} from a login session needs the ${CSRF_HEADER} header holding the ${CSRF_COOKIE} cookie the login set (the dashboard sends it); a script should use an API token instead`,
      );
    }
    if (!roleAtLeast(caller.role, role)) {
      throw new ApiError(403, 'forbidden', `${request.method} ${request.routeOptions.url} needs the ${role} role; ${actorName(caller)} has ${caller.role}`);
    }
    request.caller = caller;
  });
}
