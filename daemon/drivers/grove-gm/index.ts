import type { SensorConfig } from "../../../schemas/config-types.js";
import {
  GM_DEFAULT_ADDRESS,
  GM_DEFAULT_OUTPUT,
  GM_GASES,
  GM_OUTPUTS,
  type GmGas,
  I2C_DEFAULT_BUS,
} from "../../../schemas/drivers/names.js";
import type { SensorDriver } from "../driver.js";
import { readGases, readInteger } from "../i2c/options.js";
import type { I2cTiming } from "../i2c/transfer.js";
import type { DriverContext, DriverDefinition } from "../registry.js";
import { GM_TIMING, GmDriver, type GmSettings } from "./driver.js";

export function gmSettings(options: Record<string, unknown>): GmSettings {
  const output = GM_OUTPUTS.find((name) => name === options.output) ?? GM_DEFAULT_OUTPUT;
  return {
    bus: readInteger(options, "bus", I2C_DEFAULT_BUS),
    address: readInteger(options, "address", GM_DEFAULT_ADDRESS),
    gases: readGases<GmGas>(options, GM_GASES, GM_GASES),
    output,
  };
}

/** For tests: the same driver with shorter timeouts and pauses. */
export function createGmDriver(
  sensor: SensorConfig,
  context: Pick<DriverContext, "log" | "openI2cBus">,
  timing: I2cTiming = GM_TIMING,
): SensorDriver {
  return new GmDriver(
    sensor.id,
    gmSettings(sensor.options),
    context.openI2cBus,
    context.log,
    timing,
  );
}

/**
 * Grove Multichannel Gas Sensor V2 (GM-102B NO2, GM-302B C2H5OH, GM-502B VOC,
 * GM-702B CO; Seeed_Arduino_MultiGas). It reports uncalibrated ADC counts or
 * volts: the vendor publishes no ppm curve (Seeed's wiki: "qualitative,
 * rather than quantitative"), so alarms in ppm need a per-channel calibration.
 *
 * Warm-up: Seeed's wiki says users "MUST preheat the module before starting
 * measuring gases" but gives no duration in text; the duration, if any, is in
 * the Winsen element datasheets linked there as PDFs, which we could not check.
 * 30 minutes is a conservative choice (three times the 10 minutes Seeed asks
 * for the MiCS-6814 board); `warmup` in the config overrides it.
 */
export const groveGmDriver: DriverDefinition = {
  name: "grove-gm",
  defaultIntervalMs: 1000,
  defaultWarmupMs: 30 * 60_000,
  allowsFullSpeed: false,
  gases: (sensor) => gmSettings(sensor.options).gases,
  outputUnit: (sensor, gas) => {
    const settings = gmSettings(sensor.options);
    if (!(settings.gases as readonly string[]).includes(gas)) return null;
    return settings.output === "volts" ? "V" : "raw";
  },
  create: (sensor, context) => createGmDriver(sensor, context),
};
