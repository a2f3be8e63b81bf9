// HostSampler: against this machine (procfs/sysfs and, in mode 'si', the real systeminformation),
// against a fake /proc + /sys tree, and with parts that fail or hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { HostSampler, longestPrefix, natural, type HostSample, type SiSubset, type SysFs } from '../../agent/health/host/sample';
import { clockReading } from '../kit/clock';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'camgate-host-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function recordingLogger(): { warn(obj: object, msg: string): void; lines: Array<{ obj: Record<string, unknown>; msg: string }> } {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  return { lines, warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) };
}

function checkShape(s: HostSample): void {
  assert.ok(Number.isInteger(s.cpus) && s.cpus >= 1);
  assert.ok(Number.isFinite(s.loadAvg1) && s.loadAvg1 >= 0);
  assert.ok(s.memTotalBytes > 0 && s.memAvailableBytes >= 0 && s.memAvailableBytes <= s.memTotalBytes);
  // JSON-friendly: survives a round trip unchanged
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
}

const onLinux = process.platform === 'linux';

for (const mode of ['linux', 'si'] as const) {
  test(`real machine (mode ${mode}): memory, disk, uptime, interfaces, temperature, CPU`, { skip: mode === 'linux' && !onLinux }, async (t) => {
    const dir = tempDir(t);
    const logger = recordingLogger();
    const sampler = new HostSampler({ dataDir: dir, mode, logger, firstLoadWindowMs: 100 });
    const s = await sampler.sample();
    checkShape(s);
    assert.equal(s.memTotalBytes, os.totalmem());
    assert.equal(s.cpus, os.cpus().length);
    assert.ok(Math.abs(s.uptimeSec - os.uptime()) <= 2, `uptime ${s.uptimeSec} vs os.uptime() ${os.uptime()}`);

    const st = statfsSync(dir);
    assert.ok(s.disk, 'disk figures');
    assert.equal(s.disk.path, dir);
    assert.equal(s.disk.sizeBytes, st.blocks * st.bsize);
    const free = st.bavail * st.bsize;
    // other processes write to the same file system meanwhile
    assert.ok(Math.abs(s.disk.freeBytes - free) <= Math.max(64 * 2 ** 20, 0.01 * s.disk.sizeBytes), `free ${s.disk.freeBytes} vs statfs ${free}`);
    assert.ok(Math.abs(s.disk.freePercent - (free / s.disk.sizeBytes) * 100) < 1);
    assert.ok(s.disk.mount && dir.startsWith(s.disk.mount === '/' ? '/' : `${s.disk.mount}/`), `mount ${s.disk.mount} holds ${dir}`);

    assert.ok(s.interfaces, 'interfaces listed');
    const names = s.interfaces.map((i) => i.name);
    assert.ok(!names.includes('lo'), `no loopback in ${names}`);
    assert.ok(!names.some((n) => /^(veth|docker\d|ifb)/.test(n)), `no plumbing in ${names}`);
    for (const i of s.interfaces) {
      assert.equal(typeof i.up, 'boolean');
      assert.ok(i.ip4 === null || /^\d+\.\d+\.\d+\.\d+$/.test(i.ip4));
      assert.ok(i.mac === null || /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(i.mac));
      assert.ok(i.speedMbps === null || i.speedMbps > 0);
      assert.ok(i.rxBytes === null || i.rxBytes >= 0);
    }
    // every non-internal address the OS reports on a physical-looking NIC shows up
    for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
      if (/^(lo|veth|docker|br-|virbr|ifb|cni|flannel|cali|vxlan|kube|cilium|weave|lxc|dummy)/.test(name)) continue;
      if (addrs?.some((a) => a.family === 'IPv4' && !a.internal)) assert.ok(names.includes(name), `${name} (has IPv4) listed in ${names}`);
    }

    assert.ok(s.temperatureC === null || (typeof s.temperatureC === 'number' && s.temperatureC > -40 && s.temperatureC < 200));
    assert.equal(s.temperatureSensor === null, s.temperatureC === null);
    assert.ok(s.cpuLoadPercent !== null && s.cpuLoadPercent >= 0 && s.cpuLoadPercent <= 100, `cpu ${s.cpuLoadPercent}`);

    const s2 = await sampler.sample();
    checkShape(s2);
    assert.ok(s2.cpuLoadPercent !== null);
    assert.deepEqual(logger.lines, [], 'nothing failed on this machine');
  });
}

