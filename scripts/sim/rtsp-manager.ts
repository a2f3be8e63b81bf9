// Runs the shared GStreamer RTSP server (rtsp_server.py) for all simulated cameras: one Python
// process, one mount point per profile. The process gets its config on stdin and dies when
// stdin closes or the parent dies, so it cannot outlive the simulator.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { streamsWork, type DeviceModel } from './model';
import type { SimPicture } from './types';

export const DEFAULT_PYTHON = '/usr/bin/python3'; // the python3 first on PATH may lack gi
const PACKAGES =
  'python3-gi gir1.2-gst-rtsp-server-1.0 python3-gst-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad gstreamer1.0-libav gstreamer1.0-rtsp';

export interface RtspMount {
  path: string;
  codec: 'H264' | 'H265';
  width: number;
  height: number;
  fps: number;
  /** Keyframe interval in frames (the profile's GovLength at start; GOP commands change it
   * later). Optional: rtsp_server.py defaults to fps * 2. */
  gop?: number;
  /** What the stream shows; rtsp_server.py's launch_line() turns it into a videotestsrc pattern. */
  picture: SimPicture;
  /** Loopback address of the owning device: the server refuses the mount on any other address. */
  host: string;
  user: string;
  password: string;
}

export interface RtspServerOptions {
  python: string;
  port: number;
  bind: string;
  auth: boolean;
  startTimeoutMs: number;
}

export function mountsFor(models: readonly DeviceModel[]): RtspMount[] {
  const mounts: RtspMount[] = [];
  for (const m of models) {
    if (!streamsWork(m.spec.fault)) continue; // broken devices have no working stream
    for (const p of m.profiles) {
      mounts.push({
        path: `/${m.id}/ch${p.channel}/${p.stream}`,
        codec: p.codec,
        width: p.width,
        height: p.height,
        fps: p.fps,
        gop: p.govLength,
        picture: m.spec.picture ?? 'moving',
        host: m.spec.host,
        user: m.spec.username,
        password: m.spec.password,
      });
    }
  }
  return mounts;
}

/** rtsp_server.py sits in scripts/sim; tsc does not copy it to dist/scripts/sim. */
export function findServerScript(): string {
  const candidates = [resolve(__dirname, 'rtsp_server.py'), resolve(__dirname, '../../../scripts/sim/rtsp_server.py')];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`rtsp_server.py not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** Running servers by port. A simulated device knows only the port of the shared server
 * (DeviceContext.rtspPort): it finds the server here to pass on a keyframe request. */
const RUNNING = new Map<number, RtspServerProcess>();

/** The shared RTSP server listening on `port` in this process, if one runs. */
export function rtspServerOnPort(port: number): RtspServerProcess | undefined {
  return RUNNING.get(port);
}

/** Mount paths as mountsFor() builds them (no spaces or line breaks: they go on a command line). */
const MOUNT_PATH = /^\/[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

export class RtspServerProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  port = 0;

  async start(mounts: readonly RtspMount[], opts: RtspServerOptions): Promise<void> {
    if (opts.auth) assertOnePasswordPerUser(mounts);
    const python = opts.python;
    if (!existsSync(python)) throw new Error(`RTSP simulator needs ${python} with GStreamer bindings; install: apt-get install -y ${PACKAGES}`);
    const child = spawn(python, [findServerScript(), '--config', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((res) => child.once('exit', () => res()));
    child.stdin?.on('error', () => undefined); // EPIPE when python died early: reported via exit below
    child.stdin?.write(`${JSON.stringify({ port: opts.port, bind: opts.bind, auth: opts.auth, strictHost: true, mounts })}\n`);

    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      if (stderr.length < 16_384) stderr += d;
    });
    try {
      this.port = await new Promise<number>((resolveReady, reject) => {
        let stdout = '';
        const timer = setTimeout(
          () => reject(new Error(`RTSP server did not print READY within ${opts.startTimeoutMs} ms. stderr: ${stderr.trim() || '(empty)'}`)),
          opts.startTimeoutMs,
        );
        child.stdout?.setEncoding('utf8');
        child.stdout?.on('data', (d: string) => {
          stdout += d;
          const m = /^READY (\d+)$/m.exec(stdout);
          if (m) {
            clearTimeout(timer);
            resolveReady(Number(m[1]));
          }
        });
        child.once('error', (err) => {
          clearTimeout(timer);
          reject(new Error(`cannot run ${python}: ${err.message}`));
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          const missingGi = /No module named 'gi'|Namespace \w+ not available|bindings missing/.test(stderr);
          reject(
            new Error(
              missingGi
                ? `RTSP server cannot start: GStreamer Python bindings are missing. Install: apt-get install -y ${PACKAGES}`
                : `RTSP server exited before READY (code ${code}, signal ${signal}): ${stderr.trim()}`,
            ),
          );
        });
      });
    } catch (err) {
      await this.stop();
      throw err;
    }
    RUNNING.set(this.port, this);
  }

  /**
   * The encoder of the mount at `path` (e.g. "/cam-1/ch1/main") emits a keyframe now: writes
   * "KEYFRAME <path>" to rtsp_server.py, which sends a force-key-unit event to the encoder of
   * that mount's live media (nothing happens when nobody watches it). Returns false when the
   * server is not running. Does not wait for the keyframe.
   */
  requestKeyframe(path: string): boolean {
    if (!MOUNT_PATH.test(path)) throw new Error(`not a mount path: ${JSON.stringify(path)}`);
    return this.command(`KEYFRAME ${path}`);
  }

  /**
   * The mount at `path` encodes with a keyframe every `frames` frames from now on: writes
   * "GOP <path> <frames>" to rtsp_server.py, which builds later media with it and restarts the
   * mount's live media, if any, so its running encoder uses it too (its viewers are dropped,
   * as when a real camera restarts its encoder after a configuration change). Returns false when
   * the server is not running. Does not wait for the restart.
   */
  setGop(path: string, frames: number): boolean {
    if (!MOUNT_PATH.test(path)) throw new Error(`not a mount path: ${JSON.stringify(path)}`);
    if (!Number.isInteger(frames) || frames < 1) throw new RangeError(`GOP must be a positive integer of frames, got ${frames}`);
    return this.command(`GOP ${path} ${frames}`);
  }

  private command(line: string): boolean {
    const stdin = this.child?.stdin;
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null || !stdin?.writable) return false;
    stdin.write(`${line}\n`);
    return true;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async stop(): Promise<void> {
    if (RUNNING.get(this.port) === this) RUNNING.delete(this.port);
    const child = this.child;
    if (!child || !this.exited) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin?.end(); // EOF: the server's own shutdown path
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(killer);
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
    this.child = undefined;
  }
}

/** RTSPAuth keys digest users by name: the same user with two passwords cannot be served. */
function assertOnePasswordPerUser(mounts: readonly RtspMount[]): void {
  const seen = new Map<string, string>();
  for (const m of mounts) {
    const prev = seen.get(m.user);
    if (prev !== undefined && prev !== m.password) {
      throw new Error(`rtspAuth: user "${m.user}" has different passwords on different cameras; the shared RTSP server needs one password per user name`);
    }
    seen.set(m.user, m.password);
  }
}
