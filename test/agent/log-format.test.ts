// log.format: readable lines for a person at a terminal, JSON lines for services, either forced.
// The end-to-end cases run `camgate run` under a real pseudo-terminal (util-linux `script`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { chooseLogFormat, createLogger } from '../../lib/log';
import type { LogFormat } from '../../lib/log';
import { SecretScrubber } from '../../lib/redact';
import { BIN, runCli } from './helpers';
import { tempDir } from '../kit/temp';
import { PLANTED } from '../kit/secrets';

const ANSI = /\x1b\[[0-9;]*m/g;
const HAS_ANSI = /\x1b\[[0-9;]*m/;
/** A pino-pretty entry's first line: local time, level, message. */
const PRETTY_HEAD = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|ERROR|DEBUG): /;

test('log.format: auto is pretty only on a terminal; json and pretty are forced either way', () => {
  const cases: Array<[LogFormat, boolean, 'json' | 'pretty']> = [
    ['auto', true, 'pretty'],
    ['auto', false, 'json'],
    ['json', true, 'json'],
    ['json', false, 'json'],
    ['pretty', true, 'pretty'],
    ['pretty', false, 'pretty'],
  ];
  for (const [format, tty, expected] of cases) assert.equal(chooseLogFormat(format, tty), expected, `${format} on ${tty ? 'a terminal' : 'a pipe'}`);
});

test('pretty lines: readable, redacted and scrubbed like JSON lines, in order with other stderr output', () => {
  // A secret that JSON escapes (quote, backslash): pretty-printing shows it unescaped.
  const escaped = 'Pl"4n\\ted-9f27c';
  const scrubber = new SecretScrubber().add(PLANTED, escaped);
  let out = '';
  const destination = { write: (s: string) => (out += s) };
  const log = createLogger({ level: 'info', format: 'pretty', scrubber, destination });
  log.info(
    { camera: 'gate', password: 'field-secret-77', detail: `login ${PLANTED} rejected`, nested: { note: escaped } },
    `camera login ${PLANTED} / ${escaped} failed`,
  );
  destination.write('camgate: a note between two log lines\n');
  log.warn({ err: new Error(`rtsp://admin:${PLANTED}@10.9.9.9/ch1 refused`) }, 'stream failed');

  assert.equal(out.includes(PLANTED), false, out);
  assert.equal(out.includes(escaped), false, out);
  assert.equal(out.includes(JSON.stringify(escaped).slice(1, -1)), false, out);
  assert.equal(out.includes('field-secret-77'), false, out);
  assert.match(out, /password: "\[redacted\]"/);
  assert.match(out, /camera login \*\*\* \/ \*\*\* failed/);
  assert.equal(HAS_ANSI.test(out), false, 'no colour unless asked for');
  const lines = out.split('\n');
  assert.match(lines[0], PRETTY_HEAD);
  assert.match(lines[0], /INFO: camera login/);
  for (const line of lines) assert.equal(line.trimStart().startsWith('{"'), false, `a JSON line: ${line}`);
  // Written synchronously: the note sits between the two entries, as it was written.
  const note = lines.indexOf('camgate: a note between two log lines');
  assert.ok(note > 0 && note < lines.findIndex((l) => /WARN: stream failed/.test(l)), out);
});

test('pretty lines are coloured only when asked for', () => {
  let out = '';
  createLogger({ level: 'info', format: 'pretty', colors: true, destination: { write: (s: string) => (out += s) } }).info({ a: 1 }, 'hello');
  assert.match(out, /\x1b\[32mINFO\x1b\[39m/);
});

interface AgentRun {
  code: number | null;
  /** What the pseudo-terminal showed (stdout and stderr together), or stderr for a piped run. */
  output: string;
}

function agentArgs(dataDir: string, brokerPort: number): string[] {
  // The broker URL carries the planted password: the uplink's "connection refused" warning quotes the URL.
  return [BIN, 'run', '--data-dir', dataDir, '--site.id', 'log-format', '--web.port', '0', '--broker', `mqtt://site:${PLANTED}@127.0.0.1:${brokerPort}`];
}

function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAMGATE_') && v !== undefined) env[k] = v;
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  // A person's terminal: Node gives a terminal two colours only when CI is set (tty.getColorDepth).
  delete env.CI;
  return { ...env, TERM: 'xterm-256color', CAMGATE_BROKER_PASSWORD: PLANTED, ...extra };
}

const READY = ['agent started', 'live view page listening', 'connection refused'];

/** Waits until the agent has started, served its page and warned about the broker, then stops it. */
function runUntilReady(child: ReturnType<typeof spawn>, shown: NodeJS.ReadableStream, ready: () => string, stop: () => void): Promise<AgentRun> {
  let output = '';
  let stopping = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the agent did not start within 30 s; it printed:\n${output}`));
    }, 30_000);
    shown.on('data', (d) => (output += d));
    // Polled: with stderr redirected to a file, the terminal shows nothing to react to.
    const poll = setInterval(() => {
      const seen = output + ready();
      if (!stopping && READY.every((s) => seen.includes(s))) {
        stopping = true;
        stop();
      }
    }, 100);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ code, output });
    });
  });
}

/** `camgate run` under a pseudo-terminal, stopped with Ctrl-C typed at it, as a person would. */
function runInTerminal(command: string, env: Record<string, string>, logFile?: string): Promise<AgentRun> {
  // `exec`: no shell stays between the terminal and the agent to take the Ctrl-C and exit 130 itself
  // (which shell `script` starts depends on SHELL, and shells differ in how they pass SIGINT on).
  const child = spawn('script', ['--quiet', '--flush', '--return', '--command', `exec ${command}`, '/dev/null'], {
    env: { ...env, SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr.resume();
  const readLog = () => (logFile ? readFileOr(logFile) : '');
  // Ctrl-C only: closing script's input as well would hang up the terminal, racing the agent's own stop.
  return runUntilReady(child, child.stdout, readLog, () => child.stdin.write('\x03'));
}

function readFileOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function shellQuote(args: string[]): string {
  return args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function assertJsonLines(text: string, what: string): void {
  const lines = text
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l.replace(/^\^C/, '').trim() !== '');
  assert.ok(lines.length >= 4, `${what}: ${text}`);
  for (const line of lines) {
    // The terminal echoes the Ctrl-C that stops the agent.
    const entry = JSON.parse(line.replace(/^\^C/, '')) as { level: number; msg: string };
    assert.equal(typeof entry.level, 'number', line);
    assert.equal(typeof entry.msg, 'string', line);
  }
  assert.equal(lines.filter((l) => l.includes('live view page listening')).length, 1, text);
  assert.equal(text.includes(PLANTED), false, `${what} shows the planted password`);
}

test('camgate run on a terminal prints readable coloured lines; with stderr piped or redirected, JSON', async (t) => {
  const dir = tempDir(t);
  const port = await closedPort();
  const args = agentArgs(dir, port);

  const onTerminal = await runInTerminal(shellQuote([process.execPath, ...args]), cleanEnv());
  assert.equal(onTerminal.code, 0, `exit code ${onTerminal.code}: ${onTerminal.output}`);
  assert.match(onTerminal.output, /\x1b\[32mINFO\x1b\[39m/, 'coloured levels on an xterm');
  const shown = onTerminal.output.replace(ANSI, '').replace(/\r/g, '');
  const heads = shown.split('\n').filter((l) => PRETTY_HEAD.test(l.replace(/^\^C/, '')));
  assert.ok(
    heads.some((l) => / INFO: agent started$/.test(l)),
    shown,
  );
  assert.ok(
    heads.some((l) => / INFO: agent stopped$/.test(l)),
    shown,
  );
  assert.equal(heads.filter((l) => / INFO: live view page listening on http:\/\/127\.0\.0\.1:\d+\/$/.test(l)).length, 1, shown);
  assert.ok(
    heads.some((l) => / WARN: uplink: mqtt:\/\/site:\*\*\*@127\.0\.0\.1:\d+: connection refused/.test(l)),
    shown,
  );
  assert.match(shown, /\n {4}url: "http:\/\/127\.0\.0\.1:\d+\/"\n/);
  for (const line of shown.split('\n')) assert.equal(line.replace(/^\^C/, '').trimStart().startsWith('{"'), false, `a JSON line on the terminal: ${line}`);
  assert.equal(shown.includes(PLANTED), false, 'the planted password on the terminal');

  // The same command with stderr into a file: JSON, though stdout is still the terminal.
  const logFile = join(dir, 'agent.log');
  const redirected = await runInTerminal(`${shellQuote([process.execPath, ...args])} 2>${shellQuote([logFile])}`, cleanEnv(), logFile);
  assert.equal(redirected.code, 0, `exit code ${redirected.code}: ${redirected.output}`);
  assertJsonLines(readFileSync(logFile, 'utf8'), 'stderr redirected to a file');

  // The same command with stderr piped (a service manager, a collector): JSON.
  const piped = spawn(process.execPath, args, { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  const pipedRun = await runUntilReady(
    piped,
    piped.stderr,
    () => '',
    () => piped.kill('SIGTERM'),
  );
  assert.equal(pipedRun.code, 0, `exit code ${pipedRun.code}: ${pipedRun.output}`);
  assertJsonLines(pipedRun.output, 'stderr piped');
});

test('log.format forces either way: json on a terminal (--log-format), pretty into a pipe (CAMGATE_LOG_FORMAT), uncoloured', async (t) => {
  const dir = tempDir(t);
  const port = await closedPort();
  const args = agentArgs(dir, port);

  const json = await runInTerminal(shellQuote([process.execPath, ...args, '--log-format', 'json']), cleanEnv());
  assert.equal(json.code, 0, `exit code ${json.code}: ${json.output}`);
  assertJsonLines(json.output, 'json forced on a terminal');

  const piped = spawn(process.execPath, args, { env: cleanEnv({ CAMGATE_LOG_FORMAT: 'pretty' }), stdio: ['ignore', 'ignore', 'pipe'] });
  const pretty = await runUntilReady(
    piped,
    piped.stderr,
    () => '',
    () => piped.kill('SIGTERM'),
  );
  assert.equal(pretty.code, 0, `exit code ${pretty.code}: ${pretty.output}`);
  assert.equal(HAS_ANSI.test(pretty.output), false, 'colour codes in a pipe');
  const heads = pretty.output.split('\n').filter((l) => PRETTY_HEAD.test(l));
  assert.ok(
    heads.some((l) => / INFO: agent started$/.test(l)),
    pretty.output,
  );
  assert.ok(
    heads.some((l) => / INFO: agent stopped$/.test(l)),
    pretty.output,
  );
  assert.equal(pretty.output.includes(PLANTED), false, 'the planted password in forced pretty lines');
});

test('a bad log.format names the key and the values it takes', async (t) => {
  const r = await runCli(['config', 'check', '--log-format', 'colour', '--data-dir', tempDir(t)]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /log\.format = "colour" \(flag --log-format\): expected one of auto, json, pretty/);
});
