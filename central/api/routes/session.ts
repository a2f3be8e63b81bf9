// Logging in and out: POST /api/login sets an HttpOnly, SameSite=Strict session cookie (Secure over
// https or with auth.secureCookie) and, readable by the dashboard, the session's CSRF token; wrong passwords are throttled per address and per user name
// (central/auth/throttle.ts) and every try is audited. GET /api/me says who the caller is.
import { Type } from '@sinclair/typebox';
import type { CookieSerializeOptions } from '@fastify/cookie';
import { getUser, recordLogin } from '../../auth/users';
import { verifyNothing, verifyPassword } from '../../auth/password';
import { SESSION_COOKIE } from '../../auth/sessions';
import { CSRF_COOKIE, csrfToken } from '../../auth/csrf';
import { actorName, callerOf, FIRST_USER_HINT, type Caller } from '../guard';
import type { AccessDeps, Api } from '../types';
import { ErrorSchema } from './schemas';
import { MeSchema, PasswordSchema, UsernameSchema } from './access-schemas';

export function me(caller: Caller, timezone: string) {
  return { username: caller.username, role: caller.role, scope: caller.scope, via: caller.via, token: caller.tokenName ?? null, timezone };
}

/** setCookie's arguments for a session (shared with a password change, which starts a new session). */
export function sessionCookie(deps: AccessDeps, protocol: string, sessionId: string): [string, string, CookieSerializeOptions] {
  return [
    SESSION_COOKIE,
    sessionId,
    {
      path: '/api',
      httpOnly: true,
      sameSite: 'strict',
      secure: protocol === 'https' || deps.config.auth.secureCookie,
      maxAge: deps.config.auth.sessionMaxHours * 3600,
    },
  ];
}

/** setCookie's arguments for the session's CSRF token: readable by the page (not HttpOnly), path / so
 * the dashboard's script sees it, otherwise as strict as the session's. */
export function csrfCookie(deps: AccessDeps, protocol: string, sessionId: string): [string, string, CookieSerializeOptions] {
  const [, , session] = sessionCookie(deps, protocol, sessionId);
  return [CSRF_COOKIE, csrfToken(sessionId), { ...session, path: '/', httpOnly: false }];
}

/** Sets both cookies of a new session. */
export function startSessionCookies(
  reply: { setCookie(...args: [string, string, CookieSerializeOptions]): unknown },
  deps: AccessDeps,
  protocol: string,
  sessionId: string,
): void {
  reply.setCookie(...sessionCookie(deps, protocol, sessionId));
  reply.setCookie(...csrfCookie(deps, protocol, sessionId));
}

export function registerSessionRoutes(app: Api, deps: AccessDeps): void {
  app.post(
    '/api/login',
    {
      config: { role: 'public' },
      schema: {
        summary: 'Log in: sets the session cookie',
        tags: ['access'],
        body: Type.Object({ username: UsernameSchema, password: PasswordSchema }, { additionalProperties: false }),
        response: { 200: MeSchema, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const address = request.ip;
      const gate = deps.throttle.gate(username, address);
      if (!gate.open) {
        void reply.header('retry-after', String(gate.retryAfterSec));
        return reply.code(429).send({ error: 'too-many-requests', message: `too many wrong passwords: try again in ${gate.retryAfterSec} s` });
      }
      const user = await getUser(deps.db, username);
      if (!user && !(await deps.hasUsers())) {
        return reply.code(503).send({ error: 'no-users', message: `no user exists yet: create the first admin with ${FIRST_USER_HINT}` });
      }
      const ok = user && !user.disabled ? await verifyPassword(password, user.passwordHash) : await verifyNothing(password);
      if (!user || !ok) {
        const lockouts = deps.throttle.failed(username, address);
        const reason = !user ? 'unknown-user' : user.disabled ? 'disabled' : 'wrong-password';
        await deps.audit.record({ actor: username, action: 'login', outcome: 'failed', address, scope: user?.scope ?? null, detail: { reason } });
        for (const lock of lockouts) {
          deps.log.warn({ client: lock.client, failures: lock.failures, lockoutSec: lock.lockoutSec }, 'api: logins locked out (password guessing?)');
          await deps.audit.record({
            actor: username,
            action: 'login-locked',
            outcome: 'denied',
            address,
            scope: user?.scope ?? null,
            detail: { client: lock.client, failures: lock.failures, lockoutSec: lock.lockoutSec, until: new Date(lock.until).toISOString() },
          });
        }
        return reply.code(401).send({ error: 'unauthorized', message: 'wrong user name or password' });
      }
      deps.throttle.succeeded(username, address);
      await recordLogin(deps.db, user.username, deps.clock.now());
      const sessionId = await deps.sessions.create(user.username, address);
      startSessionCookies(reply, deps, request.protocol, sessionId);
      await deps.audit.record({ actor: user.username, action: 'login', outcome: 'ok', address, scope: user.scope });
      return me({ username: user.username, role: user.role, scope: user.scope, via: 'session' }, deps.config.timezone);
    },
  );

  app.post(
    '/api/logout',
    {
      config: { role: 'viewer' },
      schema: { summary: 'Log out: ends the session', tags: ['access'], response: { 204: Type.Null(), 400: ErrorSchema } },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (caller.via !== 'session' || caller.sessionId === undefined) {
        return reply.code(400).send({ error: 'bad-request', message: 'an API token has no session to end: revoke it with DELETE /api/tokens/{id}' });
      }
      await deps.sessions.end(caller.sessionId);
      void reply.clearCookie(SESSION_COOKIE, { path: '/api' });
      void reply.clearCookie(CSRF_COOKIE, { path: '/' });
      await deps.audit.record({ actor: actorName(caller), action: 'logout', outcome: 'ok', address: request.ip, scope: caller.scope });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/me',
    { config: { role: 'viewer' }, schema: { summary: 'Who the caller is: user name, role, scope', tags: ['access'], response: { 200: MeSchema } } },
    (request) => me(callerOf(request), deps.config.timezone),
  );
}
