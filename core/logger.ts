/** Least to most verbose; the config schema offers these for `[log] level`. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
/** syslog priorities journald understands as a `<N>` line prefix (sd-daemon(3)). */
const SYSLOG_PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** A logger whose lines start with `[scope]`, sharing this one's level and sink. */
  child(scope: string): Logger;
  setLevel(level: LogLevel): void;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Under journald the journal stamps time itself and reads the priority prefix. */
  journald: boolean;
  write: (line: string) => void;
  now?: () => Date;
}

/** One line per event. Journald mode: `<3>message`; otherwise `2026-...Z ERROR message`. */
export function createLogger(options: LoggerOptions): Logger {
  const state = { level: options.level };
  const now = options.now ?? (() => new Date());
  const make = (prefix: string): Logger => {
    const emit = (level: LogLevel, message: string): void => {
      if (RANK[level] > RANK[state.level]) return;
      const text = `${prefix}${message}`.replaceAll("\n", " | ");
      options.write(
        options.journald
          ? `<${SYSLOG_PRIORITY[level]}>${text}\n`
          : `${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${text}\n`,
      );
    };
    return {
      error: (message) => emit("error", message),
      warn: (message) => emit("warn", message),
      info: (message) => emit("info", message),
      debug: (message) => emit("debug", message),
      child: (scope) => make(`${prefix}[${scope}] `),
      setLevel: (level) => {
        state.level = level;
      },
    };
  };
  return make("");
}

/** The process logger: stderr, journald format when systemd connected stderr to the journal. */
export function processLogger(level: LogLevel): Logger {
  return createLogger({
    level,
    journald: Boolean(process.env.JOURNAL_STREAM),
    write: (line) => process.stderr.write(line),
  });
}
