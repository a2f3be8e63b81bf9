// Host metrics of the box itself: CPU, memory, the data directory's disk, CPU
// temperature when the box has a sensor, network interfaces, uptime.
//
// Cost matters (the agent's budget is < 10 % of one core and < 100 MB RSS with 256 cameras), so
// on Linux this reads procfs/sysfs directly and does not call systeminformation. Measured with
// scripts/bench/host-sample.ts (systeminformation 5.33.23, Node 20, 2-core VM under load; per
// call; "blocked" = longest the event loop stood still, most of these use execSync):
//   si.currentLoad        `cat /proc/stat | grep cpu` on every call ≥ 200 ms apart: 7–18 ms wall,
//                         ~2.5 ms CPU + ~5 ms in children, loop blocked up to 90 ms
//   si.networkStats(if)   a shell running 7 `cat`s per interface: ~22 ms, ~4 ms CPU + ~10 ms children
//   si.networkInterfaces  `ip a`, `ip route`, nmcli, a shell per interface: 150–180 ms wall, ~15 ms
//                         CPU + 80–90 ms in ~70 processes, loop blocked up to 210 ms
//   si.fsSize             `cat /proc/mounts` + `df`: 13–16 ms, ~4.5 ms CPU + ~6 ms children
//   si.cpuTemperature     2–4 shells (thermal zones, hwmon loop, `sensors`, vcgencmd): ~26 ms,
//                         ~9.5 ms CPU + ~9 ms children
//   si.time               execSync `date …`: ~7.5 ms
//   si.mem                reads /proc/meminfo, no process: ~1 ms
//   require('systeminformation') itself: 30–50 ms and a few MB RSS.
// What this module does instead, per sample (~3 ms wall, ~2.5 ms CPU, no process, loop never
// blocked): one read each of /proc/stat and /proc/meminfo, statfs(2) of the data directory, the
// temperature files found at start-up, and per kept interface operstate/speed/rx_bytes/tx_bytes
// from /sys/class/net; the mount table, the sensor list and the interface list are cached for
// staticTtlMs (10 min). The first sample also waits firstLoadWindowMs (250 ms) for a CPU figure.
// The temperature logic follows systeminformation's (hwmon package/Tctl/Tdie/core sensors, then
// CPU thermal zones, then acpitz); its further fallbacks, `sensors` (libsensors reads the same
// hwmon files) and /opt/vc/bin/vcgencmd (Raspberry Pi kernels from before thermal zones), add
// nothing on current kernels.
// Elsewhere (a developer's macOS or Windows machine) mode 'si' uses systeminformation, loaded
// only then (currentLoad, mem, cpuTemperature, fsSize and networkInterfaces cached, networkStats).
//
// sample() never throws: each part that fails or does not answer within partTimeoutMs becomes
// null (memory falls back to os.totalmem/os.freemem) and is logged once per distinct failure.
// A part still pending from an earlier sample (a hung NFS statfs) is not started again, so a
// stuck file system cannot pile up libuv threads.
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import { dirname, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { systemClock, type Clock } from '../../../lib/clock';
import { withDeadline } from '../../../lib/deadline';
import { normalizeMac } from '../../../drivers/ids';

export interface HostDisk {
  /** The data directory, as configured (absolute). */
  path: string;
  /** Mount point of the file system holding it; null when the mount table could not be read. */
  mount: string | null;
  sizeBytes: number;
  /** Available to the agent (statfs f_bavail: excludes blocks reserved for root), like df's "Avail". */
  freeBytes: number;
  /** freeBytes / sizeBytes × 100, two decimals. */
  freePercent: number;
}

export interface HostInterface {
  name: string;
  /** First IPv4 address (a 169.254 one only when there is no other); null when none. */
  ip4: string | null;
  mac: string | null;
  /** Link up (operstate up, or unknown with carrier for tun/wireguard-like devices). */
  up: boolean;
  /** Negotiated link speed, Mbit/s; null when down or not reported (virtual, Wi-Fi, VMs). */
  speedMbps: number | null;
  /** Counters since the interface appeared (they wrap on 32-bit kernels); null when unreadable. */
  rxBytes: number | null;
  txBytes: number | null;
}

export interface HostSample {
  /** Busy share of all CPUs since the previous sample (the first sample measures over
   * firstLoadWindowMs), 0–100, two decimals. */
  cpuLoadPercent: number | null;
  loadAvg1: number;
  cpus: number;
  memTotalBytes: number;
  /** MemAvailable (what can be allocated without swapping). */
  memAvailableBytes: number;
  uptimeSec: number;
  disk: HostDisk | null;
  /** Hottest CPU sensor, °C, one decimal; null when the box has none or it could not be read. */
  temperatureC: number | null;
  /** Which sensor temperatureC comes from, e.g. "hwmon coretemp Package id 0", "thermal x86_pkg_temp". */
  temperatureSensor: string | null;
  /** Real NICs (plus virtual ones that carry an IPv4 address, e.g. br0, bond0, wg0); loopback,
   * container/VM plumbing (docker*, veth*, br-*, virbr*, cni*, …) and ifb/dummy never.
   * null when the list could not be read. */
  interfaces: HostInterface[] | null;
}

/** The part of systeminformation that mode 'si' uses (the real module satisfies it). */
export interface SiSubset {
  mem(): Promise<{ total: number; available: number }>;
  currentLoad(): Promise<{ currentLoad: number }>;
  cpuTemperature(): Promise<{ main: number | null; max: number | null }>;
  fsSize(): Promise<Array<{ mount: string }>>;
  networkInterfaces(rescan: boolean): Promise<Array<{ iface: string; mac: string; internal: boolean; operstate: string; speed: number | null }>>;
  networkStats(ifaces: string): Promise<Array<{ iface: string; operstate: string; rx_bytes: number; tx_bytes: number }>>;
}
// Compile-time check that the real module fits (type only: nothing is loaded here).
const realSiFits = (si: typeof import('systeminformation')): SiSubset => si;
void realSiFits;

/** The file-system calls mode 'linux' makes (injectable: tests map /proc and /sys to a temp tree). */
export interface SysFs {
  readFile(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
  realpath(path: string): Promise<string>;
  statfs(path: string): Promise<{ bsize: number; blocks: number; bavail: number }>;
}

/** Reads a small procfs/sysfs file through one 8 KiB buffer. fs.promises.readFile sizes procfs
 * files (st_size 0) with 64 KiB chunks; in a loop of 120k reads here that grew RSS from 40 to
 * 95 MB (malloc fragmentation across libuv threads), this stayed near 52 MB. Capped at 4 MiB. */
export async function readSmallFile(path: string): Promise<string> {
  const fh = await fsp.open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(8192);
    const decoder = new StringDecoder('utf8');
    let text = '';
    for (let pos = 0; pos < 4 * 2 ** 20;) {
      // procfs hands out a page or so per read: only 0 bytes means the end
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      text += decoder.write(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return text + decoder.end();
  } finally {
    await fh.close();
  }
}

export const nodeSysFs: SysFs = {
  readFile: readSmallFile,
  readdir: (p) => fsp.readdir(p),
  realpath: (p) => fsp.realpath(p),
  statfs: (p) => fsp.statfs(p),
};

export interface HostSamplerLogger {
  warn(obj: object, msg: string): void;
}

export interface HostSamplerOptions {
  /** The agent's data directory; the disk figures are for the file system holding it. */
  dataDir: string;
  /** systeminformation or a stand-in; used in mode 'si' only. Default: the real module, loaded lazily. */
  si?: SiSubset;
  /** procfs/sysfs/statfs access for mode 'linux' (and statfs in mode 'si'). Default: node:fs. */
  sys?: SysFs;
  /** Clock of the caches and the part timeouts; default the system clock. */
  clock?: Clock;
  logger?: HostSamplerLogger;
  /** Default: 'linux' on Linux, else 'si'. */
  mode?: 'linux' | 'si';
  /** How long the mount table, sensor list and interface list are reused. Default 10 min. */
  staticTtlMs?: number;
  /** A part answering later than this becomes null. Default 5 s. */
  partTimeoutMs?: number;
  /** The first CPU load is measured over this window (ms). Default 250. */
  firstLoadWindowMs?: number;
  /** Addresses per interface (for ip4). Default os.networkInterfaces. */
  networkInterfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

interface TempSensor {
  file: string;
  name: string;
  /** 1: CPU package/core sensors and CPU/SoC thermal zones; 2: acpitz; 3: other zones that are
   * not obviously something else (GPU, memory, battery, radio, disk). */
  tier: 1 | 2 | 3;
}

interface NicInfo {
  name: string;
  /** Under /sys/devices/virtual (bridge, bond, vlan, tun, wireguard…): kept only with an IPv4. */
  virtual: boolean;
  mac: string | null;
}

/** Interfaces never reported: loopback and container/VM/traffic-shaping plumbing. */
const EXCLUDED_NIC =
  /^(?:lo\d*$|veth|docker\d|br-[0-9a-f]{6,}|virbr|vnet\d|cni\d|flannel|cali|vxlan|kube-|cilium|weave|lxcbr|lxc|ifb\d|dummy|tunl\d|sit\d|ip6tnl|ip_vti|ip6_vti|gre\d|gretap|erspan|ip6gre|nlmon|bonding_masters$)/;

const CPU_HWMON_CHIP = /^(?:coretemp|k10temp|zenpower|cpu|soc|.*cpu[_-]?thermal|.*soc[_-]?thermal)/i;
const CPU_HWMON_LABEL = /^(?:package id|physical id|tctl|tdie|tccd|core \d|cpu)/i;
const CPU_ZONE = /cpu|soc|x86_pkg_temp|core|package/i;
const NOT_CPU_ZONE = /gpu|ddr|dram|mem|npu|vpu|battery|bat\d|charger|wifi|wlan|iwlwifi|ath|mt7|nvme|disk|pch|skin|usb|modem|pmic|camera/i;

const MINUTE = 60_000;

export class HostSampler {
  private readonly dataDir: string;
  private readonly injectedSi: SiSubset | undefined;
  private loadedSi: SiSubset | undefined;
  private readonly sys: SysFs;
  private readonly clock: Clock;
  private readonly logger: HostSamplerLogger | undefined;
  readonly mode: 'linux' | 'si';
  private readonly staticTtlMs: number;
  private readonly partTimeoutMs: number;
  private readonly firstLoadWindowMs: number;
  private readonly cpuCount: number;
  private readonly addresses: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;

  private readonly pending = new Set<string>();
  private readonly loggedFailure = new Map<string, string>();

  private prevStat: { busy: number; total: number } | null = null;
  private lastLoad: number | null = null;
  private mounts: { at: number; list: string[] } | null = null;
  private sensors: { at: number; list: TempSensor[] } | null = null;
  private nics: { at: number; list: NicInfo[] } | null = null;
  private siNics: { at: number; list: Array<{ iface: string; mac: string; operstate: string; speed: number | null }> } | null = null;

  constructor(options: HostSamplerOptions) {
    this.dataDir = resolve(options.dataDir);
    this.injectedSi = options.si;
    this.sys = options.sys ?? nodeSysFs;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.mode = options.mode ?? (process.platform === 'linux' ? 'linux' : 'si');
    this.staticTtlMs = options.staticTtlMs ?? 10 * MINUTE;
    this.partTimeoutMs = options.partTimeoutMs ?? 5000;
    this.firstLoadWindowMs = options.firstLoadWindowMs ?? 250;
    this.addresses = options.networkInterfaces ?? (() => os.networkInterfaces());
    let n: number;
    try {
      n = os.cpus().length;
    } catch {
      n = 0;
    }
    this.cpuCount = n > 0 ? n : os.availableParallelism();
  }

  private get si(): SiSubset {
    if (this.injectedSi) return this.injectedSi;
    if (!this.loadedSi) this.loadedSi = require('systeminformation') as SiSubset;
    return this.loadedSi;
  }

  async sample(): Promise<HostSample> {
    const linux = this.mode === 'linux';
    const [cpuLoadPercent, mem, disk, temperature, interfaces] = await Promise.all([
      this.part('cpu', () => (linux ? this.linuxCpuLoad() : this.siCpuLoad())),
      this.part('memory', () => (linux ? this.linuxMem() : this.siMem())),
      this.part('disk', () => this.disk()),
      this.part('temperature', () => (linux ? this.linuxTemperature() : this.siTemperature())),
      this.part('interfaces', () => (linux ? this.linuxInterfaces() : this.siInterfaces())),
    ]);
    return {
      cpuLoadPercent,
      loadAvg1: round(os.loadavg()[0], 2),
      cpus: this.cpuCount,
      memTotalBytes: mem?.total ?? os.totalmem(),
      memAvailableBytes: mem?.available ?? os.freemem(),
      uptimeSec: Math.floor(os.uptime()),
      disk,
      temperatureC: temperature?.value ?? null,
      temperatureSensor: temperature?.sensor ?? null,
      interfaces,
    };
  }

  // --- plumbing ----------------------------------------------------------------------------

  private async part<T>(name: string, fn: () => Promise<T>): Promise<T | null> {
    if (this.pending.has(name)) {
      this.failed(name, new Error(`the previous read has not finished after ${this.partTimeoutMs} ms or more; not starting another`));
      return null;
    }
    this.pending.add(name);
    const work = Promise.resolve().then(fn);
    work.finally(() => this.pending.delete(name)).catch(() => undefined);
    try {
      const value = await withDeadline(work, this.partTimeoutMs, `no answer within ${this.partTimeoutMs} ms`, undefined, this.clock);
      this.recovered(name);
      return value;
    } catch (err) {
      this.failed(name, err);
      return null;
    }
  }

  private failed(part: string, err: unknown): void {
    const error = err instanceof Error ? err.message : String(err);
    if (this.loggedFailure.get(part) === error) return;
    this.loggedFailure.set(part, error);
    this.logger?.warn({ part, error }, `host metrics: ${part} unavailable (reported as null until it recovers)`);
  }

  private recovered(part: string): void {
    this.loggedFailure.delete(part);
  }

  private fresh<T extends { at: number }>(cache: T | null): cache is T {
    return cache !== null && this.clock.now() - cache.at < this.staticTtlMs;
  }

  // --- CPU ---------------------------------------------------------------------------------

  private async readProcStat(): Promise<{ busy: number; total: number }> {
    const text = await this.sys.readFile('/proc/stat');
    const eol = text.indexOf('\n');
    const line = eol === -1 ? text : text.slice(0, eol);
    if (!line.startsWith('cpu ')) throw new Error('/proc/stat: no aggregate "cpu" line');
    // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (f.length < 4 || f.some((x) => !Number.isFinite(x))) throw new Error(`/proc/stat: unexpected "cpu" line: ${line}`);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = f[3] + (f[4] ?? 0);
    return { busy: total - idle, total };
  }

  private async linuxCpuLoad(): Promise<number | null> {
    if (!this.prevStat) {
      this.prevStat = await this.readProcStat();
      // Real time, not the injected clock: the kernel's tick counters only move with it.
      await new Promise((r) => setTimeout(r, this.firstLoadWindowMs));
    }
    const cur = await this.readProcStat();
    const dTotal = cur.total - this.prevStat.total;
    // No tick elapsed (two samples within 10 ms): keep the previous figure.
    if (dTotal <= 0) return this.lastLoad;
    this.lastLoad = round(clamp(((cur.busy - this.prevStat.busy) / dTotal) * 100, 0, 100), 2);
    this.prevStat = cur;
    return this.lastLoad;
  }

  private async siCpuLoad(): Promise<number> {
    const l = await this.si.currentLoad();
    if (!Number.isFinite(l.currentLoad)) throw new Error('systeminformation.currentLoad: no figure');
    return round(clamp(l.currentLoad, 0, 100), 2);
  }

  // --- memory ------------------------------------------------------------------------------

  private async linuxMem(): Promise<{ total: number; available: number }> {
    const text = await this.sys.readFile('/proc/meminfo');
    const kb = (key: string): number | null => {
      const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
      return m ? Number(m[1]) * 1024 : null;
    };
    const total = kb('MemTotal');
    if (total === null) throw new Error('/proc/meminfo: no MemTotal');
    // MemAvailable exists since Linux 3.14; before that, free + page cache approximates it.
    const available = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Cached') ?? 0) + (kb('Buffers') ?? 0);
    return { total, available };
  }

  private async siMem(): Promise<{ total: number; available: number }> {
    const m = await this.si.mem();
    if (!(m.total > 0)) throw new Error('systeminformation.mem: no total');
    return { total: m.total, available: m.available };
  }

  // --- disk --------------------------------------------------------------------------------

  private async disk(): Promise<HostDisk> {
    const real = await this.existingRealpath(this.dataDir);
    const st = await this.sys.statfs(real);
    const sizeBytes = st.blocks * st.bsize;
    const freeBytes = st.bavail * st.bsize;
    let mount: string | null = null;
    try {
      mount = longestPrefix(await this.mountPoints(), real);
      this.recovered('mounts');
    } catch (err) {
      this.failed('mounts', err);
    }
    return {
      path: this.dataDir,
      mount,
      sizeBytes,
      freeBytes,
      freePercent: sizeBytes > 0 ? round((freeBytes / sizeBytes) * 100, 2) : 0,
    };
  }

  /** realpath of the directory, or of its nearest existing ancestor (before it is created). */
  private async existingRealpath(path: string): Promise<string> {
    let p = path;
    for (;;) {
      try {
        return await this.sys.realpath(p);
      } catch (err) {
        const parent = dirname(p);
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) throw err;
        p = parent;
      }
    }
  }

  private async mountPoints(): Promise<string[]> {
    if (this.fresh(this.mounts)) return this.mounts.list;
    let list: string[];
    if (this.mode === 'linux') {
      // mountinfo: id parent major:minor root mount-point options … (octal escapes for space etc.)
      const text = await this.sys.readFile('/proc/self/mountinfo');
      list = text
        .split('\n')
        .map((l) => l.split(' ')[4])
        .filter((m): m is string => !!m && m.startsWith('/'))
        .map((m) => m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
    } else {
      list = (await this.si.fsSize()).map((f) => f.mount).filter((m) => typeof m === 'string' && m.length > 0);
    }
    this.mounts = { at: this.clock.now(), list };
    return list;
  }

  // --- temperature -------------------------------------------------------------------------

  private async readOr(path: string, fallback: string): Promise<string> {
    try {
      return (await this.sys.readFile(path)).trim();
    } catch {
      return fallback;
    }
  }

  private async readdirOr(path: string): Promise<string[]> {
    try {
      return await this.sys.readdir(path);
    } catch {
      return [];
    }
  }

  private async discoverSensors(): Promise<TempSensor[]> {
    const out: TempSensor[] = [];
    for (const h of (await this.readdirOr('/sys/class/hwmon')).sort(natural)) {
      const dir = `/sys/class/hwmon/${h}`;
      const chip = await this.readOr(`${dir}/name`, '');
      const isAcpi = /^acpitz/i.test(chip);
      for (const f of (await this.readdirOr(dir)).sort(natural)) {
        const m = /^temp(\d+)_input$/.exec(f);
        if (!m) continue;
        const label = await this.readOr(`${dir}/temp${m[1]}_label`, '');
        const name = `hwmon ${chip || h}${label ? ` ${label}` : ''}`;
        if (CPU_HWMON_CHIP.test(chip) || CPU_HWMON_LABEL.test(label)) out.push({ file: `${dir}/${f}`, name, tier: 1 });
        else if (isAcpi) out.push({ file: `${dir}/${f}`, name, tier: 2 });
      }
    }
    for (const z of (await this.readdirOr('/sys/class/thermal')).sort(natural)) {
      if (!z.startsWith('thermal_zone')) continue;
      const type = await this.readOr(`/sys/class/thermal/${z}/type`, '');
      const file = `/sys/class/thermal/${z}/temp`;
      const name = `thermal ${type || z}`;
      if (CPU_ZONE.test(type) && !NOT_CPU_ZONE.test(type)) out.push({ file, name, tier: 1 });
      else if (/^acpitz/i.test(type)) out.push({ file, name, tier: 2 });
      else if (!NOT_CPU_ZONE.test(type)) out.push({ file, name, tier: 3 });
    }
    return out;
  }

  private async linuxTemperature(): Promise<{ value: number; sensor: string } | null> {
    if (!this.fresh(this.sensors)) this.sensors = { at: this.clock.now(), list: await this.discoverSensors() };
    const sensors = this.sensors.list;
    if (sensors.length === 0) return null;
    const readings = await Promise.all(
      sensors.map(async (s) => {
        const raw = Number.parseInt(await this.readOr(s.file, ''), 10);
        // millidegrees; sensors that are absent or broken report 0, -273 °C, 255 °C or garbage
        const c = raw / 1000;
        return Number.isFinite(c) && c > -40 && c < 200 && raw !== 0 ? { s, c } : null;
      }),
    );
    for (const tier of [1, 2, 3] as const) {
      let best: { s: TempSensor; c: number } | null = null;
      for (const r of readings) if (r && r.s.tier === tier && (!best || r.c > best.c)) best = r;
      if (best) return { value: round(best.c, 1), sensor: best.s.name };
    }
    // Sensors exist but none answered sensibly: look again at the next sample.
    this.sensors = null;
    throw new Error(`no readable temperature in ${sensors.map((s) => s.file).join(', ')}`);
  }

  private async siTemperature(): Promise<{ value: number; sensor: string } | null> {
    const t = await this.si.cpuTemperature();
    const v = t.max ?? t.main;
    return typeof v === 'number' && Number.isFinite(v) && v > -40 && v < 200 && v !== 0 ? { value: round(v, 1), sensor: 'systeminformation' } : null;
  }

  // --- interfaces --------------------------------------------------------------------------

  private async discoverNics(): Promise<NicInfo[]> {
    const out: NicInfo[] = [];
    for (const name of (await this.sys.readdir('/sys/class/net')).sort(natural)) {
      if (EXCLUDED_NIC.test(name)) continue;
      const dir = `/sys/class/net/${name}`;
      const type = await this.readOr(`${dir}/type`, '');
      if (type === '' || type === '772') continue; // not an interface directory / loopback
      const link = await this.sys.realpath(dir).catch(() => dir);
      const mac = normalizeMac(await this.readOr(`${dir}/address`, '')) ?? null;
      out.push({ name, virtual: link.includes('/devices/virtual/'), mac });
    }
    return out;
  }

  private async linuxInterfaces(): Promise<HostInterface[]> {
    const addrs = this.addresses();
    // A NIC that appeared since the list was cached (USB adapter, VPN up) triggers a re-scan.
    const known = this.fresh(this.nics) ? new Set(this.nics.list.map((n) => n.name)) : null;
    const appeared = known && Object.entries(addrs).some(([n, a]) => !known.has(n) && !EXCLUDED_NIC.test(n) && a?.some((x) => !x.internal));
    if (!this.fresh(this.nics) || appeared) this.nics = { at: this.clock.now(), list: await this.discoverNics() };
    const rows = await Promise.all(
      this.nics.list.map(async (nic): Promise<HostInterface | null> => {
        const ip4 = pickIp4(addrs[nic.name]);
        if (nic.virtual && ip4 === null) return null;
        const dir = `/sys/class/net/${nic.name}`;
        const operstate = await this.readOr(`${dir}/operstate`, '');
        if (operstate === '') {
          this.nics = null; // gone (unplugged): list again next time
          return null;
        }
        const up = operstate === 'up' || (operstate === 'unknown' && (await this.readOr(`${dir}/carrier`, '')) === '1');
        const [speed, rx, tx] = await Promise.all([
          up ? this.readOr(`${dir}/speed`, '') : Promise.resolve(''),
          this.readOr(`${dir}/statistics/rx_bytes`, ''),
          this.readOr(`${dir}/statistics/tx_bytes`, ''),
        ]);
        return { name: nic.name, ip4, mac: nic.mac, up, speedMbps: positiveOrNull(speed), rxBytes: counterOrNull(rx), txBytes: counterOrNull(tx) };
      }),
    );
    return rows.filter((r): r is HostInterface => r !== null);
  }

  private async siInterfaces(): Promise<HostInterface[]> {
    if (!this.fresh(this.siNics)) {
      const all = await this.si.networkInterfaces(false);
      this.siNics = { at: this.clock.now(), list: all.filter((n) => !n.internal && !EXCLUDED_NIC.test(n.iface)) };
    }
    const nics = this.siNics.list;
    const addrs = this.addresses();
    let stats: Awaited<ReturnType<SiSubset['networkStats']>> = [];
    if (nics.length > 0) {
      try {
        stats = await this.si.networkStats(nics.map((n) => n.iface).join(','));
        this.recovered('interface counters');
      } catch (err) {
        this.failed('interface counters', err);
      }
    }
    return nics.map((n) => {
      const st = stats.find((s) => s.iface === n.iface);
      const up = (st?.operstate ?? n.operstate) === 'up';
      return {
        name: n.iface,
        ip4: pickIp4(addrs[n.iface]),
        mac: normalizeMac(n.mac) ?? null,
        up,
        speedMbps: up && typeof n.speed === 'number' && n.speed > 0 ? n.speed : null,
        rxBytes: st && Number.isFinite(st.rx_bytes) ? st.rx_bytes : null,
        txBytes: st && Number.isFinite(st.tx_bytes) ? st.tx_bytes : null,
      };
    });
  }
}

// --- helpers -----------------------------------------------------------------------------

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/**
 * hwmon2 before hwmon10: the order of `a.localeCompare(b, 'en', { numeric: true })`. sysfs names
 * (lower-case letters, digits, '_', '-', '.') are compared here directly: the first localeCompare
 * with options builds an ICU collator, which costs ~3 MB of RSS for good (the agent's memory budget). Any
 * other name still goes to localeCompare.
 */
export function natural(a: string, b: string): number {
  if (!SIMPLE_NAME.test(a) || !SIMPLE_NAME.test(b)) return a.localeCompare(b, 'en', { numeric: true });
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ei = i;
      while (ei < a.length && isDigit(a.charCodeAt(ei))) ei++;
      let ej = j;
      while (ej < b.length && isDigit(b.charCodeAt(ej))) ej++;
      const da = a.slice(i, ei);
      const db = b.slice(j, ej);
      // Leading zeros ("01" vs "1"): ICU's tie-breaking is not worth copying.
      if ((da.length > 1 && da[0] === '0') || (db.length > 1 && db[0] === '0')) return a.localeCompare(b, 'en', { numeric: true });
      if (da.length !== db.length) return da.length < db.length ? -1 : 1;
      if (da !== db) return da < db ? -1 : 1;
      i = ei;
      j = ej;
      continue;
    }
    const ra = simpleRank(ca);
    const rb = simpleRank(cb);
    if (ra !== rb) return ra < rb ? -1 : 1;
    i++;
    j++;
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0;
}

const SIMPLE_NAME = /^[a-z0-9_.-]*$/;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** ICU root order of these characters: '_' < '-' < '.' < digits < letters. */
function simpleRank(c: number): number {
  if (c === 95) return 0; // _
  if (c === 45) return 1; // -
  if (c === 46) return 2; // .
  if (isDigit(c)) return 3;
  return 4 + c; // a..z in order
}

/** The mount point among `mounts` that holds `path` (the longest one that is a prefix of it). */
export function longestPrefix(mounts: string[], path: string): string | null {
  let best: string | null = null;
  for (const m of mounts) {
    const inside = m === '/' || path === m || path.startsWith(`${m}/`);
    if (inside && (best === null || m.length > best.length)) best = m;
  }
  return best;
}

function pickIp4(addrs: os.NetworkInterfaceInfo[] | undefined): string | null {
  const v4 = (addrs ?? []).filter((a) => a.family === 'IPv4' || (a.family as unknown) === 4);
  return (v4.find((a) => !a.address.startsWith('169.254.')) ?? v4[0])?.address ?? null;
}

function positiveOrNull(text: string): number | null {
  const n = Number.parseInt(text, 10);
  return Number.isFinite(n) && n > 0 ? n : null;
}

function counterOrNull(text: string): number | null {
  if (!/^\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}
