// An http.Agent that inspects every byte a device sends before Node's HTTP parser sees it.
// The onvif package buffers the whole body and hands it to xml2js; we must refuse oversized
// bodies and any DTD *before* that happens. Overriding the socket's push() (the point where
// libuv reads enter the stream) lets us drop the offending chunk and destroy the socket, so
// neither the HTTP parser nor xml2js ever receives it.
import http from 'node:http';
import net from 'node:net';
import { DriverError } from '../types';

export interface ResponseHead {
  statusCode: number;
  contentType?: string;
}

/** Per-call hooks; the SOAP client installs them before each request (calls are serialised),
 * and each socket/request keeps the observer that was current when it was created. */
export interface GuardObserver {
  onConnect(): void;
  onHead(head: ResponseHead): void;
  /** The socket has been destroyed; the request callback may never fire, so reject from here. */
  onViolation(err: DriverError): void;
}

export interface GuardedAgentOptions {
  maxResponseBytes: number;
  /** "host:port", for messages. */
  device: string;
}

const ENTITY_RE = /<!\s*ENTITY/i;
const DOCTYPE_RE = /<!\s*DOCTYPE/gi;
const TAIL = 300; // carried between chunks so a marker split across two reads is still seen
const DECL_WINDOW = 256;

/** 'unsafe' when text holds an ENTITY or a non-HTML DOCTYPE; 'pending' when a DOCTYPE starts
 * but its declaration is not complete yet (decide when more bytes arrive). HTML doctypes are
 * allowed because cameras answer errors with HTML pages (Hikvision's 401 page) that we want to
 * classify as auth / not-onvif rather than as an attack. */
export function scanForDtd(text: string, final: boolean): 'ok' | 'unsafe' | 'pending' {
  if (ENTITY_RE.test(text)) return 'unsafe';
  let pending = false;
  DOCTYPE_RE.lastIndex = 0;
  for (let m = DOCTYPE_RE.exec(text); m; m = DOCTYPE_RE.exec(text)) {
    const after = text.slice(m.index + m[0].length, m.index + m[0].length + DECL_WINDOW);
    const gt = after.indexOf('>');
    if (gt < 0) {
      if (final || after.length >= DECL_WINDOW) return 'unsafe';
      pending = true;
      continue;
    }
    const decl = after.slice(0, gt);
    if (!/^\s+html\b/i.test(decl) || decl.includes('[')) return 'unsafe';
  }
  return pending ? 'pending' : 'ok';
}

function parseHead(text: string): ResponseHead | undefined {
  const m = /^HTTP\/\d\.\d (\d{3})/.exec(text);
  if (!m) return undefined;
  const ct = /\r\ncontent-type:[ \t]*([^\r\n;]*)/i.exec(text);
  return { statusCode: Number(m[1]), contentType: ct ? ct[1].trim().toLowerCase() : undefined };
}

export class GuardedAgent extends http.Agent {
  observer?: GuardObserver;
  private readonly live = new Set<net.Socket>();

  constructor(private readonly guard: GuardedAgentOptions) {
    super({ keepAlive: false }); // one request per socket: per-socket counters are per-response
  }

  /** Destroy every open connection (deadline passed, driver closed). */
  destroyAll(): void {
    for (const s of this.live) s.destroy();
    this.live.clear();
  }

  /** Called by Node for every request made through this agent. A peer that closes the
   * connection after the headers but before the end of the body leaves the onvif package's
   * callback hanging (it listens for 'end' only), so we report it ourselves. */
  addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
    const { device } = this.guard;
    const observer = this.observer; // bound now: a late event must not hit the next call
    req.once('response', (res: http.IncomingMessage) => {
      res.once('close', () => {
        // The package itself drops 401 answers to retry with Digest: not a peer failure.
        if (res.complete || res.statusCode === 401) return;
        observer?.onViolation(new DriverError('malformed', `${device} closed the connection before the answer was complete`, device));
      });
    });
    (http.Agent.prototype as unknown as { addRequest(r: http.ClientRequest, o: http.RequestOptions): void }).addRequest.call(this, req, options);
  }

  override createConnection(options: net.NetConnectOpts): net.Socket {
    const socket = net.createConnection(options);
    this.live.add(socket);
    socket.once('close', () => this.live.delete(socket));
    const bound = this.observer; // the request this socket is created for
    const observer = () => bound;
    socket.once('connect', () => observer()?.onConnect());

    const { maxResponseBytes, device } = this.guard;
    let bytes = 0;
    let tail = '';
    let head = '';
    let headDone = false;
    let refused = false;
    const refuse = (err: DriverError) => {
      refused = true;
      socket.destroy(err);
      observer()?.onViolation(err);
    };
    const originalPush = socket.push;
    socket.push = function guardedPush(chunk: unknown, encoding?: BufferEncoding): boolean {
      if (refused) return false;
      const final = chunk === null;
      const text = final
        ? ''
        : Buffer.isBuffer(chunk)
          ? chunk.toString('latin1')
          : typeof chunk === 'string'
            ? chunk
            : Buffer.from(chunk as Uint8Array).toString('latin1');
      if (!final) {
        bytes += Buffer.isBuffer(chunk) ? chunk.length : text.length;
        if (bytes > maxResponseBytes) {
          refuse(new DriverError('too-large', `response from ${device} is larger than ${maxResponseBytes} bytes: refused`, device));
          return false;
        }
        if (!headDone) {
          head += text.slice(0, 16384);
          const end = head.indexOf('\r\n\r\n');
          if (end >= 0 || head.length >= 16384) {
            headDone = true;
            const parsed = parseHead(head);
            if (parsed) observer()?.onHead(parsed);
          }
        }
      }
      const verdict = scanForDtd(tail + text, final);
      if (verdict === 'unsafe') {
        refuse(new DriverError('unsafe-xml', `response from ${device} declares a DOCTYPE/ENTITY: refused (XXE / entity expansion)`, device));
        return false;
      }
      tail = (tail + text).slice(-TAIL);
      return originalPush.call(this, chunk, encoding);
    };
    return socket;
  }
}
