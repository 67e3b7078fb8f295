import type { SensorConfig } from "../../../schemas/config-types.js";
import {
  I2C_DEFAULT_BUS,
  MICS_DEFAULT_ADDRESS,
  MICS_DEFAULT_GASES,
  MICS_GASES,
  type MicsChannel,
  type MicsGas,
} from "../../../schemas/drivers/names.js";
import type { SensorDriver } from "../driver.js";
import { readGases, readInteger } from "../i2c/options.js";
import type { I2cTiming } from "../i2c/transfer.js";
import type { DriverContext, DriverDefinition } from "../registry.js";
import { MICS_TIMING, MicsDriver, type MicsSettings } from "./driver.js";
import { MICS_CHANNELS } from "./protocol.js";

/** The sensor's options with defaults applied (the loader validated them against the schema). */
export function micsSettings(options: Record<string, unknown>): MicsSettings {
  const r0Override: Partial<Record<MicsChannel, number>> = {};
  for (const channel of MICS_CHANNELS) {
    const value = options[`r0_${channel}`];
    if (typeof value === "number") r0Override[channel] = value;
  }
  return {
    bus: readInteger(options, "bus", I2C_DEFAULT_BUS),
    address: readInteger(options, "address", MICS_DEFAULT_ADDRESS),
    gases: readGases<MicsGas>(options, MICS_GASES, MICS_DEFAULT_GASES),
    r0Override,
  };
}

/** For tests: the same driver with shorter timeouts and pauses. */
export function createMicsDriver(
  sensor: SensorConfig,
  context: Pick<DriverContext, "log" | "openI2cBus">,
  timing: I2cTiming = MICS_TIMING,
): SensorDriver {
  return new MicsDriver(
    sensor.id,
    micsSettings(sensor.options),
    context.openI2cBus,
    context.log,
    timing,
  );
}

/**
 * Grove Multichannel Gas Sensor v1 (MiCS-6814 + ATmega168), firmware 1 or 2.
 * Values are ppm from Seeed's curves (see curves.ts); the recorder converts NO2
 * to the channel's ppb. Warm-up: Seeed's wiki asks for at least 10 minutes of
 * heater time before readings are meaningful (others, e.g. ostaquet's driver,
 * use 30); readings during warm-up are stored flagged and never alarm.
 * Interval: firmware 1 serves a 20-sample moving average refreshed about every
 * 10 ms (MutichannelGasSensorMCU.ino); firmware 2 reportedly averages 64
 * samples per element each second (reference section 1; its source is not in
 * Seeed's repository). One read a second matches the slower of the two.
 */
export const groveMics6814Driver: DriverDefinition = {
  name: "grove-mics6814",
  defaultIntervalMs: 1000,
  defaultWarmupMs: 10 * 60_000,
  allowsFullSpeed: false,
  gases: (sensor) => micsSettings(sensor.options).gases,
  outputUnit: (sensor, gas) =>
    (micsSettings(sensor.options).gases as readonly string[]).includes(gas) ? "ppm" : null,
  create: (sensor, context) => createMicsDriver(sensor, context),
};
