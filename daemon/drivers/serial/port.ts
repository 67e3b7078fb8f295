import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import type { SerialPort } from "serialport";
import { DriverError, describeError, ERROR_CODES } from "../../../core/errors.js";

/**
 * A serial port for UART drivers: opened 8N1 with serialport, failures turned
 * into DriverErrors that say how to fix them, and an unplugged port (error or
 * close event) remembered as `failure`, so the driver's next read fails and
 * RunningSensor closes, backs off and reopens (an adapter may be plugged in again).
 *
 * serialport is imported on first open, so a config without UART sensors never
 * loads the native binding. `SerialPort.list()` is never called: it spawns
 * udevadm, which is missing on minimal images.
 */
export interface SerialOpenOptions {
  /** Sensor id, for error messages. */
  sensor: string;
  path: string;
  baudRate: number;
}

export interface SerialLink {
  readonly path: string;
  /** Set once the port failed or closed without close() being called; reads should throw it. */
  readonly failure: DriverError | null;
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once, when `failure` is set. */
  onFailure(listener: (error: DriverError) => void): void;
  /** Resolves once the bytes were handed to the OS and drained. */
  write(bytes: Uint8Array): Promise<void>;
  /** Releases the port; never throws; safe to call twice. */
  close(): Promise<void>;
}

type OpenErrorKind = "ENOENT" | "EACCES" | "EBUSY" | "OTHER";

/**
 * @serialport/bindings-cpp reports open failures as plain Errors without a `code`
 * ("Error: No such file or directory, cannot open /dev/x"), so the text is the
 * only clue; fs errors carry a code and win.
 */
function classify(error: unknown): OpenErrorKind {
  const code =
    typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  if (code === "ENOENT" || code === "ENOTDIR") return "ENOENT";
  if (code === "EACCES" || code === "EPERM") return "EACCES";
  if (code === "EBUSY") return "EBUSY";
  const text = describeError(error);
  if (/no such file|not found/i.test(text)) return "ENOENT";
  if (/permission denied|access denied/i.test(text)) return "EACCES";
  if (/resource busy|cannot lock|lock/i.test(text)) return "EBUSY";
  return "OTHER";
}

/** The DriverError for a port that would not open, with the fix in the message. */
export function serialOpenError(sensor: string, path: string, error: unknown): DriverError {
  const cause = { cause: error };
  switch (classify(error)) {
    case "ENOENT":
      return new DriverError(
        ERROR_CODES.serial.notFound,
        sensor,
        `serial port ${path} not found: enable the serial port (raspi-config), check \`port\``,
        cause,
      );
    case "EACCES":
      return new DriverError(
        ERROR_CODES.serial.permission,
        sensor,
        `no permission to open serial port ${path}: add the service user to the dialout group ` +
          "(sudo usermod -aG dialout <user>) and restart sensord",
        cause,
      );
    case "EBUSY":
      return new DriverError(
        ERROR_CODES.serial.busy,
        sensor,
        `serial port ${path} is in use by another program (a serial login console? ` +
          "raspi-config > Interface Options > Serial Port: login shell no, hardware yes)",
        cause,
      );
    default:
      return new DriverError(
        ERROR_CODES.serial.openFailed,
        sensor,
        `cannot open serial port ${path}: ${describeError(error)}`,
        cause,
      );
  }
}

class PortLink implements SerialLink {
  failure: DriverError | null = null;
  private closing = false;
  private readonly failureListeners: ((error: DriverError) => void)[] = [];

  constructor(
    private readonly port: SerialPort,
    private readonly sensor: string,
    readonly path: string,
  ) {
    // An 'error' event without a listener would crash the daemon; always listen.
    port.on("error", (error: unknown) => {
      this.fail(
        new DriverError(
          ERROR_CODES.serial.io,
          sensor,
          `serial port ${path} failed: ${describeError(error)}`,
          { cause: error },
        ),
      );
    });
    // bindings-cpp closes the port with a DisconnectedError when reads fail (unplugged USB,
    // the pty master gone): the next read must fail so RunningSensor reopens.
    port.on("close", (error: unknown) => {
      if (this.closing) return;
      this.fail(
        new DriverError(
          ERROR_CODES.serial.disconnected,
          sensor,
          `serial port ${path} closed unexpectedly (unplugged?)` +
            (error ? `: ${describeError(error)}` : ""),
          { cause: error },
        ),
      );
    });
  }

  private fail(error: DriverError): void {
    if (this.failure !== null || this.closing) return;
    this.failure = error;
    for (const listener of this.failureListeners) listener(error);
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.port.on("data", listener);
  }

  onFailure(listener: (error: DriverError) => void): void {
    this.failureListeners.push(listener);
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure !== null) {
        reject(this.failure);
        return;
      }
      this.port.write(Buffer.from(bytes), (writeError) => {
        if (writeError) {
          reject(
            new DriverError(
              ERROR_CODES.serial.io,
              this.sensor,
              `writing to serial port ${this.path} failed: ${describeError(writeError)}`,
              { cause: writeError },
            ),
          );
          return;
        }
        this.port.drain(() => resolve());
      });
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.port.removeAllListeners("data");
    if (!this.port.isOpen) return;
    // close() must not throw: a port that already went away is closed enough.
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

/** Opens `path` at `baudRate`, 8N1, or throws a DriverError saying what to fix. */
export async function openSerialPort(options: SerialOpenOptions): Promise<SerialLink> {
  const { sensor, path, baudRate } = options;
  // fs first: its errors carry proper codes (bindings-cpp only has message text), and
  // access() reports EACCES for a user outside the dialout group before any open.
  try {
    await stat(path);
    await access(path, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw serialOpenError(sensor, path, error);
  }
  const { SerialPort } = await import("serialport");
  const port = new SerialPort({
    path,
    baudRate,
    dataBits: 8,
    parity: "none",
    stopBits: 1,
    autoOpen: false,
  });
  const link = new PortLink(port, sensor, path);
  try {
    await new Promise<void>((resolve, reject) =>
      port.open((error) => (error ? reject(error) : resolve())),
    );
  } catch (error) {
    await link.close();
    throw serialOpenError(sensor, path, error);
  }
  return link;
}
