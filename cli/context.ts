import type { Command } from "commander";
import { ConfigError, SensordError } from "../core/errors.js";
import { loadConfig } from "../daemon/config/load.js";
import { openStoreReader, type SqliteStoreReader } from "../daemon/store/reader.js";
import type { SensordConfig } from "../schemas/config-types.js";
import { CliExit, EXIT } from "./exit.js";

interface GlobalOptions {
  config?: string;
  simulate?: boolean;
}

/**
 * The config sensorctl works with, found as sensord finds it. With no file
 * anywhere it says so (exit 78) rather than inventing a sensor "gas0" and a
 * database path: only `--simulate` means the built-in defaults, those of
 * `sensord --simulate` (database and socket under ./var/).
 */
export function configFor(program: Command): SensordConfig {
  const { config, simulate } = program.opts<GlobalOptions>();
  try {
    return loadConfig({
      flagPath: config,
      env: process.env,
      simulate: simulate === true,
      simulateHint:
        "pass --simulate to use the built-in defaults of `sensord --simulate` " +
        "(its database ./var/sensord.db in the current folder)",
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliExit(EXIT.config, error.message);
    throw error;
  }
}

/** Opens the database read-only; a missing or unreadable one ends with exit 1 and the store's message. */
export function withReader<T>(path: string, use: (reader: SqliteStoreReader) => T): T {
  let reader: SqliteStoreReader;
  try {
    reader = openStoreReader(path);
  } catch (error) {
    if (error instanceof SensordError) throw new CliExit(EXIT.failure, error.message);
    throw error;
  }
  try {
    return use(reader);
  } finally {
    reader.close();
  }
}

export function print(text: string): void {
  if (text !== "") process.stdout.write(`${text}\n`);
}

/** The control socket from the config; a disabled one reads as "not reachable". */
export function socketOf(config: SensordConfig): string | null {
  return config.control.socket;
}
