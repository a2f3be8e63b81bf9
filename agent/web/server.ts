// The live view page of the village security room: node:http + ws on one port (web.host:web.port).
//
//   GET /                      the page (static/index.html)
//   GET /static/<file>         the page's script and style (agent/web/static, read at start)
//   GET /vendor/jsmpeg.min.js  JSMpeg (from node_modules: the box has no internet), without its <style> injection
//   GET /api/cameras           cameras and their streams (codec, size) — never URIs or credentials
//   WS  /live/<cameraId>?stream=sub|main&mode=mse|jsmpeg|auto   (the protocol: viewer.ts)
//
// Auth: HTTP Basic when web.password is set (and a session cookie for the page's WebSockets),
// wrong passwords throttled per client (login-guard.ts); refused to start on a non-loopback
// web.host without a password. https and wss only when web.tls.cert/key are set. Every request
// and handshake must name this page in its Host header (DNS rebinding, host-check.ts); WebSocket
// handshakes from another origin are refused (cross-site WebSocket hijacking).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { extname } from 'node:path';
import type { Database } from 'better-sqlite3';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LivePulls } from '../video/live/live-pull';
import type { LiveMode } from '../video/live/types';
import { checkWebBinding, isLoopbackHost, WebAuth, type AuthVerdict } from './auth';
import { HostCheck, hostOfHeader } from './host-check';
import type { LoginLockout } from '../../lib/login-guard';
import { publicCameras } from './cameras';
import { CONTENT_TYPES, loadJsmpeg, loadStatic, staticDir } from './assets';
import { findRoute, sameOrigin, send, TEXT, type Route } from './http';
import { serveViewer } from './viewer';
import type { ViewAudit } from './view-audit';
import { CamgateError, EXIT_FAILURE } from '../../lib/errors';
import type { AgentConfig } from '../config/schema';
import type { Logger } from '../../lib/log';
import { BACKGROUND, systemClock, type Clock } from '../../lib/clock';

export interface WebServerOptions {
  config: AgentConfig['web'];
  db: Database;
  pulls: Pick<LivePulls, 'join'>;
  logger: Logger;
  /** Health state of a camera ("online", "degraded", …) for the list; optional. */
  healthOf?: (cameraId: string) => string | undefined;
  /** Directory of index.html / live.js; default: found next to the sources (see staticDir()). */
  staticDir?: string;
  /** Told when a viewer starts and stops watching a camera (the agent sends audit events:
   * who viewed what, the brief's 安全使用审核). */
  audit?: (view: ViewAudit) => void;
  /** Told when a client is locked out after too many wrong passwords (the agent sends an audit event). */
  onLoginLocked?: (lockout: LoginLockout) => void;
  clock?: Clock;
}

export interface RunningWebServer {
  /** http://host:port/ or https://… (the actual port when web.port is 0). */
  url: string;
  port: number;
  /** Open live WebSockets. */
  connections(): number;
  close(): Promise<void>;
}

const CAMERA_ID = /^[\w.:-]{1,128}$/;

/** The page's routes (GET and HEAD). */
function routes(options: WebServerOptions, auth: WebAuth, files: Map<string, Buffer>): Route[] {
  const { db, logger } = options;
  let jsmpeg: Buffer | undefined;
  const page: Route['handle'] = (req, res) => {
    const html = files.get('index.html');
    if (!html) return send(req, res, 500, 'page missing\n', TEXT);
    send(req, res, 200, html, CONTENT_TYPES['.html'], { 'Cache-Control': 'no-store', ...(auth.required ? { 'Set-Cookie': auth.issueCookie() } : {}) });
  };
  return [
    { path: '/', login: 'basic', handle: page },
    { path: '/index.html', login: 'basic', handle: page },
    {
      path: '/api/cameras',
      login: 'session',
      handle: (req, res) => {
        let body: string;
        try {
          body = JSON.stringify({ cameras: publicCameras(db, options.healthOf) });
        } catch (err) {
          logger.warn({ err: (err as Error).message }, 'web: listing cameras failed');
          return send(req, res, 500, JSON.stringify({ error: 'listing cameras failed' }), CONTENT_TYPES['.json']);
        }
        send(req, res, 200, body, CONTENT_TYPES['.json'], { 'Cache-Control': 'no-store' });
      },
    },
    {
      path: '/vendor/jsmpeg.min.js',
      login: 'session',
      handle: (req, res) => {
        try {
          jsmpeg ??= loadJsmpeg(logger);
        } catch (err) {
          logger.warn({ err: (err as Error).message }, 'web: JSMpeg not installed');
          return send(req, res, 404, 'JSMpeg (@cycjimmy/jsmpeg-player) is not installed\n', TEXT);
        }
        send(req, res, 200, jsmpeg, CONTENT_TYPES['.js'], { 'Cache-Control': 'max-age=86400' });
      },
    },
    {
      path: '/static/',
      prefix: true,
      login: 'session',
      handle: (req, res, name) => {
        const body = files.get(name);
        if (!body) return send(req, res, 404, 'not found\n', TEXT);
        send(req, res, 200, body, CONTENT_TYPES[extname(name)] ?? 'application/octet-stream', { 'Cache-Control': 'no-cache' });
      },
    },
    { path: '/favicon.ico', login: 'session', handle: (req, res) => send(req, res, 204, '', 'image/x-icon') },
  ];
}

