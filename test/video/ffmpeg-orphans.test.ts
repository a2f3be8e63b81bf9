// "No orphan ffmpeg processes, ever — also when the agent itself is killed with SIGKILL."
// A child node process (support/ffmpeg-orphan-child.ts) plays the agent: it starts ffmpeg
// processes through the supervisor (or node-rtsp-stream's Mpeg1Muxer through the wrapper script),
// prints their pids, and is SIGKILLed. Every ffmpeg must then be gone. The control case (plain
// spawn, no setpriv) shows the test can see an orphan: there, the ffmpeg survives.
// Loopback only: the RTSP source listens on 127.80.0.1.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_PYTHON, RtspServerProcess } from '../../scripts/sim/rtsp-manager';
import { parentPid, pidGone, procField } from './support/procs';
import { sleep } from '../kit/wait';
import { waitFor } from '../kit/wait';

const CHILD = resolve(__dirname, 'support/ffmpeg-orphan-child.js');

interface Agent {
  child: ChildProcess;
  pids: number[];
  stderr: () => string;
}

/** Starts the stand-in agent and waits for its pid line. */
function startAgent(args: string[]): Promise<Agent> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent stand-in printed no pids within 30 s; stderr: ${err}`));
    }, 30_000);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolvePromise({ child, pids: (JSON.parse(line) as { pids: number[] }).pids, stderr: () => err });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`agent stand-in exited early (code ${code}, signal ${signal}): ${err}`));
    });
  });
}

async function sigkill(agent: Agent): Promise<void> {
  agent.child.removeAllListeners('exit'); // the start-up listener treats an exit as a failure
  const exited = new Promise<void>((r) => agent.child.once('exit', () => r()));
  process.kill(agent.child.pid as number, 'SIGKILL');
  await exited;
}

function assertLiveFfmpegChildren(agent: Agent, count: number): void {
  assert.equal(agent.pids.length, count);
  for (const pid of agent.pids) {
    assert.equal(pidGone(pid), false, `ffmpeg ${pid} runs`);
    assert.equal(procField(pid, 'comm'), 'ffmpeg', `pid ${pid} is ffmpeg itself (setpriv exec'd into it)`);
    assert.equal(parentPid(pid), agent.child.pid, `ffmpeg ${pid} is a direct child of the agent`);
  }
}

describe('no orphan ffmpeg when the agent is SIGKILLed', () => {
  it('supervised and one-shot ffmpeg under setpriv --pdeathsig die with the agent', async () => {
    const agent = await startAgent(['supervisor', 'setpriv']);
    assertLiveFfmpegChildren(agent, 3);
    assert.match(procField(agent.pids[0], 'cmdline') ?? '', /-progress pipe:3/);
    await sigkill(agent);
    // The kernel delivers SIGKILL to each ffmpeg when its parent dies; the limit is a safety net.
    await waitFor(() => agent.pids.every(pidGone), `ffmpeg ${agent.pids.join(', ')} gone after the agent's SIGKILL`, 15_000);
    for (const pid of agent.pids) assert.equal(pidGone(pid), true);
  });

  it('control: WITHOUT setpriv the relay and one-shot ffmpeg survive the agent (so the test above can fail)', async () => {
    const agent = await startAgent(['supervisor', 'plain']);
    try {
      assertLiveFfmpegChildren(agent, 3);
      await sigkill(agent);
      // The live pull (output on stdout) dies of EPIPE by itself once its reader is gone, but the
      // relay (-f null; ffmpeg ignores a failing -progress pipe) and the one-shot (nothing on any
      // pipe) have no reason to stop: they are orphans.
      await sleep(2000);
      for (const pid of [agent.pids[0], agent.pids[2]]) {
        assert.equal(pidGone(pid), false, `the unprotected ffmpeg ${pid} outlived its parent`);
        assert.notEqual(parentPid(pid), agent.child.pid, 'it was re-parented');
      }
    } finally {
      // Clean up the orphans this test created, by pid.
      for (const pid of agent.pids) {
        if (!pidGone(pid) && procField(pid, 'comm') === 'ffmpeg') process.kill(pid, 'SIGKILL');
      }
      await waitFor(() => agent.pids.every(pidGone), 'control orphans killed', 10_000);
    }
  });

  describe('node-rtsp-stream Mpeg1Muxer through writeFfmpegWrapper()', () => {
    let rtsp: RtspServerProcess;
    let dir: string;
    const host = '127.80.0.1';

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'camgate-ffwrap-'));
      rtsp = new RtspServerProcess();
      await rtsp.start([{ path: '/orphan/ch1/sub', codec: 'H264', width: 320, height: 240, fps: 25, picture: 'moving', host, user: 'u', password: 'unused' }], {
        python: DEFAULT_PYTHON,
        port: 0,
        bind: host,
        auth: false,
        startTimeoutMs: 30_000,
      });
    });
    after(async () => {
      await rtsp?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('the wrapper-spawned ffmpeg (pulling a real RTSP stream) dies with the agent', async () => {
      const agent = await startAgent(['wrapper', 'setpriv', dir, `rtsp://${host}:${rtsp.port}/orphan/ch1/sub`]);
      assertLiveFfmpegChildren(agent, 1);
      const cmdline = procField(agent.pids[0], 'cmdline') ?? '';
      assert.match(
        cmdline,
        /ffmpeg -nostdin -rtsp_transport tcp -fpsprobesize 0 -i rtsp:\/\/127\.80\.0\.1:\d+\/orphan\/ch1\/sub -f mpegts -codec:v mpeg1video -$/,
      );
      await sigkill(agent);
      await waitFor(() => agent.pids.every(pidGone), `wrapper ffmpeg ${agent.pids[0]} gone after the agent's SIGKILL`, 15_000);
    });
  });
});
