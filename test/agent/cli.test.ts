import net from 'node:net';
// The CLI as installers use it: spawned `node bin/camgate.js` with a temp --data-dir. The seeded
// cameras sit in 127.76.0.0/16, which belongs to this file: `camgate run` probes them, and nothing
// may leave the machine. Agents listen on a port the system picks (web.port 0), never a fixed one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { siteIdFromHostname } from '../../agent/cli/context';
import Database from 'better-sqlite3';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { BIN, runCli } from './helpers';
import { tempDir } from '../kit/temp';
import { channel, report } from '../kit/reports';
import { PLANTED } from '../kit/secrets';
import { fakeDiagnosis } from '../kit/diagnosis';
import { HealthStore } from '../../agent/health/store';

function seed(dataDir: string): { single: string; nvr: string[] } {
  const db = openDatabase(dataDir);
  try {
    const now = new Date('2025-01-01T00:00:00Z');
    const single = upsertDeviceReport(db, report({ host: '127.76.0.5' }), { now }).cameras[0].id;
    const host = '127.76.0.9';
    const nvr = upsertDeviceReport(
      db,
      report({
        host,
        endpointUuid: 'urn:uuid:nvr-1',
        identity: { manufacturer: 'Acme', model: 'NVR', serial: 'N1' },
        isNvr: true,
        channels: [channel(1, host), channel(2, host)],
      }),
      { now },
    ).cameras.map((c) => c.id);
    return { single, nvr };
  } finally {
    db.close();
  }
}

function dbSnapshot(dataDir: string): string {
  const db = new Database(join(dataDir, 'camgate.db'), { readonly: true });
  try {
    return JSON.stringify([db.prepare('SELECT * FROM cameras ORDER BY id').all(), db.prepare('SELECT * FROM devices ORDER BY id').all()]);
  } finally {
    db.close();
  }
}

test('help exits 0 and warns that flags show in process lists', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /process lists/);
  assert.match(r.stdout, /--discovery\.timeout-ms <n>\s+CAMGATE_DISCOVERY_TIMEOUT_MS/);
  for (const alias of ['--config', '--data-dir', '--site', '--broker', '--username', '--password', '--log-level', '--log-format'])
    assert.ok(r.stdout.includes(alias), alias);
});

test('usage errors exit 2 with one clear line and no stack trace', async (t) => {
  const dir = tempDir(t);
  const unknown = await runCli(['bogus']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^camgate: unknown command 'bogus'/);
  const noCamera = await runCli(['cameras', 'show', 'nope', '--data-dir', dir]);
  assert.equal(noCamera.code, 2);
  assert.equal(noCamera.stderr, 'camgate: no camera with id or name "nope" (see: camgate cameras list)\n');
  const badTimeout = await runCli(['discover', '--timeout', 'soon', '--data-dir', dir]);
  assert.equal(badTimeout.code, 2);
  assert.match(badTimeout.stderr, /--timeout "soon": expected an integer ≥ 100/);
  const group = await runCli(['cameras']);
  assert.equal(group.code, 2);
});

test('config errors name the key, value and expectation; exit 2', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(['config', 'check', '--data-dir', dir], { env: { CAMGATE_DISCOVERY_TIMEOUT_MS: 'abc' } });
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /^camgate: config error: discovery\.timeoutMs = "abc" \(env CAMGATE_DISCOVERY_TIMEOUT_MS\): expected an integer ≥ 100/);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'discovery:\n  multicst: false\n');
  const typo = await runCli(['config', 'check', '--config', file]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /discovery\.multicst \(.*c\.yaml:2\): unknown key; did you mean discovery\.multicast\?/);
  const ranges = await runCli(['config', 'check', '--discovery.ranges', '127.76.1.1-127.76.1.x']);
  assert.equal(ranges.code, 2);
  assert.match(ranges.stderr, /^camgate: config error: discovery\.ranges: .*127\.76\.1\.x/);
  const good = await runCli(['config', 'check', '--discovery.ranges', '127.76.1.0/24', '--site', 'v1']);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /^config ok/);
  const flagBad = await runCli(['config', 'show', '--log-level', 'loud']);
  assert.equal(flagBad.code, 2);
  assert.match(flagBad.stderr, /log\.level = "loud" \(flag --log-level\): expected one of fatal/);
});

