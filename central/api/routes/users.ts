// Users of the API (admin): list, create, change, remove, each within the admin's own region scope
// and under roles.ts's rules; users outside it answer 404 as if they did not exist. Any user may
// change its own password (giving the old one) in a login session. Every change is audited.
import { Type } from '@sinclair/typebox';
import { verifyPassword } from '../../auth/password';
import { grantRefusal, manageRefusal, type Refusal } from '../../auth/roles';
import {
  createUser,
  getUser,
  LastAdminError,
  listUsers,
  normalizeScope,
  publicUser,
  removeUser,
  updateUser,
  UserInputError,
  type UserChange,
} from '../../auth/users';
import { scopeWithin } from '../../ledger/scope';
import { ApiError } from '../errors';
import { actorName, callerOf } from '../guard';
import type { AccessDeps, Api } from '../types';
import { ErrorSchema } from './schemas';
import { PasswordSchema, RoleSchema, ScopeSchema, UserSchema, UsernameSchema } from './access-schemas';
import { startSessionCookies } from './session';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });

function refusal(r: Refusal): ApiError {
  return new ApiError(r.kind === 'not-found' ? 404 : 403, r.kind, r.message);
}

/** The store's refusals of bad input as 400/409. */
function inputError(err: unknown): unknown {
  if (err instanceof LastAdminError) return new ApiError(409, 'conflict', err.message);
  if (err instanceof UserInputError) return new ApiError(400, 'bad-request', err.message);
  return err;
}

export function registerUserRoutes(app: Api, deps: AccessDeps): void {
  app.get(
    '/api/users',
    {
      config: { role: 'admin' },
      schema: { summary: 'Users within the caller’s scope', tags: ['access'], response: { 200: Type.Array(UserSchema) } },
    },
    async (request) => {
      const caller = callerOf(request);
      return (await listUsers(deps.db)).filter((u) => scopeWithin(u.scope, caller.scope)).map(publicUser);
    },
  );

  app.post(
    '/api/users',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Create a user (scope defaults to the caller’s own)',
        tags: ['access'],
        body: Type.Object(
          { username: UsernameSchema, role: RoleSchema, scope: Type.Optional(ScopeSchema), password: PasswordSchema },
          { additionalProperties: false },
        ),
        response: { 201: UserSchema, 400: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = request.body;
      try {
        const scope = normalizeScope(body.scope ?? caller.scope);
        const refused = grantRefusal(caller, { role: body.role, scope });
        if (refused) throw refusal(refused);
        const user = await createUser(deps.db, deps.clock, { username: body.username, role: body.role, scope, password: body.password });
        await deps.audit.record({
          actor: actorName(caller),
          action: 'user-create',
          outcome: 'ok',
          address: request.ip,
          scope,
          detail: { user: user.username, role: user.role, scope },
        });
        return reply.code(201).send(publicUser(user));
      } catch (err) {
        throw inputError(err);
      }
    },
  );

  app.patch(
    '/api/users/:name',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Change a user (admin), or one’s own password (anyone, with oldPassword)',
        tags: ['access'],
        params: NameParams,
        body: Type.Object(
          {
            role: Type.Optional(RoleSchema),
            scope: Type.Optional(ScopeSchema),
            password: Type.Optional(PasswordSchema),
            oldPassword: Type.Optional(Type.String({ maxLength: 1024, description: 'Your current password, when you change your own.' })),
            disabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: UserSchema, 400: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { name } = request.params;
      const body = request.body;
      const self = name === caller.username;
      const target = await getUser(deps.db, name);
      if (!target) throw new ApiError(404, 'not-found', `no user ${name}`);
      const changesAccess = body.role !== undefined || body.scope !== undefined || body.disabled !== undefined;
      if (self) {
        if (body.password !== undefined) {
          if (caller.via !== 'session') {
            throw new ApiError(403, 'forbidden', 'a password is changed in a login session, not with an API token');
          }
          if (body.oldPassword === undefined || !(await verifyPassword(body.oldPassword, target.passwordHash))) {
            await deps.audit.record({ actor: actorName(caller), action: 'password-change', outcome: 'denied', address: request.ip, scope: target.scope });
            throw new ApiError(403, 'forbidden', 'oldPassword: give your current password to change it');
          }
        }
        if (body.disabled === true) throw new ApiError(400, 'bad-request', 'you cannot disable yourself: another admin can');
        if (changesAccess && caller.role !== 'admin') {
          throw new ApiError(403, 'forbidden', 'you may change your own password; an admin changes roles and scopes');
        }
      } else {
        const refused = manageRefusal(caller, target);
        if (refused) throw refusal(refused);
      }
      try {
        const scope = body.scope !== undefined ? normalizeScope(body.scope) : undefined;
        if (body.role !== undefined || scope !== undefined) {
          const refused = grantRefusal(caller, { role: body.role ?? target.role, scope: scope ?? target.scope });
          if (refused) throw refusal(refused);
        }
        const change: UserChange = { role: body.role, scope, password: body.password, disabled: body.disabled };
        const user = await updateUser(deps.db, deps.clock, name, change);
        // A new password ends the user's sessions; the one that changed it goes on in a new one.
        if (self && body.password !== undefined) {
          startSessionCookies(reply, deps, request.protocol, await deps.sessions.create(name, request.ip));
        }
        await deps.audit.record({
          actor: actorName(caller),
          action: body.password !== undefined && !changesAccess ? 'password-change' : 'user-change',
          outcome: 'ok',
          address: request.ip,
          scope: user.scope,
          detail: {
            user: name,
            ...(body.role !== undefined ? { role: user.role } : {}),
            ...(scope !== undefined ? { scope: user.scope } : {}),
            ...(body.disabled !== undefined ? { disabled: user.disabled } : {}),
            ...(body.password !== undefined ? { password: 'changed' } : {}),
          },
        });
        return publicUser(user);
      } catch (err) {
        throw inputError(err);
      }
    },
  );

  app.delete(
    '/api/users/:name',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Remove a user with its sessions and API tokens',
        tags: ['access'],
        params: NameParams,
        response: { 204: Type.Null(), 400: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { name } = request.params;
      const target = await getUser(deps.db, name);
      if (!target) throw new ApiError(404, 'not-found', `no user ${name}`);
      if (name === caller.username) throw new ApiError(400, 'bad-request', 'you cannot remove yourself: another admin can');
      const refused = manageRefusal(caller, target);
      if (refused) throw refusal(refused);
      try {
        await removeUser(deps.db, name);
      } catch (err) {
        throw inputError(err);
      }
      await deps.audit.record({
        actor: actorName(caller),
        action: 'user-remove',
        outcome: 'ok',
        address: request.ip,
        scope: target.scope,
        detail: { user: name },
      });
      return reply.code(204).send(null);
    },
  );
}
