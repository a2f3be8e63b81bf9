// Fakes for the ffmpeg supervisor tests: a ChildProcess
// look-alike (EventEmitter + PassThrough stdio, kill() recorded), and a LaunchFn that records
// every launch.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { LaunchFn } from '../../agent/ffmpeg/types';

let fakePid = 40_000;

export class FakeChild extends EventEmitter {
  readonly pid = ++fakePid;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly fd3 = new PassThrough();
  readonly stdio: Array<PassThrough | null>;
  readonly signals: string[] = [];
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  /** Exit when signalled (SIGKILL always exits; SIGTERM only when this is true). */
  exitOnTerm = true;

  constructor(
    readonly args: readonly string[],
    readonly options?: { stdio?: SpawnOptions['stdio'] },
  ) {
    super();
    this.stdio = [null, this.stdout, this.stderr, this.fd3];
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(signal);
    if (this.exitCode !== null || this.signalCode !== null) return false;
    if (signal === 'SIGKILL' || this.exitOnTerm) setImmediate(() => this.exit(null, signal));
    return true;
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exitCode !== null || this.signalCode !== null) return;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
    this.stdout.end();
    this.stderr.end();
    this.fd3.end();
    this.emit('close', code, signal);
  }

  get alive(): boolean {
    return this.exitCode === null && this.signalCode === null;
  }

  /** Writes one -progress block on fd 3. */
  progress(fields: { frame: number; total_size?: number | 'N/A'; fps?: number; bitrate?: string; end?: boolean }): void {
    const lines = [
      `frame=${fields.frame}`,
      `fps=${(fields.fps ?? 25).toFixed(2)}`,
      'stream_0_0_q=2.3',
      `bitrate=${fields.bitrate ?? 'N/A'}`,
      `total_size=${fields.total_size ?? 'N/A'}`,
      `out_time_us=${fields.frame * 40000}`,
      `out_time_ms=${fields.frame * 40000}`,
      'dup_frames=0',
      'drop_frames=0',
      'speed=1x',
      `progress=${fields.end ? 'end' : 'continue'}`,
      '',
    ];
    this.fd3.write(lines.join('\n'));
  }
}

export interface FakeLaunch {
  launch: LaunchFn;
  children: FakeChild[];
  last(): FakeChild;
}

export function fakeLaunch(setup?: (child: FakeChild) => void): FakeLaunch {
  const children: FakeChild[] = [];
  const launch: LaunchFn = (args, options) => {
    const child = new FakeChild(args, options);
    children.push(child);
    setup?.(child);
    return child as unknown as ChildProcess;
  };
  return {
    launch,
    children,
    last: () => {
      const c = children[children.length - 1];
      if (!c) throw new Error('nothing launched');
      return c;
    },
  };
}
