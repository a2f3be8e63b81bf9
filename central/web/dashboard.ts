// Serves the built dashboard (central/dashboard, built by `npm run build` into dist/dashboard) at
// /: index.html never cached (it names the current build's files), assets/ cached for a year (their
// names carry a content hash, so a new build has new names). Only these paths are served: anything
// else, /api included, goes to the API's not-found answer.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { CentralConfig } from '../config/schema';
import type { Api } from '../api/types';
import { dashboardCsp } from './headers';

/** Where `npm run build` puts the dashboard, seen from the compiled dist/central/web/. */
export const DEFAULT_DASHBOARD_ROOT = resolve(__dirname, '../../dashboard');

const INDEX = 'index.html';
const NOT_BUILT = 'the dashboard is not built: run npm run build (it builds central/dashboard into dist/dashboard), then restart the central';

export function registerDashboard(app: Api, options: { config: CentralConfig; root?: string }): void {
  const root = options.root ?? DEFAULT_DASHBOARD_ROOT;
  const csp = dashboardCsp(options.config.map.tileUrl, options.config.media.servers);
  const page = { 'content-security-policy': csp, 'cross-origin-opener-policy': 'same-origin', 'cross-origin-resource-policy': 'same-origin' };
  const route = { config: { role: 'public' as const }, schema: { hide: true } };

  if (!existsSync(join(root, INDEX))) {
    app.get('/', route, (_request, reply) => reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT));
    return;
  }
  // Only reply.sendFile: the plugin's own routes would bypass the guard's declared roles.
  void app.register(fastifyStatic, { root, serve: false });
  for (const path of ['/', `/${INDEX}`]) {
    app.get(path, route, (_request, reply) => reply.headers({ ...page, 'cache-control': 'no-cache' }).sendFile(INDEX, root, { cacheControl: false }));
  }
  app.get<{ Params: { '*': string } }>('/assets/*', route, (request, reply) =>
    reply.headers(page).sendFile(`assets/${request.params['*']}`, root, { maxAge: 365 * 24 * 3600 * 1000, immutable: true }),
  );
}
