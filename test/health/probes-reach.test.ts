// TCP reachability probe against the simulator and hand-made listeners (127.72.1.0/24 belongs to
// this file).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { checkReach } from '../../agent/health/probes/reach';
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
  for (let i = 0; i < 3; i++) {
    const s = connect({ host, port });
    s.on('error', () => undefined);
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 150));
  return {
    close() {
      for (const s of fillers) s.destroy();
      child.stdin!.end();
      child.kill();
    },
  };
}

describe('health probe: TCP reachability', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({ rtsp: false, cameras: [{ host: '127.72.1.1' }, { host: '127.72.1.2', vendor: 'tapo' }] });
  });
  after(() => sim?.stop());

  it('a simulated device is reachable on its ONVIF port, with a connect time', async () => {
    for (const cam of sim.cameras) {
      const r = await checkReach({ host: cam.spec.host, port: cam.spec.httpPort, timeoutMs: 1000 });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.error, undefined);
      assert.ok(typeof r.latencyMs === 'number' && r.latencyMs >= 0 && r.latencyMs < 1000, String(r.latencyMs));
    }
  });

  it('nothing listening: refused, the message names host:port', async () => {
    const r = await checkReach({ host: '127.72.1.9', port: 8081, timeoutMs: 1000 });
    assert.equal(r.ok, false);
    assert.equal(r.latencyMs, null);
    assert.equal(r.error?.code, 'refused');
    assert.match(r.error.message, /127\.72\.1\.9:8081/);
  });

  it('a SYN that is never answered: timeout at the deadline, not later', async () => {
    const hole = await fullBacklog('127.72.1.20', 8554);
    try {
      const t0 = Date.now();
      const r = await checkReach({ host: '127.72.1.20', port: 8554, timeoutMs: 400 });
      const took = Date.now() - t0;
      assert.equal(r.error?.code, 'timeout', JSON.stringify(r));
      assert.match(r.error.message, /127\.72\.1\.20:8554.*400 ms/);
      assert.ok(took >= 390 && took < 600, `took ${took} ms`);
      // A healthy device probed meanwhile is not held up.
      const [slow, fast] = await Promise.all([
        checkReach({ host: '127.72.1.20', port: 8554, timeoutMs: 400 }),
        (async () => {
          const t = Date.now();
          const res = await checkReach({ host: '127.72.1.1', port: 80, timeoutMs: 400 });
          return { res, took: Date.now() - t };
        })(),
      ]);
      assert.equal(slow.error?.code, 'timeout');
      assert.equal(fast.res.ok, true);
      assert.ok(fast.took < 100, `healthy probe took ${fast.took} ms`);
    } finally {
      hole.close();
    }
  });

  it('an abort signal ends the check at once', async () => {
    const hole = await fullBacklog('127.72.1.21', 8554);
    try {
      const ac = new AbortController();
      const t0 = Date.now();
      setTimeout(() => ac.abort(), 50);
      const r = await checkReach({ host: '127.72.1.21', port: 8554, timeoutMs: 5000, signal: ac.signal });
      assert.equal(r.error?.code, 'timeout');
      assert.match(r.error.message, /cancelled/);
      assert.ok(Date.now() - t0 < 500);
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
