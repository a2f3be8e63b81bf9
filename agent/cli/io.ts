// What a CLI run talks to. Injected so tests can run commands in-process and capture output;
// bin/camgate.js uses the real process streams.
import type { DriversApi } from '../../drivers/api';

export interface Writable {
  write(chunk: string): unknown;
}

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
  /** Reads all of stdin (for --password -). */
  readStdin(): string;
  /** Interactive terminal on stdin (confirmation prompts). */
  stdinIsTTY: boolean;
  /** Terminal on stderr, where logs go (log.format auto prints readable lines there). */
  stderrIsTTY: boolean;
  /** That terminal shows colour (honours NO_COLOR, FORCE_COLOR and TERM). */
  stderrHasColors: boolean;
  /** Asks a yes/no question on the terminal. */
  confirm(question: string): Promise<boolean>;
  /** Resolves when the agent should stop (SIGINT/SIGTERM for the real process). */
  /** Resolves with the signal name (SIGINT/SIGTERM), or 'cancelled' once `cancel` aborts. */
  waitForStop(cancel?: AbortSignal): Promise<string>;
  /** The drivers (injected in tests; loaded from drivers/ otherwise). */
  drivers(): DriversApi;
}
