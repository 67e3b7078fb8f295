import { DriverError, ERROR_CODES } from "../../../core/errors.js";
import type { Logger } from "../../../core/logger.js";
import { hexAddress, type MicsChannel, type MicsGas } from "../../../schemas/drivers/names.js";
import type { ChannelValue, Sample, SensorDriver } from "../driver.js";
import type { I2cBus, I2cBusOpener } from "../i2c/bus.js";
import { type I2cTarget, InvalidFrame, i2cError } from "../i2c/errors.js";
import {
  closeQuietly,
  DEFAULT_I2C_TIMEOUT_MS,
  type I2cDevice,
  type I2cTiming,
  openI2cDevice,
} from "../i2c/transfer.js";
import { CURVES, channelsFor, concentration } from "./curves.js";
import {
  decodeV1Reply,
  decodeWord,
  EEPROM,
  firmwareFromMarker,
  heaterOnCommand,
  isUnsetWord,
  isUsableAdcR0,
  type MicsFirmware,
  ratioFromAdc,
  ratioFromResistance,
  readEepromCommand,
  V1,
  V1_REPLY_LENGTH,
  V2,
  WORD_REPLY_LENGTH,
} from "./protocol.js";

export interface MicsSettings {
  bus: number;
  address: number;
  gases: MicsGas[];
  /** R0 from the config, per element; replaces what the board stores. */
  r0Override: Partial<Record<MicsChannel, number>>;
}

/**
 * Pause between command and read: Seeed's firmware-1 reader waits 2 ms
 * (readData(), MutichannelGasSensor.cpp), ostaquet's firmware-2 driver 5 ms
 * (readOnCommand(), Grove_MultichannelGasSensor.cpp); the longer one suits both.
 */
export const MICS_TIMING: I2cTiming = { timeoutMs: DEFAULT_I2C_TIMEOUT_MS, pauseMs: 5 };

interface R0Value {
  value: number;
  source: "config" | "user EEPROM" | "factory EEPROM" | "board";
}

/**
 * The Grove Multichannel Gas Sensor v1 board. open() detects the firmware,
 * switches the heater on and loads R0 per element; read() reads each element
 * the configured gases need and turns Rs/R0 into ppm through Seeed's curves.
 * close() leaves the heater on on purpose: the sampler reopens after a bus
 * error without restarting its warm-up clock, so the sensor must stay hot.
 */
export class MicsDriver implements SensorDriver {
  private bus: I2cBus | null = null;
  private device: I2cDevice | null = null;
  private firmware: MicsFirmware = 2;
  private r0: Partial<Record<MicsChannel, R0Value>> = {};
  private readonly channels: MicsChannel[];
  private readonly target: I2cTarget;
  private lastReport = "";

  constructor(
    sensorId: string,
    private readonly settings: MicsSettings,
    private readonly openBus: I2cBusOpener,
    private readonly log: Logger,
    private readonly timing: I2cTiming = MICS_TIMING,
  ) {
    this.channels = channelsFor(settings.gases);
    this.target = { sensor: sensorId, busNumber: settings.bus, address: settings.address };
  }

  async open(): Promise<void> {
    await this.close(); // the sampler closes before reopening; this keeps a stray open from leaking a handle
    const { bus, device } = await openI2cDevice(this.openBus, this.target, this.timing.timeoutMs);
    try {
      const marker = await this.word(device, EEPROM.marker);
      this.firmware = firmwareFromMarker(marker);
      await device.write(heaterOnCommand(this.firmware));
      this.r0 = this.firmware === 2 ? await this.loadR0V2(device) : await this.loadR0V1(device);
    } catch (error) {
      await closeQuietly(bus, this.timing.timeoutMs);
      throw i2cError(error, this.target, "open");
    }
    this.bus = bus;
    this.device = device;
    this.reportOnce();
  }

