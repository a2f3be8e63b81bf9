// Multicast WS-Discovery, run inside a throwaway network namespace that only has lo (needs root;
// it fails rather than skips without root, CI runs as root). Simulator subnet 127.66.0.0/16.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import type { SimulatorOptions } from '../../scripts/sim/types';
import { descendant, parseXml } from '../../scripts/sim/xml';
import { TestNetns, type Datagram } from './helpers';

const WSA = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';

interface ChildReport {
  multicastId: string;
  unicastId: string;
  unicastTarget: string;
  multicast: Datagram[];
  unicast: Datagram[];
}

describe('simulator multicast discovery (network namespace)', () => {
  it('every device answers a Probe to 239.255.255.250:3702 from its own address; unicast still reaches one device', async () => {
    const netns = await TestNetns.create('mc');
    try {
      const opts: SimulatorOptions = {
        rtsp: false,
        multicast: true,
        cameras: [
          { host: '127.66.0.1', vendor: 'generic' },
          { host: '127.66.0.2', vendor: 'hikvision' },
          { host: '127.66.0.3', vendor: 'dahua' },
          { host: '127.66.0.4', vendor: 'nvr' },
          { host: '127.66.0.5', vendor: 'tapo' },
          { host: '127.66.0.6', vendor: 'generic', fault: 'not-onvif' },
        ],
      };
      const child = resolve(__dirname, 'netns-sim.js');
      const r = await netns.exec([process.execPath, child, 'multicast', JSON.stringify(opts)], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, `netns child failed: ${r.stderr}`);
      const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as ChildReport;

      const matches = report.multicast.filter((d) => d.text.includes('ProbeMatches'));
      assert.deepEqual(matches.map((d) => d.address).sort(), ['127.66.0.1', '127.66.0.2', '127.66.0.3', '127.66.0.4', '127.66.0.5']);
      for (const d of matches) assert.equal(descendant(parseXml(d.text), WSA, 'RelatesTo')?.text, report.multicastId);
      const junk = report.multicast.filter((d) => !d.text.includes('ProbeMatches'));
      assert.deepEqual(
        junk.map((d) => d.address),
        ['127.66.0.6'],
        'the not-onvif box answers junk',
      );

      assert.equal(report.unicast.length, 1, 'a unicast probe reaches only its device');
      assert.equal(report.unicast[0]?.address, report.unicastTarget);
      assert.equal(descendant(parseXml(report.unicast[0].text), WSA, 'RelatesTo')?.text, report.unicastId);
    } finally {
      await netns.destroy();
    }
  });
});
