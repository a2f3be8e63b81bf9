// The RTSP gate: how ffmpeg reaches a camera that needs a login without ever holding it.
//
// ffmpeg takes a login only inside its URL (`rtsp://user:password@…`), where every local user
// reads it in the process list, and it answers a Basic challenge with it, so any device on the
// LAN asking for Basic collects the password in cleartext. So a camera with a login is pulled
// through this gate instead: one server per agent on 127.0.0.1, and for each ffmpeg run a link
// `rtsp://127.0.0.1:<port>/<token>/<the camera's path>` (pass()) whose token is random, unguessable,
// good for one connection and for a short time when unused. The gate forwards that RTSP session to
// the camera, answers the camera's challenge with the login (Digest; Basic only when the login
// allows it, drivers/auth.ts), rewrites the URLs of requests (gate → camera) and of Content-Base,
// Content-Location, RTP-Info, Location and the SDP's control lines (camera → gate), and passes
// RTP/RTCP interleaved on the RTSP connection (`$` frames: ffmpeg pulls with -rtsp_transport tcp)
// through untouched, chunk by chunk, with back-pressure both ways.
//
// What ffmpeg sees when the camera fails is what it would have said itself, so the messages and
// their classification (agent/health/picture/grab.ts, agent/ffmpeg/progress.ts) keep working: the
// gate answers the request with an RTSP error whose reason phrase ffmpeg prints ("method OPTIONS
// failed: 503 Connection refused …"). A refused Basic challenge is answered 401 with
// BASIC_REFUSED_REASON and reported through onRefused.
//
// Not carried: RTP over UDP (a SETUP without `interleaved` is answered 461), RTSP over HTTP, and
// redirects to another camera (a link is good for one connection).
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Credentials } from '../types';
import { Authenticator, BASIC_REFUSED_REASON, basicRefusedMessage, pickChallenge } from '../auth';
import { bracketHost, splitUrl } from '../../lib/url';

/** A camera stream to reach through the gate. */
export interface GateSource {
  /** The camera's rtsp:// (or rtsps://) URL, without credentials. */
  url: string;
  credentials?: Credentials;
  /** Who uses it, for refusal reports (e.g. "relay r1 cam-3f2a9c1d/main"). */
  label: string;
}

export interface GateRefusal {
  label: string;
  /** "host:port" of the camera. */
  device: string;
  message: string;
}

export interface RtspGateOptions {
  /** TCP (and TLS) connect timeout towards a camera, ms; default 5000. */
  connectTimeoutMs?: number;
  /** A link nobody connected with expires after this, ms; default 60000. */
  passTtlMs?: number;
  /** A camera asked for Basic and the login does not allow it: nothing was sent. */
  onRefused?: (refusal: GateRefusal) => void;
  /** The clock of link expiry (tests); default Date.now. */
  now?: () => number;
}

/** Largest message head either side may send, bytes. */
export const GATE_MAX_HEAD = 16 * 1024;
/** Largest message body accepted from the camera (an SDP is a few hundred bytes), bytes. */
export const GATE_MAX_BODY = 256 * 1024;

export class GateProtocolError extends Error {
  override name = 'GateProtocolError';
}

// --- messages --------------------------------------------------------------------------------

export interface RtspMessage {
  /** The start line: "METHOD url RTSP/1.0" or "RTSP/1.0 200 OK". */
  start: string;
  /** In order, names as sent. */
  headers: Array<[string, string]>;
  body: Buffer;
}

const EMPTY = Buffer.alloc(0);

export function getHeader(m: RtspMessage, name: string): string | undefined {
  const lower = name.toLowerCase();
  return m.headers.find(([k]) => k.toLowerCase() === lower)?.[1];
}

export function headerValues(m: RtspMessage, name: string): string[] {
  const lower = name.toLowerCase();
  return m.headers.filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
}

/** Sets a header in the place it had (CSeq stays where the camera put it), else at the end. */
export function setHeader(m: RtspMessage, name: string, value: string): void {
  const lower = name.toLowerCase();
  const at = m.headers.findIndex(([k]) => k.toLowerCase() === lower);
  if (at < 0) return void m.headers.push([name, value]);
  m.headers = m.headers.filter(([k], i) => i === at || k.toLowerCase() !== lower);
  m.headers[at] = [m.headers[at][0], value];
}

export function removeHeader(m: RtspMessage, name: string): void {
  const lower = name.toLowerCase();
  m.headers = m.headers.filter(([k]) => k.toLowerCase() !== lower);
}

