// The central's HTTP API: Fastify, every route's input and output described by a TypeBox schema
// (validated on the way in, serialised on the way out) and gathered into the OpenAPI document at
// /api/openapi.json. Errors are JSON with a message that names the parameter and the fix. Every
// route declares the role it needs (guard.ts); only /api/health, /api/login and the OpenAPI
// document are public. The same server serves the dashboard (central/web/) at /.
import Fastify, { type FastifyError } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AccessDeps, Api, ApiDeps } from './types';
import { CAMGATE_VERSION } from '../../lib/version';
import { registerFiguresRoutes } from './routes/figures';
import { registerReportRoutes } from './routes/reports';
import { registerCommandRoutes } from './routes/commands';
import { registerAlarmRoutes } from './routes/alarms';
import { SESSION_COOKIE, SessionStore } from '../auth/sessions';
import { LoginThrottle } from '../auth/throttle';
import { TokenStore } from '../auth/tokens';
import { countUsers } from '../auth/users';
import { ApiError } from './errors';
import { installGuard } from './guard';
import { registerAuditRoutes } from './routes/audit';
import { registerLedgerRoutes } from './routes/ledger';
import { registerLiveRoutes } from './routes/live';
import { registerServiceRoutes } from './routes/service';
import { registerSessionRoutes } from './routes/session';
import { registerTokenRoutes } from './routes/tokens';
import { registerUserRoutes } from './routes/users';
import { registerMapRoutes } from './routes/map';
import { installSecurityHeaders } from '../web/headers';
import { registerDashboard } from '../web/dashboard';

/** Once a user exists the answer stays yes (the last admin cannot be removed), so it is asked until then only. */
function usersExist(deps: ApiDeps): () => Promise<boolean> {
  let known = false;
  return async () => (known ||= (await countUsers(deps.db)) > 0);
}

function accessDeps(deps: ApiDeps): AccessDeps {
  const auth = deps.config.auth;
  return {
    ...deps,
    sessions: new SessionStore(deps.db, deps.clock, { idleMs: auth.sessionIdleMin * 60_000, maxMs: auth.sessionMaxHours * 3_600_000 }),
    tokens: new TokenStore(deps.db, deps.clock),
    throttle: new LoginThrottle({ ...auth.login, clock: deps.clock }),
    hasUsers: usersExist(deps),
  };
}

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
        description:
          'Sites, cameras, figures, reports, alarms and commands of a camgate central service (docs/api.md). Every route but /api/health, /api/login and this document needs a login session (POST /api/login sets its cookie) or an API token (docs/access.md).',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'Set by POST /api/login (HttpOnly, SameSite=Strict).' },
          token: { type: 'http', scheme: 'bearer', description: 'An API token (cg_…) from POST /api/tokens or camgate central token create.' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
  });
  await app.register(cookie);
  installSecurityHeaders(app);
  const access = accessDeps(deps);
  installGuard(app, access);

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.validation) {
      const where = err.validationContext ?? 'request';
      const first = err.validation[0];
      const params = first?.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] } | undefined;
      if (params?.additionalProperty !== undefined) {
        return reply
          .code(400)
          .send({ error: 'bad-request', message: `${where} ${params.additionalProperty}: not a parameter of this endpoint (see /api/openapi.json)` });
      }
      const name = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : (params?.missingProperty ?? '');
      // An enum's message alone does not say what to write instead.
      const allowed = params?.allowedValues ? `: use one of ${params.allowedValues.join(', ')}` : '';
      return reply.code(400).send({ error: 'bad-request', message: `${where}${name ? ` ${name}` : ''}: ${first?.message ?? err.message}${allowed}` });
    }
    if (err instanceof ApiError) return reply.code(err.statusCode).send({ error: err.error, message: err.message });
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
  registerSessionRoutes(app, access);
  registerUserRoutes(app, access);
  registerTokenRoutes(app, access);
  registerAuditRoutes(app, deps);
  registerLedgerRoutes(app, deps);
  registerFiguresRoutes(app, deps);
  registerReportRoutes(app, deps);
  registerCommandRoutes(app, deps);
  registerLiveRoutes(app, deps);
  registerAlarmRoutes(app, deps);
  registerMapRoutes(app, deps);
  registerDashboard(app, { config: deps.config, root: deps.dashboardRoot });

  app.get('/api/openapi.json', { config: { role: 'public' }, schema: { hide: true } }, () => app.swagger());
  await app.ready();
  return app;
}
