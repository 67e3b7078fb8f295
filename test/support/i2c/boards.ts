import { avrSlaveTransmit, type BoardModel, wordBytes } from "./bus.js";

/**
 * Firmware emulations, written from the vendors' sources independently of the
 * drivers' protocol code (so a shared mistake cannot make a test pass):
 * - MicsV1Board: Seeed-Studio/Mutichannel_Gas_Sensor MutichannelGasSensorMCU.ino
 * - MicsV2Board: the same repository's MutichannelGasSensor.h/.cpp (the master
 *   side of firmware 2: commands, EEPROM map, reply sizes)
 * - GmV2Board: Seeed-Studio/Seeed_Arduino_MultiGas Multichannel_Gas_GMXXX.h/.cpp
 */

export type MicsElement = "nh3" | "co" | "no2";

/**
 * Firmware 1: only single-byte writes select what the next read returns
 * (receiveCallback with dataCount == 1); replies are [cmd, hi, lo, sum & 0xFF].
 * Values are the firmware's resistances (56 * adc / (1024 - adc)).
 */
export class MicsV1Board implements BoardModel {
  readonly received: number[][] = [];
  /** Live Rs per element; defaults are clean air (Rs = R0). */
  readonly rs: Record<MicsElement, number> = { nh3: 293, co: 718, no2: 9 };
  readonly r0: Record<MicsElement, number> = { nh3: 293, co: 718, no2: 9 };
  heater = false;
  private recvCmd = 0xff;

  write(bytes: number[]): void {
    this.received.push(bytes);
    if (bytes.length !== 1) return; // 0x23 (change address) and anything else with 2 bytes: no reply change
    this.recvCmd = bytes[0] ?? 0xff;
    if (this.recvCmd === 0x21) this.heater = true;
    if (this.recvCmd === 0x20) this.heater = false;
  }

  read(length: number): number[] {
    const elements: MicsElement[] = ["nh3", "co", "no2"];
    const cmd = this.recvCmd;
    let value: number | null = null;
    if (cmd >= 0x01 && cmd <= 0x03) value = this.rs[elements[cmd - 0x01] ?? "co"];
    if (cmd >= 0x11 && cmd <= 0x13) value = this.r0[elements[cmd - 0x11] ?? "co"];
    if (value === null) return avrSlaveTransmit([], length);
    const [hi = 0, lo = 0] = wordBytes(value);
    return avrSlaveTransmit([cmd, hi, lo, (cmd + hi + lo) & 0xff], length);
  }

  /** Power loss: heater off, nothing selected. */
  powerCycle(): void {
    this.heater = false;
    this.recvCmd = 0xff;
  }
}

/** Typical factory R0 ADC values of a firmware-2 board. */
const FACTORY_WORDS: Array<[number, number]> = [
  [0, 1126], // ADDR_IS_SET: the firmware-2 marker
  [2, 860], // ADDR_FACTORY_ADC_NH3
  [4, 950], // ADDR_FACTORY_ADC_CO
  [6, 155], // ADDR_FACTORY_ADC_NO2
  [8, 860], // ADDR_USER_ADC_HN3 (sic)
  [10, 950], // ADDR_USER_ADC_CO
  [12, 155], // ADDR_USER_ADC_NO2
  [20, 0x04], // ADDR_I2C_ADDRESS
];

/** Firmware 2: 2-byte big-endian words; EEPROM words via [0x06, addr]; read-all 6 bytes. */
export class MicsV2Board implements BoardModel {
  readonly received: number[][] = [];
  readonly eeprom = new Map<number, number>(FACTORY_WORDS);
  /** Live ADC per element; defaults equal the R0 words (ratio 1, clean air). */
  readonly adc: Record<MicsElement, number> = { nh3: 860, co: 950, no2: 155 };
  heater = false;
  led = false;
  private last: number[] = [];

  write(bytes: number[]): void {
    this.received.push(bytes);
    const [cmd, arg = 0] = bytes;
    if (cmd === 0x0a) this.led = arg === 1; // CMD_CONTROL_LED
    if (cmd === 0x0b) this.heater = arg === 1; // CMD_CONTROL_PWR
    if (cmd === 0x07 && bytes.length >= 7) {
      // CMD_SET_R0_ADC: doCalibrate() writes [7, nh3 hi, lo, co hi, lo, no2 hi, lo] to the user words
      this.eeprom.set(8, ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0));
      this.eeprom.set(10, ((bytes[3] ?? 0) << 8) | (bytes[4] ?? 0));
      this.eeprom.set(12, ((bytes[5] ?? 0) << 8) | (bytes[6] ?? 0));
    }
    this.last = bytes;
  }

  read(length: number): number[] {
    const [cmd, arg = 0] = this.last;
    switch (cmd) {
      case 0x01:
        return avrSlaveTransmit(wordBytes(this.adc.nh3), length);
      case 0x02:
        return avrSlaveTransmit(wordBytes(this.adc.co), length);
      case 0x03:
        return avrSlaveTransmit(wordBytes(this.adc.no2), length);
      case 0x04:
        return avrSlaveTransmit(
          [...wordBytes(this.adc.nh3), ...wordBytes(this.adc.co), ...wordBytes(this.adc.no2)],
          length,
        );
      case 0x06:
        // Erased EEPROM reads 0xFFFF.
        return avrSlaveTransmit(wordBytes(this.eeprom.get(arg) ?? 0xffff), length);
      default:
        return avrSlaveTransmit([], length);
    }
  }

  powerCycle(): void {
    this.heater = false;
    this.led = false;
    this.last = [];
  }
}

export type GmElement = "no2" | "c2h5oh" | "voc" | "co";
const GM_ELEMENTS: readonly GmElement[] = ["no2", "c2h5oh", "voc", "co"];
const GM_COMMANDS: Record<GmElement, number> = { no2: 0x01, c2h5oh: 0x03, voc: 0x05, co: 0x07 };

/**
 * Grove Multichannel Gas V2 (STM32F030): write a command byte, read 4 bytes,
 * a little-endian uint32 (GMXXXRead32()). 0xFE / 0xFF switch the heaters.
 * What it answers to a read after anything but a read command is undocumented;
 * the emulation answers zeros.
 */
export class GmV2Board implements BoardModel {
  readonly received: number[][] = [];
  readonly adc: Record<GmElement, number> = { no2: 0, c2h5oh: 0, voc: 0, co: 0 };
  heater = false;
  private last = -1;

  write(bytes: number[]): void {
    this.received.push(bytes);
    const cmd = bytes[0] ?? -1;
    if (cmd === 0xfe) this.heater = true;
    else if (cmd === 0xff) this.heater = false;
    else if (cmd !== 0x55) this.last = cmd;
  }

  read(length: number): number[] {
    const element = GM_ELEMENTS.find((name) => GM_COMMANDS[name] === this.last);
    const value = element === undefined ? 0 : this.adc[element];
    const reply = [
      value & 0xff,
      (value >>> 8) & 0xff,
      (value >>> 16) & 0xff,
      (value >>> 24) & 0xff,
    ];
    return Array.from({ length }, (_, index) => reply[index] ?? 0xff);
  }

  powerCycle(): void {
    this.heater = false;
    this.last = -1;
  }
}
