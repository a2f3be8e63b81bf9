// One RTSP request/response over a fresh TCP connection. Enough for OPTIONS and DESCRIBE;
// media (SETUP/PLAY) is ffmpeg's business, not the driver's.
import net from 'node:net';
import { DriverError } from '../types';
import { printableLine } from '../../lib/text';

export interface RtspResponse {
  status: number;
  reason: string;
  /** Lower-case names; repeated headers (WWW-Authenticate) keep every value. */
  headers: Record<string, string[]>;
  body: Buffer;
}

export interface RtspRequest {
  host: string;
  port: number;
  method: string;
  /** Request-URI: the full rtsp:// URL without credentials. */
  url: string;
  headers: Record<string, string>;
  cseq: number;
  timeoutMs: number;
  maxResponseBytes: number;
  /** "host:port" for messages. */
  device: string;
  /** Aborting ends the request at once and closes its connection. */
  signal?: AbortSignal;
}

const MAX_HEAD = 16 * 1024;
/** A reason phrase is quoted in messages: cut before anything reads it (a head may be 16 KB of it). */
const REASON_MAX_CHARS = 256;

export function header(res: RtspResponse, name: string): string | undefined {
  return res.headers[name.toLowerCase()]?.[0];
}

function parseHead(text: string, device: string): Omit<RtspResponse, 'body'> {
  const lines = text.split('\r\n');
  const m = /^RTSP\/1\.\d (\d{3}) ?/.exec(lines[0]);
  if (!m) {
    const shown = JSON.stringify(printableLine(lines[0], 60));
    throw new DriverError('malformed', `${device} did not answer with RTSP (got ${shown})`, device);
  }
  const headers: Record<string, string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  return { status: Number(m[1]), reason: printableLine(lines[0].slice(m[0].length), REASON_MAX_CHARS), headers };
}

export function rtspRequest(req: RtspRequest): Promise<RtspResponse> {
  return new Promise((resolve, reject) => {
    const { device } = req;
    let connected = false;
    let settled = false;
    // The head is searched in one buffer (at most MAX_HEAD plus a chunk); the body is kept as
    // chunks and joined once: a device trickling bytes costs linear work, not a copy per byte.
    let received = Buffer.alloc(0);
    let searchedTo = 0;
    let head: Omit<RtspResponse, 'body'> | undefined;
    const bodyChunks: Buffer[] = [];
    let bodyBytes = 0;
    let bodyLength = 0;
    let total = 0;
    const socket = net.connect({ host: req.host, port: req.port });
    const onAbort = () => finish(new DriverError('timeout', `RTSP ${req.method} to ${device} was cancelled`, device));
    const finish = (err: Error | null, res?: RtspResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => {
      finish(
        connected
          ? new DriverError('timeout', `no answer from ${device} within ${req.timeoutMs} ms (RTSP ${req.method})`, device)
          : new DriverError('unreachable', `no TCP connection to ${device} within ${req.timeoutMs} ms`, device),
      );
    }, req.timeoutMs);
    if (req.signal?.aborted) onAbort();
    else req.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      connected = true;
      const lines = [`${req.method} ${req.url} RTSP/1.0`, `CSeq: ${req.cseq}`, 'User-Agent: camgate'];
      for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${v}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    const readHead = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n', Math.max(0, searchedTo - 3));
      searchedTo = received.length;
      if (end < 0) {
        if (received.length > MAX_HEAD) throw new DriverError('malformed', `${device} sent an RTSP header larger than ${MAX_HEAD} bytes`, device);
        // Refuse early when the first bytes cannot be RTSP (an HTTP or binary answer).
        const start = received.subarray(0, 5).toString('latin1');
        if (start.length === 5 && start !== 'RTSP/') parseHead(received.toString('latin1'), device);
        return;
      }
      head = parseHead(received.subarray(0, end).toString('latin1'), device);
      const cl = head.headers['content-length']?.[0];
      bodyLength = cl === undefined ? 0 : Number(cl);
      if (!Number.isInteger(bodyLength) || bodyLength < 0) throw new DriverError('malformed', `${device} sent a bad Content-Length`, device);
      if (bodyLength > req.maxResponseBytes) {
        throw new DriverError('too-large', `RTSP answer from ${device} is larger than ${req.maxResponseBytes} bytes: refused`, device);
      }
      readBody(received.subarray(end + 4));
    };
    const readBody = (chunk: Buffer) => {
      bodyChunks.push(chunk);
      bodyBytes += chunk.length;
      if (bodyBytes >= bodyLength) finish(null, { ...head!, body: Buffer.concat(bodyChunks, bodyBytes).subarray(0, bodyLength) });
    };
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      total += chunk.length;
      if (total > req.maxResponseBytes + MAX_HEAD) {
        return finish(new DriverError('too-large', `RTSP answer from ${device} is larger than ${req.maxResponseBytes} bytes: refused`, device));
      }
      try {
        if (head) readBody(chunk);
        else readHead(chunk);
      } catch (err) {
        finish(err as Error);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED')
        finish(new DriverError('unreachable', `${device} refused the connection (nothing listening on that port?)`, device, { cause: err }));
      else if (err.code && /^(?:EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EADDRNOTAVAIL)$/.test(err.code)) {
        finish(new DriverError('unreachable', `${device} is unreachable (${err.code})`, device, { cause: err }));
      } else finish(new DriverError('malformed', `connection to ${device} failed: ${err.message}`, device, { cause: err }));
    });
    socket.on('close', () => {
      finish(new DriverError('malformed', `${device} closed the connection before a complete RTSP answer to ${req.method}`, device));
    });
  });
}