test('mode si: a systeminformation whose calls all throw, and failing statfs: nulls, logged once per part', async (t) => {
  const dir = tempDir(t);
  const boom = async (): Promise<never> => {
    throw new Error('boom');
  };
  const si: SiSubset = { mem: boom, currentLoad: boom, cpuTemperature: boom, fsSize: boom, networkInterfaces: boom, networkStats: boom };
  const sys: SysFs = { readFile: boom, readdir: boom, realpath: boom, statfs: boom };
  const logger = recordingLogger();
  const sampler = new HostSampler({ dataDir: dir, mode: 'si', si, sys, logger });
  for (let i = 0; i < 2; i++) {
    const s = await sampler.sample();
    assert.equal(s.cpuLoadPercent, null);
    assert.equal(s.disk, null);
    assert.equal(s.temperatureC, null);
    assert.equal(s.interfaces, null);
    // memory falls back to what the OS call says
    assert.equal(s.memTotalBytes, os.totalmem());
    assert.ok(s.memAvailableBytes > 0);
    checkShape(s);
  }
  assert.deepEqual(logger.lines.map((l) => l.obj.part).sort(), ['cpu', 'disk', 'interfaces', 'memory', 'temperature']);
  assert.ok(logger.lines.every((l) => l.obj.error === 'boom' && /unavailable/.test(l.msg)));
});

test('mode si: a systeminformation that throws synchronously and answers garbage never makes sample() throw', async (t) => {
  const dir = tempDir(t);
  const si = {
    mem: () => {
      throw new TypeError('sync');
    },
    currentLoad: async () => ({ currentLoad: Number.NaN }),
    cpuTemperature: async () => ({ main: null, max: null }),
    fsSize: async () => [{ mount: '/' }],
    networkInterfaces: async () => [
      { iface: 'lo', mac: '00:00:00:00:00:00', internal: true, operstate: 'unknown', speed: null },
      { iface: 'en0', mac: 'AA:BB:CC:DD:EE:FF', internal: false, operstate: 'up', speed: 1000 },
      { iface: 'docker0', mac: '02:42:00:00:00:01', internal: false, operstate: 'up', speed: null },
    ],
    networkStats: async () => [{ iface: 'en0', operstate: 'up', rx_bytes: 10, tx_bytes: 20 }],
  } as unknown as SiSubset;
  const s = await new HostSampler({ dataDir: dir, mode: 'si', si, networkInterfaces: () => ({}) }).sample();
  assert.equal(s.cpuLoadPercent, null);
  assert.equal(s.temperatureC, null);
  assert.equal(s.disk?.mount, '/');
  assert.deepEqual(s.interfaces, [{ name: 'en0', ip4: null, mac: 'aa:bb:cc:dd:ee:ff', up: true, speedMbps: 1000, rxBytes: 10, txBytes: 20 }]);
});

test('mode linux: procfs/sysfs reads that throw give nulls, logged once', async (t) => {
  const dir = tempDir(t);
  const boom = async (): Promise<never> => {
    throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  };
  const logger = recordingLogger();
  const sampler = new HostSampler({ dataDir: dir, mode: 'linux', sys: { readFile: boom, readdir: boom, realpath: boom, statfs: boom }, logger });
  for (let i = 0; i < 3; i++) {
    const s = await sampler.sample();
    assert.equal(s.cpuLoadPercent, null);
    assert.equal(s.disk, null);
    assert.equal(s.temperatureC, null, 'no sensor directory: no temperature');
    assert.equal(s.interfaces, null);
    assert.equal(s.memTotalBytes, os.totalmem());
  }
  // temperature: no hwmon/thermal directory is "no sensor", not a failure
  assert.deepEqual(logger.lines.map((l) => l.obj.part).sort(), ['cpu', 'disk', 'interfaces', 'memory']);
});

