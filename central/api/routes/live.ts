// Live view from the centre (docs/live-view.md): POST starts or joins a camera's relay to the media
// server and answers the play URLs and a viewer lease; renew keeps the lease; DELETE ends it.
import { Type } from '@sinclair/typebox';
import { getCamera, getSiteConnection } from '../../ledger/queries';
import { siteGate } from '../../commands/outcome';
import { actorOf } from '../actor';
import { callerOf } from '../guard';
import type { Api, ApiDeps } from '../types';
import { CommandErrorSchema, emptyBodyAsObject } from './commands';

const Params = Type.Object({ site: Type.String({ minLength: 1, maxLength: 64 }), camera: Type.String({ minLength: 1, maxLength: 128 }) });
const LeaseParams = Type.Object({ ...Params.properties, lease: Type.String({ minLength: 1, maxLength: 64 }) });
const Errors = {
  400: CommandErrorSchema,
  404: CommandErrorSchema,
  409: CommandErrorSchema,
  502: CommandErrorSchema,
  503: CommandErrorSchema,
  504: CommandErrorSchema,
};

const LeaseSchema = Type.Object({
  lease: Type.String({ description: 'Renew it (POST …/live/{lease}/renew) within leaseSec; DELETE it when done.' }),
  site: Type.String(),
  camera: Type.String(),
  stream: Type.String(),
  server: Type.String({ description: 'The media server (media.servers[].name).' }),
  play: Type.Record(Type.String(), Type.String(), { description: 'Play URLs by the names of the server’s play templates (hls, flv, …).' }),
  leaseSec: Type.Integer(),
  expiresAt: Type.String({ format: 'date-time' }),
  viewers: Type.Integer({ description: 'Viewers of this camera stream now, this one included.' }),
  relay: Type.Union([
    Type.Object({
      streamId: Type.String(),
      mode: Type.Unknown(),
      profile: Type.Unknown(),
      idleTimeoutSec: Type.Integer({ description: "The agent's relay idle timeout; the central renews the relay every third of it." }),
    }),
    Type.Null(),
  ]),
});

export function registerLiveRoutes(app: Api, deps: ApiDeps): void {
  const unavailable = { error: 'unavailable', message: 'this central runs without a broker connection: it cannot start live views' };

  app.post(
    '/api/cameras/:site/:camera/live',
    {
      config: { role: 'viewer' },
      preValidation: emptyBodyAsObject,
      schema: {
        summary: 'Watch a camera live: the site relays it to the media server; answers the play URLs and a viewer lease',
        tags: ['live'],
        params: Params,
        querystring: Type.Object(
          { force: Type.Boolean({ default: false, description: 'Send even when the site is not connected now.' }) },
          { additionalProperties: false },
        ),
        body: Type.Object(
          {
            stream: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('sub')], { description: 'Default media.stream.' })),
            lease: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A lease of this camera to renew instead of starting another.' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: LeaseSchema, ...Errors },
      },
    },
    async (request, reply) => {
      const { site, camera } = request.params;
      const live = deps.live;
      if (!live) return reply.code(503).send(unavailable);
      if (request.body.lease !== undefined) {
        const again = live.rejoin(site, camera, request.body.lease);
        return reply.code(again.status).send(again.body as never);
      }
      const scope = callerOf(request).scope;
      const found = await getCamera(deps.db, site, camera, deps.clock.now(), deps.config.staleAfterSec * 1000, scope);
      if (!found || found.removedAt !== null)
        return reply.code(404).send({ error: 'not-found', message: `no camera ${camera} at site ${site} (GET /api/cameras lists them)` });
      const gate = siteGate(site, await getSiteConnection(deps.db, site, scope), request.query.force);
      if (gate) return reply.code(gate.status).send(gate.body as never);
      const outcome = await live.join({ site, camera, region: found.region, stream: request.body.stream, actor: actorOf(request) });
      return reply.code(outcome.status).send(outcome.body as never);
    },
  );

  app.post(
    '/api/cameras/:site/:camera/live/:lease/renew',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Keep watching: extends the viewer lease by media.leaseSec',
        tags: ['live'],
        params: LeaseParams,
        response: {
          200: Type.Object({ lease: Type.String(), expiresAt: Type.String({ format: 'date-time' }), leaseSec: Type.Integer(), viewers: Type.Integer() }),
          ...Errors,
        },
      },
    },
    async (request, reply) => {
      if (!deps.live) return reply.code(503).send(unavailable);
      const { site, camera, lease } = request.params;
      const outcome = deps.live.renew(site, camera, lease);
      return reply.code(outcome.status).send(outcome.body as never);
    },
  );

  app.delete(
    '/api/cameras/:site/:camera/live/:lease',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Stop watching; the last viewer of a camera stream stops its relay (cmd/stream-stop)',
        tags: ['live'],
        params: LeaseParams,
        response: {
          200: Type.Object({
            lease: Type.String(),
            viewers: Type.Integer({ description: 'Viewers left.' }),
            relayStopped: Type.Boolean(),
            stop: Type.Optional(
              Type.Object({
                ok: Type.Boolean(),
                streamId: Type.Optional(Type.String()),
                sent: Type.Optional(Type.Boolean()),
                message: Type.Optional(Type.Unknown()),
              }),
            ),
          }),
          ...Errors,
        },
      },
    },
    async (request, reply) => {
      if (!deps.live) return reply.code(503).send(unavailable);
      const { site, camera, lease } = request.params;
      const outcome = await deps.live.leave(site, camera, lease, actorOf(request));
      return reply.code(outcome.status).send(outcome.body as never);
    },
  );
}
