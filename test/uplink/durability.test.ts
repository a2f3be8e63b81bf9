// Durability and the Will with real processes: kill -9 the agent in a loop while it publishes,
// restart it each time, let it drain, and check against a subscriber that every event that
// entered the outbox was delivered, duplicates only ever with the same message id. Also the
// real `camgate run` process: its Will on SIGKILL, bdSeq persisted across restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort, startMosquitto } from '../../scripts/peers/mosquitto';
import { tempDir } from '../kit/temp';
import { sleep } from '../kit/wait';
import { seededRandom, testSeed } from '../kit/random';
import { recorder } from '../kit/mqtt';

const HARNESS = join(__dirname, 'harness-agent.js');
const BIN = resolve(__dirname, '../../../bin/camgate.js');

interface Proc {
  child: ChildProcess;
  lines: string[];
  waitLine(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<void>;
}

function run(file: string, args: string[], env: Record<string, string>, t: { after(fn: () => unknown): void }): Proc {
  const cleanEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAMGATE_') && v !== undefined) cleanEnv[k] = v;
  const child = spawn(process.execPath, [file, ...args], { env: { ...cleanEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buf = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    for (const w of [...waiters]) w();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return {
    child,
    lines,
    exited,
    waitLine: (pred, timeoutMs = 15_000) =>
      new Promise((resolvePromise, reject) => {
        const check = () => {
          const found = lines.find(pred);
          if (found !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            resolvePromise(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching line within ${timeoutMs} ms; stdout tail: ${lines.slice(-5).join(' | ')}; stderr tail: ${stderr.slice(-2000)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

test('kill -9 loop: every event that entered the outbox is delivered; duplicates only with the same message id', { timeout: 240_000 }, async (t) => {
  const mq = await startMosquitto();
  t.after(() => mq.stop());
  const dir = tempDir(t);
  const site = 'kill-site';
  const sub = await recorder(t, mq.url, `camgate/v1/${site}/events`);
  const env = { HARNESS_DIR: dir, HARNESS_URL: mq.url, HARNESS_SITE: site, HARNESS_BURST: '5', HARNESS_TICK_MS: '10' };
  // The kill moments are random but replayable: CAMGATE_TEST_SEED=<seed> repeats a failing run's.
  const seed = testSeed();
  t.diagnostic(`seed ${seed} (replay with CAMGATE_TEST_SEED=${seed})`);
  const random = seededRandom(seed);
  const committed = new Map<number, number>(); // n → seq
  let committedOffline = 0;
  const kills = 12;
  const killDelays: number[] = [];
  // Every third run has no broker (its URL points at a closed port): what it produces can only
  // reach the subscriber through the outbox, after a later run reconnects and replays it.
  const deadUrl = `mqtt://127.0.0.1:${await freePort()}`;
  const offlineRuns = new Set<number>();
  for (let i = 0; i < kills; i++) {
    const offline = i % 3 === 1;
    if (offline) offlineRuns.add(i);
    const p = run(HARNESS, [], { ...env, HARNESS_PRODUCE: '1', ...(offline ? { HARNESS_URL: deadUrl } : {}) }, t);
    // Kill at a random moment: some before the connection is up, most while publishing (and replaying what the last kill left).
    if (i % 3 === 2) await p.waitLine((l) => l.startsWith('connected'));
    // A run without a broker is there to leave events in the outbox: its kill moment counts from
    // when it produces, not from its start (which a loaded machine can stretch past any delay).
    if (offline) await p.waitLine((l) => l === 'producing');
    const delay = 50 + Math.floor(random() * 700);
    killDelays.push(delay);
    await sleep(delay);
    p.child.kill('SIGKILL');
    await p.exited;
    for (const line of p.lines) {
      const m = /^committed (\d+) (\d+)$/.exec(line);
      if (m) {
        committed.set(Number(m[1]), Number(m[2]));
        if (offline) committedOffline++;
      }
      assert.ok(!line.startsWith('enqueue-failed'), line);
    }
  }
  assert.ok(committed.size >= 200, `only ${committed.size} events committed across ${kills} runs`);
  assert.ok(committedOffline >= 20, `only ${committedOffline} events committed while the broker was unreachable`);

  // Final run: no production, drain everything.
  const last = run(HARNESS, [], { ...env, HARNESS_PRODUCE: '0' }, t);
  await last.waitLine((l) => l === 'idle', 60_000);
  const expected = [...committed.keys()];
  await sub.waitUntil(
    (all) => {
      const got = new Set(all.map((m) => (m.json.detail as { n?: number } | undefined)?.n));
      return expected.every((n) => got.has(n));
    },
    30_000,
    `all ${expected.length} committed events`,
  );
  last.child.kill('SIGTERM');
  await last.exited;

  const idsByN = new Map<number, Set<string>>();
  const nByMessageId = new Map<string, number>();
  for (const m of sub.messages) {
    const n = (m.json.detail as { n: number }).n;
    const id = m.json.messageId as string;
    if (!idsByN.has(n)) idsByN.set(n, new Set());
    idsByN.get(n)!.add(id);
    if (nByMessageId.has(id)) assert.equal(nByMessageId.get(id), n, 'one message id, one event');
    nByMessageId.set(id, n);
    // The seq the subscriber saw is the one the outbox assigned.
    if (committed.has(n)) assert.equal(m.json.seq, committed.get(n));
  }
  for (const n of expected) assert.equal(idsByN.get(n)?.size, 1, `event ${n} delivered under ${idsByN.get(n)?.size ?? 0} message ids`);
  const duplicates = sub.messages.length - idsByN.size;
  t.diagnostic(
    `runs ${kills + 1} (${offlineRuns.size} without broker), committed offline ${committedOffline}, kill delays ${killDelays.join(',')} ms, committed ${committed.size}, delivered ${sub.messages.length} (${duplicates} duplicates), historical ${sub.messages.filter((m) => m.json.historical).length}`,
  );
});

test('camgate run: SIGKILL → the broker publishes the Will (offline, retained); the restart has the next bdSeq', { timeout: 60_000 }, async (t) => {
  const mq = await startMosquitto();
  t.after(() => mq.stop());
  const dir = tempDir(t);
  const site = 'run-site';
  const rec = await recorder(t, mq.url, `camgate/v1/${site}/+`);
  const args = ['run', '--site', site, '--broker', mq.url, '--data-dir', dir, '--broker.reconnect-min-ms', '100', '--web.port', '0'];
  const first = run(BIN, args, {}, t);
  const birth0 = await rec.waitFor((m) => m.topic.endsWith('/birth'), 15_000, 'first birth');
  assert.equal(birth0.json.bdSeq, 0);
  await rec.waitFor((m) => m.topic.endsWith('/state') && m.json.state === 'online');
  first.child.kill('SIGKILL');
  await first.exited;
  const will = await rec.waitFor((m) => m.topic.endsWith('/state') && m.json.state === 'offline', 15_000, 'will');
  assert.equal(will.json.reason, 'will');
  assert.equal(will.json.bdSeq, 0);
  // Retained: a subscriber arriving now learns the site is offline.
  const late = await recorder(t, mq.url, `camgate/v1/${site}/state`);
  const retained = await late.waitFor(() => true);
  assert.equal(retained.retain, true);
  assert.equal(retained.json.state, 'offline');

  const second = run(BIN, args, {}, t);
  const birth1 = await rec.waitFor((m) => m.topic.endsWith('/birth') && m.json.bdSeq === 1, 15_000, 'second birth');
  assert.notEqual(birth1.json.bootId, birth0.json.bootId);
  // A clean stop publishes offline with reason shutdown.
  second.child.kill('SIGTERM');
  await second.exited;
  const off = await rec.waitFor((m) => m.topic.endsWith('/state') && m.json.reason === 'shutdown');
  assert.equal(off.json.bdSeq, 1);
  assert.equal(second.child.exitCode, 0);
});
