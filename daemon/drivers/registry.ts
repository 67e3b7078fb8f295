import type { TObject } from "@sinclair/typebox";
import type { SensorConfig } from "../config/types.js";
import type { ConfigProblem } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { SensorDriver } from "./driver.js";
import { replayDriver } from "./replay.js";
import { simDriver } from "./sim.js";

export interface DriverContext {
  log: Logger;
  /** Relative paths in driver options resolve against this (the config file's folder). */
  baseDir: string;
}

/**
 * What the daemon needs to know about a driver besides how to read it: its
 * own config keys (validated with unknown keys rejected) and its defaults.
 * A new board is one DriverDefinition in its own file plus a line below.
 */
export interface DriverDefinition {
  name: string;
  /** Keys this driver accepts under `[[sensors]]` besides the common ones. */
  optionsSchema: TObject;
  defaultIntervalMs: number;
  defaultWarmupMs: number;
  /** Whether `interval = "0s"` (read back-to-back) makes sense, e.g. replaying a file. */
  allowsFullSpeed: boolean;
  /** Checks that need the outside world (a file exists, ...); `keyPrefix` is e.g. `sensors[0]`. */
  check?(sensor: SensorConfig, keyPrefix: string, baseDir: string): ConfigProblem[];
  create(sensor: SensorConfig, context: DriverContext): SensorDriver;
}

export const DRIVERS: ReadonlyMap<string, DriverDefinition> = new Map(
  [simDriver, replayDriver].map((definition) => [definition.name, definition]),
);
