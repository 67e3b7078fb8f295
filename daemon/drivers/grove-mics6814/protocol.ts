import type { MicsChannel } from "../../../schemas/drivers/names.js";
import { InvalidFrame } from "../i2c/errors.js";

/**
 * Byte-level protocol of the Grove Multichannel Gas Sensor v1 board (MiCS-6814
 * tri-sensor read by an ATmega168 at I2C address 0x04), kept free of I/O so the
 * layouts can be tested byte for byte. Sources (Seeed-Studio/Mutichannel_Gas_Sensor):
 *
 * - MutichannelGasSensor.h / .cpp, "V2 by Loovee 2016-11-11": command numbers
 *   (CMD_ADC_RES0..CMD_CONTROL_PWR), EEPROM word addresses (ADDR_IS_SET,
 *   ADDR_FACTORY_ADC_*, ADDR_USER_ADC_*), getVersion() (EEPROM word 0 == 1126
 *   means firmware 2), get_addr_dta() (write the command, read 2 bytes
 *   big-endian), powerOn() (firmware 2: [11, 1]; firmware 1: [0x21]),
 *   calcGas() (the ratio formulas below), readData()/readR0()/readR() (firmware 1).
 * - MutichannelGasSensorMCU/MutichannelGasSensorMCU.ino (firmware 1 itself):
 *   replies are [cmd, hi, lo, (cmd + hi + lo) & 0xFF]; only single-byte writes
 *   select what the next read returns.
 */

/** The MiCS-6814 elements: NH3, RED (named after CO here, as in Seeed's code) and OX (NO2). */
export const MICS_CHANNELS: readonly MicsChannel[] = ["nh3", "co", "no2"];
export type MicsFirmware = 1 | 2;

/** EEPROM word 0 (ADDR_IS_SET) holds 1126 on boards running firmware 2. */
export const FIRMWARE_2_MARKER = 1126;
/** The ATmega168's ADC is 10-bit (Seeed's ratio formula uses 1023 as full scale). */
export const ADC_MAX = 1023;

/** Firmware 2 commands (MutichannelGasSensor.h, CMD_*). */
export const V2 = {
  readAdc: { nh3: 0x01, co: 0x02, no2: 0x03 } satisfies Record<MicsChannel, number>,
  readAll: 0x04,
  changeAddress: 0x05,
  readEeprom: 0x06,
  led: 0x0a,
  heater: 0x0b,
} as const;

/** Firmware 2 EEPROM word addresses (MutichannelGasSensor.h, ADDR_*). */
export const EEPROM = {
  marker: 0,
  factoryR0: { nh3: 2, co: 4, no2: 6 } satisfies Record<MicsChannel, number>,
  userR0: { nh3: 8, co: 10, no2: 12 } satisfies Record<MicsChannel, number>,
} as const;

/** Firmware 1 commands (MutichannelGasSensorMCU.ino, receiveCallback/requestCallback). */
export const V1 = {
  readRs: { nh3: 0x01, co: 0x02, no2: 0x03 } satisfies Record<MicsChannel, number>,
  readR0: { nh3: 0x11, co: 0x12, no2: 0x13 } satisfies Record<MicsChannel, number>,
  heaterOff: 0x20,
  heaterOn: 0x21,
} as const;

export const V1_REPLY_LENGTH = 4;
export const WORD_REPLY_LENGTH = 2;

/** Commands that turn the heater on; the board may power up with it off (firmware 1 does). */
export function heaterOnCommand(firmware: MicsFirmware): number[] {
  return firmware === 2 ? [V2.heater, 1] : [V1.heaterOn];
}

/** `[0x06, word]`: read one EEPROM word (firmware 2). */
export function readEepromCommand(word: number): number[] {
  return [V2.readEeprom, word];
}

/**
 * Anything but 1126 means firmware 1. A firmware-1 board ignores the two-byte
 * EEPROM command and answers the read with whatever it last prepared, or with
 * nothing (the AVR TWI driver then sends 0x00 and the bus idles at 0xFF), so
 * 0xFFFF, 0x00FF and stray frames all land here.
 */
