// Loggers for tests: silent, or capturing every line (as parsed JSON) for assertions.
import pino from 'pino';
import { createLogger, type Logger } from '../../lib/log';

export const silentLogger: Logger = pino({ level: 'silent' });

export interface CapturedLog {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  messages(): string[];
}

/** A real logger (the agent's redaction and scrubbing included) whose lines are kept. */
export function captureLogger(level: 'trace' | 'debug' | 'info' | 'warn' = 'debug'): CapturedLog {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level,
    format: 'json',
    destination: {
      write(line: string) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, messages: () => lines.map((l) => String(l.msg)) };
}
