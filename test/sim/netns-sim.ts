// Runs inside a test network namespace (ip netns exec NS node dist/test/sim/netns-sim.js ...).
//   multicast <json SimulatorOptions>  start the simulator, probe 239.255.255.250:3702 and one
//                                      device by unicast, print the answers as JSON, stop.
//   serve <json SimulatorOptions>      start the simulator, print "READY", stop on stdin EOF/SIGTERM.
import { createSocket } from 'node:dgram';
import { startSimulator } from '../../scripts/sim/index';
import type { SimulatorOptions } from '../../scripts/sim/types';
import { probeXml, uniqueMessageId, type Datagram } from './helpers';

function probe(target: string, messageId: string, waitMs: number): Promise<Datagram[]> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const got: Datagram[] = [];
    socket.on('message', (msg, rinfo) => got.push({ address: rinfo.address, port: rinfo.port, text: msg.toString('utf8') }));
    socket.on('error', reject);
    socket.bind(0, () => {
      socket.send(probeXml(messageId), 3702, target);
      setTimeout(() => socket.close(() => resolve(got)), waitMs);
    });
  });
}

async function main(): Promise<void> {
  const [mode, json] = process.argv.slice(2);
  if (mode !== 'multicast' && mode !== 'serve') {
    console.error('usage: netns-sim.js multicast|serve <json SimulatorOptions>');
    process.exit(2);
  }
  const opts = JSON.parse(json ?? '{}') as SimulatorOptions;
  const sim = await startSimulator(opts);
  const stop = (): void => {
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  if (mode === 'multicast') {
    const multicastId = uniqueMessageId();
    const unicastId = uniqueMessageId();
    const multicast = await probe('239.255.255.250', multicastId, 1500);
    const first = sim.cameras[0]?.spec.host ?? '127.0.0.1';
    const unicast = await probe(first, unicastId, 500);
    console.log(JSON.stringify({ multicastId, unicastId, unicastTarget: first, multicast, unicast }));
    await sim.stop();
    return;
  }
  // serve
  console.log(`READY ${JSON.stringify(sim.cameras.map((c) => ({ host: c.spec.host, serial: c.spec.serial, model: c.spec.model })))}`);
  process.stdin.resume();
  process.stdin.on('end', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