/** The certificate and key of web.tls, read now; errors name the key and the path. */
function readTls(tls: AgentConfig['web']['tls']): { cert: Buffer; key: Buffer } | undefined {
  if (!tls.cert || !tls.key) return undefined;
  const read = (key: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new CamgateError(
        `${key} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): give the path of a PEM file`,
        EXIT_FAILURE,
        {
          cause: err,
        },
      );
    }
  };
  return { cert: read('web.tls.cert', tls.cert), key: read('web.tls.key', tls.key) };
}

function makeServer(
  tls: { cert: Buffer; key: Buffer } | undefined,
  config: AgentConfig['web'],
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  if (!tls) return createServer(onRequest);
  try {
    return createTlsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, onRequest);
  } catch (err) {
    throw new CamgateError(
      `web.tls.cert ${config.tls.cert} and web.tls.key ${config.tls.key} do not make a TLS server (${(err as Error).message}): give a PEM certificate and its own private key`,
      EXIT_FAILURE,
      { cause: err },
    );
  }
}

const LOGIN_HEADERS = { 'WWW-Authenticate': 'Basic realm="camgate live view", charset="UTF-8"' };

export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const { config, pulls, logger } = options;
  checkWebBinding(config);
  const clock = options.clock ?? systemClock;
  const tls = readTls(config.tls);
  if (!tls && config.password && !isLoopbackHost(config.host)) {
    logger.warn(
      { host: config.host },
      `web: the page on ${config.host} is plain http: the password and the session cookie cross the network in clear; set web.tls.cert and web.tls.key`,
    );
  }
  const auth = new WebAuth({ config, clock, secure: Boolean(tls), logger, ...(options.onLoginLocked ? { onLockout: options.onLoginLocked } : {}) });
  const table = routes(options, auth, loadStatic(options.staticDir ?? staticDir()));
  const sockets = new Set<Socket>();
  const live = new Set<WebSocket>();
  let hosts: HostCheck | undefined; // set once listening (the address a port-0 or wildcard server got)

  // A refused Host is logged once per name per 10 minutes (a rebinding page retries in a loop).
  const hostLogged = new Map<string, number>();
  const refusedHost = (req: IncomingMessage): void => {
    const name = (hostOfHeader(req.headers.host) ?? String(req.headers.host ?? '(none)')).slice(0, 100);
    const now = clock.now();
    const last = hostLogged.get(name);
    if (last !== undefined && now - last < 600_000) return;
    if (hostLogged.size >= 256) hostLogged.clear();
    hostLogged.set(name, now);
    logger.warn(
      { host: name, remote: req.socket.remoteAddress, origin: req.headers.origin },
      `web: refused a request for host "${name}" (not an address of this page nor in web.hostnames; a DNS rebinding page, or a name to add to web.hostnames)`,
    );
  };
  const hostRefusal = (req: IncomingMessage): string =>
    `this page is not served under the name ${JSON.stringify(hostOfHeader(req.headers.host) ?? req.headers.host ?? '')}: open it by the box's address, or add the name to web.hostnames\n`;

  const loginRefusal = (req: IncomingMessage, res: ServerResponse, verdict: Exclude<AuthVerdict, { ok: true }>): void => {
    const retry: Record<string, string> = verdict.retryAfterSec !== undefined ? { 'Retry-After': String(verdict.retryAfterSec) } : {};
    if (verdict.status === 429) {
      return send(req, res, 429, `too many wrong logins from this address: try again in ${verdict.retryAfterSec} s / 登录失败次数过多\n`, TEXT, retry);
    }
    send(req, res, 401, 'authentication required / 需要登录\n', TEXT, { ...LOGIN_HEADERS, ...retry });
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (!hosts?.allows(req.headers.host)) {
      refusedHost(req);
      return send(req, res, 421, hostRefusal(req), TEXT);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, 405, 'method not allowed\n', TEXT, { Allow: 'GET, HEAD' });
    const found = findRoute(table, new URL(req.url ?? '/', 'http://x').pathname);
    // Unknown paths need a login too: without one, nothing says which paths exist.
    const verdict = auth.check(req, { cookie: (found?.route.login ?? 'session') === 'session' });
    if (!verdict.ok) return loginRefusal(req, res, verdict);
    if (!found) return send(req, res, 404, 'not found\n', TEXT);
    found.route.handle(req, res, found.rest);
  };

  const server = makeServer(tls, config, (req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'web: request failed');
      if (!res.headersSent) send(req, res, 500, 'internal error\n', TEXT);
      else res.destroy();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  const audit = (view: ViewAudit): void => {
    try {
      options.audit?.(view);
    } catch (err) {
      logger.error({ err, camera: view.camera }, 'web: live view audit failed');
    }
  };

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const refuse = (status: number, text: string, headers: Record<string, string> = {}): void => {
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`);
    };
    if (!hosts?.allows(req.headers.host)) {
      refusedHost(req);
      return refuse(421, 'Misdirected Request');
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/live\/([^/]+)$/.exec(url.pathname);
    if (!m) return refuse(404, 'Not Found');
    if (!sameOrigin(req)) return refuse(403, 'Forbidden');
    const verdict = auth.check(req, { cookie: true });
    if (!verdict.ok) {
      const retry: Record<string, string> = verdict.retryAfterSec !== undefined ? { 'Retry-After': String(verdict.retryAfterSec) } : {};
      if (verdict.status === 429) return refuse(429, 'Too Many Requests', retry);
      return refuse(401, 'Unauthorized', { 'WWW-Authenticate': 'Basic realm="camgate live view"', ...retry });
    }
    let cameraId: string;
    try {
      cameraId = decodeURIComponent(m[1]);
    } catch {
      return refuse(400, 'Bad Request');
    }
    const stream = url.searchParams.get('stream') ?? 'sub';
    const mode = url.searchParams.get('mode') ?? 'auto';
    if (!CAMERA_ID.test(cameraId) || (stream !== 'sub' && stream !== 'main') || !['mse', 'jsmpeg', 'auto'].includes(mode)) return refuse(400, 'Bad Request');
    const who = { user: config.password ? config.username : null, remote: req.socket.remoteAddress ?? 'unknown' };
    wss.handleUpgrade(req, socket, head, (ws) => {
      live.add(ws);
      ws.on('close', () => live.delete(ws));
      void serveViewer(ws, { cameraId, stream, mode: mode as LiveMode | 'auto', who }, { pulls, logger, clock, audit });
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onListenError = (err: NodeJS.ErrnoException): void => {
      wss.close();
      const where = `${config.host}:${config.port}`;
      const why =
        err.code === 'EADDRINUSE'
          ? `port ${config.port} is already in use on ${config.host}: set web.port (CAMGATE_WEB_PORT) to a free port, or web.enabled false`
          : err.code === 'EADDRNOTAVAIL'
            ? `${config.host} is not an address of this box: fix web.host (CAMGATE_WEB_HOST)`
            : err.code === 'EACCES'
              ? `no permission to listen on port ${config.port}: use a port above 1023 in web.port`
              : err.message;
      reject(new CamgateError(`live view page cannot listen on ${where}: ${why}`, EXIT_FAILURE, { cause: err }));
    };
    server.once('error', onListenError);
    server.listen(config.port, config.host, () => {
      server.off('error', onListenError);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  hosts = new HostCheck({ listenAddress: addr.address, hostnames: config.hostnames });
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${tls ? 'https' : 'http'}://${host}:${addr.port}/`;
  logger.info({ url, auth: auth.required, tls: Boolean(tls) }, `live view page listening on ${url}`);
  let closing: Promise<void> | undefined;
  return {
    url,
    port: addr.port,
    connections: () => live.size,
    close() {
      closing ??= (async () => {
        for (const ws of live) ws.close(1001, 'the agent is stopping');
        wss.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // give close frames a moment, then cut whatever is left (keep-alive, slow viewers).
          clock.setTimeout(
            () => {
              for (const ws of live) ws.terminate();
              for (const s of sockets) s.destroy();
            },
            200,
            BACKGROUND,
          );
        });
      })();
      return closing;
    },
  };
}