test('config show: effective values and sources; secrets masked', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, `site:\n  id: from-file\nbroker:\n  password: "${PLANTED}"\n`);
  const r = await runCli(['config', 'show', '--config', file, '--password', PLANTED, '--site', 'from-flag', '--json'], {
    env: { CAMGATE_ONVIF_TIMEOUT_MS: '900' },
  });
  assert.equal(r.code, 0, r.stderr);
  const shown = JSON.parse(r.stdout);
  assert.equal(shown.site.id, 'from-flag');
  assert.equal(shown.onvif.timeoutMs, 900);
  assert.equal(shown.cameras.password, '********');
  assert.equal(shown.broker.password, '********');
  const table = await runCli(['config', 'show', '--config', file], { env: { CAMGATE_PASSWORD: PLANTED } });
  assert.equal(table.code, 0);
  assert.match(table.stdout, /cameras\.password\s+│ \*+\s+│ env CAMGATE_PASSWORD/);
  assert.match(table.stdout, /site\.id\s+│ from-file\s+│ .*c\.yaml:2/);
  for (const out of [r.stdout, r.stderr, table.stdout, table.stderr]) assert.ok(!out.includes(PLANTED));
});

test('config keys lists every key with flag and variable', async () => {
  const r = await runCli(['config', 'keys', '--json']);
  assert.equal(r.code, 0);
  const keys = JSON.parse(r.stdout) as Array<{ key: string; flag: string; env: string }>;
  assert.deepEqual(
    keys.find((k) => k.key === 'discovery.timeoutMs'),
    { ...keys.find((k) => k.key === 'discovery.timeoutMs'), flag: '--discovery.timeout-ms', env: 'CAMGATE_DISCOVERY_TIMEOUT_MS' },
  );
});

test('cameras list/show: tables by default, JSON with --json, NVR channels separate', async (t) => {
  const dir = tempDir(t);
  const { single, nvr } = seed(dir);
  const list = await runCli(['cameras', 'list', '--json', '--data-dir', dir]);
  assert.equal(list.code, 0, list.stderr);
  const cams = JSON.parse(list.stdout) as Array<{ id: string; channel: number; device: { isNvr: boolean } }>;
  assert.deepEqual(
    cams.map((c) => c.id),
    [single, ...nvr],
  );
  assert.equal(cams.filter((c) => c.device.isNvr).length, 2);
  const table = await runCli(['cameras', 'list', '--data-dir', dir]);
  assert.match(table.stdout, /ID\s+│ NAME/);
  assert.ok(table.stdout.includes(nvr[1]));
  const show = await runCli(['cameras', 'show', nvr[1], '--data-dir', dir]);
  assert.equal(show.code, 0);
  assert.match(show.stdout, /channel\s+│ 2 of NVR/);
  assert.match(show.stdout, /rtsp:\/\/127\.76\.0\.9:554\/ch2\/main/);
});

