// The all-in-one box (`camgate start`): one process with an embedded broker, the central and the
// agent(s), as a township or a first look runs it. The demo's three simulated sites reach the
// central's API with the faults, outages and missing coordinates it planned, on top of 30 days of
// history they replayed (the trend, yesterday's report, hourly metrics at once), which a restart
// does not send again; the box stops cleanly on a signal; a taken broker port and a bad
// --demo-days get errors that say what to do.
// Loopback 127.213.0.0/16 belongs to this file (the demo's cameras live there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { main, type BoxCliIo } from '../../box/cli';
import { DEMO_SITES } from '../../box/demo';
import { loginClient } from '../kit/api';
import { tempDir } from '../kit/temp';
import { waitFor } from '../kit/wait';

const DAY = 86_400_000;

/** A local day of the central's zone (Asia/Shanghai, UTC+8 all year), `back` days before today. */
function shanghaiDay(back: number): string {
  return new Date(Date.now() + 8 * 3_600_000 - back * DAY).toISOString().slice(0, 10);
}

interface DayFigure {
  cameras: number;
  onlineRate: number | null;
  coverage: number | null;
}

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
  items: Array<{
    site: string;
    camera: string;
    name: string;
    state: string;
    statusAt: string | null;
    picture: string | null;
    faults: string[];
    latitude: number | null;
  }>;
}

/** Yesterday's hourly metrics of a site: how many samples each hour. */
async function yesterdaysSamples(admin: Awaited<ReturnType<typeof loginClient>>, site: string): Promise<number[]> {
  const day = shanghaiDay(1);
  const history = (await admin.get<{ metrics: Array<{ hour: string; samples: number }> }>(`/api/sites/${site}/history?from=${day}&to=${day}`)).body;
  return history.metrics.map((m) => m.samples);
}

