// The central's HTTP API: Fastify, every route's input and output described by a TypeBox schema
// (validated on the way in, serialised on the way out) and gathered into the OpenAPI document at
// /api/openapi.json. Errors are JSON with a message that names the parameter and the fix.
import Fastify, { type FastifyError } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Api, ApiDeps } from './types';
import { CAMGATE_VERSION } from '../../lib/version';
import { registerFiguresRoutes } from './routes/figures';
import { registerCommandRoutes } from './routes/commands';
import { registerAlarmRoutes } from './routes/alarms';
import { registerLedgerRoutes } from './routes/ledger';
import { registerLiveRoutes } from './routes/live';
import { registerServiceRoutes } from './routes/service';

export async function createApi(deps: ApiDeps): Promise<Api> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // Query strings like ?class=1&class=2 stay arrays; nothing else is coerced beyond the schema.
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'camgate central API',
        version: CAMGATE_VERSION,
        description: 'Sites, cameras, figures, reports, alarms and commands of a camgate central service (docs/api.md).',
      },
    },
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.validation) {
      const where = err.validationContext ?? 'request';
      const first = err.validation[0];
      const params = first?.params as { missingProperty?: string; additionalProperty?: string } | undefined;
      if (params?.additionalProperty !== undefined) {
        return reply
          .code(400)
          .send({ error: 'bad-request', message: `${where} ${params.additionalProperty}: not a parameter of this endpoint (see /api/openapi.json)` });
      }
      const name = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : (params?.missingProperty ?? '');
      return reply.code(400).send({ error: 'bad-request', message: `${where}${name ? ` ${name}` : ''}: ${first?.message ?? err.message}` });
    }
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) deps.log.error({ err: err.message, url: request.url }, 'api: request failed');
    return reply
      .code(status)
      .send({ error: status >= 500 ? 'internal' : 'bad-request', message: status >= 500 ? 'the request failed on the server (logged)' : err.message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not-found', message: `no such endpoint: ${request.method} ${request.url.split('?')[0]} (see /api/openapi.json)` }),
  );

  registerServiceRoutes(app, deps);
  registerLedgerRoutes(app, deps);
  registerFiguresRoutes(app, deps);
  registerCommandRoutes(app, deps);
  registerLiveRoutes(app, deps);
  registerAlarmRoutes(app, deps);

  app.get('/api/openapi.json', { schema: { hide: true } }, () => app.swagger());
  await app.ready();
  return app;
}