export function isResponse(m: RtspMessage): boolean {
  return m.start.startsWith('RTSP/');
}

/** The message as bytes, Content-Length set from the body. */
export function serialize(m: RtspMessage): Buffer {
  const headers = m.headers.filter(([k]) => k.toLowerCase() !== 'content-length');
  if (m.body.length > 0) headers.push(['Content-Length', String(m.body.length)]);
  const head = [m.start, ...headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n') + '\r\n\r\n';
  return m.body.length > 0 ? Buffer.concat([Buffer.from(head, 'latin1'), m.body]) : Buffer.from(head, 'latin1');
}

const START_RE = /^(?:RTSP\/\d\.\d \d{3}(?: .*)?|[A-Z][A-Z_]* \S+ RTSP\/\d\.\d)$/;

function parseHead(text: string): RtspMessage {
  const lines = text.split('\r\n');
  const start = lines[0];
  if (!START_RE.test(start)) throw new GateProtocolError(`not an RTSP message (starts ${JSON.stringify(start.slice(0, 40))})`);
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && headers.length > 0) {
      headers[headers.length - 1][1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { start, headers, body: EMPTY };
}

export interface FramerSink {
  /** Interleaved bytes (`$` frames, or parts of one), in order, to pass on as they are. */
  data(chunk: Buffer): void;
  message(m: RtspMessage): void;
}

/**
 * Splits one direction of an RTSP connection into messages and interleaved frames. Frames are
 * never buffered: their bytes are handed on as they arrive (a chunk's complete frames as one
 * slice), only a frame header cut in two or an incomplete message waits for the next chunk.
 * Throws GateProtocolError on bytes that are neither.
 */
export class RtspFramer {
  private pending: Buffer = EMPTY;
  private frameLeft = 0;
  /** False until interleaved frames may come (the camera side: after a SETUP was answered). */
  framesAllowed: boolean;

  constructor(
    private readonly sink: FramerSink,
    private readonly maxBody: number,
    framesAllowed = true,
  ) {
    this.framesAllowed = framesAllowed;
  }

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.pending.length > 0) {
      data = Buffer.concat([this.pending, chunk]);
      this.pending = EMPTY;
    }
    let off = 0;
    let passFrom = -1;
    const flush = (to: number): void => {
      if (passFrom >= 0 && to > passFrom) this.sink.data(data.subarray(passFrom, to));
      passFrom = -1;
    };
    while (off < data.length) {
      if (this.frameLeft > 0) {
        const n = Math.min(this.frameLeft, data.length - off);
        if (passFrom < 0) passFrom = off;
        off += n;
        this.frameLeft -= n;
        continue;
      }
      const first = data[off];
      if (first === 0x24 && this.framesAllowed) {
        if (data.length - off < 4) break;
        this.frameLeft = 4 + data.readUInt16BE(off + 2);
        continue;
      }
      flush(off);
      if (first === 0x0d || first === 0x0a) {
        off++; // line ends some servers leave between messages
        continue;
      }
      // Binary junk fails at once instead of after a whole head's worth of bytes.
      if (first < 0x41 || first > 0x5a) throw new GateProtocolError(`not RTSP (a message starts with byte 0x${first.toString(16).padStart(2, '0')})`);
      const end = data.indexOf('\r\n\r\n', off, 'latin1');
      if (end < 0) {
        if (data.length - off > GATE_MAX_HEAD) throw new GateProtocolError(`an RTSP message head is larger than ${GATE_MAX_HEAD} bytes`);
        break;
      }
      if (end - off > GATE_MAX_HEAD) throw new GateProtocolError(`an RTSP message head is larger than ${GATE_MAX_HEAD} bytes`);
      const m = parseHead(data.toString('latin1', off, end));
      const cl = getHeader(m, 'content-length');
      const length = cl === undefined ? 0 : Number(cl);
      if (!/^\d{1,9}$/.test(cl ?? '0') || length > this.maxBody) throw new GateProtocolError(`bad or too large Content-Length (${String(cl).slice(0, 20)})`);
      if (data.length < end + 4 + length) break;
      m.body = length > 0 ? Buffer.from(data.subarray(end + 4, end + 4 + length)) : EMPTY;
      off = end + 4 + length;
      this.sink.message(m);
    }
    flush(off);
    if (off < data.length) this.pending = Buffer.from(data.subarray(off));
  }
}

// --- links -----------------------------------------------------------------------------------

interface GateTarget {
  tls: boolean;
  host: string;
  port: number;
  /** "rtsp://host[:port]" exactly as the camera's URL has it: requests are rewritten to it. */
  prefix: string;
  /** Path and query of the camera's URL ("/" when empty). */
  rest: string;
}

