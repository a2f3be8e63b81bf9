// Logger factory: pino lines on stderr (stdout belongs to command output, e.g. --json): JSON for
// services and collectors, readable lines (pino-pretty) for a person at a terminal.
// No global singleton: the process (CLI command or agent) creates one and passes it down.
import { Writable } from 'node:stream';
import pino, { Logger } from 'pino';
import { CamgateError } from './errors';
import { redactUrlsInText, scrubLogText, SecretScrubber } from './redact';
import { jsonTerminalSafe, terminalSafe } from './text';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** auto: pretty when the destination is a terminal, JSON otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Structured fields that may hold secrets, whatever object they sit in. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  '*.*.*.password',
  'passwd',
  '*.passwd',
  'credentials',
  '*.credentials',
  '*.*.credentials',
  'secret',
  '*.secret',
  'secretKey',
  '*.secretKey',
  'key',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.*.headers.authorization',
];

export interface LoggerOptions {
  level: LogLevel;
  /** Known secrets (config passwords, stored credentials once decrypted) to erase from every line. */
  scrubber?: SecretScrubber;
  /** Where lines go; default process.stderr. */
  destination?: { write(line: string): unknown };
  /** Fields on every line, e.g. { site: "v012" }. */
  base?: Record<string, unknown>;
  /** Default json; see chooseLogFormat. */
  format?: 'json' | 'pretty';
  /** Colour in pretty lines (the terminal supports it). */
  colors?: boolean;
}

/** log.format resolved against where the lines go: auto means pretty only for a person at a terminal. */
export function chooseLogFormat(format: LogFormat, destinationIsTTY: boolean): 'json' | 'pretty' {
  if (format === 'auto') return destinationIsTTY ? 'pretty' : 'json';
  return format;
}

function serializeError(err: unknown): unknown {
  const plain = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (plain && typeof plain.message === 'string') plain.message = redactUrlsInText(plain.message);
  if (plain && typeof plain.stack === 'string') plain.stack = redactUrlsInText(plain.stack);
  return plain;
}

type LineWriter = (line: string) => void;

/**
 * pino-pretty in this thread (pino's transport option would start a worker thread: ~12 MB RSS
 * against ~3 MB here), writing synchronously through our own sink, so pretty lines stay in order
 * with the rest of stderr and are scrubbed as rendered.
 */
function prettyWriter(write: LineWriter, colors: boolean): LineWriter {
  let PinoPretty: typeof import('pino-pretty');
  try {
    // Loaded only here: services logging JSON never pay for it.
    PinoPretty = require('pino-pretty') as typeof import('pino-pretty');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new CamgateError(
      'log.format pretty needs the pino-pretty package, which is not installed: reinstall camgate (npm ci), or set log.format to json (--log-format json)',
    );
  }
  const sink = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      write(String(chunk));
      done();
    },
  });
  const pretty = PinoPretty({ destination: sink, colorize: colors, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname' });
  return (line) => void pretty.write(printableValues(line));
}

/** A JSON line with every string in it terminal-safe: pino-pretty prints the decoded strings
 * (a device's ESC, JSON-escaped in the line, would reach the terminal raw). */
function printableValues(line: string): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return terminalSafe(line);
  }
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return terminalSafe(v);
    if (Array.isArray(v)) return v.map(clean);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [terminalSafe(k), clean(x)]));
    return v;
  };
  return JSON.stringify(clean(value)) + '\n';
}

export function createLogger(options: LoggerOptions): Logger {
  const target = options.destination ?? process.stderr;
  const scrubber = options.scrubber;
  // Last line of defence: every line passes through the same scrubbing as it leaves, pretty ones
  // once rendered, whatever field a secret sits in (msg, reason, err, a nested object): URLs lose
  // their logins and secret-looking parameters (an SRT passphrase quoted by ffmpeg), and the
  // scrubber erases the secrets this process knows, raw and JSON-escaped as either format shows them.
  const write: LineWriter = (text) => {
    const out = scrubLogText(text);
    target.write(scrubber ? scrubber.scrub(out) : out);
  };
  // JSON lines keep their values; the C1 characters JSON leaves raw become \u escapes.
  const stream = { write: options.format === 'pretty' ? prettyWriter(write, options.colors ?? false) : (line: string) => write(jsonTerminalSafe(line)) };
  return pino(
    {
      level: options.level,
      base: { pid: process.pid, ...(options.base ?? {}) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
}
