// 256 simulated devices in one process (subnet 127.65.0.0/16).
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { loopbackHosts, startSimulator } from '../../scripts/sim/index';
import { SIM_VENDORS } from '../../scripts/sim/vendors';
import type { SimCameraSpec } from '../../scripts/sim/types';
import { httpRequest, probeXml, soapEnvelope, TDS } from './helpers';

const COUNT = 256;

function specs(): SimCameraSpec[] {
  return loopbackHosts('127.65.0.0', COUNT).map((host, i) => ({ host, vendor: SIM_VENDORS[i % SIM_VENDORS.length] }));
}

/**
 * Probes every host from one socket and returns the answering addresses. Paced (16 probes per
 * 20 ms) with a large receive buffer, as a real scanner must be: 256 answers of ~2 KB at once
 * overflow a default UDP receive buffer. UDP may still lose datagrams on a loaded box, so hosts
 * that did not answer are probed again (WS-Discovery repeats UDP messages too), up to 3 rounds.
 */
async function probeAll(hosts: string[], waitMs: number): Promise<Map<string, string>> {
  const socket = createSocket('udp4');
  const answers = new Map<string, string>();
  socket.on('message', (msg, rinfo) => answers.set(rinfo.address, msg.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  socket.setRecvBufferSize(4 * 1024 * 1024);
  try {
    for (let round = 0; round < 3; round++) {
      const pending = hosts.filter((h) => !answers.has(h));
      if (pending.length === 0) break;
      pending.forEach((h, i) => {
        const send = (): void => socket.send(probeXml(`urn:uuid:00000000-0000-0000-${String(round).padStart(4, '0')}-${String(i).padStart(12, '0')}`), 3702, h);
        setTimeout(send, Math.floor(i / 16) * 20);
      });
      await new Promise((r) => setTimeout(r, waitMs));
    }
  } finally {
    await new Promise<void>((r) => socket.close(() => r()));
  }
  return answers;
}

describe('simulator at scale', () => {
  it(`starts ${COUNT} devices, all answer, and stop() releases every socket`, async (t) => {
    const rssBefore = process.memoryUsage().rss;
    const t0 = Date.now();
    const sim = await startSimulator({ rtsp: false, cameras: specs() });
    const startMs = Date.now() - t0;
    let stopped = false;
    try {
      t.diagnostic(
        `${COUNT} devices started in ${startMs} ms (simulator says ${sim.startupMs.devices} ms), rss +${Math.round((process.memoryUsage().rss - rssBefore) / 1e6)} MB`,
      );
      assert.equal(sim.cameras.length, COUNT);
      assert.equal(new Set(sim.cameras.map((c) => c.spec.uuid)).size, COUNT, 'uuids are unique');
      assert.equal(new Set(sim.cameras.map((c) => c.spec.serial)).size, COUNT, 'serials are unique');
      assert.equal(new Set(sim.cameras.map((c) => c.spec.mac)).size, COUNT, 'MACs are unique');

      const answers = await probeAll(
        sim.cameras.map((c) => c.spec.host),
        1500,
      );
      assert.equal(answers.size, COUNT, `${answers.size} of ${COUNT} devices answered the probe`);
      for (const c of sim.cameras) assert.ok(answers.get(c.spec.host)?.includes(c.spec.uuid), `${c.id} answered with its uuid`);

      // Every HTTP endpoint answers too (GetSystemDateAndTime needs no auth).
      const body = soapEnvelope(`<GetSystemDateAndTime xmlns="${TDS}"/>`);
      const statuses = await Promise.all(sim.cameras.map((c) => httpRequest(c.deviceUrl, { body }).then((r) => r.status)));
      assert.deepEqual(new Set(statuses), new Set([200]));
      assert.ok(process.memoryUsage().rss - rssBefore < 200e6, 'memory stays low');

      const s0 = Date.now();
      await sim.stop();
      stopped = true;
      assert.ok(Date.now() - s0 < 2000, `stop took ${Date.now() - s0} ms`);
    } finally {
      if (!stopped) await sim.stop();
    }
    // Sockets really closed: the same addresses and ports bind again at once.
    const again = await startSimulator({ rtsp: false, cameras: specs() });
    await again.stop();
  });

  it('refuses non-loopback hosts and duplicate hosts', async () => {
    await assert.rejects(startSimulator({ rtsp: false, cameras: [{ host: '192.168.1.64' }] }), /loopback/);
    await assert.rejects(startSimulator({ rtsp: false, cameras: [{ host: '127.65.9.1' }, { host: '127.65.9.1' }] }), /same host/);
  });
});
