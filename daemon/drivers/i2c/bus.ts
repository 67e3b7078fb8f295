/**
 * The slice of i2c-bus's promise API the I2C drivers use: a plain write, then a
 * separate plain read (the Grove boards are microcontrollers, not SMBus register
 * devices). Tests put a byte-level board emulator behind the same interface.
 */
export interface I2cBus {
  i2cWrite(
    address: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }>;
  i2cRead(
    address: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesRead: number; buffer: Buffer }>;
  close(): Promise<void>;
}

export type I2cBusOpener = (busNumber: number) => Promise<I2cBus>;

/**
 * Opens /dev/i2c-<n> with i2c-bus, loaded on first use so a machine (or a
 * config) without I2C never loads the native module. i2c-bus opens the device
 * file lazily: a missing bus surfaces as ENOENT on the first transfer.
 */
export const openI2cBus: I2cBusOpener = async (busNumber) => {
  const { default: i2c } = await import("i2c-bus");
  return i2c.openPromisified(busNumber);
};
