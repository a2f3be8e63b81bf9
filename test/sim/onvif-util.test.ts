// A second, independent client: Debian's onvif-util (libonvif) must identify a simulated camera.
// onvif-util always multicasts a Probe first (with multicast loopback off) and 1.4.x only talks
// to devices that answered it, so both run inside a namespace with only lo (needs root; fails
// rather than skips without it). Simulator subnet 127.67.0.0/16.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import type { SimulatorOptions } from '../../scripts/sim/types';
import { TestNetns } from './helpers';
import { eventually } from '../kit/wait';

describe('simulator against onvif-util', () => {
  it('onvif-util finds, logs into and lists the profiles of a simulated camera', async () => {
    const netns = await TestNetns.create('ou');
    const opts: SimulatorOptions = {
      rtsp: false,
      multicast: true,
      cameras: [
        { host: '127.67.0.1', vendor: 'generic' },
        { host: '127.67.0.2', vendor: 'nvr', channels: 2 },
      ],
    };
    const server = spawn('ip', ['netns', 'exec', netns.name, process.execPath, resolve(__dirname, 'netns-sim.js'), 'serve', JSON.stringify(opts)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    server.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    server.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    try {
      assert.ok(await eventually(() => out.includes('READY'), 15_000), `simulator did not start in the namespace: ${err}`);
      const r = await netns.exec(['onvif-util', '-u', 'admin', '-p', 'admin123', '127.67.0.2'], { input: 'get profiles\nget rtsp\nquit\n', timeoutMs: 20_000 });
      assert.equal(r.code, 0, `onvif-util exited ${r.code}/${r.signal}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /found host: 127\.67\.0\.2/);
      assert.match(r.stdout, /successfully connected to host/);
      assert.match(r.stdout, /serial: 00067000002/);
      assert.match(r.stdout, /name:\s+Uniview NVR/, 'camera name from the %-decoded discovery scopes');
      for (const token of ['media_profile_ch1_0', 'media_profile_ch1_1', 'media_profile_ch2_0', 'media_profile_ch2_1'])
        assert.match(r.stdout, new RegExp(`Token \\d: ${token}`));
      assert.match(r.stdout, /rtsp:\/\/127\.67\.0\.2:554\/cam-127-67-0-2\/ch1\/main/);
    } finally {
      server.stdin.end();
      await eventually(() => server.exitCode !== null || server.signalCode !== null, 5000);
      await netns.destroy();
    }
  });
});
