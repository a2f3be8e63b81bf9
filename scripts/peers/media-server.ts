// The centre's media server in the relay tests, as real processes on loopback:
//  - an RTMP server: Debian's nginx-light + libnginx-mod-rtmp, `application live { live on; }`,
//    config, pid, logs and temp paths in a temp dir, one process (master_process off) under
//    `setpriv --pdeathsig KILL` so a crashed test never leaves it behind; stopped by PID.
//    Pull a pushed stream with rtmp://HOST:PORT/live/KEY and `-rtmp_live live`. With `hls: true`
//    it also writes HLS (1 s fragments) and serves it over HTTP: http://HOST:HTTPPORT/hls/KEY.m3u8,
//    to any origin (CORS), as docs/live-view.md configures it: the dashboard plays it from its own.
//  - an SRT listener: `ffmpeg -i 'srt://HOST:PORT?mode=listener' -c copy -f mpegts FILE`; the relay
//    pushes MPEG-TS to srt://HOST:PORT?mode=caller (any codec, H.265 too).
// probeStream() (ffprobe) tells what arrived: codec, size, and how many frames with moving
// timestamps (so "frames are arriving" is a fact about the received stream, not a guess).
import { ChildProcess, execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
export const RTMP_MODULE = process.env.NGINX_RTMP_MODULE ?? '/usr/lib/nginx/modules/ngx_rtmp_module.so';
export const FFMPEG_BIN = process.env.FFMPEG_BIN ?? 'ffmpeg';
export const FFPROBE_BIN = process.env.FFPROBE_BIN ?? 'ffprobe';

function withPdeathsig(command: string, args: string[]): [string, string[]] {
  return existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', command, ...args]] : [command, args];
}

async function freeTcpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function freeUdpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.bind(0, host, () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill(signal);
  });
}

// --- RTMP (nginx) ---------------------------------------------------------------------------

export interface RtmpServer {
  host: string;
  port: number;
  pid: number;
  /** rtmp://host:port/live/<key> */
  url(key: string): string;
  /** With hls: the HTTP port serving /hls/. */
  httpPort?: number;
  /** With hls: http://host:httpPort/hls/<key>.m3u8 */
  hlsUrl(key: string): string;
  /** nginx's error log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export async function startRtmpServer(options: { host?: string; port?: number; startTimeoutMs?: number; hls?: boolean } = {}): Promise<RtmpServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freeTcpPort(host));
  const httpPort = options.hls ? await freeTcpPort(host) : undefined;
  const dir = mkdtempSync(join(os.tmpdir(), 'camgate-rtmp-'));
  const hls = options.hls ? `hls on; hls_path ${join(dir, 'hls')}; hls_fragment 1s; hls_playlist_length 6s; hls_cleanup on;` : '';
  const temp = (name: string) => join(dir, name);
  const errorLog = join(dir, 'error.log');
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      `load_module ${RTMP_MODULE};`,
      'daemon off;',
      'master_process off;',
      `error_log ${errorLog} info;`,
      `pid ${join(dir, 'nginx.pid')};`,
      'events { worker_connections 256; }',
      `rtmp { server { listen ${host}:${port}; chunk_size 4096; application live { live on; record off; ${hls} } } }`,
      ...(httpPort !== undefined
        ? [
            `http { access_log off; client_body_temp_path ${temp('body')}; proxy_temp_path ${temp('proxy')}; fastcgi_temp_path ${temp('fastcgi')}; uwsgi_temp_path ${temp('uwsgi')}; scgi_temp_path ${temp('scgi')};`,
            `  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }`,
            `  server { listen ${host}:${httpPort}; location /hls/ { root ${dir}; add_header Cache-Control no-cache; add_header Access-Control-Allow-Origin * always; } } }`,
          ]
        : []),
      '',
    ].join('\n'),
  );
  const [cmd, args] = withPdeathsig(NGINX_BIN, ['-p', dir, '-e', errorLog, '-c', conf]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const log = () => (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '') + stderr;
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx exited (${child.exitCode}) at start: ${log()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      await stopChild(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not listen on ${host}:${port}: ${log()}`);
    }
    await sleep(50);
  }
  return {
    host,
    port,
    pid: child.pid as number,
    url: (key: string) => `rtmp://${host}:${port}/live/${key}`,
    ...(httpPort !== undefined ? { httpPort } : {}),
    hlsUrl: (key: string) => {
      if (httpPort === undefined) throw new Error('this RTMP server was started without hls: true');
      return `http://${host}:${httpPort}/hls/${key}.m3u8`;
    },
    log,
    async stop() {
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- SRT listener (ffmpeg) -------------------------------------------------------------------

export interface SrtListener {
  host: string;
  port: number;
  /** What the relay pushes to: srt://host:port?mode=caller */
  url: string;
  /** MPEG-TS file the listener writes what it receives to. */
  file: string;
  /** Bytes received so far. */
  bytes(): number;
  /** Ended (the caller went away, or stop()). */
  exited(): boolean;
  stderr(): string;
  stop(): Promise<void>;
}

