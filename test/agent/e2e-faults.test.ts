// End to end: `camgate discover` against a simulator mixing good devices with broken and hostile
// ones, through the spawned CLI and the real drivers. Every bad device must be reported with
// its own error code and a one-line message naming it, the good ones saved, and the command must
// finish within its --timeout. Loopback subnet 127.48.0.0/16 belongs to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../scripts/sim/index';
import type { SimCameraSpec } from '../../scripts/sim/types';
import { runCli, type CliResult } from './helpers';
import { tempDir } from '../kit/temp';

const SITE_LOGIN = { CAMGATE_USERNAME: 'admin', CAMGATE_PASSWORD: 'admin123' };
const TIMEOUT_MS = 8000;
/** What the command may take beyond --timeout: saving and printing (≤ 1 s by design), plus
 * spawning node, which the command cannot count. Generous: this checks the bound, not speed. */
const SLACK_MS = 2500;

const GOOD: SimCameraSpec[] = [
  { host: '127.48.0.2', vendor: 'generic' },
  { host: '127.48.0.3', vendor: 'hikvision', clockSkewMs: 3_600_000 },
  { host: '127.48.0.4', vendor: 'dahua' },
  { host: '127.48.0.5', vendor: 'nvr', channels: 4 },
];

/** Bad devices and the error code the drivers give each (drivers/types.ts DriverErrorCode). */
const BAD: Array<{ spec: SimCameraSpec; code: string }> = [
  // Accepts TCP, never answers: identification starts when it answers the probe and is cut
  // off by the 8 s --timeout before the raised onvif.timeoutMs (10 s).
  { spec: { host: '127.48.0.10', fault: 'hang' }, code: 'timeout' },
  { spec: { host: '127.48.0.11', fault: 'huge' }, code: 'too-large' },
  { spec: { host: '127.48.0.12', fault: 'garbage' }, code: 'malformed' },
  // Billion laughs: refused before parsing, as unsafe XML.
  { spec: { host: '127.48.0.13', fault: 'doctype' }, code: 'unsafe-xml' },
  { spec: { host: '127.48.0.14', fault: 'truncated' }, code: 'malformed' },
  // A well-behaved device whose login is not the site default.
  { spec: { host: '127.48.0.16', vendor: 'hikvision', password: 'not-the-site-password' }, code: 'auth' },
];

/** Answers the discovery port with non-ONVIF junk, so it never becomes a device to identify. */
const NOT_ONVIF: SimCameraSpec = { host: '127.48.0.15', fault: 'not-onvif' };

const RANGE = '127.48.0.2-127.48.0.16';

interface JsonDevice {
  address: string;
  ok: boolean;
  host?: string;
  isNvr?: boolean;
  clockOffsetMs?: number | null;
  channels?: unknown[];
  error?: { code: string; message: string; deadline?: string };
}

interface JsonSummary {
  probeMatches: number;
  probeIgnored: number;
  probeIgnoredFrom: string[];
  identified: number;
  failed: number;
  timedOut: number;
  saved: number;
  timeoutMs: number;
  durationMs: number;
}

interface ListedCamera {
  id: string;
  channel: number;
  device: { host: string; isNvr: boolean; clockOffsetMs: number | null };
}

async function timed(run: Promise<CliResult>): Promise<CliResult & { wallMs: number }> {
  const t0 = Date.now();
  const r = await run;
  return { ...r, wallMs: Date.now() - t0 };
}

function assertNoStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at .+:\d+:\d+\)?$/m, `stack trace on stderr:\n${stderr}`);
  assert.doesNotMatch(stderr, /\b(TypeError|ReferenceError|RangeError|SyntaxError)\b/, stderr);
}

function assertOneReadableLine(message: string, host: string): void {
  assert.ok(message.includes(host), `message does not name ${host}: ${message}`);

  assert.doesNotMatch(message, /[\u0000-\u001f\u007f]/, `not one printable line: ${JSON.stringify(message)}`);
  assert.ok(message.length <= 400, `message too long (${message.length})`);
}