interface Pass {
  token: string;
  source: GateSource;
  target: GateTarget;
  expiresAt: number;
}

function parseTarget(url: string): GateTarget {
  const parts = splitUrl(url.trim());
  if (!parts || (parts.scheme !== 'rtsp' && parts.scheme !== 'rtsps') || parts.host === '') {
    throw new GateProtocolError('the RTSP gate reaches rtsp:// and rtsps:// URLs only');
  }
  if (parts.userinfo !== undefined) throw new GateProtocolError('the RTSP gate takes the login apart, not inside the URL');
  const tlsOn = parts.scheme === 'rtsps';
  const port = parts.port ?? (tlsOn ? 322 : 554);
  const prefix = `${parts.scheme}://${bracketHost(parts.host)}${parts.port !== undefined ? `:${parts.port}` : ''}`;
  const rest = parts.rest === '' ? '/' : parts.rest.startsWith('/') || parts.rest.startsWith('?') ? parts.rest : `/${parts.rest}`;
  return { tls: tlsOn, host: parts.host, port, prefix, rest };
}

/** A request URL of a link: its token and the part after it ("" or starting with / ? #). */
const LINK_URL_RE = /^rtsp:\/\/[^/?#]*\/([\w-]+)([/?#].*)?$/s;
/** Any rtsp(s) URL's scheme and authority, in headers and SDP lines of the camera. */
const CAMERA_AUTHORITY_RE = /rtsps?:\/\/[^/?#\s;,"']*/gi;

// --- sessions --------------------------------------------------------------------------------

interface Pending {
  clientCseq: string;
  /** CSeq of its latest sending to the camera. */
  cseq: number;
  method: string;
  /** The request as forwarded (camera URLs, no Authorization). */
  message: RtspMessage;
  url: string;
  retried: boolean;
}

function reply(cseq: string | undefined, status: number, reason: string): Buffer {
  return serialize({ start: `RTSP/1.0 ${status} ${reason}`, headers: [...(cseq !== undefined ? [['CSeq', cseq] as [string, string]] : [])], body: EMPTY });
}

/** Writes and, when the destination's buffer is full, pauses the source until it drains. */
function forward(dst: net.Socket, src: net.Socket | undefined, chunk: Buffer): void {
  if (dst.destroyed) return;
  if (!dst.write(chunk) && src && !src.isPaused()) {
    src.pause();
    dst.once('drain', () => src.resume());
  }
}

class GateSession {
  private pass?: Pass;
  private upstream?: net.Socket;
  private connected = false;
  private queued: Buffer[] = [];
  private auth?: Authenticator;
  private cseq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly upstreamFramer: RtspFramer;
  private readonly clientFramer: RtspFramer;
  private connectTimer?: NodeJS.Timeout;
  /** The client's buffer is full: the camera is not read until it drains. */
  private clientFull = false;
  private closed = false;

  constructor(
    private readonly gate: RtspGate,
    private readonly client: net.Socket,
    private readonly options: RtspGateOptions,
  ) {
    client.setNoDelay(true);
    this.clientFramer = new RtspFramer({ data: (b) => this.clientData(b), message: (m) => this.fromClient(m) }, 64 * 1024);
    this.upstreamFramer = new RtspFramer({ data: (b) => this.toClient(b), message: (m) => this.fromCamera(m) }, GATE_MAX_BODY, false);
    client.on('data', (chunk: Buffer) => {
      try {
        this.clientFramer.push(chunk);
      } catch {
        this.close();
      }
    });
    client.on('error', () => this.close());
    client.on('close', () => this.close());
  }

  private get device(): string {
    return this.pass ? `${bracketHost(this.pass.target.host)}:${this.pass.target.port}` : 'camera';
  }

  private get proxyPrefix(): string {
    return `rtsp://127.0.0.1:${this.gate.port}/${this.pass!.token}`;
  }

  /** Camera → client, with back-pressure: a slow client stops the reading of the camera. */
  private toClient(chunk: Buffer): void {
    if (this.client.destroyed) return;
    if (!this.client.write(chunk) && !this.clientFull) {
      this.clientFull = true;
      this.upstream?.pause();
      this.client.once('drain', () => {
        this.clientFull = false;
        if (!this.closed) this.upstream?.resume();
      });
    }
  }

  private clientData(chunk: Buffer): void {
    // RTCP receiver reports after PLAY; nothing to carry before the camera is connected.
    if (this.upstream && this.connected) forward(this.upstream, this.client, chunk);
  }

  private answer(cseq: string | undefined, status: number, reason: string): void {
    if (!this.client.destroyed) this.client.write(reply(cseq, status, reason));
  }

  private fromClient(m: RtspMessage): void {
    if (isResponse(m)) {
      // The client answering a request of the camera (rare: ANNOUNCE, GET_PARAMETER).
      if (this.connected) forward(this.upstream!, this.client, serialize(m));
      return;
    }
    const [method, url, version] = m.start.split(' ');
    const cseq = getHeader(m, 'cseq');
    if (this.closed || this.client.writableEnded) return;
    if (!this.pass) {
      const token = LINK_URL_RE.exec(url)?.[1];
      const pass = token ? this.gate.take(token) : undefined;
      if (!pass) {
        this.answer(cseq, 404, 'Not Found - no such camgate gate link (used, expired or never issued)');
        this.client.end();
        return;
      }
      this.pass = pass;
      this.connect();
    }
    let cameraUrl = url;
    if (url !== '*') {
      const link = LINK_URL_RE.exec(url);
      if (!link || link[1] !== this.pass.token) {
        this.answer(cseq, 400, 'Bad Request - the URL is not under this camgate gate link');
        return;
      }
      cameraUrl = this.pass.target.prefix + (link[2] ?? '');
    }
    if (method === 'SETUP' && !/interleaved=/i.test(getHeader(m, 'transport') ?? '')) {
      this.answer(cseq, 461, 'Unsupported transport - the camgate gate carries RTP on the RTSP connection only (TCP interleaved)');
      return;
    }
    removeHeader(m, 'authorization');
    removeHeader(m, 'proxy-authorization');
    m.start = `${method} ${cameraUrl} ${version}`;
    this.send({ clientCseq: cseq ?? '0', cseq: 0, method, message: m, url: cameraUrl, retried: false });
  }

  private send(p: Pending): void {
    const cseq = ++this.cseq;
    p.cseq = cseq;
    setHeader(p.message, 'CSeq', String(cseq));
    if (this.auth && p.url !== '*') setHeader(p.message, 'Authorization', this.auth.header(p.method, p.url));
    else removeHeader(p.message, 'authorization');
    this.pending.set(cseq, p);
    const bytes = serialize(p.message);
    if (this.connected) forward(this.upstream!, this.client, bytes);
    else this.queued.push(bytes);
  }

  private connect(): void {
    const { target } = this.pass!;
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    const socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, rejectUnauthorized: false, ...(net.isIP(target.host) ? {} : { servername: target.host }) })
      : net.connect({ host: target.host, port: target.port });
    this.upstream = socket;
    this.connectTimer = setTimeout(() => this.upstreamFailed(504, 'Connection timed out - no TCP connection to the camera'), timeoutMs);
    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(this.connectTimer);
      this.connected = true;
      socket.setNoDelay(true);
      for (const b of this.queued) forward(socket, this.client, b);
      this.queued = [];
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        this.upstreamFramer.push(chunk);
      } catch {
        this.upstreamFailed(502, 'Invalid data found when processing input - the camera did not answer RTSP');
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.connected) return this.close();
      const why =
        err.code === 'ECONNREFUSED'
          ? 'Connection refused by the camera'
          : err.code && /^(?:EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENETDOWN)$/.test(err.code)
            ? 'No route to host - the camera is unreachable'
            : `Bad Gateway - cannot reach the camera (${err.code ?? 'error'})`;
      this.upstreamFailed(err.code === 'ECONNREFUSED' || why.startsWith('No route') ? 503 : 502, why);
    });
    socket.on('close', () => {
      if (this.pending.size > 0) this.upstreamFailed(502, 'End of file - the camera closed the connection');
      else this.close();
    });
  }

  /** The camera failed before answering: every waiting request gets the error, then the end. */
  private upstreamFailed(status: number, reason: string): void {
    if (this.closed) return;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) this.answer(p.clientCseq, status, reason);
    this.client.end();
    this.close(false);
  }

  private fromCamera(m: RtspMessage): void {
    if (!isResponse(m)) {
      // A request of the camera to the client: its URL in the gate's terms.
      const [method, url, version] = m.start.split(' ');
      m.start = `${method} ${this.toProxy(url)} ${version}`;
      this.toClient(serialize(m));
      return;
    }
    const p = this.pending.get(Number(getHeader(m, 'cseq'))) ?? this.pending.values().next().value;
    if (!p) return; // an answer to nothing: dropped
    this.pending.delete(p.cseq);
    const status = Number(m.start.split(' ')[1]);
    const creds = this.pass!.source.credentials;
    if (status === 401 && creds && !p.retried) {
      const challenge = pickChallenge(headerValues(m, 'www-authenticate'), creds);
      if (challenge === 'basic-refused') {
        this.options.onRefused?.({ label: this.pass!.source.label, device: this.device, message: basicRefusedMessage(this.device) });
        return this.answer(p.clientCseq, 401, BASIC_REFUSED_REASON);
      }
      if (challenge === 'unsupported')
        return this.answer(p.clientCseq, 401, 'Unauthorized - the camera asks for an authentication scheme camgate does not speak');
      // A fresh challenge after we already answered one: a stale nonce once, a wrong password otherwise.
      this.auth = new Authenticator(creds, challenge);
      p.retried = true;
      return this.send(p);
    }
    if (status === 401) return this.answer(p.clientCseq, 401, 'Unauthorized');
    setHeader(m, 'CSeq', p.clientCseq);
    for (const name of ['Content-Base', 'Content-Location', 'RTP-Info', 'Location']) {
      const value = getHeader(m, name);
      if (value !== undefined) setHeader(m, name, this.toProxy(value));
    }
    if (m.body.length > 0 && /^application\/sdp/i.test(getHeader(m, 'content-type') ?? 'application/sdp')) {
      const sdp = m.body.toString('utf8');
      const rewritten = sdp.replace(/^(a=control:)(.*)$/gm, (_l, key: string, value: string) => key + this.toProxy(value));
      if (rewritten !== sdp) m.body = Buffer.from(rewritten, 'utf8');
    }
    if (p.method === 'SETUP' && status === 200) this.upstreamFramer.framesAllowed = true;
    this.toClient(serialize(m));
  }

  /** A camera URL (any authority: cameras name the address they believe they have) in the link's terms. */
  private toProxy(text: string): string {
    return text.replace(CAMERA_AUTHORITY_RE, () => this.proxyPrefix);
  }

  close(endClient = true): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    this.upstream?.destroy();
    if (endClient) this.client.destroy();
    else this.client.once('finish', () => this.client.destroy());
    this.gate.ended(this);
  }
}

