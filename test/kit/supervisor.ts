// Shared by the live-pull tests (test/web/live-pull.test.ts, test/video/keyframe.test.ts): real
// fragmented-MP4 bytes as the live pull's ffmpeg writes them, and a fake `supervise` that records
// each process so a test can feed its stdout and drive its state.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { StateChange, SupervisedProcess, SupervisedState, SuperviseOptions } from '../../agent/ffmpeg/types';
import { LIVE_MP4_OUTPUT_ARGS } from '../../agent/video/live/args';

/** `seconds` of a 160x120@25 H.264 test picture (a keyframe every second) in the live pull's fMP4 settings. */
export function fragmentedMp4(seconds: number): Buffer {
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=160x120:rate=25',
      '-t',
      String(seconds),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '25',
      '-keyint_min',
      '25',
      '-sc_threshold',
      '0',
      '-bf',
      '0',
      '-pix_fmt',
      'yuv420p',
      ...LIVE_MP4_OUTPUT_ARGS.filter((a) => a !== '-c:v' && a !== 'copy'),
      'pipe:1',
    ],
    { maxBuffer: 1 << 26 },
  );
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

export interface FakeProc extends SupervisedProcess {
  options: SuperviseOptions;
  /** stop() calls so far. */
  stopped: number;
  /** Moves the fake to a state and tells the listeners, as the supervisor would. */
  setState(to: SupervisedState, reason?: string): void;
}

export function fakeSupervisor(): { supervise: (options: SuperviseOptions) => SupervisedProcess; procs: FakeProc[] } {
  const procs: FakeProc[] = [];
  const supervise = (options: SuperviseOptions): SupervisedProcess => {
    const listeners: Array<(c: StateChange) => void> = [];
    let state: SupervisedState = 'starting';
    const stats = () => ({ state, fps: null, bitrateKbps: null, bytes: 0, frames: 0, restarts: 0 });
    const p: FakeProc = {
      id: `p${procs.length + 1}`,
      label: options.label,
      kind: options.kind,
      options,
      stopped: 0,
      stats,
      onState(l) {
        listeners.push(l);
        return () => undefined;
      },
      async stop() {
        p.stopped++;
        state = 'stopped';
      },
      setState(to, reason) {
        const from = state;
        state = to;
        for (const l of listeners) l({ from, to, ...(reason ? { reason } : {}), stats: stats() });
      },
    };
    procs.push(p);
    return p;
  };
  return { supervise, procs };
}