export function firmwareFromMarker(word: number): MicsFirmware {
  return word === FIRMWARE_2_MARKER ? 2 : 1;
}

export function decodeWord(reply: Buffer): number {
  if (reply.length < WORD_REPLY_LENGTH) {
    throw new InvalidFrame(`expected ${WORD_REPLY_LENGTH} bytes, got ${reply.length}`);
  }
  return reply.readUInt16BE(0);
}

/**
 * Firmware 1 reply `[b0, hi, lo, cs]`, valid when `cs == (b0 + hi + lo) & 0xFF`
 * (readData() in MutichannelGasSensor.cpp). b0 echoes the command in the
 * firmware source, but Seeed's reader does not check it, so neither do we.
 */
export function decodeV1Reply(reply: Buffer): number {
  if (reply.length < V1_REPLY_LENGTH) {
    throw new InvalidFrame(`expected ${V1_REPLY_LENGTH} bytes, got ${reply.length}`);
  }
  const [b0 = 0, hi = 0, lo = 0, checksum = 0] = reply;
  const expected = (b0 + hi + lo) & 0xff;
  if (checksum !== expected) {
    const bytes = Array.from(reply.subarray(0, V1_REPLY_LENGTH), (byte) =>
      byte.toString(16).padStart(2, "0"),
    );
    throw new InvalidFrame(
      `checksum mismatch in [${bytes.join(" ")}]: expected ${expected.toString(16).padStart(2, "0")}`,
    );
  }
  return (hi << 8) | lo;
}

/** A live ADC reading (firmware 2) must fit the 10-bit converter. */
export function checkAdc(channel: MicsChannel, adc: number): number {
  if (adc > ADC_MAX) {
    throw new InvalidFrame(`${channel} ADC ${adc} exceeds the 10-bit maximum ${ADC_MAX}`);
  }
  return adc;
}

/** The 6-byte reply to read-all (0x04): NH3, CO, NO2 as big-endian words (reference section 1). */
export function decodeReadAll(reply: Buffer): Record<MicsChannel, number> {
  if (reply.length < 6) throw new InvalidFrame(`expected 6 bytes, got ${reply.length}`);
  return {
    nh3: checkAdc("nh3", reply.readUInt16BE(0)),
    co: checkAdc("co", reply.readUInt16BE(2)),
    no2: checkAdc("no2", reply.readUInt16BE(4)),
  };
}

/** Erased (0xFFFF) or zeroed EEPROM: no calibration stored in that word. */
export function isUnsetWord(word: number): boolean {
  return word === 0 || word === 0xffff;
}

/** R0 as an ADC count must leave room for the ratio: 0 < A0 < 1023. */
export function isUsableAdcR0(value: number): boolean {
  return Number.isInteger(value) && value > 0 && value < ADC_MAX;
}

/**
 * Rs/R0 from ADC counts (firmware 2): the board reads each element through a
 * 56 kOhm divider, so R = 56k * A / (1023 - A) and the ratio is
 * `An/A0 * (1023 - A0)/(1023 - An)` (calcGas(), MutichannelGasSensor.cpp).
 * A ratio that is not a positive finite number (An = 0 or An = 1023) has no
 * concentration: a bad frame. Seeed's get_addr_dta() likewise treats a 0 as a
 * glitch and reuses the previous value.
 */
export function ratioFromAdc(channel: MicsChannel, an: number, a0: number): number {
  checkAdc(channel, an);
  const ratio = ((an / a0) * (ADC_MAX - a0)) / (ADC_MAX - an);
  if (!Number.isFinite(ratio) || ratio <= 0) {
    throw new InvalidFrame(`${channel} ADC ${an} (R0 ${a0}) gives ratio ${ratio}`);
  }
  return ratio;
}

/** Rs/R0 from firmware 1's resistance values (readR()/readR0(); calcGas() divides them). */
export function ratioFromResistance(channel: MicsChannel, rs: number, r0: number): number {
  const ratio = rs / r0;
  if (!Number.isFinite(ratio) || ratio <= 0) {
    throw new InvalidFrame(`${channel} Rs ${rs} (R0 ${r0}) gives ratio ${ratio}`);
  }
  return ratio;
}