test('a part that hangs becomes null after partTimeoutMs and is not started again while pending', async (t) => {
  const dir = tempDir(t);
  let statfsCalls = 0;
  let hang = true;
  let release: () => void = () => undefined;
  const sys: SysFs = {
    readFile: (p) => fsp.readFile(p, 'utf8'),
    readdir: (p) => fsp.readdir(p),
    realpath: (p) => fsp.realpath(p),
    statfs: (p) => {
      statfsCalls++;
      if (!hang) return fsp.statfs(p);
      return new Promise((res) => {
        release = () => {
          hang = false;
          res(statfsSync(p));
        };
      });
    },
  };
  const logger = recordingLogger();
  const sampler = new HostSampler({ dataDir: dir, mode: 'linux', sys, logger, partTimeoutMs: 50, firstLoadWindowMs: 10 });
  const t0 = Date.now();
  const s1 = await sampler.sample();
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(s1.disk, null);
  const s2 = await sampler.sample();
  assert.equal(s2.disk, null);
  assert.equal(statfsCalls, 1, 'the hung statfs is not started again');
  // Under load another part's real read may miss 50 ms too: only the disk's lines are this test's.
  const disk = logger.lines.filter((l) => l.obj.part === 'disk');
  assert.match(String(disk[0]?.obj.error), /no answer within 50 ms/);
  assert.match(String(disk[1]?.obj.error), /has not finished/);
  release();
  await new Promise((r) => setTimeout(r, 10));
  const s3 = await sampler.sample();
  assert.ok(s3.disk && s3.disk.sizeBytes > 0, 'recovers once the call returns');
  assert.equal(statfsCalls, 2);
});

// --- a fake /proc + /sys tree ------------------------------------------------------------

function put(root: string, path: string, content: string): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
}

/** SysFs over `root`: /proc/… and /sys/… are looked up under it; realpath gives paths without the root. */
function treeSysFs(root: string, overrides: Partial<SysFs> = {}): SysFs & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readFile: async (p) => {
      reads.push(p);
      return fsp.readFile(join(root, p), 'utf8');
    },
    readdir: (p) => fsp.readdir(join(root, p)),
    realpath: async (p) => (await fsp.realpath(join(root, p))).slice((await fsp.realpath(root)).length) || '/',
    statfs: (p) => fsp.statfs(join(root, p)),
    ...overrides,
  };
}

function hwmon(root: string, n: number, chip: string, temps: Array<[label: string | null, milli: string]>): void {
  put(root, `/sys/class/hwmon/hwmon${n}/name`, `${chip}\n`);
  temps.forEach(([label, milli], i) => {
    put(root, `/sys/class/hwmon/hwmon${n}/temp${i + 1}_input`, `${milli}\n`);
    if (label !== null) put(root, `/sys/class/hwmon/hwmon${n}/temp${i + 1}_label`, `${label}\n`);
  });
}

function zone(root: string, n: number, type: string, milli: string): void {
  put(root, `/sys/class/thermal/thermal_zone${n}/type`, `${type}\n`);
  put(root, `/sys/class/thermal/thermal_zone${n}/temp`, `${milli}\n`);
  mkdirSync(join(root, `/sys/class/thermal/cooling_device${n}`), { recursive: true });
}

