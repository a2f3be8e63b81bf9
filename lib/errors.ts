// Error types that carry the process exit code, so the CLI can map any failure to
// 0 ok / 1 runtime failure / 2 usage or validation error without string matching.

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** An error whose message is meant for people as-is (no stack trace needed). */
export class CamgateError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CamgateError';
  }
}

/** Bad command line: unknown camera, missing argument, conflicting flags. */
export class UsageError extends CamgateError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** Invalid configuration; `issues` holds one line per problem. */
export class ConfigError extends CamgateError {
  constructor(readonly issues: string[]) {
    super(issues.map((i) => `config error: ${i}`).join('\n'), EXIT_USAGE);
    this.name = 'ConfigError';
  }
}

/** Invalid user data (labels, import files); `issues` holds one line per problem. */
export class ValidationError extends CamgateError {
  constructor(
    readonly issues: string[],
    headline?: string,
  ) {
    super([...(headline ? [headline] : []), ...issues].join('\n'), EXIT_USAGE);
    this.name = 'ValidationError';
  }
}
