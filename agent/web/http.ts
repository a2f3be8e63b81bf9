// HTTP plumbing of the page: the security headers every answer carries, one way to send an
// answer, the same-origin check of WebSocket handshakes, and a route table.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** Did the request come over TLS (the page served by https)? */
export function overTls(req: IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket>).encrypted === true;
}

export function securityHeaders(req: IncomingMessage): Record<string, string> {
  const host = req.headers.host && /^[A-Z0-9.:[\]-]+$/i.test(req.headers.host) ? req.headers.host : undefined;
  const ws = overTls(req) ? 'wss' : 'ws';
  return {
    // WebSockets to this very host only; blob: for the MSE object URL; wasm for JSMpeg's decoder.
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self' 'wasm-unsafe-eval'",
      "style-src 'self'",
      "img-src 'self' data:",
      "media-src 'self' blob:",
      `connect-src 'self'${host ? ` ${ws}://${host}` : ''}`,
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

export const TEXT = 'text/plain; charset=utf-8';

export function send(req: IncomingMessage, res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...securityHeaders(req), 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Is the WebSocket handshake from a page of this server (or from a non-browser client without Origin)?
 * Meaningful once the Host header itself has been checked (host-check.ts). */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    const url = new URL(origin);
    return url.host === req.headers.host && url.protocol === (overTls(req) ? 'https:' : 'http:');
  } catch {
    return false;
  }
}

/**
 * One GET (and HEAD) route. `login: 'basic'` routes need the Basic login itself (the page);
 * `'session'` routes also take the session cookie the page was given (its script, style, API).
 */
export interface Route {
  path: string;
  /** `path` is a prefix ending in '/': the rest of the path goes to the handler. */
  prefix?: boolean;
  login: 'basic' | 'session';
  handle(req: IncomingMessage, res: ServerResponse, rest: string): void;
}

/** The route for a path: exact matches first, then the longest prefix. */
export function findRoute(routes: readonly Route[], path: string): { route: Route; rest: string } | undefined {
  const exact = routes.find((r) => !r.prefix && r.path === path);
  if (exact) return { route: exact, rest: '' };
  let best: Route | undefined;
  for (const r of routes) if (r.prefix && path.startsWith(r.path) && (!best || r.path.length > best.path.length)) best = r;
  return best ? { route: best, rest: path.slice(best.path.length) } : undefined;
}