test('temperature: hottest CPU sensor; acpitz and other zones only as fallbacks; GPU/NVMe/battery never', async (t) => {
  const cases: Array<{ name: string; build: (root: string) => void; want: number | null; sensor?: string }> = [
    {
      name: 'Intel coretemp',
      build: (r) => {
        hwmon(r, 0, 'acpitz', [[null, '27800']]);
        hwmon(r, 1, 'coretemp', [
          ['Package id 0', '58000'],
          ['Core 0', '61500'],
          ['Core 1', '57000'],
        ]);
        hwmon(r, 2, 'nvme', [['Composite', '71850']]);
        hwmon(r, 10, 'iwlwifi_1', [[null, '90000']]);
        zone(r, 0, 'acpitz', '27800');
        zone(r, 1, 'x86_pkg_temp', '58000');
      },
      want: 61.5,
      sensor: 'hwmon coretemp Core 0',
    },
    {
      name: 'AMD k10temp',
      build: (r) =>
        hwmon(r, 0, 'k10temp', [
          ['Tctl', '66250'],
          ['Tccd1', '59000'],
        ]),
      want: 66.3, // 66.25 rounded to one decimal
      sensor: 'hwmon k10temp Tctl',
    },
    {
      name: 'ARM SoC thermal zones (RK3588-like)',
      build: (r) => {
        zone(r, 0, 'soc-thermal', '45000');
        zone(r, 1, 'bigcore0-thermal', '47200');
        zone(r, 2, 'gpu-thermal', '80000');
        zone(r, 3, 'npu-thermal', '81000');
      },
      want: 47.2,
      sensor: 'thermal bigcore0-thermal',
    },
    {
      name: 'only acpitz and a GPU',
      build: (r) => {
        zone(r, 0, 'acpitz', '41000');
        zone(r, 1, 'gpu-thermal', '90000');
      },
      want: 41,
      sensor: 'thermal acpitz',
    },
    {
      name: 'an unknown zone name as a last resort',
      build: (r) => zone(r, 0, 'thermal-zone-a', '52000'),
      want: 52,
      sensor: 'thermal thermal-zone-a',
    },
    {
      name: 'broken readings are skipped',
      build: (r) => {
        zone(r, 0, 'cpu-thermal', '-273000');
        zone(r, 1, 'cpu1-thermal', '0');
        zone(r, 2, 'acpitz', '39000');
      },
      want: 39,
      sensor: 'thermal acpitz',
    },
    { name: 'no sensor at all (VM)', build: (r) => mkdirSync(join(r, '/sys/class/thermal'), { recursive: true }), want: null },
  ];
  for (const c of cases) {
    const root = tempDir(t);
    c.build(root);
    const s = await new HostSampler({ dataDir: '/', mode: 'linux', sys: treeSysFs(root) }).sample();
    assert.equal(s.temperatureC, c.want, c.name);
    assert.equal(s.temperatureSensor, c.sensor ?? null, c.name);
  }
});

test('temperature: the sensor list is cached for staticTtlMs, readings are fresh each sample', async (t) => {
  const root = tempDir(t);
  zone(root, 0, 'x86_pkg_temp', '50000');
  let now = 0;
  const sys = treeSysFs(root);
  const sampler = new HostSampler({ dataDir: '/', mode: 'linux', sys, clock: clockReading(() => now), staticTtlMs: 60_000 });
  assert.equal((await sampler.sample()).temperatureC, 50);
  put(root, '/sys/class/thermal/thermal_zone0/temp', '83000\n');
  zone(root, 1, 'cpu-thermal', '90000'); // appears, but the list is cached
  now = 59_999;
  const typeReads = () => sys.reads.filter((p) => p.endsWith('/type')).length;
  const before = typeReads();
  assert.equal((await sampler.sample()).temperatureC, 83);
  assert.equal(typeReads(), before, 'no rescan within the TTL');
  now = 60_000;
  assert.equal((await sampler.sample()).temperatureC, 90);
});