test('cameras set: labels by id or name; bad values exit 2 listing every problem', async (t) => {
  const dir = tempDir(t);
  const { single, nvr } = seed(dir);
  const ok = await runCli([
    'cameras',
    'set',
    single,
    '--name',
    '村口 北向',
    '--class',
    '1',
    '--lat',
    '-30.5',
    '--lon',
    '120.25',
    '--region',
    '浙江省/杭州市/西湖区/转塘街道/长坞村',
    '--owner',
    'police',
    '--notes',
    'pole 3',
    '--install-date',
    '2024-05-01',
    '--data-dir',
    dir,
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /updated .*: labels name, class, latitude, longitude, region, owner, notes, install_date/);
  const byName = await runCli(['cameras', 'show', '村口 北向', '--json', '--data-dir', dir]);
  const cam = JSON.parse(byName.stdout);
  assert.equal(cam.id, single);
  assert.equal(cam.latitude, -30.5);
  assert.equal(cam.region, '浙江省/杭州市/西湖区/转塘街道/长坞村');
  const before = dbSnapshot(dir);
  const bad = await runCli(['cameras', 'set', nvr[0], '--name', '村口 北向', '--lat', '100', '--class', 'one', '--data-dir', dir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--lat "100": must be a number from -90 to 90/);
  assert.match(bad.stderr, /--class "one": must be 1, 2 or 3/);
  assert.equal(dbSnapshot(dir), before);
  const dup = await runCli(['cameras', 'set', nvr[0], '--name', '村口 北向', '--data-dir', dir]);
  assert.equal(dup.code, 2);
  assert.match(dup.stderr, /already the name of camera/);
  const nothing = await runCli(['cameras', 'set', nvr[0], '--data-dir', dir]);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to set/);
});

test('export → import round trip changes nothing; a bad file imports nothing and lists every bad row', async (t) => {
  const dir = tempDir(t);
  const { single, nvr } = seed(dir);
  await runCli(['cameras', 'set', single, '--name', 'A, "quoted"', '--notes', 'multi\nline', '--lat', '1', '--lon', '2', '--data-dir', dir]);
  const before = dbSnapshot(dir);
  for (const format of ['csv', 'yaml']) {
    const file = join(dir, `labels.${format}`);
    const exp = await runCli(['cameras', 'export', '-o', file, '--data-dir', dir]);
    assert.equal(exp.code, 0, exp.stderr);
    const imp = await runCli(['cameras', 'import', file, '--data-dir', dir]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /3 rows, 0 cameras changed/);
    assert.equal(dbSnapshot(dir), before);
  }
  assert.ok(readFileSync(join(dir, 'labels.csv'), 'utf8').startsWith('\uFEFFid,name,'));
  const stdoutExport = await runCli(['cameras', 'export', '--format', 'yaml', '--data-dir', dir]);
  assert.match(stdoutExport.stdout, /^# camgate cameras export/);

  const bad = join(dir, 'bad.csv');
  writeFileSync(
    bad,
    ['id,name,class,latitude,longitude', `${single},Fine,1,30,120`, `${nvr[0]},X,7,,`, 'cam-ghost,Y,,,', `${nvr[1]},Fine,,95,10`].join('\n') + '\n',
  );
  const r = await runCli(['cameras', 'import', bad, '--data-dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.csv: 5 problems; nothing was imported:/);
  assert.match(r.stderr, /line 2 .*name "Fine" is also given to camera .* on line 5/);
  assert.match(r.stderr, /line 3 \(camera .*\): class = "7": must be 1, 2 or 3/);
  assert.match(r.stderr, /line 4: id "cam-ghost": no such camera/);
  assert.match(r.stderr, /line 5 \(camera .*\): latitude = "95"/);
  assert.match(r.stderr, /line 5 .*name "Fine" is also given to camera .* on line 2/);
  assert.equal(dbSnapshot(dir), before, 'a bad file imports nothing');
});

test('cameras remove needs --yes when not interactive', async (t) => {
  const dir = tempDir(t);
  const { single } = seed(dir);
  const refused = await runCli(['cameras', 'remove', single, '--data-dir', dir]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /refusing to remove .* without --yes/);
  const ok = await runCli(['cameras', 'remove', single, '--yes', '--data-dir', dir]);
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /removed .* and device/);
});

test('cameras reference: shows, writes, renews and clears the picture reference the health monitor keeps', async (t) => {
  const dir = tempDir(t);
  const { single } = seed(dir);
  const none = await runCli(['cameras', 'reference', single, '--data-dir', dir]);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /none yet: taken from its next picture without a fault/);
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
  const db = openDatabase(dir);
  try {
    new HealthStore(db).saveReference(
      single,
      { measures: fakeDiagnosis().measures, takenAt: '2026-01-01T00:00:00.000Z', origin: 'first-good-probe' },
      jpeg,
      null,
    );
  } finally {
    db.close();
  }
  const file = join(dir, 'ref.jpg');
  const shown = await runCli(['cameras', 'reference', single, '-o', file, '--data-dir', dir]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /taken 2026-01-01T00:00:00.000Z from its first picture without a fault \(confirm it with --renew\)/);
  assert.deepEqual(readFileSync(file), jpeg);
  const renew = await runCli(['cameras', 'reference', single, '--renew', '--data-dir', dir]);
  assert.equal(renew.code, 0, renew.stderr);
  assert.match(renew.stdout, /renewal asked for: the running agent probes .* within 30 s/);
  const pending = JSON.parse((await runCli(['cameras', 'reference', single, '--json', '--data-dir', dir])).stdout) as Record<string, unknown>;
  assert.deepEqual(pending, {
    camera: single,
    reference: { takenAt: '2026-01-01T00:00:00.000Z', origin: 'first-good-probe', thumbnailBytes: jpeg.length },
    renewPending: true,
  });
  const both = await runCli(['cameras', 'reference', single, '--renew', '--clear', '--data-dir', dir]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--renew and --clear together: give one of them/);
  const cleared = await runCli(['cameras', 'reference', single, '--clear', '--data-dir', dir]);
  assert.match(cleared.stdout, /cleared the picture reference/);
  const nothing = await runCli(['cameras', 'reference', single, '-o', file, '--data-dir', dir]);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /has no picture reference: nothing written to/);
});

test('runtime failures exit 1 with one line; --log-level debug adds the stack', async (t) => {
  const dir = tempDir(t);
  openDatabase(dir).close();
  const raw = new Database(join(dir, 'camgate.db'));
  raw.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (42, 'future', 'x')").run();
  raw.close();
  const r = await runCli(['cameras', 'list', '--data-dir', dir]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /schema version 42, newer than this camgate understands/);
  const debug = await runCli(['cameras', 'list', '--data-dir', dir, '--log-level', 'debug']);
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /\n\s+at /);
});

