import type { ConfigProblem } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { SensorConfig } from "../../schemas/config-types.js";
import type { Gas, Unit } from "../../schemas/vocabulary.js";
import type { SensorDriver } from "./driver.js";
import { groveGmDriver } from "./grove-gm/index.js";
import { groveMics6814Driver } from "./grove-mics6814/index.js";
import type { I2cBusOpener } from "./i2c/bus.js";
import { replayDriver } from "./replay.js";
import { simDriver } from "./sim.js";
import { winsenZeDriver } from "./winsen-ze/index.js";

export interface DriverContext {
  log: Logger;
  /** Relative paths in driver options resolve against this (the config file's folder). */
  baseDir: string;
  /** How I2C drivers reach the bus: i2c-bus in production, a board emulator in tests. */
  openI2cBus: I2cBusOpener;
}

/**
 * What the daemon needs to know about a driver besides how to read it: its
 * defaults and config checks. Its own config keys are a TypeBox schema in
 * schemas/drivers/ (a config contract, which the build compiles), kept out of
 * this module so a running sensord never loads TypeBox; the plain values both
 * share (gases, default address) are in schemas/drivers/names.ts. A new board
 * is one DriverDefinition in its own file plus a line below, and its options
 * schema in schemas/drivers/ plus a line in schemas/drivers/options.ts.
 */
export interface DriverDefinition {
  name: string;
  defaultIntervalMs: number;
  defaultWarmupMs: number;
  /** Whether `interval = "0s"` (read back-to-back) makes sense, e.g. replaying a file. */
  allowsFullSpeed: boolean;
  /** Gases a sensor with this config reports, for config checks; null when unknown in advance (replay). */
  gases?(sensor: SensorConfig): Gas[] | null;
  /**
   * The unit the driver reports `gas` in, when that is not simply the channel's
   * unit (e.g. an uncalibrated ADC count: "raw"). Omitted: values are in (or
   * convertible to) the channel's unit.
   */
  outputUnit?(sensor: SensorConfig, gas: Gas): Unit | null;
  /** Checks that need the outside world (a file exists, ...); `keyPrefix` is e.g. `sensors[0]`. */
  check?(sensor: SensorConfig, keyPrefix: string, baseDir: string): ConfigProblem[];
  create(sensor: SensorConfig, context: DriverContext): SensorDriver;
}

export const DRIVERS: ReadonlyMap<string, DriverDefinition> = new Map(
  [simDriver, replayDriver, groveMics6814Driver, groveGmDriver, winsenZeDriver].map(
    (definition) => [definition.name, definition],
  ),
);
