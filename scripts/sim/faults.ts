// Misbehaving devices for bad-input tests (SimFault). Each function answers one HTTP request
// the way a broken or hostile device would; 'hang' is a bare TCP listener (HangListener).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { NS } from './soap';

export const HUGE_RESPONSE_BYTES = 20 * 1024 * 1024;
/** 'snapshot-huge': the body size of the endless "JPEG". */
export const HUGE_SNAPSHOT_BYTES = 50 * 1024 * 1024;

/** Deterministic junk: NULs, high bytes and a fragment of markup, never well-formed XML. */
const GARBAGE = Buffer.concat([
  Buffer.from([0x00, 0xff, 0xfe, 0x1f, 0x8b, 0x08, 0x00]),
  Buffer.from('<<?xml ver=1.0 <Envelope<<Body>>\u0000HTTP/1.1 200\r\n\r\n'),
  Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff)),
]);

export function sendGarbage(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': GARBAGE.length });
  res.end(GARBAGE);
}

/**
 * A valid response cut half-way through its Body (the envelope head alone is longer than many
 * bodies), with HTTP framing that matches the cut: the XML is what is broken, not the transport.
 */
export function sendTruncated(res: ServerResponse, fullXml: string): void {
  const full = Buffer.from(fullXml, 'utf8');
  const bodyStart = Math.max(0, full.indexOf(':Body>'));
  const cut = full.subarray(0, Math.floor((bodyStart + full.length) / 2));
  res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': cut.length });
  res.end(cut);
}

/**
 * 20 MB of well-formed SOAP, streamed chunk by chunk with back-pressure (never buffered), and
 * without Content-Length so the client has to enforce its own cap while reading.
 */
export function sendHuge(req: IncomingMessage, res: ServerResponse): void {
  const head = Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS.soap12}" xmlns:tds="${NS.tds}" xmlns:tt="${NS.tt}"><s:Body><tds:GetDeviceInformationResponse><tds:Manufacturer>`,
  );
  const tail = Buffer.from('</tds:Manufacturer><tds:Model>huge</tds:Model></tds:GetDeviceInformationResponse></s:Body></s:Envelope>');
  const chunk = Buffer.alloc(64 * 1024, 'A');
  let remaining = HUGE_RESPONSE_BYTES - head.length - tail.length;
  let aborted = false;
  req.socket.once('close', () => {
    aborted = true;
  });
  res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
  res.write(head);
  const pump = (): void => {
    while (!aborted && remaining > 0) {
      const piece = remaining >= chunk.length ? chunk : chunk.subarray(0, remaining);
      remaining -= piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!aborted) res.end(tail);
  };
  pump();
}

/** Streams `total` bytes that start with `head`, 64 KiB at a time with back-pressure (never
 * buffered), no Content-Length; stops when the client goes away. */
function streamBody(req: IncomingMessage, res: ServerResponse, head: Buffer, total: number, contentType: string): void {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let remaining = total - head.length;
  let aborted = false;
  req.socket.once('close', () => {
    aborted = true;
  });
  res.writeHead(200, { 'Content-Type': contentType });
  res.write(head);
  const pump = (): void => {
    while (!aborted && remaining > 0) {
      const piece = remaining >= chunk.length ? chunk : chunk.subarray(0, remaining);
      remaining -= piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!aborted) res.end();
  };
  pump();
}

/** 'snapshot-huge': a 50 MB "JPEG" (SOI + JFIF APP0, then filler), streamed without Content-Length. */
export function sendHugeSnapshot(req: IncomingMessage, res: ServerResponse): void {
  const jfif = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  streamBody(req, res, jfif, HUGE_SNAPSHOT_BYTES, 'image/jpeg');
}

/** What a broken encoder's snapshot handler sends: an error text labelled image/jpeg. */
export const NOT_AN_IMAGE = Buffer.from('Error: snapshot failed, no frame available (encoder busy)\r\n\r\n' + 'x'.repeat(200));

export function sendNotAnImage(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': NOT_AN_IMAGE.length });
  res.end(NOT_AN_IMAGE);
}

/** Billion laughs: ten levels of ten-fold entity expansion (~1 GB if a parser expands it). */
export function billionLaughsXml(): string {
  const entities = ['<!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) {
    const prev = i === 1 ? 'lol' : `lol${i - 1}`;
    entities.push(`<!ENTITY lol${i} "${Array.from({ length: 10 }, () => `&${prev};`).join('')}">`);
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE s:Envelope [\n  ${entities.join('\n  ')}\n]>\n` +
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:tds="${NS.tds}"><s:Body><tds:GetDeviceInformationResponse>` +
    `<tds:Manufacturer>&lol9;</tds:Manufacturer><tds:Model>laughs</tds:Model><tds:FirmwareVersion>1.00</tds:FirmwareVersion>` +
    `<tds:SerialNumber>0</tds:SerialNumber><tds:HardwareId>0</tds:HardwareId></tds:GetDeviceInformationResponse></s:Body></s:Envelope>\n`
  );
}

export function sendDoctype(res: ServerResponse): void {
  const body = billionLaughsXml();
  res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** An ordinary embedded web server (router, NAS, printer) that happens to sit on port 80. */
export function sendNotOnvifPage(req: IncomingMessage, res: ServerResponse): void {
  const found = req.method === 'GET' && (req.url === '/' || req.url === '/index.html');
  const body = found
    ? '<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1><p>If you see this page, the nginx web server is successfully installed.</p></body></html>\n'
    : '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n';
  res.writeHead(found ? 200 : 404, { 'Content-Type': 'text/html', Server: 'nginx/1.18.0', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** What a non-ONVIF box on UDP 3702 sends back: text that is no ProbeMatches (here an SSDP-style reply). */
export const NOT_ONVIF_UDP_REPLY = Buffer.from(
  'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\nUSN: uuid:00000000-0000-0000-0000-000000000000::upnp:rootdevice\r\nSERVER: Linux/3.10 UPnP/1.0 miniupnpd/2.1\r\n\r\n',
);

/** A TCP listener that accepts connections and, to anything it reads, answers `reply` (or
 * nothing at all). The device faults below differ only in that answer. */
class FaultListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(reply: Buffer | string | undefined) {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('data', () => {
        if (reply !== undefined) socket.write(reply);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Port 0 picks a free port; resolves with the port bound. */
  listen(host: string, port: number): Promise<number> {
    return listenOn(this.server, host, port);
  }

  close(): Promise<void> {
    return closeServer(this.server, this.sockets);
  }
}

/** 'rtsp-garbage': a TCP listener that answers every RTSP request with junk (no status line). */
export class RtspGarbageListener extends FaultListener {
  constructor() {
    super(GARBAGE);
  }
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  sockets.clear();
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** 'hang': accepts TCP connections, reads and discards, never answers. */
export class HangListener extends FaultListener {
  constructor() {
    super(undefined);
  }
}
