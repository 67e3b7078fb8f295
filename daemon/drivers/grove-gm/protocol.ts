import { GM_GASES, type GmGas } from "../../../schemas/drivers/names.js";
import { InvalidFrame } from "../i2c/errors.js";

/**
 * Byte-level protocol of the Grove Multichannel Gas Sensor V2 (four Winsen MEMS
 * elements read by an STM32F030 at I2C address 0x08). Source:
 * Seeed-Studio/Seeed_Arduino_MultiGas, src/Multichannel_Gas_GMXXX.h (command
 * bytes GM_102B 0x01, GM_302B 0x03, GM_502B 0x05, GM_702B 0x07, WARMING_UP 0xFE,
 * WARMING_DOWN 0xFF, CHANGE_I2C_ADDR 0x55, GM_RESOLUTION 1023, calcVol()) and
 * src/Multichannel_Gas_GMXXX.cpp (GMXXXWriteByte(): write one byte then
 * delay(1); GMXXXRead32(): read 4 bytes, value += byte << (8 * index), i.e.
 * little-endian).
 *
 * The vendor publishes no ppm curve for this board: Seeed's wiki calls it
 * "qualitative, rather than quantitative", and its library returns only the ADC
 * count and calcVol(). The driver reports that count (or volts); a per-channel
 * linear calibration in the config is what turns it into ppm.
 */

/** Read command per element. */
export const GM_COMMAND: Record<GmGas, number> = {
  no2: 0x01, // GM-102B
  c2h5oh: 0x03, // GM-302B
  voc: 0x05, // GM-502B
  co: 0x07, // GM-702B
};

/** Element part numbers, for messages and docs. */
export const GM_PART: Record<GmGas, string> = {
  no2: "GM-102B",
  c2h5oh: "GM-302B",
  voc: "GM-502B",
  co: "GM-702B",
};

export const GM_HEATER_ON = 0xfe;
export const GM_HEATER_OFF = 0xff;
export const GM_REPLY_LENGTH = 4;
/** The STM32's ADC result is 10 bits (GM_RESOLUTION). */
export const GM_ADC_MAX = 1023;
/** calcVol(): adc * 3.3 / GM_RESOLUTION, the board's reference on a 3.3 V host such as a Pi. */
export const GM_VREF = 3.3;

export function isGmGas(name: unknown): name is GmGas {
  return typeof name === "string" && (GM_GASES as readonly string[]).includes(name);
}

/**
 * The 4-byte little-endian uint32 reply. Anything above 1023 cannot come from a
 * 10-bit converter: a garbled frame. Example: `BC 02 00 00` -> 700.
 */
export function decodeGmReply(gas: GmGas, reply: Buffer): number {
  if (reply.length < GM_REPLY_LENGTH) {
    throw new InvalidFrame(`expected ${GM_REPLY_LENGTH} bytes, got ${reply.length}`);
  }
  const adc = reply.readUInt32LE(0);
  if (adc > GM_ADC_MAX) {
    throw new InvalidFrame(`${GM_PART[gas]} ADC ${adc} exceeds the 10-bit maximum ${GM_ADC_MAX}`);
  }
  return adc;
}

/** Example: 700 -> 2.258 V. */
export function gmVolts(adc: number): number {
  return (adc * GM_VREF) / GM_ADC_MAX;
}
