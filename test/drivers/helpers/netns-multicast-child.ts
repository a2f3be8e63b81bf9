// Runs inside a test network namespace (ip netns exec): a WS-Discovery responder joined to the
// multicast group on every interface, and a multicast probe on every interface. Prints JSON.
import dgram from 'node:dgram';
import os from 'node:os';
import { probeWithStats, type ProbeProgress } from '../../../drivers';
import { probeMatchXml } from './fake-discovery';

// Safety net: this script multicasts on every interface, so it must only ever run inside the
// test namespace. Refuse if any interface other than the ones the test created is present.
const EXPECTED_INTERFACES = new Set(['lo', 'cgva', 'cgvb']);

async function main(): Promise<void> {
  const unexpected = Object.keys(os.networkInterfaces()).filter((n) => !EXPECTED_INTERFACES.has(n));
  if (process.env.CAMGATE_TEST_NETNS === undefined || unexpected.length > 0) {
    throw new Error(`refusing to multicast outside the test namespace (interfaces: ${unexpected.join(', ') || 'none'})`);
  }
  const ifaceAddrs = Object.values(os.networkInterfaces())
    .flat()
    .filter((e) => e && e.family === 'IPv4')
    .map((e) => e!.address);
  const probesFrom: string[] = [];
  const responder = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => responder.bind(3702, '0.0.0.0', () => r()));
  for (const a of ifaceAddrs) responder.addMembership('239.255.255.250', a);
  responder.on('message', (msg, rinfo) => {
    if (!msg.toString().includes('/discovery/Probe<')) return;
    probesFrom.push(rinfo.address);
    // One camera, reachable on every interface: it answers each probe with the same UUID.
    responder.send(probeMatchXml('urn:uuid:36000000-0000-4000-8000-000000000001', `http://${rinfo.address}/onvif/device_service`), rinfo.port, rinfo.address);
  });
  const events: ProbeProgress[] = [];
  const { matches, stats } = await probeWithStats({ multicast: true, includeInternal: true, timeoutMs: 500, onProgress: (e) => events.push(e) });
  responder.close();
  process.stdout.write(JSON.stringify({ ifaceAddrs, probesFrom, matches, stats, sockets: events.filter((e) => e.type === 'socket') }));
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err));
  process.exit(1);
});
