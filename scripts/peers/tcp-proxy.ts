// A TCP forwarder on a loopback address in front of a real server (the simulator's RTSP server):
// "the camera killed mid-stream and brought back". setOnline(false) destroys every forwarded
// connection and closes the listener, so new connections are refused (ECONNREFUSED) exactly as
// with a camera that lost power; setOnline(true) listens again on the same address and port.
// (The simulator's own setOnline keeps its shared RTSP server up, so it cannot cut a stream.)
//
// The GStreamer RTSP server answers DESCRIBE with Content-Base = the request URL, so a client
// that connected to the proxy sends its SETUP/PLAY (and, over TCP, its interleaved RTP) through
// the proxy too: the proxy sees the whole session.
import net from 'node:net';

export interface TcpProxyOptions {
  /** Loopback address to listen on, e.g. "127.81.0.12". */
  host: string;
  /** Port to listen on; 0 = any free port (kept across setOnline). */
  port?: number;
  targetHost: string;
  targetPort: number;
}

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** false: every connection is destroyed and the port refuses; true: accepting again. */
  setOnline(online: boolean): Promise<void>;
  online(): boolean;
  /** Forwarded connections open now. */
  connections(): number;
  /** Connections accepted since start. */
  accepted(): number;
  /** What clients sent (the first 16 KiB of each connection, as latin1 text): RTSP requests. */
  clientText(): string;
  stop(): Promise<void>;
}

export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const sniffed: string[] = [];
  const SNIFF_BYTES = 16 * 1024;
  let isOnline = false;
  let server: net.Server | undefined;
  let port = options.port ?? 0;

  const onConnection = (client: net.Socket) => {
    accepted++;
    const upstream = net.connect({ host: options.targetHost, port: options.targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    let seen = 0;
    client.on('data', (chunk: Buffer) => {
      if (seen >= SNIFF_BYTES) return;
      const part = chunk.subarray(0, SNIFF_BYTES - seen);
      seen += part.length;
      sniffed.push(part.toString('latin1'));
    });
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const srv = net.createServer(onConnection);
      srv.once('error', reject);
      srv.listen({ host: options.host, port, exclusive: true }, () => {
        srv.off('error', reject);
        port = (srv.address() as net.AddressInfo).port;
        server = srv;
        isOnline = true;
        resolve();
      });
    });

  const goOffline = async () => {
    isOnline = false;
    const srv = server;
    server = undefined;
    const closed = srv ? new Promise<void>((resolve) => srv.close(() => resolve())) : Promise.resolve();
    for (const s of sockets) s.destroy();
    sockets.clear();
    await closed;
  };

  await listen();
  return {
    host: options.host,
    get port() {
      return port;
    },
    async setOnline(online: boolean) {
      if (online === isOnline) return;
      if (online) await listen();
      else await goOffline();
    },
    online: () => isOnline,
    connections: () => sockets.size / 2,
    accepted: () => accepted,
    clientText: () => sniffed.join(''),
    stop: goOffline,
  };
}
