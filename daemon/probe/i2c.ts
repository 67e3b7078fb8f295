import { readdirSync } from "node:fs";
import { DriverError, describeError, ERROR_CODES } from "../../core/errors.js";
import { GM_DEFAULT_ADDRESS, MICS_DEFAULT_ADDRESS } from "../../schemas/drivers/names.js";
import { GM_TIMING } from "../drivers/grove-gm/driver.js";
import { decodeGmReply, GM_COMMAND, GM_REPLY_LENGTH } from "../drivers/grove-gm/protocol.js";
import { MICS_TIMING } from "../drivers/grove-mics6814/driver.js";
import {
  decodeWord,
  EEPROM,
  firmwareFromMarker,
  type MicsFirmware,
  readEepromCommand,
  WORD_REPLY_LENGTH,
} from "../drivers/grove-mics6814/protocol.js";
import type { I2cBusOpener } from "../drivers/i2c/bus.js";
import { closeQuietly, openI2cDevice } from "../drivers/i2c/transfer.js";

export type FoundBoard =
  | { driver: "grove-mics6814"; busNumber: number; address: number; firmware: MicsFirmware }
  | { driver: "grove-gm"; busNumber: number; address: number };

export interface BusScan {
  busNumber: number;
  boards: FoundBoard[];
  /** Why the bus could not be scanned (permission, ...), or null. */
  error: string | null;
}

/** /dev/i2c-N bus numbers present on this machine, ascending. */
export function listI2cBuses(devDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(devDir);
  } catch {
    return [];
  }
  return names
    .map((name) => /^i2c-(\d+)$/.exec(name)?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Asks each supported board's default address the question its driver asks
 * first: the MiCS-6814 board's EEPROM word 0 (1126 = firmware 2; a firmware-1
 * board answers too, with other bytes), the GM V2 board's NO2 channel (a
 * 10-bit value). No answer (NACK) means no board there.
 */
export async function scanI2cBus(opener: I2cBusOpener, busNumber: number): Promise<BusScan> {
  const boards: FoundBoard[] = [];
  try {
    const mics = await ask(opener, busNumber, MICS_DEFAULT_ADDRESS, async (device) =>
      decodeWord(
        await device.query(
          readEepromCommand(EEPROM.marker),
          WORD_REPLY_LENGTH,
          MICS_TIMING.pauseMs,
        ),
      ),
    );
    if (mics !== null) {
      boards.push({
        driver: "grove-mics6814",
        busNumber,
        address: MICS_DEFAULT_ADDRESS,
        firmware: firmwareFromMarker(mics),
      });
    }
    const gm = await ask(opener, busNumber, GM_DEFAULT_ADDRESS, async (device) =>
      decodeGmReply(
        "no2",
        await device.query([GM_COMMAND.no2], GM_REPLY_LENGTH, GM_TIMING.pauseMs),
      ),
    );
    if (gm !== null) boards.push({ driver: "grove-gm", busNumber, address: GM_DEFAULT_ADDRESS });
    return { busNumber, boards, error: null };
  } catch (error) {
    return { busNumber, boards, error: describeError(error) };
  }
}

type Device = Awaited<ReturnType<typeof openI2cDevice>>["device"];

/** The answer, or null when nothing acknowledges the address; other failures propagate. */
async function ask<T>(
  opener: I2cBusOpener,
  busNumber: number,
  address: number,
  question: (device: Device) => Promise<T>,
): Promise<T | null> {
  const { bus, device } = await openI2cDevice(
    opener,
    { sensor: "probe", busNumber, address },
    MICS_TIMING.timeoutMs,
  );
  try {
    return await question(device);
  } catch (error) {
    const absent =
      error instanceof DriverError &&
      (error.code === ERROR_CODES.i2c.nack ||
        error.code === ERROR_CODES.driver.frameInvalid ||
        error.code === ERROR_CODES.i2c.timeout);
    if (absent) return null;
    throw error;
  } finally {
    await closeQuietly(bus, MICS_TIMING.timeoutMs);
  }
}
