// The all-in-one box's own MQTT broker: aedes in this process, on a TCP port of this machine
// (loopback by default). It speaks MQTT 3.1.1 only, keeps retained messages and sessions in memory
// (the agent's outbox and the central's database are what survive a restart), and has no logins:
// bound to loopback, only this box's processes reach it.
import net from 'node:net';
import { Aedes } from 'aedes';
import { CamgateError } from '../lib/errors';

export interface EmbeddedBroker {
  /** mqtt://host:port for this box's agent and central. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(options: { host: string; port: number }): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new CamgateError(
        `embedded broker: port ${options.port} on ${options.host} is taken (another MQTT broker?): choose another with --broker-port, or use that broker with --broker mqtt://${options.host}:${options.port}`,
      );
    }
    throw new CamgateError(`embedded broker: cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`);
  }
  const port = (server.address() as net.AddressInfo).port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
