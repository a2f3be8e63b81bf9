// API tokens for other systems: a user creates, lists and revokes its own in a login session; an
// admin also those of users within its scope. A token acts for its user, at most with the user's
// role and scope (narrower ones may be given). The secret is in the creation's answer only.
import { Type } from '@sinclair/typebox';
import { manageRefusal, roleAtLeast } from '../../auth/roles';
import { getUser, listUsers, normalizeScope, UserInputError } from '../../auth/users';
import { scopeWithin } from '../../ledger/scope';
import { ApiError } from '../errors';
import { actorName, callerOf, type Caller } from '../guard';
import type { AccessDeps, Api } from '../types';
import { ErrorSchema } from './schemas';
import { RoleSchema, ScopeSchema, TokenSchema, UsernameSchema } from './access-schemas';

const DAY_MS = 86_400_000;

/** May `caller` manage the tokens of `username`? (Its own: yes; others': an admin, within scope.) */
async function tokenOwnerRefusal(deps: AccessDeps, caller: Caller, username: string): Promise<ApiError | undefined> {
  if (username === caller.username) return undefined;
  const owner = await getUser(deps.db, username);
  if (!owner) return new ApiError(404, 'not-found', `no user ${username}`);
  const refused = manageRefusal(caller, owner);
  return refused ? new ApiError(refused.kind === 'not-found' ? 404 : 403, refused.kind, refused.message) : undefined;
}

export function registerTokenRoutes(app: Api, deps: AccessDeps): void {
  app.get(
    '/api/tokens',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'API tokens: one’s own; an admin’s also those of users within its scope',
        tags: ['access'],
        response: { 200: Type.Array(TokenSchema) },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      if (caller.role !== 'admin') return deps.tokens.list([caller.username]);
      const users = (await listUsers(deps.db)).filter((u) => scopeWithin(u.scope, caller.scope) || u.username === caller.username);
      return deps.tokens.list(users.map((u) => u.username));
    },
  );

  app.post(
    '/api/tokens',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Create an API token (the secret is shown in this answer only)',
        tags: ['access'],
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 64, description: 'What it is for (the system that uses it).' }),
            user: Type.Optional(UsernameSchema),
            role: Type.Optional(RoleSchema),
            scope: Type.Optional(ScopeSchema),
            expiresDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'Expires this many days from now; never when absent.' })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ token: TokenSchema, secret: Type.String({ description: 'Authorization: Bearer <secret>. Not shown again.' }) }),
          400: ErrorSchema,
          403: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = request.body;
      if (caller.via !== 'session') throw new ApiError(403, 'forbidden', 'API tokens are created in a login session (or with camgate central token create)');
      const username = body.user ?? caller.username;
      const ownerRefused = await tokenOwnerRefusal(deps, caller, username);
      if (ownerRefused) throw ownerRefused;
      const owner = (await getUser(deps.db, username))!;
      if (body.role !== undefined && !roleAtLeast(owner.role, body.role)) {
        throw new ApiError(400, 'bad-request', `role: ${body.role} is above ${username}'s (${owner.role}): a token acts at most as its user`);
      }
      let scope: string | undefined;
      try {
        scope = body.scope !== undefined ? normalizeScope(body.scope) : undefined;
      } catch (err) {
        if (err instanceof UserInputError) throw new ApiError(400, 'bad-request', `scope: ${err.message}`);
        throw err;
      }
      if (scope !== undefined && !scopeWithin(scope, owner.scope)) {
        throw new ApiError(400, 'bad-request', `scope: ${JSON.stringify(scope)} is not within ${username}'s (${JSON.stringify(owner.scope)})`);
      }
      const created = await deps.tokens.create({
        name: body.name,
        username,
        role: body.role,
        scope,
        expiresAt: body.expiresDays !== undefined ? deps.clock.now() + body.expiresDays * DAY_MS : undefined,
        createdBy: actorName(caller),
      });
      await deps.audit.record({
        actor: actorName(caller),
        action: 'token-create',
        outcome: 'ok',
        address: request.ip,
        scope: scope ?? owner.scope,
        detail: { id: created.token.id, name: body.name, user: username, role: body.role ?? null, scope: scope ?? null, expiresAt: created.token.expiresAt },
      });
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/api/tokens/:id',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Revoke an API token',
        tags: ['access'],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 204: Type.Null(), 403: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { id } = request.params;
      const token = await deps.tokens.get(id);
      // Another's token the caller may not manage is as missing as one that does not exist.
      if (!token || (await tokenOwnerRefusal(deps, caller, token.user)))
        throw new ApiError(404, 'not-found', `no API token ${id} (GET /api/tokens lists them)`);
      await deps.tokens.revoke(id);
      const owner = await getUser(deps.db, token.user);
      await deps.audit.record({
        actor: actorName(caller),
        action: 'token-revoke',
        outcome: 'ok',
        address: request.ip,
        scope: token.scope ?? owner?.scope ?? null,
        detail: { id, name: token.name, user: token.user },
      });
      return reply.code(204).send(null);
    },
  );
}
