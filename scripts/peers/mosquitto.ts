// A real Mosquitto for tests: generated config on a free 127.0.0.1 port, persistence off,
// optional password file (mosquitto_passwd), TLS with a throw-away PKI made with the openssl
// CLI (CA, server certificate for 127.0.0.1/localhost, client certificates with CN = site id),
// mutual TLS with use_identity_as_username, and an ACL file. start() waits until the broker
// accepts connections; stop() ends it by PID and removes the temp dir.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD_BIN = process.env.MOSQUITTO_PASSWD_BIN ?? 'mosquitto_passwd';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

// --- PKI ---------------------------------------------------------------------------------

export interface KeyPair {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export interface Pki {
  dir: string;
  caFile: string;
  ca: Buffer;
  server: KeyPair;
  /** A client certificate signed by this CA with CN = `name` (made on first request). */
  client(name: string): KeyPair;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for `serverHosts` (IP addresses and DNS names; default 127.0.0.1 and
 * localhost), and client certificates on demand. */
export function makePki(dir: string, caName = 'camgate test CA', serverHosts: readonly string[] = ['127.0.0.1', 'localhost']): Pki {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${caName}`, '-keyout', 'ca.key', '-out', 'ca.pem'], dir);
  const sign = (cn: string, fileBase: string, ext: string | undefined): KeyPair => {
    const base = fileBase.replace(/[^A-Za-z0-9._-]/g, '_');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${base}.key`, '-out', `${base}.csr`], dir);
    const args = ['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${base}.pem`];
    if (ext) {
      writeFileSync(join(dir, `${base}.ext`), ext);
      args.push('-extfile', `${base}.ext`);
    }
    openssl(args, dir);
    const certFile = join(dir, `${base}.pem`);
    const keyFile = join(dir, `${base}.key`);
    return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
  };
  const altNames = serverHosts.map((h) => (net.isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  const server = sign(serverHosts[0], 'server', `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth\n`);
  const clients = new Map<string, KeyPair>();
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    ca: readFileSync(join(dir, 'ca.pem')),
    server,
    client(name: string) {
      let pair = clients.get(name);
      if (!pair) {
        pair = sign(name, `client-${name}`, 'extendedKeyUsage=clientAuth\n');
        clients.set(name, pair);
      }
      return pair;
    },
  };
}

// --- broker ------------------------------------------------------------------------------

export interface MosquittoOptions {
  /** Listen on this port instead of a free one: a broker started again where clients knew the last one. */
  port?: number;
  /** user → password; written with mosquitto_passwd. Without it (and without mTLS) anonymous clients are allowed. */
  passwords?: Record<string, string>;
  /** Serve TLS (mqtts) with a generated PKI instead of plain MQTT. */
  tls?: boolean;
  /** With tls: require a client certificate and use its CN as the user name. */
  mutualTls?: boolean;
  /** ACL file content (mosquitto acl_file syntax). */
  acl?: string;
  /** Extra config lines. */
  extra?: string[];
  /** Use this config instead of the generated one (e.g. config/mosquitto/mosquitto.conf with test
   * paths): gets the port, the temp dir, and the PKI when `tls`/`mutualTls` asked for one. */
  rawConfig?: (ctx: { port: number; dir: string; pki?: Pki }) => string;
}

export interface Mosquitto {
  port: number;
  /** mqtt://127.0.0.1:PORT or mqtts://127.0.0.1:PORT */
  url: string;
  pid: number;
  dir: string;
  pki?: Pki;
  /** What the broker logged so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export const EXAMPLE_DIR = join(__dirname, '..', '..', '..', 'config', 'mosquitto');

/** The per-site ACL shipped in config/mosquitto/acl.example (tests use the file itself): a site
 * may only use camgate/v1/<its user>/...; the central reads everything and writes commands. */
export function siteAcl(): string {
  return readFileSync(join(EXAMPLE_DIR, 'acl.example'), 'utf8');
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(os.tmpdir(), 'camgate-mosq-'));
  try {
    return await launch(dir, options);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(dir: string, options: MosquittoOptions): Promise<Mosquitto> {
  const port = options.port ?? (await freePort());
  const lines = [
    `listener ${port} 127.0.0.1`,
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    // Test subscribers may be slow on a busy machine: queue without limit instead of dropping
    // QoS 1 messages above the default 1000 (a dropped message would look like a lost one).
    'max_queued_messages 0',
    // Stay the user that runs the tests (as root, mosquitto would switch to "mosquitto", which cannot read the temp dir).
    `user ${os.userInfo().username}`,
  ];
  let pki: Pki | undefined;
  if (options.tls || options.mutualTls) {
    pki = makePki(dir);
    lines.push(`cafile ${pki.caFile}`, `certfile ${pki.server.certFile}`, `keyfile ${pki.server.keyFile}`, 'tls_version tlsv1.2');
    if (options.mutualTls) lines.push('require_certificate true', 'use_identity_as_username true');
  }
  if (options.passwords) {
    const file = join(dir, 'passwd');
    let first = true;
    for (const [user, pass] of Object.entries(options.passwords)) {
      execFileSync(MOSQUITTO_PASSWD_BIN, first ? ['-b', '-c', file, user, pass] : ['-b', file, user, pass], { stdio: 'ignore' });
      first = false;
    }
    lines.push(`password_file ${file}`, 'allow_anonymous false');
  } else {
    lines.push(`allow_anonymous ${options.mutualTls ? 'false' : 'true'}`);
  }
  if (options.acl !== undefined) {
    const file = join(dir, 'acl');
    writeFileSync(file, options.acl);
    lines.push(`acl_file ${file}`);
  }
  if (process.env.CAMGATE_TEST_BROKER_LOG) lines.push('log_type all');
  lines.push(...(options.extra ?? []));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, options.rawConfig ? options.rawConfig({ port, dir, ...(pki ? { pki } : {}) }) : lines.join('\n') + '\n');

  const child = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));

  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (spawnError) throw new Error(`cannot start ${MOSQUITTO_BIN}: ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}:\n${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto did not accept connections on 127.0.0.1:${port} within 10 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  let stopped = false;
  return {
    port,
    url: `${pki ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    pid: child.pid as number,
    dir,
    ...(pki ? { pki } : {}),
    log: () => log,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid as number, 'SIGTERM');
        if (!(await waitExit(child, 3000))) {
          process.kill(child.pid as number, 'SIGKILL');
          await waitExit(child, 3000);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
