/**
 * One base class, one subclass per failure, each with a stable `code` (the
 * undici pattern): callers branch on the class or the code, never on message text.
 */
export class SensordError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Exit code for configuration errors (sysexits.h EX_CONFIG). */
export const EXIT_CONFIG = 78;
/** Exit code for command-line usage errors. */
export const EXIT_USAGE = 2;

export interface ConfigProblem {
  /** Dotted key path, e.g. `sensors[0].interval`. */
  key: string;
  /** What is wrong and how to fix it. */
  message: string;
}

/** The config file (or a value in it) is unusable. Names the file, every bad key and the fix. */
export class ConfigError extends SensordError {
  readonly file: string | null;
  readonly problems: ConfigProblem[];
  constructor(file: string | null, problems: ConfigProblem[]) {
    const where = file ?? "built-in defaults";
    const lines = problems.map((problem) => `  ${problem.key}: ${problem.message}`);
    super("SENSORD_CONFIG_INVALID", `invalid configuration in ${where}:\n${lines.join("\n")}`);
    this.file = file;
    this.problems = problems;
  }
}

/** A sensor driver failed to read; `retryable` says whether backing off and trying again can help. */
export class DriverError extends SensordError {
  readonly sensor: string;
  readonly retryable: boolean;
  constructor(
    code: string,
    sensor: string,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(code, `sensor ${sensor}: ${message}`, { cause: options.cause });
    this.sensor = sensor;
    this.retryable = options.retryable ?? true;
  }
}

/** The database cannot be opened or written. */
export class StoreError extends SensordError {
  readonly path: string;
  constructor(code: string, path: string, message: string, options?: { cause?: unknown }) {
    super(code, `database ${path}: ${message}`, options);
    this.path = path;
  }
}

/** Text of any thrown value, without casting. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
