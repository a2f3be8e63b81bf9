// Shared helpers for the simulator tests: raw WS-Discovery and SOAP clients, the onvif package
// wrapped in promises, child processes, and throwaway network namespaces. Loopback only.
import { spawn, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { Cam, type CamOptions } from 'onvif';
import assert from 'node:assert/strict';
import type { RunningSimCamera, Simulator } from '../../scripts/sim/types';

export const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';

export function probeXml(messageId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="${SOAP12}" xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing" ` +
    `xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">` +
    `<e:Header><w:MessageID>${messageId}</w:MessageID><w:To e:mustUnderstand="true">urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>` +
    `<w:Action e:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action></e:Header>` +
    `<e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></e:Body></e:Envelope>`
  );
}

export interface Datagram {
  address: string;
  port: number;
  text: string;
}

/** Sends one datagram to host:port (loopback only) and collects every answer for `waitMs`. */
export function udpExchange(host: string, payload: string | Buffer, waitMs = 400, port = 3702): Promise<Datagram[]> {
  if (!host.startsWith('127.')) throw new Error(`tests only talk to loopback, not ${host}`);
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const got: Datagram[] = [];
    socket.on('message', (msg, rinfo) => got.push({ address: rinfo.address, port: rinfo.port, text: msg.toString('utf8') }));
    socket.on('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.send(payload, port, host, (err) => {
        if (err) reject(err);
      });
      setTimeout(() => socket.close(() => resolve(got)), waitMs);
    });
  });
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

export function httpRequest(
  url: string,
  opts: { method?: string; body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const u = new URL(url);
  if (!u.hostname.startsWith('127.')) throw new Error(`tests only talk to loopback, not ${u.hostname}`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port || 80,
        path: u.pathname + u.search,
        method: opts.method ?? (opts.body ? 'POST' : 'GET'),
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (opts.body) req.setHeader('Content-Type', 'application/soap+xml; charset=utf-8');
    req.end(opts.body);
  });
}

/** A UsernameToken (PasswordDigest) created at `created`. */
export function wsseHeader(username: string, password: string, created: Date): string {
  const nonce = randomBytes(16);
  const ts = created.toISOString();
  const digest = createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(ts), Buffer.from(password)]))
    .digest('base64');
  return (
    '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" ' +
    'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>' +
    `<wsse:Username>${username}</wsse:Username>` +
    `<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</wsse:Password>` +
    `<wsse:Nonce>${nonce.toString('base64')}</wsse:Nonce><wsu:Created>${ts}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

export function soapEnvelope(body: string, header = '', prefix = 's'): string {
  return `<?xml version="1.0" encoding="UTF-8"?><${prefix}:Envelope xmlns:${prefix}="${SOAP12}"><${prefix}:Header>${header}</${prefix}:Header><${prefix}:Body>${body}</${prefix}:Body></${prefix}:Envelope>`;
}

export const TDS = 'http://www.onvif.org/ver10/device/wsdl';
export const TRT = 'http://www.onvif.org/ver10/media/wsdl';

/** POSTs one operation to a simulated camera, with an optional WS-Security header. */
export function soapCall(cam: RunningSimCamera, body: string, header = ''): Promise<HttpResult> {
  return httpRequest(cam.deviceUrl, { body: soapEnvelope(body, header) });
}

export function newCam(cam: RunningSimCamera, opts: Partial<CamOptions> = {}): Cam {
  return new Cam({
    hostname: cam.spec.host,
    port: cam.spec.httpPort,
    path: new URL(cam.deviceUrl).pathname,
    username: cam.spec.username,
    password: cam.spec.password,
    timeout: 5000,
    autoconnect: false,
    preserveAddress: true,
    ...opts,
  });
}

export function connectCam(cam: Cam): Promise<void> {
  return new Promise((resolve, reject) => cam.connect((err) => (err ? reject(err) : resolve())));
}

/** Promisifies one callback method of the onvif Cam. */
export function camCall<T>(fn: (cb: (err: Error | null, data?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => fn((err, data) => (err ? reject(err) : resolve(data))));
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after timeoutMs), feeding `input` on stdin. */
export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } & SpawnOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}

/** True while the process exists and is not a zombie (an orphan may wait a while to be reaped). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * A throwaway network namespace with only `lo`, multicast on and 224.0.0.0/4 routed to lo:
 * multicast never reaches a real NIC from here. With `multicast: false`, lo is only brought up
 * (no multicast flag, no route): a box with no interface to send a multicast probe on. Needs root.
 */
export class TestNetns {
  private constructor(readonly name: string) {}

  static async create(tag: string, options: { multicast?: boolean } = {}): Promise<TestNetns> {
    if (process.getuid?.() !== 0) {
      throw new Error(`this test needs root to create a network namespace (CI runs as root); uid is ${process.getuid?.()}`);
    }
    const ns = new TestNetns(`camgate-sim-${process.pid}-${tag}`);
    await ns.sh(['ip', 'netns', 'add', ns.name], false);
    try {
      await ns.sh(['ip', 'link', 'set', 'lo', 'up']);
      if (options.multicast !== false) {
        await ns.sh(['ip', 'link', 'set', 'lo', 'multicast', 'on']);
        await ns.sh(['ip', 'route', 'add', '224.0.0.0/4', 'dev', 'lo']);
      }
    } catch (err) {
      await ns.destroy();
      throw err;
    }
    return ns;
  }

  /** argv run inside the namespace (or on the host when inside=false). */
  async sh(argv: string[], inside = true): Promise<RunResult> {
    const [cmd, ...args] = inside ? ['ip', 'netns', 'exec', this.name, ...argv] : argv;
    const r = await run(cmd ?? 'true', args, { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r;
  }

  exec(argv: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.name, ...argv], opts);
  }

  /** Kills whatever we started inside (by pid), then deletes the namespace. */
  async destroy(): Promise<void> {
    const pids = await run('ip', ['netns', 'pids', this.name], { timeoutMs: 5000 }).catch(() => undefined);
    for (const pid of (pids?.stdout ?? '').split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', this.name], { timeoutMs: 5000 }).catch(() => undefined);
  }
}

export const uniqueMessageId = (): string => `urn:uuid:${randomUUID()}`;

/** The simulated camera with this spec id; fails the test when there is none. */
export function cameraById(sim: Simulator, id: string): RunningSimCamera {
  const c = sim.cameras.find((x) => x.id === id);
  assert.ok(c, `no simulated camera "${id}"`);
  return c;
}
