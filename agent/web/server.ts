// The live view page of the village security room: node:http + ws on one port (web.host:web.port).
//
//   GET /                      the page (static/index.html)
//   GET /static/<file>         the page's script and style (agent/web/static, read at start)
//   GET /vendor/jsmpeg.min.js  JSMpeg (from node_modules: the box has no internet), without its <style> injection
//   GET /api/cameras           cameras and their streams (codec, size) — never URIs or credentials
//   WS  /live/<cameraId>?stream=sub|main&mode=mse|jsmpeg|auto
//
// WebSocket protocol, server → browser:
//   mse:    a text {"type":"init","codec":"avc1.…","width":…,"height":…} and then the binary init
//           segment (again after each ffmpeg restart), then binary moof+mdat fragments;
//           {"type":"switch","mode":"jsmpeg","reason":…} + close 4000 when an mse request got a
//           stream that needs jsmpeg (H.265); {"type":"end","reason":…} + close 1011 when the pull ended.
//   jsmpeg: binary MPEG-TS only (JSMpeg writes every message into its demuxer); errors are close codes.
//   Close codes: 4004 no such camera/stream, 4029 too many viewers, 1001 the agent stops, 1011 the pull failed.
//
// Auth: HTTP Basic when web.password is set (and a session cookie for the page's WebSockets);
// refused to start on a non-loopback web.host without a password. WebSocket handshakes from
// another origin are refused (cross-site WebSocket hijacking).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, extname, join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { WebSocketServer, WebSocket } from 'ws';
import { LiveError, type LiveMessage, type LiveMode, type LivePulls, type LiveSession, type LiveStream } from '../video/live/live-pull';
import { checkWebBinding, WebAuth } from './auth';
import { publicCameras } from './cameras';
import type { ViewAudit } from './view-audit';
import { CamgateError, EXIT_FAILURE } from '../../lib/errors';
import type { AgentConfig } from '../config/schema';
import type { Logger } from '../../lib/log';
import { systemClock, type Clock } from '../../lib/clock';

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
  clock?: Clock;
}


export interface RunningWebServer {
  /** http://host:port/ (the actual port when web.port is 0). */
  url: string;
  port: number;
  /** Open live WebSockets. */
  connections(): number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/**
 * Where the page's files are: compiled code runs from dist/agent/web (the files stay in the source
 * tree: ../../../agent/web/static); run from source (ts-node, tsx) it is ./static.
 */
export function staticDir(): string {
  const candidates = [join(__dirname, '..', '..', '..', 'agent', 'web', 'static'), join(__dirname, 'static')];
  for (const c of candidates) if (existsSync(join(c, 'index.html'))) return c;
  throw new Error(`live view page not found (looked in ${candidates.join(', ')})`);
}

/** JSMpeg's browser build from node_modules (its package "exports" hide dist/, so resolve the main file and look beside it). */
export function jsmpegPath(): string {
  const main = require.resolve('@cycjimmy/jsmpeg-player');
  return join(dirname(main), 'jsmpeg-player.umd.min.js');
}

const JSMPEG_STYLE_TARGET = 'document.head||document.getElementsByTagName("head")[0]';

/**
 * JSMpeg's bundles put a <style> into document.head as soon as they load, for the overlay of its
 * VideoElement (play button, poster). The page uses only JSMpeg.Player on a canvas of its own, so
 * that sheet styles nothing here, and under style-src 'self' every browser blocks it with a console
 * error. Pointing the injector at a detached <head> keeps the sheet out of the document (a style
 * element that is not in the document is never checked against the policy), and the policy stays
 * free of 'unsafe-inline' and hashes. Undefined when the injector is not there exactly once
 * (another JSMpeg build).
 */
export function withoutJsmpegStylesheet(bundle: string): string | undefined {
  const at = bundle.indexOf(JSMPEG_STYLE_TARGET);
  if (at < 0 || bundle.includes(JSMPEG_STYLE_TARGET, at + 1)) return undefined;
  const rest = bundle.slice(at + JSMPEG_STYLE_TARGET.length);
  if (!/^,\w+=document\.createElement\("style"\)/.test(rest)) return undefined;
  return bundle.slice(0, at) + 'document.createElement("head")' + rest;
}

function loadJsmpeg(logger: Logger): Buffer {
  const path = jsmpegPath();
  const bundle = readFileSync(path, 'utf8');
  const served = withoutJsmpegStylesheet(bundle);
  if (served === undefined) {
    logger.warn({ path }, "web: JSMpeg's stylesheet injector not found (a JSMpeg build other than @cycjimmy/jsmpeg-player 6.x?): served unchanged, so browsers log a blocked inline style (style-src 'self') when JSMpeg loads; playing is not affected");
    return Buffer.from(bundle);
  }
  return Buffer.from(served);
}

function loadStatic(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (!/^[A-Za-z0-9._-]+$/.test(name) || !statSync(p).isFile() || !TYPES[extname(name)]) continue;
    files.set(name, readFileSync(p));
  }
  return files;
}