test('CPU load from /proc/stat deltas (iowait counts as idle), memory from /proc/meminfo', async (t) => {
  const root = tempDir(t);
  const stats = [
    'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\nintr 1 2 3\n',
    // +100 user, +100 system, +600 idle, +200 iowait → 200 busy of 1000
    'cpu  200 0 200 1400 200 0 0 0 0 0\ncpu0 100 0 100 700 100 0 0 0 0 0\n',
    // steal and irq are busy: +50 irq +50 softirq +100 steal, +800 idle → 200 of 1000
    'cpu  200 0 200 2200 200 50 50 100 0 0\n',
    'cpu  200 0 200 2200 200 50 50 100 0 0\n', // no tick elapsed: previous figure
  ];
  let i = 0;
  put(root, '/proc/meminfo', 'MemTotal:        2048000 kB\nMemFree:          100000 kB\nMemAvailable:    1024000 kB\nBuffers:            1000 kB\n');
  const base = treeSysFs(root);
  const sys = treeSysFs(root, {
    readFile: async (p) => (p === '/proc/stat' ? stats[Math.min(i++, stats.length - 1)] : base.readFile(p)),
  });
  const sampler = new HostSampler({ dataDir: '/', mode: 'linux', sys, firstLoadWindowMs: 1 });
  const s1 = await sampler.sample();
  assert.equal(s1.cpuLoadPercent, 20);
  assert.equal(s1.memTotalBytes, 2048000 * 1024);
  assert.equal(s1.memAvailableBytes, 1024000 * 1024);
  assert.equal((await sampler.sample()).cpuLoadPercent, 20);
  assert.equal((await sampler.sample()).cpuLoadPercent, 20);

  // MemAvailable missing (kernels before 3.14): free + cached + buffers
  put(root, '/proc/meminfo', 'MemTotal: 2000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 200 kB\n');
  assert.equal((await sampler.sample()).memAvailableBytes, 310 * 1024);
});

test('interfaces: real NICs (up or down), virtual ones only with an IPv4, plumbing never; re-listed when a NIC appears', async (t) => {
  const root = tempDir(t);
  const nic = (name: string, where: 'pci' | 'virtual', files: Record<string, string>): void => {
    const dev = where === 'pci' ? `/sys/devices/pci0000:00/0000:00:1f.6/net/${name}` : `/sys/devices/virtual/net/${name}`;
    for (const [f, v] of Object.entries(files)) put(root, `${dev}/${f}`, `${v}\n`);
    mkdirSync(join(root, '/sys/class/net'), { recursive: true });
    symlinkSync(join(root, dev), join(root, `/sys/class/net/${name}`));
  };
  const stats = (rx: number, tx: number) => ({ 'statistics/rx_bytes': String(rx), 'statistics/tx_bytes': String(tx) });
  nic('lo', 'virtual', { type: '772', address: '00:00:00:00:00:00', operstate: 'unknown', ...stats(5, 5) });
  nic('enp0s31f6', 'pci', { type: '1', address: '3C:EC:EF:00:11:22', operstate: 'up', speed: '1000', ...stats(123, 456) });
  nic('enp1s0', 'pci', { type: '1', address: '3c:ec:ef:00:11:23', operstate: 'down', speed: '-1', ...stats(0, 0) });
  nic('br0', 'virtual', { type: '1', address: '3c:ec:ef:00:11:24', operstate: 'up', ...stats(7, 8) });
  nic('docker0', 'virtual', { type: '1', address: '02:42:ac:11:00:01', operstate: 'up', ...stats(1, 1) });
  nic('veth12ab', 'virtual', { type: '1', address: '02:42:ac:11:00:02', operstate: 'up', ...stats(1, 1) });
  nic('wg0', 'virtual', { type: '65534', address: '', operstate: 'unknown', carrier: '1', ...stats(9, 10) });
  nic('tun1', 'virtual', { type: '65534', operstate: 'unknown', ...stats(0, 0) }); // no IPv4: omitted
  put(root, '/sys/class/net/bonding_masters', '\n');

  const v4 = (address: string, internal = false): import('node:os').NetworkInterfaceInfo => ({
    address,
    netmask: '255.255.255.0',
    family: 'IPv4',
    mac: '00:00:00:00:00:00',
    internal,
    cidr: `${address}/24`,
  });
  let addrs: NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]> = {
    lo: [v4('127.0.0.1', true)],
    br0: [v4('169.254.3.4'), v4('192.168.1.10')],
    docker0: [v4('172.17.0.1')],
    wg0: [v4('10.8.0.2')],
  };
  let now = 0;
  const sampler = new HostSampler({ dataDir: '/', mode: 'linux', sys: treeSysFs(root), networkInterfaces: () => addrs, clock: clockReading(() => now) });
  const s = await sampler.sample();
  assert.deepEqual(s.interfaces, [
    { name: 'br0', ip4: '192.168.1.10', mac: '3c:ec:ef:00:11:24', up: true, speedMbps: null, rxBytes: 7, txBytes: 8 },
    { name: 'enp0s31f6', ip4: null, mac: '3c:ec:ef:00:11:22', up: true, speedMbps: 1000, rxBytes: 123, txBytes: 456 },
    { name: 'enp1s0', ip4: null, mac: '3c:ec:ef:00:11:23', up: false, speedMbps: null, rxBytes: 0, txBytes: 0 },
    { name: 'wg0', ip4: '10.8.0.2', mac: null, up: true, speedMbps: null, rxBytes: 9, txBytes: 10 },
  ]);

  // a USB NIC appears with an address within the TTL: listed at once
  nic('enx001122334455', 'pci', { type: '1', address: '00:11:22:33:44:55', operstate: 'up', speed: '100', ...stats(1, 2) });
  addrs = { ...addrs, enx001122334455: [v4('192.168.2.5')] };
  now = 1000;
  const s2 = await sampler.sample();
  assert.deepEqual(
    s2.interfaces?.map((i) => [i.name, i.ip4]),
    [
      ['br0', '192.168.1.10'],
      ['enp0s31f6', null],
      ['enp1s0', null],
      ['enx001122334455', '192.168.2.5'],
      ['wg0', '10.8.0.2'],
    ],
  );
  // …and gone when unplugged
  rmSync(join(root, '/sys/class/net/enx001122334455'));
  const s3 = await sampler.sample();
  assert.ok(!s3.interfaces?.some((i) => i.name === 'enx001122334455'));
});

