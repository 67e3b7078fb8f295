import { setTimeout as sleep } from "node:timers/promises";
import type { I2cBus, I2cBusOpener } from "./bus.js";
import { hexBytes, type I2cTarget, InvalidFrame, i2cError } from "./errors.js";
import { type BusGate, gateFor } from "./gate.js";

/**
 * Per-operation deadline. A transfer of a few bytes at 100 kHz takes well under
 * a millisecond; the Linux adapter's own timeout is about a second. Half a
 * second leaves room for a busy libuv threadpool and still fails a 1 s
 * sampling interval's read before the next tick is due.
 */
export const DEFAULT_I2C_TIMEOUT_MS = 500;

/** How an I2C driver talks to its bus; tests shorten the timeout and pauses. */
export interface I2cTiming {
  timeoutMs: number;
  /** Pause between writing a command and reading its reply (the board's firmware needs it). */
  pauseMs: number;
}

/** A step of a unit, named for error messages ("write [02]", "read 2 bytes"). */
type NamedStep = <R>(operation: string, transfer: () => Promise<R>) => Promise<R>;

/**
 * One device on one bus, with the helpers every Grove board driver needs: a
 * plain write, a plain read, and write-pause-read. Each runs as one exclusive
 * unit on the bus's gate (no other device's transfers in between; every
 * transfer under a deadline; see gate.ts), and every failure comes out as a
 * DriverError naming bus and address.
 */
export class I2cDevice {
  constructor(
    private readonly bus: I2cBus,
    private readonly gate: BusGate,
    readonly target: I2cTarget,
    private readonly timeoutMs: number = DEFAULT_I2C_TIMEOUT_MS,
  ) {}

  write(bytes: readonly number[]): Promise<void> {
    return this.exclusive(writeName(bytes), (step) => this.writeStep(step, bytes));
  }

  /** Reads exactly `length` bytes; fewer is a bad frame (SENSORD_FRAME_INVALID), not a link failure. */
  read(length: number): Promise<Buffer> {
    return this.exclusive(readName(length), (step) => this.readStep(step, length));
  }

  /**
   * Write a command, pause, then read the reply as a separate plain read: the
   * Grove boards are microcontrollers that prepare the answer after the write,
   * not SMBus register devices.
   * The bus stays ours for the pause, so the reply cannot be another command's.
   */
  query(command: readonly number[], replyLength: number, pauseMs: number): Promise<Buffer> {
    return this.exclusive(writeName(command), async (step) => {
      await this.writeStep(step, command);
      if (pauseMs > 0) await sleep(pauseMs);
      return this.readStep(step, replyLength);
    });
  }

  private async writeStep(step: NamedStep, bytes: readonly number[]): Promise<void> {
    const buffer = Buffer.from(bytes);
    const { bytesWritten } = await step(writeName(bytes), () =>
      this.bus.i2cWrite(this.target.address, buffer.length, buffer),
    );
    if (bytesWritten < buffer.length) {
      // A write that stops early means the device NACKed a data byte.
      throw Object.assign(new Error(`only ${bytesWritten} of ${buffer.length} bytes written`), {
        code: "EREMOTEIO",
      });
    }
  }

  private async readStep(step: NamedStep, length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await step(readName(length), () =>
      this.bus.i2cRead(this.target.address, length, buffer),
    );
    if (bytesRead < length) {
      throw new InvalidFrame(`short read: got ${bytesRead} of ${length} bytes`);
    }
    return buffer;
  }

  private async exclusive<T>(unit: string, work: (step: NamedStep) => Promise<T>): Promise<T> {
    let operation = unit;
    try {
      return await this.gate.exclusive(this.timeoutMs, (step) =>
        work((name, transfer) => {
          operation = name;
          return step(transfer);
        }),
      );
    } catch (error) {
      throw i2cError(error, this.target, operation);
    }
  }
}

function writeName(bytes: readonly number[]): string {
  return `write [${hexBytes(bytes)}]`;
}

function readName(length: number): string {
  return `read ${length} bytes`;
}

/**
 * Opens the bus and wraps the device. i2c-bus opens /dev/i2c-N lazily, so a
 * missing bus or a permission problem shows up as ENOENT/EACCES on the first
 * transfer, which i2cError explains; a failure of the opener itself (the native
 * module failing to load) is mapped the same way.
 */
export async function openI2cDevice(
  opener: I2cBusOpener,
  target: I2cTarget,
  timeoutMs: number = DEFAULT_I2C_TIMEOUT_MS,
): Promise<{ bus: I2cBus; device: I2cDevice }> {
  let bus: I2cBus;
  try {
    bus = await opener(target.busNumber);
  } catch (error) {
    throw i2cError(error, target, `open bus ${target.busNumber}`);
  }
  const device = new I2cDevice(bus, gateFor(opener, target.busNumber), target, timeoutMs);
  return { bus, device };
}

/**
 * Closes the bus without throwing and without waiting longer than `timeoutMs`:
 * close() runs in the sampler's reopen path and at shutdown, neither of which
 * may hang on a bus that is stuck.
 */
export async function closeQuietly(bus: I2cBus | null, timeoutMs: number): Promise<void> {
  if (bus === null) return;
  const closing = bus.close().catch(() => undefined);
  const controller = new AbortController();
  await Promise.race([
    closing,
    sleep(timeoutMs, undefined, { signal: controller.signal }).catch(() => undefined),
  ]);
  controller.abort();
}
