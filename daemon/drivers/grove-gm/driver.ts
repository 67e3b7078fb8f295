import { DriverError, ERROR_CODES } from "../../../core/errors.js";
import type { Logger } from "../../../core/logger.js";
import { type GmGas, type GmOutput, hexAddress } from "../../../schemas/drivers/names.js";
import type { ChannelValue, Sample, SensorDriver } from "../driver.js";
import type { I2cBus, I2cBusOpener } from "../i2c/bus.js";
import { type I2cTarget, i2cError } from "../i2c/errors.js";
import {
  closeQuietly,
  DEFAULT_I2C_TIMEOUT_MS,
  type I2cDevice,
  type I2cTiming,
  openI2cDevice,
} from "../i2c/transfer.js";
import {
  decodeGmReply,
  GM_COMMAND,
  GM_HEATER_ON,
  GM_PART,
  GM_REPLY_LENGTH,
  gmVolts,
} from "./protocol.js";

export interface GmSettings {
  bus: number;
  address: number;
  gases: GmGas[];
  output: GmOutput;
}

/**
 * Seeed's GMXXXWriteByte() waits delay(1) after each write before the read
 * (Multichannel_Gas_GMXXX.cpp); 2 ms keeps us above 1 ms whatever the timer
 * granularity.
 */
export const GM_TIMING: I2cTiming = { timeoutMs: DEFAULT_I2C_TIMEOUT_MS, pauseMs: 2 };

/**
 * Grove Multichannel Gas Sensor V2. open() switches the heaters on (0xFE, as
 * Seeed's begin() does with preheated()); read() reads each configured element
 * and reports its ADC count, or the voltage, never ppm: the vendor publishes no
 * curve. close() leaves the heaters on so a reopen after a bus error does not
 * cool the elements while the sampler's warm-up clock keeps running.
 */
export class GmDriver implements SensorDriver {
  private bus: I2cBus | null = null;
  private device: I2cDevice | null = null;
  private readonly target: I2cTarget;
  private reported = false;

  constructor(
    sensorId: string,
    private readonly settings: GmSettings,
    private readonly openBus: I2cBusOpener,
    private readonly log: Logger,
    private readonly timing: I2cTiming = GM_TIMING,
  ) {
    this.target = { sensor: sensorId, busNumber: settings.bus, address: settings.address };
  }

  async open(): Promise<void> {
    await this.close(); // the sampler closes before reopening; this keeps a stray open from leaking a handle
    const { bus, device } = await openI2cDevice(this.openBus, this.target, this.timing.timeoutMs);
    try {
      await device.write([GM_HEATER_ON]);
    } catch (error) {
      await closeQuietly(bus, this.timing.timeoutMs);
      throw i2cError(error, this.target, "open");
    }
    this.bus = bus;
    this.device = device;
    if (!this.reported) {
      this.reported = true;
      this.log.info(
        `Grove Multichannel Gas V2 at bus ${this.target.busNumber}, ${hexAddress(this.target.address)}: ` +
          `heaters on; reporting ${this.settings.gases.join(", ")} as ` +
          `${this.settings.output === "volts" ? "volts" : "raw ADC counts"} (no vendor ppm curve)`,
      );
    }
  }

  async read(): Promise<Sample> {
    const device = this.device;
    if (device === null) {
      throw new DriverError(ERROR_CODES.driver.notOpen, this.target.sensor, "read before open");
    }
    const values: ChannelValue[] = [];
    for (const gas of this.settings.gases) {
      const adc = await this.readAdc(device, gas);
      values.push(
        this.settings.output === "volts"
          ? { gas, value: gmVolts(adc), unit: "V" }
          : { gas, value: adc, unit: "raw" },
      );
    }
    return { values };
  }

  async close(): Promise<void> {
    const bus = this.bus;
    this.bus = null;
    this.device = null;
    await closeQuietly(bus, this.timing.timeoutMs);
  }

  private async readAdc(device: I2cDevice, gas: GmGas): Promise<number> {
    const operation = `read ${GM_PART[gas]} (${gas})`;
    try {
      const reply = await device.query([GM_COMMAND[gas]], GM_REPLY_LENGTH, this.timing.pauseMs);
      return decodeGmReply(gas, reply);
    } catch (error) {
      throw i2cError(error, this.target, operation);
    }
  }
}