test('siteIdFromHostname keeps only topic-safe characters', () => {
  assert.equal(siteIdFromHostname('box-01.village'), 'box-01.village');
  assert.equal(siteIdFromHostname('东涌村 box#2'), 'box-2');
  assert.equal(siteIdFromHostname('###'), 'camgate-site');
});

test('run: a live view port already taken is logged as an error naming web.port; the agent runs on without the page', async (t) => {
  const dir = tempDir(t);
  seed(dir);
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.after(() => taken.close());
  const port = (taken.address() as net.AddressInfo).port;
  const child = spawn(process.execPath, [BIN, 'run', '--data-dir', dir, '--site.id', 'port-taken', '--web.port', String(port)]);
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "live view page not started" in: ${stderr}`)), 15_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('live view page not started') && stderr.includes('agent started')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const line = JSON.parse(stderr.split('\n').find((l) => l.includes('live view page not started'))!);
  assert.equal(line.level, 50);
  assert.match(line.msg, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is already in use.*web\\.port`));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /"msg":"agent stopped"/);
});

test('run: a live view open to the LAN without a password is refused, naming web.password', async (t) => {
  const dir = tempDir(t);
  seed(dir);
  const r = await runCli(['run', '--data-dir', dir, '--site.id', 'open-lan', '--web.host', '0.0.0.0', '--web.port', '0'], { timeoutMs: 20_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /web\.password/);
});

test('run: logs "agent started" with site and camera count, stops cleanly on SIGTERM', async (t) => {
  const dir = tempDir(t);
  seed(dir);

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAMGATE_') && v !== undefined) env[k] = v;
  // No site id anywhere: the embedded default is derived from the host name. Only the port is
  // set (the default 8088 is config.test's), so that runs beside this one cannot collide.
  const child = spawn(process.execPath, [BIN, 'run', '--data-dir', dir], { env: { ...env, CAMGATE_PASSWORD: PLANTED, CAMGATE_WEB_PORT: '0' } });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "agent started" and "live view page listening" in: ${stderr}`)), 15_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('agent started') && stderr.includes('live view page listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await started;
  const line = JSON.parse(stderr.split('\n').find((l) => l.includes('agent started'))!);
  assert.equal(line.site.id, siteIdFromHostname(hostname()));
  assert.match(stderr, /site\.id is not set; using/);
  assert.equal(line.cameras, 3);
  assert.equal(line.level, 30);
  // The embedded defaults serve the live view page on this box only.
  const web = JSON.parse(stderr.split('\n').find((l) => l.includes('live view page listening'))!);
  const url = /^http:\/\/127\.0\.0\.1:(\d+)\/$/.exec(web.url);
  assert.ok(url && Number(url[1]) > 0, web.url);
  const page = await fetch(web.url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<video|live\.js/);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.match(stderr, /"msg":"agent stopped"/);
  // Counted once the agent has exited: every line it wrote is in.
  const listening = stderr.split('\n').filter((l) => l.includes('live view page listening'));
  assert.equal(listening.length, 1, listening.join('\n'));
  assert.equal(JSON.parse(listening[0]).msg, `live view page listening on ${web.url}`);
  assert.equal(stdout, '');
  assert.ok(!stderr.includes(PLANTED));
});
