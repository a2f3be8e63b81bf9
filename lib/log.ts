// Logger factory: pino JSON lines on stderr (stdout belongs to command output, e.g. --json).
// No global singleton: the process (CLI command or agent) creates one and passes it down.
import pino, { Logger } from 'pino';
import { redactUrlsInText, SecretScrubber } from './redact';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
}

function serializeError(err: unknown): unknown {
  const plain = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (plain && typeof plain.message === 'string') plain.message = redactUrlsInText(plain.message);
  if (plain && typeof plain.stack === 'string') plain.stack = redactUrlsInText(plain.stack);
  return plain;
}

export function createLogger(options: LoggerOptions): Logger {
  const target = options.destination ?? process.stderr;
  const scrubber = options.scrubber;
  // Last line of defence: every serialized line passes through the scrubber before it leaves.
  const stream = {
    write(line: string): void {
      target.write(scrubber ? scrubber.scrub(line) : line);
    },
  };
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
