// `camgate discover` on a box with no interface to send a multicast probe on: the real CLI and
// simulated cameras run inside a throwaway network namespace where only lo is up (no multicast
// flag, no multicast route). Needs root and iproute2: fails rather than skips without them.
// Addresses 127.0.0.64/28 exist only inside that namespace.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { SimulatorOptions } from '../../scripts/sim/types';
import { TestNetns } from '../sim/helpers';
import { BIN } from './helpers';
import { tempDir } from '../kit/temp';

const RANGE = '127.0.0.64/28';
const SITE_LOGIN = { CAMGATE_USERNAME: 'admin', CAMGATE_PASSWORD: 'admin123' };
const NO_INTERFACE = /no IPv4 interface to send the multicast probe on: only loopback is up \(lo 127\.0\.0\.1\), which multicast discovery skips/;

interface Discovered {
  devices: Array<{ host: string; ok: boolean; serial: string }>;
  summary: { unicastTargets: number; identified: number; failed: number; saved: number; warnings: Array<{ code: string; message: string }> };
}

/** Starts the simulator inside the namespace; resolves once it serves. Stops on stdin EOF. */
function startSimulatorIn(netns: TestNetns, opts: SimulatorOptions): Promise<ChildProcess> {
  const script = resolve(__dirname, '../sim/netns-sim.js');
  const child = spawn('ip', ['netns', 'exec', netns.name, process.execPath, script, 'serve', JSON.stringify(opts)], { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`simulator did not start within 15 s: ${stderr}`)), 15_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!stdout.includes('READY')) return;
      clearTimeout(timer);
      resolvePromise(child);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited (${code}) before it was ready: ${stderr}`));
    });
  });
}

describe('discover on a box with only loopback (no multicast interface)', () => {
  let netns: TestNetns | undefined;
  let sim: ChildProcess | undefined;

  /** The CLI inside the namespace, with a clean CAMGATE_* environment. */
  const camgate = (args: string[]) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAMGATE_')) env[k] = v;
    return netns!.exec([process.execPath, BIN, ...args], { env: { ...env, ...SITE_LOGIN }, timeoutMs: 30_000 });
  };

  before(async () => {
    netns = await TestNetns.create('nomc', { multicast: false });
    // What the test claims about the namespace: lo is its only interface and multicast has no route.
    const links = await netns.sh(['ip', '-o', 'link', 'show']);
    assert.deepEqual(
      links.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(':')[1]?.trim()),
      ['lo'],
    );
    const route = await netns.exec(['ip', 'route', 'get', '239.255.255.250']);
    assert.notEqual(route.code, 0, `a multicast route exists in the namespace: ${route.stdout}`);
    sim = await startSimulatorIn(netns, {
      rtsp: false,
      cameras: [{ host: '127.0.0.66' }, { host: '127.0.0.70', vendor: 'hikvision' }],
    });
  });

  after(async () => {
    sim?.stdin?.end();
    await netns?.destroy();
  });

  it('with --range: a warning on stderr and in summary.warnings, and the range is probed by unicast', async (t) => {
    const dir = tempDir(t);
    const r = await camgate(['discover', '--range', RANGE, '--json', '--timeout', '3000', '--data-dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Discovered;
    assert.deepEqual(out.devices.map((d) => [d.host, d.ok]).sort(), [
      ['127.0.0.66', true],
      ['127.0.0.70', true],
    ]);
    assert.equal(out.summary.unicastTargets, 16);
    assert.equal(out.summary.saved, 2);
    assert.equal(out.summary.warnings.length, 1);
    assert.equal(out.summary.warnings[0].code, 'no-multicast-interface');
    assert.match(out.summary.warnings[0].message, NO_INTERFACE);
    assert.match(
      out.summary.warnings[0].message,
      /probing only the 16 address\(es\) of --range \(or discovery\.ranges\) by unicast: devices outside them are not found/,
    );
    const warningLine = r.stderr.split('\n').find((l) => l.startsWith('camgate: warning: '));
    assert.equal(warningLine, `camgate: warning: ${out.summary.warnings[0].message}`);

    const human = await camgate(['discover', '--range', RANGE, '--no-save', '--timeout', '3000', '--data-dir', dir]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^✓ 127\.0\.0\.66:80 /m);
    assert.match(human.stdout, /^✓ 127\.0\.0\.70:80 /m);
    assert.match(human.stdout, /2 device\(s\) identified, 0 failed; not saved \(--no-save\), in \d+\.\d s; no multicast probe \(see the warning\)\n$/);
    assert.match(human.stderr, /^camgate: warning: no IPv4 interface to send the multicast probe on/m);
  });

  it('without --range: an error that says to give --range or check the interfaces', async (t) => {
    const dir = tempDir(t);
    const r = await camgate(['discover', '--timeout', '3000', '--data-dir', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    const error = r.stderr.split('\n').find((l) => l.startsWith('camgate: ')) ?? '';
    assert.match(
      error,
      new RegExp(`^camgate: ${NO_INTERFACE.source}\\. With no --range \\(nor discovery\\.ranges in the config\\) there is nothing else to probe`),
    );
    assert.match(error, /give the cameras' addresses with --range \(an IP, a range A-B or a CIDR such as 192\.168\.1\.0\/24\)/);
    assert.match(error, /bring up the network interface the cameras are on \(`ip -4 addr` lists them\).*--interface \(or discovery\.interfaces\)$/);
  });

  it('without --range but with a device added by hand: a warning, and that device is identified', async (t) => {
    const dir = tempDir(t);
    const add = await camgate(['cameras', 'add', 'onvif', '127.0.0.70', '--data-dir', dir]);
    assert.equal(add.code, 0, add.stderr);
    const r = await camgate(['discover', '--json', '--timeout', '3000', '--data-dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Discovered;
    assert.deepEqual(
      out.devices.map((d) => [d.host, d.ok]),
      [['127.0.0.70', true]],
    );
    assert.equal(out.summary.warnings[0]?.code, 'no-multicast-interface');
    assert.match(out.summary.warnings[0].message, /identifying only the 1 device\(s\) added by hand: give --range \(or discovery\.ranges\) to find others/);
    assert.match(r.stderr, /^camgate: warning: no IPv4 interface to send the multicast probe on/m);
  });
});
