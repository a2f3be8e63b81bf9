// Multicast probe on several interfaces, inside a network namespace this test creates (never in
// the default namespace, where multicast would leave through eth0). Needs root and iproute2;
// without them the test fails rather than skipping.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const NS = `camgate-drv-${process.pid}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (...args: string[]) => ip('netns', 'exec', NS, 'ip', ...args);

before(() => {
  try {
    ip('netns', 'add', NS);
  } catch (err) {
    throw new Error(`cannot create network namespace (needs root and iproute2): ${(err as Error).message}`, { cause: err });
  }
  inNs('link', 'set', 'lo', 'up');
  inNs('link', 'set', 'lo', 'multicast', 'on');
  // A veth pair gives two more multicast-capable interfaces with their own addresses; the
  // dummy module is not available in every kernel.
  inNs('link', 'add', 'cgva', 'type', 'veth', 'peer', 'name', 'cgvb');
  inNs('addr', 'add', '10.236.1.1/24', 'dev', 'cgva');
  inNs('addr', 'add', '10.236.2.1/24', 'dev', 'cgvb');
  inNs('link', 'set', 'cgva', 'up');
  inNs('link', 'set', 'cgvb', 'up');
});

after(() => {
  try {
    ip('netns', 'del', NS);
  } catch {
    /* already gone */
  }
});

test('probe({multicast:true}) sends on every interface (one socket per address) and dedupes the answers', () => {
  const child = path.join(__dirname, 'helpers', 'netns-multicast-child.js');
  const out = execFileSync('ip', ['netns', 'exec', NS, process.execPath, child], {
    timeout: 20000,
    env: { ...process.env, CAMGATE_TEST_NETNS: NS },
  }).toString();
  const r = JSON.parse(out) as {
    ifaceAddrs: string[];
    probesFrom: string[];
    matches: Array<{ endpointUuid: string; from: string; via?: string }>;
    stats: { sockets: number; sent: number; answers: number; duplicates: number };
    sockets: Array<{ address: string; via: string }>;
  };
  assert.deepEqual(r.ifaceAddrs.sort(), ['10.236.1.1', '10.236.2.1', '127.0.0.1']);
  assert.deepEqual(r.sockets.map((s) => `${s.via}=${s.address}`).sort(), ['cgva=10.236.1.1', 'cgvb=10.236.2.1', 'lo=127.0.0.1']);
  assert.equal(r.stats.sockets, 3);
  assert.equal(r.stats.sent, 6, 'two probe types on each of three interfaces');
  // The responder heard probes coming from each interface address.
  assert.deepEqual([...new Set(r.probesFrom)].sort(), ['10.236.1.1', '10.236.2.1', '127.0.0.1']);
  // One camera answering on every interface: one match, the rest counted as duplicates.
  assert.equal(r.matches.length, 1);
  assert.equal(r.matches[0].endpointUuid, 'urn:uuid:36000000-0000-4000-8000-000000000001');
  assert.ok(r.stats.answers >= 3, `answers ${r.stats.answers}`);
  assert.equal(r.stats.duplicates, r.stats.answers - 1);
  assert.ok(['lo', 'cgva', 'cgvb'].includes(r.matches[0].via!));
});
