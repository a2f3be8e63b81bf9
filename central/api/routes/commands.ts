// Commands to a site (POST /api/sites/:site/commands/:name) and the pictures two of them give as
// plain JPEG (GET /api/cameras/:site/:camera/snapshot | thumbnail). Each command is checked against
// the contract before it is sent (400 naming the field), sent only to a known, connected site
// (404, 409 unless ?force=true), and audited with its outcome.
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AnyObject } from '../../../lib/schema';
import { API_COMMANDS, argsProblem, isApiCommand, timeoutKeyOf, type ApiCommand } from '../../commands/client';
import { commandOutcome, siteGate, type HttpOutcome } from '../../commands/outcome';
import { getCamera, getSiteConnection } from '../../ledger/queries';
import { actorOf } from '../actor';
import type { Actor } from '../../audit/log';
import { callerOf } from '../guard';
import { EVERYWHERE, type RegionScope } from '../../ledger/scope';
import type { Api, ApiDeps } from '../types';

export const CommandErrorSchema = Type.Object(
  {
    error: Type.String({ description: 'bad-request, not-found, site-offline, agent-error, timeout, unavailable.' }),
    message: Type.String(),
    code: Type.Optional(Type.String({ description: "agent-error: the agent's reply code (docs/mqtt.md)." })),
    site: Type.Optional(Type.String()),
    command: Type.Optional(Type.String()),
  },
  { description: 'What went wrong and what to change.' },
);

const CommandErrors = {
  400: CommandErrorSchema,
  404: CommandErrorSchema,
  409: CommandErrorSchema,
  502: CommandErrorSchema,
  503: CommandErrorSchema,
  504: CommandErrorSchema,
};

const SiteParam = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'A site id.' });
const CameraParam = Type.String({ minLength: 1, maxLength: 128 });

const SendQuery = Type.Object(
  {
    force: Type.Boolean({ default: false, description: 'Send even when the site is not connected now.' }),
    timeoutMs: Type.Optional(
      Type.Integer({ minimum: 1000, maximum: 600000, description: "Overrides the command's deadline (commands.timeoutMs / commands.slowTimeoutMs)." }),
    ),
  },
  { additionalProperties: false },
);

/** A POST without a body is one with an empty object (the body schema then checks it as usual). */
export async function emptyBodyAsObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}

/** The caller of a guarded route, for the audit and its scope. */
function who(request: Parameters<typeof callerOf>[0] & Parameters<typeof actorOf>[0]): { actor: Actor; scope: RegionScope } {
  return { actor: actorOf(request), scope: callerOf(request).scope };
}

/** Gate, send, answer and audit one command: the one path every command route takes. */
export async function runCommand(
  deps: ApiDeps,
  caller: { actor: Actor; scope: RegionScope },
  site: string,
  name: ApiCommand,
  args: Record<string, unknown>,
  query: { force: boolean; timeoutMs?: number },
): Promise<HttpOutcome> {
  const outcome = await decide(deps, caller.scope, site, name, args, query);
  await deps.audit.record({
    at: deps.clock.now(),
    actor: caller.actor.name,
    address: caller.actor.address,
    action: 'command',
    site,
    ...(typeof args.camera === 'string' ? { camera: args.camera } : {}),
    outcome: outcome.status === 200 ? 'ok' : 'failed',
    detail: {
      command: name,
      status: outcome.status,
      args: name === 'stream-start' ? { ...args, target: '(set)' } : args,
      ...(outcome.status !== 200 ? { error: outcome.body.error, message: outcome.body.message } : {}),
    },
  });
  return outcome;
}

async function decide(
  deps: ApiDeps,
  scope: RegionScope,
  site: string,
  name: ApiCommand,
  args: Record<string, unknown>,
  query: { force: boolean; timeoutMs?: number },
): Promise<HttpOutcome> {
  const problem = argsProblem(name, args);
  if (problem) return { status: 400, body: { error: 'bad-request', message: `body ${problem}` } };
  const gate = siteGate(site, await getSiteConnection(deps.db, site, scope), query.force);
  if (gate) return gate;
  // A scoped caller commands only cameras in its scope; for the rest the agent's ledger (which may
  // know a camera the central has not heard of yet) decides.
  if (
    scope !== EVERYWHERE &&
    typeof args.camera === 'string' &&
    !(await getCamera(deps.db, site, args.camera, deps.clock.now(), deps.config.staleAfterSec * 1000, scope))
  ) {
    return { status: 404, body: { error: 'not-found', message: `no camera ${args.camera} at site ${site} (GET /api/cameras lists them)` } };
  }
  if (!deps.commands) return { status: 503, body: { error: 'unavailable', message: 'this central runs without a broker connection: it cannot send commands' } };
  const settled = await deps.commands.send(site, name, args, query.timeoutMs !== undefined ? { timeoutMs: query.timeoutMs } : {});
  return commandOutcome(site, name, settled, query.timeoutMs !== undefined ? 'the request’s timeoutMs' : timeoutKeyOf(name));
}

