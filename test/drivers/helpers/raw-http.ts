// Raw TCP "HTTP servers" for misbehaviour tests: full control over bytes and timing.
import net from 'node:net';

export interface RawServer {
  server: net.Server;
  /** Bytes the handler managed to write before the client went away. */
  written: () => number;
  close(): Promise<void>;
}

export function startRaw(host: string, port: number, onRequest: (socket: net.Socket, request: string) => void): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  let written = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // the client destroying the socket is expected
    const origWrite = socket.write.bind(socket) as (chunk: string | Buffer, cb?: (err?: Error | null) => void) => boolean;
    (socket as unknown as { write: typeof origWrite }).write = (chunk, cb) => {
      written += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      return origWrite(chunk, cb);
    };
    let buf = '';
    let handled = false;
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (handled || end < 0) return;
      const len = Number(/content-length:\s*(\d+)/i.exec(buf)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      handled = true;
      onRequest(socket, buf);
    });
  });
  return new Promise((resolve) =>
    server.listen(port, host, () =>
      resolve({
        server,
        written: () => written,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      }),
    ),
  );
}

export function httpHead(status: string, headers: Record<string, string | number>): string {
  return `HTTP/1.1 ${status}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}