test(
  'camgate start --demo: three simulated sites reach the central with 30 days of history and the faults, outages and gaps planned',
  { timeout: 300_000 },
  async (t) => {
    const dir = tempDir(t);
    const io = captureIo();
    const startedAt = Date.now();
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

    // The history is measured by the time the summary is printed: the last 30 days, each with every camera.
    const days = (
      await admin.get<{ groups: Array<{ key: string; figure: DayFigure }> }>(`/api/figures?groupBy=day&from=${shanghaiDay(30)}&to=${shanghaiDay(1)}`)
    ).body.groups;
    assert.deepEqual(
      days.map((d) => d.key),
      Array.from({ length: 30 }, (_, i) => shanghaiDay(30 - i)),
      'a figure for each of the last 30 days',
    );
    for (const d of days) {
      assert.equal(d.figure.cameras, 24, `${d.key}: every demo camera counted`);
      assert.equal(d.figure.coverage, 1, `${d.key}: the site metrics leave no minute unknown`);
      assert.ok(d.figure.onlineRate !== null && d.figure.onlineRate >= 0.5 && d.figure.onlineRate <= 1, `${d.key}: online rate ${d.figure.onlineRate}`);
    }
    const rates = days.map((d) => d.figure.onlineRate as number);
    assert.ok(rates.filter((r) => r >= 0.8).length >= 25, `most days online 80% or more: ${rates.join(' ')}`);
    assert.ok(rates.filter((r) => r >= 0.95).length >= 20, `most days hardly any outage: ${rates.join(' ')}`);
    assert.ok(
      rates.some((r) => r < 0.9),
      `a bad day gives the trend a shape: ${rates.join(' ')}`,
    );
    // Yesterday's daily report, the one the Reports page opens on, has data.
    const report = (
      await admin.get<{
        daysMissing: string[];
        summary: { rates: Array<{ key: string; value: number | null }>; counts: Array<{ key: string; value: number }> };
      }>(`/api/reports/daily?day=${shanghaiDay(1)}`)
    ).body;
    assert.deepEqual(report.daysMissing, []);
    assert.equal(report.summary.counts.find((c) => c.key === 'cameras')?.value, 24);
    const online = report.summary.rates.find((r) => r.key === 'onlineRate')?.value;
    assert.ok(online !== null && online !== undefined && online > 0.5, `yesterday's online rate ${online}`);
    // The sites' evidence of life: metrics through every hour of yesterday.
    const samples = await yesterdaysSamples(admin, 'guali');
    assert.equal(samples.length, 24, 'every hour of yesterday');
    assert.ok(
      samples.every((n) => n >= 20),
      `samples an hour: ${samples.join(' ')}`,
    );

    const planned = DEMO_SITES.flatMap((s) => s.cameras.map((c) => ({ site: s.id, ...c })));
    const list = await waitFor(
      async () => {
        const l = (await admin.get<CameraList>('/api/cameras?limit=100')).body;
        // From the live agents, not the history (which ended before they started).
        const live = l.items.every((c) => c.statusAt !== null && Date.parse(c.statusAt) >= startedAt);
        const settled = l.items.every((c) => c.state === 'offline' || (c.state === 'online' && c.picture !== null && c.picture !== 'none'));
        return l.total === planned.length && live && settled ? l : false;
      },
      'every demo camera with a live state and a picture verdict',
      120_000,
    );
    for (const camera of planned) {
      const seen = list.items.find((c) => c.site === camera.site && c.name === camera.name);
      assert.ok(seen, `${camera.name} in the central`);
      assert.equal(seen.state, camera.offline ? 'offline' : 'online', `${camera.name}: state`);
      if (!camera.offline) assert.equal(seen.picture === 'fault', camera.picture !== undefined, `${camera.name}: picture ${JSON.stringify(seen.faults)}`);
      assert.equal(seen.latitude === null, camera.at === null, `${camera.name}: coordinates`);
    }
    // Each camera's page: a known state through every minute of yesterday, and over the month an outage or a fault somewhere.
    const states = new Set<string>();
    for (const camera of list.items) {
      const yesterday = (
        await admin.get<{ bands: Array<{ state: string }> }>(
          `/api/cameras/${camera.site}/${camera.camera}/timeline?from=${shanghaiDay(1)}&to=${shanghaiDay(1)}`,
        )
      ).body;
      assert.ok(
        yesterday.bands.length > 0 && yesterday.bands.every((b) => ['online', 'fault', 'offline'].includes(b.state)),
        `${camera.name} yesterday: ${yesterday.bands.map((b) => b.state).join(' ')}`,
      );
      const month = (
        await admin.get<{ bands: Array<{ state: string }> }>(
          `/api/cameras/${camera.site}/${camera.camera}/timeline?from=${shanghaiDay(30)}&to=${shanghaiDay(1)}`,
        )
      ).body;
      for (const b of month.bands) states.add(b.state);
    }
    assert.deepEqual([...states].sort(), ['fault', 'offline', 'online'], 'the month: online, outages and picture faults, never unknown');
    const sites = (await admin.get<Array<{ site: string; connection: string }>>('/api/sites')).body;
    assert.deepEqual(
      sites.map((s) => `${s.site} ${s.connection}`),
      ['guali online', 'liangzhu online', 'yuqian online'],
    );
    // Today's figures (measured every 10 s on the box), measured after the live statuses: every camera
    // counted, the five without coordinates missing from the geo-labelled count.
    const latestLive = Math.max(...list.items.map((c) => Date.parse(c.statusAt as string)));
    const withoutCoordinates = planned.filter((c) => c.at === null).length;
    const figures = await waitFor(
      async () => {
        const f = (
          await admin.get<{
            computedThrough: string | null;
            total: { cameras: number; offlineSeconds: number; atEnd: { cameras: number; geoLabelled: number } };
          }>('/api/figures')
        ).body;
        return f.computedThrough !== null && Date.parse(f.computedThrough) > latestLive && f.total.atEnd.cameras === planned.length ? f : false;
      },
      "today's figures with every demo camera, measured after their live statuses",
      60_000,
    );
    assert.equal(figures.total.cameras, planned.length);
    assert.equal(figures.total.atEnd.geoLabelled, planned.length - withoutCoordinates);
    assert.ok(figures.total.offlineSeconds > 0, 'the cameras planned offline count today');

    io.stop();
    assert.equal(await running, 0);

    // A restart keeps the history it has and sends none again: yesterday's hours have as many samples.
    const again = captureIo();
    const restarted = main(['--demo', '--data-dir', dir, '--http-port', '0'], again);
    t.after(async () => {
      again.stop();
      await restarted;
    });
    const api2 = await waitFor(
      () => /central API +(http:\/\/\S+)\/api /.exec(again.err())?.[1],
      'the summary after the restart',
      90_000,
      () => again.err(),
    );
    assert.match(again.err(), /admin login +the one made at the first start/);
    const admin2 = await loginClient(api2, first[1], first[2]);
    assert.deepEqual(await yesterdaysSamples(admin2, 'guali'), samples);
    again.stop();
    assert.equal(await restarted, 0);
  },
);

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

test('camgate start: a bad --demo-days is a usage error naming the flag and the fix', async (t) => {
  for (const [args, expected] of [
    [['--demo', '--demo-days', '-1'], /--demo-days "-1": expected a whole number of days, 0 to 90 \(0 = no history\)/],
    [['--demo', '--demo-days', '2.5'], /--demo-days "2\.5": expected a whole number of days/],
    [['--demo', '--demo-days', '91'], /--demo-days "91": expected a whole number of days, 0 to 90/],
    [['--demo-days', '7'], /--demo-days "7": only the demo has a made-up history; add --demo, or leave --demo-days out/],
  ] as const) {
    const io = captureIo();
    const code = await main(['--data-dir', tempDir(t), '--http-port', '0', ...args], io);
    assert.equal(code, 2, args.join(' '));
    assert.match(io.err(), expected);
  }
});

test('camgate start: a bad port is a usage error naming the flag', async (t) => {
  const io = captureIo();
  const code = await main(['--data-dir', tempDir(t), '--http-port', '99999'], io);
  assert.equal(code, 2);
  assert.match(io.err(), /--http-port "99999": expected a TCP port/);
});