  async read(): Promise<Sample> {
    const device = this.device;
    if (device === null) {
      throw new DriverError(ERROR_CODES.driver.notOpen, this.target.sensor, "read before open");
    }
    const ratios: Partial<Record<MicsChannel, number>> = {};
    for (const channel of this.channels) {
      ratios[channel] = await this.readRatio(device, channel);
    }
    const values: ChannelValue[] = [];
    for (const gas of this.settings.gases) {
      const ratio = ratios[CURVES[gas].channel];
      if (ratio === undefined) continue; // channelsFor() covers every gas; kept for the type checker
      const { ppm, outOfRange } = concentration(gas, ratio);
      values.push(
        outOfRange
          ? { gas, value: ppm, unit: "ppm", outOfRange }
          : { gas, value: ppm, unit: "ppm" },
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

  private async readRatio(device: I2cDevice, channel: MicsChannel): Promise<number> {
    const r0 = this.r0[channel]?.value;
    if (r0 === undefined)
      throw new DriverError(
        ERROR_CODES.driver.micsR0Missing,
        this.target.sensor,
        `no R0 for ${channel}`,
      );
    const operation = `read ${channel} element`;
    try {
      if (this.firmware === 2) {
        const reply = await device.query(
          [V2.readAdc[channel]],
          WORD_REPLY_LENGTH,
          this.timing.pauseMs,
        );
        return ratioFromAdc(channel, decodeWord(reply), r0);
      }
      const reply = await device.query([V1.readRs[channel]], V1_REPLY_LENGTH, this.timing.pauseMs);
      return ratioFromResistance(channel, decodeV1Reply(reply), r0);
    } catch (error) {
      throw i2cError(error, this.target, operation);
    }
  }

  private async word(device: I2cDevice, eepromWord: number): Promise<number> {
    const reply = await device.query(
      readEepromCommand(eepromWord),
      WORD_REPLY_LENGTH,
      this.timing.pauseMs,
    );
    return decodeWord(reply);
  }

  /**
   * Firmware 2 keeps R0 as ADC counts: the user calibration in words 8/10/12
   * (written by doCalibrate()), the factory values in 2/4/6 (factory_setting()
   * copies those back). Unset user words (0 or erased 0xFFFF) fall back to the
   * factory ones; a set word outside 1..1022 is a garbled read, retried.
   */
  private async loadR0V2(device: I2cDevice): Promise<Partial<Record<MicsChannel, R0Value>>> {
    const loaded: Partial<Record<MicsChannel, R0Value>> = {};
    for (const channel of this.channels) {
      const configured = this.configuredR0(channel, true);
      if (configured !== null) {
        loaded[channel] = configured;
        continue;
      }
      const user = await this.word(device, EEPROM.userR0[channel]);
      if (!isUnsetWord(user)) {
        loaded[channel] = {
          value: this.checkedAdcR0(channel, user, "user"),
          source: "user EEPROM",
        };
        continue;
      }
      const factory = await this.word(device, EEPROM.factoryR0[channel]);
      if (isUnsetWord(factory))
        throw this.missingR0(channel, `user word ${user}, factory word ${factory}`);
      loaded[channel] = {
        value: this.checkedAdcR0(channel, factory, "factory"),
        source: "factory EEPROM",
      };
    }
    return loaded;
  }

  /** Firmware 1 reports R0 in its own resistance units (commands 0x11-0x13, readR0()). */
  private async loadR0V1(device: I2cDevice): Promise<Partial<Record<MicsChannel, R0Value>>> {
    const loaded: Partial<Record<MicsChannel, R0Value>> = {};
    for (const channel of this.channels) {
      const configured = this.configuredR0(channel, false);
      if (configured !== null) {
        loaded[channel] = configured;
        continue;
      }
      const reply = await device.query([V1.readR0[channel]], V1_REPLY_LENGTH, this.timing.pauseMs);
      const value = decodeV1Reply(reply);
      // readR0() in Seeed's library treats 0 as "not calibrated" too.
      if (value === 0) throw this.missingR0(channel, "the board reports R0 = 0");
      loaded[channel] = { value, source: "board" };
    }
    return loaded;
  }

  private configuredR0(channel: MicsChannel, adcCounts: boolean): R0Value | null {
    const value = this.settings.r0Override[channel];
    if (value === undefined) return null;
    if (adcCounts && !isUsableAdcR0(value)) {
      throw new DriverError(
        ERROR_CODES.driver.micsR0Invalid,
        this.target.sensor,
        `r0_${channel} = ${value} cannot be an ADC count on this firmware-2 board; use 1..1022`,
      );
    }
    return { value, source: "config" };
  }

  private checkedAdcR0(channel: MicsChannel, value: number, which: string): number {
    if (isUsableAdcR0(value)) return value;
    throw new InvalidFrame(`${which} R0 word for ${channel} reads ${value}, outside 1..1022`);
  }

  private missingR0(channel: MicsChannel, detail: string): DriverError {
    return new DriverError(
      ERROR_CODES.driver.micsR0Missing,
      this.target.sensor,
      `no R0 calibration for the ${channel} element (${detail}); calibrate the board or set ` +
        `r0_${channel} in this sensor's config`,
    );
  }

  /** Logs firmware and R0 when they differ from the last open, not on every reopen. */
  private reportOnce(): void {
    const r0 = this.channels
      .map((channel) => `${channel} ${this.r0[channel]?.value} (${this.r0[channel]?.source})`)
      .join(", ");
    const report = `Grove MiCS-6814 board at bus ${this.target.busNumber}, ${hexAddress(this.target.address)}: firmware ${this.firmware}, heater on, R0 ${r0}`;
    if (report === this.lastReport) return;
    this.lastReport = report;
    this.log.info(report);
  }
}