function securityHeaders(req: IncomingMessage): Record<string, string> {
  const host = req.headers.host && /^[A-Za-z0-9.:[\]-]+$/.test(req.headers.host) ? req.headers.host : undefined;
  return {
    // WebSockets to this very host only; blob: for the MSE object URL; wasm for JSMpeg's decoder.
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self' 'wasm-unsafe-eval'",
      "style-src 'self'",
      "img-src 'self' data:",
      "media-src 'self' blob:",
      `connect-src 'self'${host ? ` ws://${host}` : ''}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** Is the WebSocket handshake from a page of this server (or from a non-browser client without Origin)? */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

const CAMERA_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A WebSocket close reason: at most 123 bytes of UTF-8, cut on a character boundary. */
export function closeReason(text: string): string {
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > 123) break;
    out += ch;
    bytes += n;
  }
  return out;
}

export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const { config, db, pulls, logger } = options;
  checkWebBinding(config);
  const clock = options.clock ?? systemClock;
  const auth = new WebAuth(config, undefined, undefined, clock);
  const files = loadStatic(options.staticDir ?? staticDir());
  let jsmpeg: Buffer | undefined;
  const sockets = new Set<Socket>();
  const live = new Set<WebSocket>();

  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { ...securityHeaders(req), 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, 'method not allowed\n', 'text/plain; charset=utf-8', { Allow: 'GET, HEAD' });
      return;
    }
    const isPage = path === '/' || path === '/index.html';
    // The page itself needs Basic; its script, style and API calls may ride on the session cookie.
    if (!auth.allowed(req, { cookie: !isPage })) {
      send(req, res, 401, 'authentication required / 需要登录\n', 'text/plain; charset=utf-8', { 'WWW-Authenticate': 'Basic realm="camgate live view", charset="UTF-8"' });
      return;
    }
    if (isPage) {
      const page = files.get('index.html');
      if (!page) {
        send(req, res, 500, 'page missing\n', 'text/plain; charset=utf-8');
        return;
      }
      send(req, res, 200, page, TYPES['.html'], { 'Cache-Control': 'no-store', ...(auth.required ? { 'Set-Cookie': auth.issueCookie() } : {}) });
      return;
    }
    if (path === '/api/cameras') {
      let body: string;
      try {
        body = JSON.stringify({ cameras: publicCameras(db, options.healthOf) });
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'web: listing cameras failed');
        send(req, res, 500, JSON.stringify({ error: 'listing cameras failed' }), TYPES['.json']);
        return;
      }
      send(req, res, 200, body, TYPES['.json'], { 'Cache-Control': 'no-store' });
      return;
    }
    if (path === '/vendor/jsmpeg.min.js') {
      try {
        jsmpeg ??= loadJsmpeg(logger);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'web: JSMpeg not installed');
        send(req, res, 404, 'JSMpeg (@cycjimmy/jsmpeg-player) is not installed\n', 'text/plain; charset=utf-8');
        return;
      }
      send(req, res, 200, jsmpeg, TYPES['.js'], { 'Cache-Control': 'max-age=86400' });
      return;
    }
    if (path.startsWith('/static/')) {
      const name = path.slice('/static/'.length);
      const body = files.get(name);
      if (body) {
        send(req, res, 200, body, TYPES[extname(name)] ?? 'application/octet-stream', { 'Cache-Control': 'no-cache' });
        return;
      }
    }
    if (path === '/favicon.ico') {
      send(req, res, 204, '', 'image/x-icon');
      return;
    }
    send(req, res, 404, 'not found\n', 'text/plain; charset=utf-8');
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'web: request failed');
      if (!res.headersSent) send(req, res, 500, 'internal error\n', 'text/plain; charset=utf-8');
      else res.destroy();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n${status === 401 ? 'WWW-Authenticate: Basic realm="camgate live view"\r\n' : ''}\r\n`);
    };
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/live\/([^/]+)$/.exec(url.pathname);
    if (!m) return refuse(404, 'Not Found');
    if (!sameOrigin(req)) return refuse(403, 'Forbidden');
    if (!auth.allowed(req, { cookie: true })) return refuse(401, 'Unauthorized');
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
      void serveViewer(ws, cameraId, stream, mode as LiveMode | 'auto', who);
    });
  });

  function audit(view: ViewAudit): void {
    try {
      options.audit?.(view);
    } catch (err) {
      logger.error({ err, camera: view.camera }, 'web: live view audit failed');
    }
  }

  async function serveViewer(ws: WebSocket, cameraId: string, stream: LiveStream, mode: LiveMode | 'auto', who: { user: string | null; remote: string }): Promise<void> {
    let session: LiveSession | undefined;
    let closed = false;
    let watching: ViewAudit | undefined;
    ws.on('close', () => {
      closed = true;
      live.delete(ws);
      session?.leave();
      if (watching) {
        const durationSec = Math.round((clock.now() - Date.parse(watching.startedAt)) / 1000);
        audit({ ...watching, phase: 'end', durationSec });
        watching = undefined;
      }
    });
    ws.on('error', () => undefined);
    ws.on('message', () => undefined); // the browser has nothing to say
    let chosen: LiveMode | undefined;
    // What the pull sends during join (the init segment and GOP cache) waits until the mode is
    // known: an mse request that got a jsmpeg pull is told to switch instead.
    let early: LiveMessage[] | undefined = [];
    const viewer = {
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      send(msg: LiveMessage) {
        if (early) {
          early.push(msg);
          return;
        }
        deliver(msg);
      },
    };
    const deliver = (msg: LiveMessage): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      switch (msg.type) {
        case 'init':
          ws.send(JSON.stringify({ type: 'init', codec: msg.init.codec, width: msg.init.width, height: msg.init.height }));
          ws.send(msg.init.data);
          return;
        case 'fragment':
          ws.send(msg.fragment.data);
          return;
        case 'ts':
          ws.send(msg.data);
          return;
        case 'end':
          if (chosen === 'mse') ws.send(JSON.stringify({ type: 'end', reason: msg.reason }));
          ws.close(1011, closeReason(msg.reason));
      }
    };
    try {
      session = await pulls.join(cameraId, { stream, mode }, viewer);
    } catch (err) {
      const code = err instanceof LiveError ? (err.code === 'not-found' ? 4004 : err.code === 'too-many-viewers' ? 4029 : 1001) : 1011;
      if (!(err instanceof LiveError)) logger.warn({ camera: cameraId, err: (err as Error).message }, 'web: live join failed');
      if (ws.readyState === WebSocket.OPEN) ws.close(code, closeReason((err as Error).message));
      return;
    }
    chosen = session.mode;
    if (closed) {
      session.leave();
      return;
    }
    const queued = early;
    early = undefined;
    if (mode === 'mse' && session.mode !== 'mse') {
      ws.send(JSON.stringify({ type: 'switch', mode: session.mode, reason: session.modeReason ?? '' }));
      ws.close(4000, 'use jsmpeg');
      return;
    }
    watching = { phase: 'start', camera: cameraId, stream, mode: session.mode, ...who, startedAt: new Date(clock.now()).toISOString() };
    audit(watching);
    for (const msg of queued ?? []) deliver(msg);
    logger.debug({ camera: cameraId, stream, mode: session.mode }, 'web: viewer joined');
  }

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
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}/`;
  logger.info({ url, auth: auth.required }, `live view page listening on ${url}`);
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
          setTimeout(() => {
            for (const ws of live) ws.terminate();
            for (const s of sockets) s.destroy();
          }, 200).unref();
        });
      })();
      return closing;
    },
  };
}