export function registerCommandRoutes(app: Api, deps: ApiDeps): void {
  app.post(
    '/api/sites/:site/commands/:name',
    {
      config: { role: 'operator' },
      preValidation: emptyBodyAsObject,
      schema: {
        summary: 'Send a command to a site and answer its reply (docs/central.md, Commands)',
        tags: ['commands'],
        params: Type.Object({ site: SiteParam, name: Type.String({ minLength: 1, maxLength: 64, description: API_COMMANDS.join(', ') }) }),
        querystring: SendQuery,
        body: Type.Object(
          { args: Type.Optional(AnyObject({ description: 'The command’s arguments (contract/json/cmd-<name>.json).' })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            site: Type.String(),
            command: Type.String(),
            requestId: Type.Union([Type.String(), Type.Null()]),
            observedAt: Type.String({ format: 'date-time' }),
            result: Type.Unknown({ description: "The agent's result, an object (docs/mqtt.md, the command's row)." }),
          }),
          ...CommandErrors,
        },
      },
    },
    async (request, reply) => {
      const { site, name } = request.params;
      if (!isApiCommand(name)) {
        return reply.code(400).send({
          error: 'bad-request',
          message: `params name: unknown command ${JSON.stringify(name.slice(0, 64))}; the API sends ${API_COMMANDS.join(', ')}`,
        });
      }
      const outcome = await runCommand(deps, who(request), site, name, request.body.args ?? {}, request.query);
      return reply.code(outcome.status).send(outcome.body as never);
    },
  );

  for (const name of ['snapshot', 'thumbnail'] as const) {
    app.get(
      `/api/cameras/:site/:camera/${name}`,
      {
        config: { role: 'viewer' },
        schema: {
          summary:
            name === 'snapshot'
              ? 'A still picture taken now by the camera (cmd/snapshot), as JPEG'
              : 'The latest thumbnail of the health monitor (cmd/thumbnail), as JPEG',
          tags: ['commands'],
          params: Type.Object({ site: SiteParam, camera: CameraParam }),
          querystring: Type.Object(
            {
              ...SendQuery.properties,
              ...(name === 'snapshot'
                ? {
                    profile: Type.Optional(
                      Type.String({ minLength: 1, maxLength: 64, description: 'Media profile token; default the first with a snapshot URI.' }),
                    ),
                  }
                : {}),
            },
            { additionalProperties: false },
          ),
          response: { 200: { description: 'The picture.', content: { 'image/jpeg': { schema: Type.String({ format: 'binary' }) } } }, ...CommandErrors },
        },
      },
      async (request, reply) => {
        const { site, camera } = request.params;
        const query = request.query as { force: boolean; timeoutMs?: number; profile?: string };
        if (!(await getCamera(deps.db, site, camera, deps.clock.now(), deps.config.staleAfterSec * 1000, callerOf(request).scope))) {
          return reply.code(404).send({ error: 'not-found', message: `no camera ${camera} at site ${site} (GET /api/cameras lists them)` });
        }
        const args = { camera, ...(query.profile !== undefined ? { profile: query.profile } : {}) };
        const outcome = await runCommand(deps, who(request), site, name, args, query);
        if (outcome.status !== 200) return reply.code(outcome.status).send(outcome.body as never);
        const result = outcome.body.result as { base64?: unknown; contentType?: unknown };
        if (typeof result.base64 !== 'string') {
          return reply.code(502).send({ error: 'agent-error', message: `site ${site} answered ${name} without a picture`, site, command: name });
        }
        // The picture is bytes, not the JSON the typed reply describes.
        return (reply as FastifyReply)
          .code(200)
          .type(typeof result.contentType === 'string' ? result.contentType : 'image/jpeg')
          .header('cache-control', 'no-store')
          .send(Buffer.from(result.base64, 'base64'));
      },
    );
  }
}
