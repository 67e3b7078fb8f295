import type { Command } from "commander";
import { loadConfig } from "../daemon/config/load.js";
import type { SensordConfig } from "../daemon/config/types.js";
import { ConfigError, SensordError } from "../daemon/errors.js";
import { openStoreReader, type SqliteStoreReader } from "../daemon/store/reader.js";
import { CliExit, EXIT } from "./exit.js";

interface GlobalOptions {
  config?: string;
}

/** The config sensorctl works with; reading commands fall back to the built-in defaults (as `sensord --simulate`). */
export function configFor(program: Command, simulateFallback: boolean): SensordConfig {
  const { config } = program.opts<GlobalOptions>();
  try {
    return loadConfig({ flagPath: config, env: process.env, simulate: simulateFallback });
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
