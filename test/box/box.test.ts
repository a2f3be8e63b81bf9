// The all-in-one box (`camgate start`): one process with an embedded broker, the central and the
// agent(s), as a township or a first look runs it. The demo's three simulated sites reach the
// central's API with the faults, outages and missing coordinates it planned; the box stops cleanly
// on a signal; a taken broker port gets an error that says what to do.
// Loopback 127.213.0.0/16 belongs to this file (the demo's cameras live there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { main, type BoxCliIo } from '../../box/cli';
import { DEMO_SITES } from '../../box/demo';
import { loginClient } from '../kit/api';
import { tempDir } from '../kit/temp';
import { waitFor } from '../kit/wait';

function captureIo(): BoxCliIo & { out: () => string; err: () => string; stop(): void } {
  let out = '';
  let err = '';
  let release: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => (release = resolve));
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { CAMGATE_CENTRAL_LOG_LEVEL: 'warn' },
    stderrIsTTY: false,
    stderrHasColors: false,
    stdinIsTTY: false,
    readStdinLine: () => Promise.resolve(''),
    promptSecret: () => Promise.reject(new Error('no terminal in this test')),
    waitForStop: () => stopped,
    out: () => out,
    err: () => err,
    stop: () => release('SIGTERM'),
  };
}

interface CameraList {
  total: number;
  items: Array<{ site: string; name: string; state: string; picture: string | null; faults: string[]; latitude: number | null }>;
}

test('camgate start --demo: three simulated sites reach the central with the faults, outages and gaps planned', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const io = captureIo();
  const running = main(['--demo', '--data-dir', dir, '--http-port', '0'], io);
  t.after(async () => {
    io.stop();
    await running;
  });
  const api = await waitFor(
    () => /central API +(http:\/\/\S+)\/api /.exec(io.err())?.[1],
    'the summary with the API address',
    90_000,
    () => io.err(),
  );
  assert.match(io.err(), /site guali +live view http:\/\/127\.0\.0\.1:\d+\//);
  // A newcomer opens the dashboard the summary names: the page the central serves at its root.
  const dashboard = /dashboard +(http:\/\/\S+\/) /.exec(io.err())?.[1];
  assert.equal(dashboard, `${api}/`, `the summary names the dashboard: ${io.err()}`);
  const page = await fetch(dashboard);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await page.text(), /<div id="app">/);
  // The demo's first admin, its generated password shown once in the summary.
  const first = /admin login +(\S+) \/ (\S+) +\(shown this once/.exec(io.err());
  assert.ok(first, `the summary shows the first admin's login: ${io.err()}`);
  assert.ok(first[2].length >= 16, 'a generated password, not a default one');
  const admin = await loginClient(api, first[1], first[2]);

  const planned = DEMO_SITES.flatMap((s) => s.cameras.map((c) => ({ site: s.id, ...c })));
  const list = await waitFor(
    async () => {
      const l = (await admin.get<CameraList>('/api/cameras?limit=100')).body;
      const settled = l.items.every((c) => c.state === 'offline' || (c.state === 'online' && c.picture !== null && c.picture !== 'none'));
      return l.total === planned.length && settled ? l : false;
    },
    'every demo camera with a state and a picture verdict',
    120_000,
  );
  for (const camera of planned) {
    const seen = list.items.find((c) => c.site === camera.site && c.name === camera.name);
    assert.ok(seen, `${camera.name} in the central`);
    assert.equal(seen.state, camera.offline ? 'offline' : 'online', `${camera.name}: state`);
    if (!camera.offline) assert.equal(seen.picture === 'fault', camera.picture !== undefined, `${camera.name}: picture ${JSON.stringify(seen.faults)}`);
    assert.equal(seen.latitude === null, camera.at === null, `${camera.name}: coordinates`);
  }
  const sites = (await admin.get<Array<{ site: string; connection: string }>>('/api/sites')).body;
  assert.deepEqual(
    sites.map((s) => `${s.site} ${s.connection}`),
    ['guali online', 'liangzhu online', 'yuqian online'],
  );
  // Today's figures (measured every 10 s on the box): every camera counted, the five without coordinates missing from the geo-labelled count.
  const withoutCoordinates = planned.filter((c) => c.at === null).length;
  const figures = await waitFor(
    async () => {
      const f = (await admin.get<{ total: { cameras: number; atEnd: { cameras: number; geoLabelled: number } } }>('/api/figures')).body;
      return f.total.atEnd.cameras === planned.length ? f : false;
    },
    "today's figures with every demo camera",
    60_000,
  );
  assert.equal(figures.total.cameras, planned.length);
  assert.equal(figures.total.atEnd.geoLabelled, planned.length - withoutCoordinates);

  io.stop();
  assert.equal(await running, 0);
});

test('camgate start: a taken broker port is refused with what to do', async (t) => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as net.AddressInfo).port;
  const io = captureIo();
  const code = await main(['--data-dir', tempDir(t), '--site', 'box-1', '--broker-port', String(port), '--http-port', '0'], io);
  assert.equal(code, 1);
  assert.match(io.err(), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is taken .*--broker-port.*--broker mqtt://127\\.0\\.0\\.1:${port}`));
});

test('camgate start: a bad port is a usage error naming the flag', async (t) => {
  const io = captureIo();
  const code = await main(['--data-dir', tempDir(t), '--http-port', '99999'], io);
  assert.equal(code, 2);
  assert.match(io.err(), /--http-port "99999": expected a TCP port/);
});