// --- the gate --------------------------------------------------------------------------------

export class RtspGate {
  private server?: net.Server;
  private readonly passes = new Map<string, Pass>();
  private readonly sessions = new Set<GateSession>();
  private listening = 0;

  constructor(private readonly options: RtspGateOptions = {}) {}

  /** Starts listening on 127.0.0.1 (a free port). */
  listen(): Promise<void> {
    if (this.server) return Promise.resolve();
    const server = net.createServer((socket) => this.sessions.add(new GateSession(this, socket, this.options)));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        this.listening = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  get port(): number {
    return this.listening;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * A one-connection link to `source` for ffmpeg: rtsp://127.0.0.1:<port>/<token>/<the camera's
   * path>. Throws when the gate does not listen or the URL is not rtsp(s)://.
   */
  pass(source: GateSource): string {
    if (!this.server || this.listening === 0) throw new Error('the RTSP gate is not listening');
    const now = this.now();
    for (const [token, p] of this.passes) if (p.expiresAt <= now) this.passes.delete(token);
    const target = parseTarget(source.url);
    const token = randomBytes(18).toString('base64url');
    this.passes.set(token, { token, source, target, expiresAt: now + (this.options.passTtlMs ?? 60_000) });
    return `rtsp://127.0.0.1:${this.listening}/${token}${target.rest}`;
  }

  /** What ffmpeg opens for a camera stream: the URL itself when there is no login to give, a gate
   * link otherwise (and for every rtsp(s):// URL with a login: ffmpeg never holds one). */
  input(source: GateSource): string {
    return source.credentials && /^rtsps?:\/\//i.test(source.url.trim()) ? this.pass(source) : source.url;
  }

  /** @internal a session takes its link: each link serves one connection. */
  take(token: string): Pass | undefined {
    const p = this.passes.get(token);
    if (!p) return undefined;
    this.passes.delete(token);
    return p.expiresAt > this.now() ? p : undefined;
  }

  /** @internal */
  ended(session: GateSession): void {
    this.sessions.delete(session);
  }

  /** Links not used yet, and connections open now. */
  stats(): { links: number; sessions: number } {
    return { links: this.passes.size, sessions: this.sessions.size };
  }

  /** Closes every session and stops listening. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.listening = 0;
    this.passes.clear();
    for (const s of [...this.sessions]) s.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