test('disk: the mount point from /proc/self/mountinfo (escaped spaces), a data dir not yet created', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, '/srv/camera data/camgate'), { recursive: true });
  put(
    root,
    '/proc/self/mountinfo',
    [
      '22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw',
      '30 22 0:5 / /srv rw shared:2 - tmpfs tmpfs rw',
      '31 30 259:3 / /srv/camera\\040data rw,noatime shared:3 - ext4 /dev/sdb1 rw',
      '32 22 0:6 / /srv/camera rw shared:4 - tmpfs tmpfs rw',
      '',
    ].join('\n'),
  );
  const s = await new HostSampler({ dataDir: '/srv/camera data/camgate/not-yet', mode: 'linux', sys: treeSysFs(root) }).sample();
  assert.ok(s.disk);
  assert.equal(s.disk.path, '/srv/camera data/camgate/not-yet');
  assert.equal(s.disk.mount, '/srv/camera data');
  const st = statfsSync(root);
  assert.equal(s.disk.sizeBytes, st.blocks * st.bsize);

  assert.equal(longestPrefix(['/', '/srv', '/srv/camera'], '/srv/cameras/x'), '/srv');
  assert.equal(longestPrefix(['/', '/srv'], '/srv'), '/srv');
  assert.equal(longestPrefix([], '/srv'), null);
});

test('natural order of sysfs names is localeCompare(en, numeric) without building an ICU collator', () => {
  const ref = (a: string, b: string) => Math.sign(a.localeCompare(b, 'en', { numeric: true }));
  const names = [
    'eth0',
    'eth10',
    'eth2',
    'lo',
    'wlan0',
    'enp3s0',
    'enp0s31f6',
    'docker0',
    'br-4f2a',
    'veth1.20',
    'ifb0',
    'hwmon0',
    'hwmon10',
    'hwmon2',
    'temp1_input',
    'temp10_input',
    'temp1_label',
    'thermal_zone10',
    'thermal_zone9',
    'cooling_device3',
    'name',
    'a',
    'a_b',
    'a-b',
    'a.b',
    'a0',
    'ab',
    '',
    'x01',
    'x1',
    'Eth0',
    'ÿ0',
  ];
  for (const a of names) for (const b of names) assert.equal(natural(a, b), ref(a, b), `${a} vs ${b}`);
  // Random names over the fast path's alphabet.
  const alphabet = 'ab_.-0129z';
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const name = () => Array.from({ length: Math.floor(rnd() * 7) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
  for (let k = 0; k < 20_000; k++) {
    const a = name();
    const b = name();
    assert.equal(natural(a, b), ref(a, b), `${a} vs ${b}`);
  }
});
