import { DriverError, describeError, ERROR_CODES, type ErrorCode } from "../../../core/errors.js";
import { hexAddress } from "../../../schemas/drivers/names.js";
import { GateTimeout } from "./gate.js";

/** Which device an I2C operation was for, so every message names bus and address. */
export interface I2cTarget {
  /** Sensor id from the config, for DriverError. */
  sensor: string;
  busNumber: number;
  address: number;
}

/**
 * A reply that arrived but cannot be right (failed checksum, ADC above 10 bits).
 * Protocol code throws this without knowing which sensor it serves; `i2cError`
 * turns it into SENSORD_FRAME_INVALID, which the sampler counts without
 * reopening the device (daemon/sampler/running-sensor.ts).
 */
export class InvalidFrame extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidFrame";
  }
}

export function hexBytes(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
}

/** The errno name (ENOENT, EREMOTEIO, ...) Node puts on fs errors, which i2c-bus passes through. */
export function errnoCode(error: unknown): string | null {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return null;
}

/**
 * Maps whatever an I2C operation threw to a DriverError with an actionable message.
 * Errno meanings for /dev/i2c-N: Linux Documentation/i2c/fault-codes.rst (ENXIO /
 * EREMOTEIO: address not acknowledged; ETIMEDOUT: the adapter gave up; EIO: the
 * catch-all some adapters, e.g. older bcm2835 kernels, use for a NACK too).
 */
export function i2cError(error: unknown, target: I2cTarget, operation: string): DriverError {
  if (error instanceof DriverError) return error;
  const { sensor, busNumber } = target;
  const where = `${hexAddress(target.address)} on bus ${busNumber}`;
  const fail = (code: ErrorCode, message: string) =>
    new DriverError(code, sensor, message, { cause: error });

  if (error instanceof InvalidFrame) {
    return fail(
      ERROR_CODES.driver.frameInvalid,
      `bad reply from ${where} (${operation}): ${error.message}`,
    );
  }
  if (error instanceof GateTimeout) return timeoutError(error, target, operation, fail);
  const errno = errnoCode(error);
  switch (errno) {
    case "ENOENT":
      return fail(
        ERROR_CODES.i2c.busMissing,
        `I2C bus ${busNumber} not found (/dev/i2c-${busNumber} does not exist): enable I2C ` +
          "(raspi-config > Interface Options > I2C, or dtparam=i2c_arm=on in config.txt) and " +
          `reboot, or set bus = <n> to the bus the board is on (ls /dev/i2c-*)`,
      );
    case "EACCES":
    case "EPERM":
      return fail(
        ERROR_CODES.i2c.permission,
        `permission denied on /dev/i2c-${busNumber}: add the service user to the "i2c" group ` +
          "(sudo usermod -aG i2c <user>) and restart the service",
      );
    case "EREMOTEIO":
    case "ENXIO":
    case "EIO":
      return fail(
        ERROR_CODES.i2c.nack,
        `no device answered at ${where} (${errno} during ${operation}): check the wiring and ` +
          `power, and that the address matches the board (i2cdetect -y ${busNumber})`,
      );
    case "ETIMEDOUT":
      return fail(
        ERROR_CODES.i2c.timeout,
        `the I2C adapter timed out talking to ${where} (ETIMEDOUT during ${operation}): the bus ` +
          "may be held low or the device stretches the clock too long; keep the bus at 100 kHz",
      );
    default:
      return fail(
        ERROR_CODES.i2c.io,
        `I2C ${operation} to ${where} failed: ${describeError(error)}`,
      );
  }
}

function timeoutError(
  error: GateTimeout,
  target: I2cTarget,
  operation: string,
  fail: (code: ErrorCode, message: string) => DriverError,
): DriverError {
  const where = `${hexAddress(target.address)} on bus ${target.busNumber}`;
  if (error.kind === "blocked") {
    return fail(
      ERROR_CODES.i2c.timeout,
      `I2C bus ${target.busNumber} is still blocked by an operation that timed out ` +
        `${error.blockedForMs} ms ago; not starting ${operation} for ${hexAddress(target.address)} ` +
        "until it settles (check for a device holding SDA/SCL low; power-cycle the board)",
    );
  }
  const waited = error.kind === "waiting" ? " (waiting for the bus)" : "";
  return fail(
    ERROR_CODES.i2c.timeout,
    `no answer from ${where} within ${error.timeoutMs} ms${waited} (${operation})`,
  );
}