export async function startSrtListener(options: { host?: string } = {}): Promise<SrtListener> {
  const host = options.host ?? '127.0.0.1';
  const port = await freeUdpPort(host);
  const dir = mkdtempSync(join(os.tmpdir(), 'camgate-srt-'));
  const file = join(dir, 'received.ts');
  const [cmd, args] = withPdeathsig(FFMPEG_BIN, [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'warning',
    '-i',
    `srt://${host}:${port}?mode=listener`,
    '-c',
    'copy',
    '-f',
    'mpegts',
    '-y',
    file,
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  // The listener is a UDP socket: nothing to connect to for a readiness check. A caller that
  // comes too early is refused and retried by the relay's supervisor, which is fine.
  return {
    host,
    port,
    url: `srt://${host}:${port}?mode=caller`,
    file,
    bytes: () => (existsSync(file) ? statSync(file).size : 0),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stderr: () => stderr,
    async stop() {
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- what arrived ----------------------------------------------------------------------------

export interface ReceivedStream {
  codec: string | null;
  width: number | null;
  height: number | null;
  /** Video packets read. */
  frames: number;
  /** First and last packet timestamp (s): last > first means the picture is moving in time. */
  firstPts: number | null;
  lastPts: number | null;
}

/**
 * Reads up to `packets` video packets of a URL or file with ffprobe and reports codec, size and
 * timestamps. `inputArgs` go before -i (e.g. ['-rtmp_live', 'live']). Killed after `timeoutMs`
 * (a guard against a hung probe, not an assertion): resolves with what it has, or rejects with
 * ffprobe's stderr when it read nothing.
 */
export function probeStream(input: string, options: { packets?: number; inputArgs?: string[]; timeoutMs?: number } = {}): Promise<ReceivedStream> {
  const packets = options.packets ?? 25;
  const args = [
    '-v',
    'error',
    ...(options.inputArgs ?? []),
    '-select_streams',
    'v:0',
    '-read_intervals',
    `%+#${packets}`,
    '-show_entries',
    'stream=codec_name,width,height:packet=pts_time',
    '-of',
    'json',
    input,
  ];
  return new Promise((resolve, reject) => {
    execFile(FFPROBE_BIN, args, { timeout: options.timeoutMs ?? 20_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      let parsed: { streams?: Array<{ codec_name?: string; width?: number; height?: number }>; packets?: Array<{ pts_time?: string }> };
      try {
        parsed = stdout.trim() ? JSON.parse(stdout) : {};
      } catch {
        parsed = {};
      }
      const stream = parsed.streams?.[0];
      const pts = (parsed.packets ?? []).map((p) => Number(p.pts_time)).filter((n) => Number.isFinite(n));
      if (!stream && pts.length === 0) {
        reject(new Error(`ffprobe ${input}: nothing read (${err ? err.message : 'no stream'}): ${stderr.trim().slice(-500)}`));
        return;
      }
      resolve({
        codec: stream?.codec_name ?? null,
        width: stream?.width ?? null,
        height: stream?.height ?? null,
        frames: pts.length,
        firstPts: pts.length ? Math.min(...pts) : null,
        lastPts: pts.length ? Math.max(...pts) : null,
      });
    });
  });
}

/** Pulls what an RTMP server plays for `url` (a live stream: `-rtmp_live live`). */
export function probeRtmp(url: string, options: { packets?: number; timeoutMs?: number } = {}): Promise<ReceivedStream> {
  return probeStream(url, { ...options, inputArgs: ['-rtmp_live', 'live'] });
}