test('discover against good and broken devices: each failure reported, the good ones saved, within --timeout', async (t) => {
  const sim = await startSimulator({ cameras: [...GOOD, ...BAD.map((b) => b.spec), NOT_ONVIF], rtsp: false });
  t.after(() => sim.stop());
  const jsonDir = tempDir(t);
  const humanDir = tempDir(t);
  const args = (dir: string, extra: string[]) => [
    'discover',
    '--range',
    RANGE,
    '--no-multicast',
    '--timeout',
    String(TIMEOUT_MS),
    '--onvif.timeout-ms',
    '10000',
    '--data-dir',
    dir,
    ...extra,
  ];

  // JSON and table mode side by side (separate inventories): the simulator serves both.
  const [json, human] = await Promise.all([
    timed(runCli(args(jsonDir, ['--json']), { env: SITE_LOGIN, timeoutMs: 60_000 })),
    timed(runCli(args(humanDir, []), { env: SITE_LOGIN, timeoutMs: 60_000 })),
  ]);

  // --- JSON mode ---
  assert.equal(json.code, 1, `exit code\n${json.stderr}`);
  assertNoStackTrace(json.stderr);
  assert.ok(json.wallMs < TIMEOUT_MS + SLACK_MS, `discover took ${json.wallMs} ms with --timeout ${TIMEOUT_MS}`);
  const out = JSON.parse(json.stdout) as { devices: JsonDevice[]; summary: JsonSummary };
  assert.ok(out.summary.durationMs <= TIMEOUT_MS + 500, `sweep took ${out.summary.durationMs} ms`);
  assert.equal(out.summary.timeoutMs, TIMEOUT_MS);

  const byHost = new Map(out.devices.map((d) => [d.address.replace(/:\d+$/, ''), d]));
  for (const g of GOOD) {
    const d = byHost.get(g.host);
    assert.ok(d?.ok, `${g.host} (${g.vendor}) not identified: ${JSON.stringify(d?.error)}`);
  }
  assert.equal(byHost.get('127.48.0.5')!.isNvr, true);
  assert.equal(byHost.get('127.48.0.5')!.channels!.length, 4);

  for (const b of BAD) {
    const d = byHost.get(b.spec.host);
    assert.ok(d, `${b.spec.host} (${b.spec.fault ?? 'wrong password'}) missing from the output`);
    assert.equal(d.ok, false);
    assert.equal(d.error?.code, b.code, `${b.spec.host} (${b.spec.fault ?? 'wrong password'}): ${d.error?.message}`);
    assertOneReadableLine(d.error.message, b.spec.host);
  }
  const hung = byHost.get('127.48.0.10')!.error!;
  assert.equal(hung.deadline, 'overall');
  assert.match(hung.message, /the overall --timeout of 8000 ms ran out; raise --timeout/);

  // The not-ONVIF box answered the probe with junk: ignored (and said so), never identified.
  assert.equal(byHost.get(NOT_ONVIF.host), undefined);
  assert.ok(out.summary.probeIgnored >= 1, `probeIgnored ${out.summary.probeIgnored}`);
  assert.deepEqual(out.summary.probeIgnoredFrom, [NOT_ONVIF.host]);
  assert.match(json.stderr, /ignored \d+ answer\(s\) that were not ONVIF probe matches, from 127\.48\.0\.15/);

  assert.equal(out.devices.length, GOOD.length + BAD.length);
  assert.equal(out.summary.probeMatches, GOOD.length + BAD.length);
  assert.equal(out.summary.identified, GOOD.length);
  assert.equal(out.summary.failed, BAD.length);
  assert.equal(out.summary.timedOut, 1);
  assert.equal(out.summary.saved, GOOD.length);

  // Saved: every good device with all its channels, nothing from the bad ones.
  const list = await runCli(['cameras', 'list', '--json', '--data-dir', jsonDir]);
  assert.equal(list.code, 0, list.stderr);
  const cameras = JSON.parse(list.stdout) as ListedCamera[];
  const hostsSaved = [...new Set(cameras.map((c) => c.device.host))].sort();
  assert.deepEqual(hostsSaved, GOOD.map((g) => g.host).sort());
  const nvrCameras = cameras.filter((c) => c.device.host === '127.48.0.5');
  assert.deepEqual(nvrCameras.map((c) => c.channel).sort(), [1, 2, 3, 4]);
  assert.ok(nvrCameras.every((c) => c.device.isNvr));
  assert.equal(cameras.length, GOOD.length - 1 + 4);
  const hik = cameras.find((c) => c.device.host === '127.48.0.3')!;
  assert.ok(Math.abs(hik.device.clockOffsetMs! - 3_600_000) <= 2000, `hikvision clock offset ${hik.device.clockOffsetMs}`);

  // --- table mode ---
  assert.equal(human.code, 1, human.stderr);
  assertNoStackTrace(human.stderr);
  assert.ok(human.wallMs < TIMEOUT_MS + SLACK_MS, `discover took ${human.wallMs} ms with --timeout ${TIMEOUT_MS}`);
  const lines = human.stdout.split('\n');
  const failedLines = lines.filter((l) => l.startsWith('✗'));
  assert.equal(failedLines.length, BAD.length, failedLines.join('\n'));
  for (const b of BAD) {
    const line = failedLines.find((l) => l.startsWith(`✗ ${b.spec.host}:80  `));
    assert.ok(line, `no ✗ line for ${b.spec.host}`);
    assertOneReadableLine(line, b.spec.host);
  }
  assert.match(
    failedLines.find((l) => l.startsWith('✗ 127.48.0.10:80'))!,
    /overall --timeout of 8000 ms ran out; raise --timeout/,
  );
  assert.match(
    failedLines.find((l) => l.startsWith('✗ 127.48.0.16:80'))!,
    /authentication failed .*→ store its login: camgate cameras add onvif 127\.48\.0\.16:80/,
  );
  assert.ok(!lines.some((l) => l.includes('127.48.0.15')), 'the not-ONVIF box is no device');
  assert.equal(lines.filter((l) => l.startsWith('✓')).length, GOOD.length);
  assert.match(human.stdout, /4 device\(s\) identified, 6 failed \(1 stopped by the overall 8000 ms timeout\); saved 4 \(4 new\), in \d+\.\d s\n$/);
});
