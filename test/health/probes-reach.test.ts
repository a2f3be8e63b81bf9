// TCP reachability probe against the simulator and hand-made listeners (127.72.1.0/24 belongs to
// this file). Real sockets and real deadlines: what is asserted never depends on how fast the
// machine is. A check meant to succeed gets a deadline it cannot reach (it ends on the answer
// anyway); a hang is told apart by what the result says, not by how long it took.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { checkReach } from '../../agent/health/probes/reach';
import { waitFor } from '../kit/wait';
import { flush } from '../kit/clock';
import { startSimulator } from '../../scripts/sim/index';
import type { Simulator } from '../../scripts/sim/types';

/**
 * A listener whose accept queue is full: Linux then drops further SYNs, so a connect neither
 * succeeds nor is refused, like a device behind a black hole. Python, because Node accepts
 * every connection at once.
 */
async function fullBacklog(host: string, port: number): Promise<{ close(): void }> {
  const child: ChildProcess = spawn(
    '/usr/bin/python3',
    ['-c', `import socket,sys\ns=socket.socket()\ns.bind(('${host}',${port}))\ns.listen(0)\nprint('ok',flush=True)\nsys.stdin.read()`],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`listener exited (${code})`)));
  });
  const fillers: Socket[] = [];
  let queued = 0;
  for (let i = 0; i < 3; i++) {
    const s = connect({ host, port });
    s.on('error', () => undefined);
    s.once('connect', () => queued++);
    fillers.push(s);
  }
  // With listen(0) one connection fills the queue: from then on every SYN is dropped.
  await waitFor(() => queued > 0, `a connection waiting in the backlog of ${host}:${port}`);
  return {
    close() {
      for (const s of fillers) s.destroy();
      child.stdin!.end();
      child.kill();
    },
  };
}

/** A deadline for checks that end on the device's answer: only a safety net. */
const PATIENT_MS = 30_000;

describe('health probe: TCP reachability', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ rtsp: false, cameras: [{ host: '127.72.1.1' }, { host: '127.72.1.2', vendor: 'tapo' }] });
  });
  after(() => sim?.stop());

  it('a simulated device is reachable on its ONVIF port, with a connect time', async () => {
    for (const cam of sim.cameras) {
      const r = await checkReach({ host: cam.spec.host, port: cam.spec.httpPort, timeoutMs: PATIENT_MS });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.error, undefined);
      assert.ok(typeof r.latencyMs === 'number' && Number.isFinite(r.latencyMs) && r.latencyMs >= 0, String(r.latencyMs));
    }
  });

  it('nothing listening: refused, the message names host:port', async () => {
    const r = await checkReach({ host: '127.72.1.9', port: 8081, timeoutMs: PATIENT_MS });
    assert.equal(r.ok, false);
    assert.equal(r.latencyMs, null);
    assert.equal(r.error?.code, 'refused');
    assert.match(r.error.message, /127\.72\.1\.9:8081/);
  });

  it("a SYN that is never answered: cut off by our deadline (not the kernel's), the result says so", async () => {
    const hole = await fullBacklog('127.72.1.20', 8554);
    try {
      const r = await checkReach({ host: '127.72.1.20', port: 8554, timeoutMs: 400 });
      assert.equal(r.ok, false);
      assert.equal(r.latencyMs, null);
      assert.equal(r.error?.code, 'timeout', JSON.stringify(r));
      assert.match(r.error.message, /127\.72\.1\.20:8554.*400 ms/);
      // Our deadline and its phase (the kernel's own give-up, minutes later, reads "ETIMEDOUT").
      assert.equal(r.error.message, 'no TCP connection to 127.72.1.20:8554 within 400 ms (TCP connect)');
      // A healthy device probed meanwhile is not held up: its check ends while the hung one is
      // still waiting (on a deadline it cannot reach; then cancelled).
      const ac = new AbortController();
      let slowDone = false;
      const slow = checkReach({ host: '127.72.1.20', port: 8554, timeoutMs: PATIENT_MS, signal: ac.signal }).finally(() => (slowDone = true));
      const fast = await checkReach({ host: '127.72.1.1', port: 80, timeoutMs: PATIENT_MS });
      assert.equal(fast.ok, true, JSON.stringify(fast));
      assert.equal(slowDone, false, 'the healthy check did not wait for the hung one');
      ac.abort();
      assert.match((await slow).error?.message ?? '', /cancelled/);
    } finally {
      hole.close();
    }
  });

  it('an abort signal ends the check at once', async () => {
    const hole = await fullBacklog('127.72.1.21', 8554);
    try {
      const ac = new AbortController();
      // The deadline is out of reach: a result at all means the abort ended the check.
      const pending = checkReach({ host: '127.72.1.21', port: 8554, timeoutMs: PATIENT_MS, signal: ac.signal });
      await flush(); // the SYN is out (and dropped)
      ac.abort();
      const r = await pending;
      assert.equal(r.error?.code, 'timeout');
      assert.match(r.error.message, /cancelled/);
      assert.equal(r.error.message, 'TCP connect on 127.72.1.21:8554 was cancelled');
      const pre = new AbortController();
      pre.abort();
      assert.match((await checkReach({ host: '127.72.1.1', port: 80, timeoutMs: 1000, signal: pre.signal })).error?.message ?? '', /cancelled/);
    } finally {
      hole.close();
    }
  });

  it('bad input: an invalid port is a failed check, not an exception', async () => {
    const r = await checkReach({ host: '127.72.1.1', port: 70000, timeoutMs: 200 });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'failed');
  });
});
