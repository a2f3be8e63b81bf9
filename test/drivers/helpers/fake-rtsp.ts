// A fake RTSP server answering OPTIONS/DESCRIBE, with Digest or Basic auth, for driver tests.
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';

export interface FakeRtspOptions {
  host: string;
  port?: number;
  auth?: 'digest' | 'basic' | 'none';
  username?: string;
  password?: string;
  sdp?: string;
  /** Path that exists; others get 404. */
  path?: string;
  /** Replace the whole answer with raw bytes (garbage tests), or never answer. */
  raw?: Buffer | 'hang';
}

export interface FakeRtsp {
  requests: Array<{ method: string; uri: string; authorization?: string }>;
  close(): Promise<void>;
}

export function startFakeRtsp(opts: FakeRtspOptions): Promise<FakeRtsp> {
  const username = opts.username ?? 'admin';
  const password = opts.password ?? 'admin123';
  const auth = opts.auth ?? 'digest';
  const requests: FakeRtsp['requests'] = [];
  const sockets = new Set<net.Socket>();
  const nonce = randomBytes(8).toString('hex');
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');

  const authorized = (method: string, h: string | undefined): boolean => {
    if (auth === 'none') return true;
    if (!h) return false;
    if (auth === 'basic') return h === `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    const p: Record<string, string> = {};
    for (const m of h.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) p[m[1]] = m[2] ?? m[3];
    const ha1 = md5(`${username}:${p.realm}:${password}`);
    const ha2 = md5(`${method}:${p.uri}`);
    return p.username === username && p.nonce === nonce && p.response === md5(`${ha1}:${nonce}:${ha2}`);
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      let end;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const [method, uri] = head.split('\r\n')[0].split(' ');
        const cseq = /CSeq:\s*(\d+)/i.exec(head)?.[1] ?? '0';
        const authorization = /Authorization:\s*(.*)/i.exec(head)?.[1];
        requests.push({ method, uri, authorization });
        if (opts.raw === 'hang') continue;
        if (opts.raw) {
          socket.end(opts.raw);
          continue;
        }
        const reply = (status: string, headers: string[], body = '') =>
          socket.write(
            `RTSP/1.0 ${status}\r\nCSeq: ${cseq}\r\n${headers.map((h) => h + '\r\n').join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          );
        if (!authorized(method, authorization)) {
          const challenge = auth === 'basic' ? 'Basic realm="FakeCam"' : `Digest realm="FakeCam", nonce="${nonce}"`;
          reply('401 Unauthorized', [`WWW-Authenticate: ${challenge}`]);
          continue;
        }
        if (method === 'OPTIONS') {
          reply('200 OK', ['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN']);
        } else if (method === 'DESCRIBE') {
          if (opts.path && !uri.endsWith(opts.path)) reply('404 Not Found', []);
          else reply('200 OK', ['Content-Type: application/sdp', `Content-Base: ${uri}/`], opts.sdp ?? '');
        } else reply('405 Method Not Allowed', []);
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(opts.port ?? 554, opts.host, () =>
      resolve({
        requests,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      }),
    ),
  );
}
