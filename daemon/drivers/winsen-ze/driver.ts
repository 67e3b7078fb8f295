import { performance } from "node:perf_hooks";
import { DriverError, ERROR_CODES } from "../../../core/errors.js";
import type { Logger } from "../../../core/logger.js";
import type { ZeGas, ZeMode, ZeModel } from "../../../schemas/drivers/names.js";
import type { Unit } from "../../../schemas/vocabulary.js";
import type { Sample, SensorDriver } from "../driver.js";
import { openSerialPort, type SerialLink } from "../serial/port.js";
import {
  decodeFrame,
  FrameParser,
  GAS_CODE,
  gasCodeName,
  hex,
  hexBytes,
  modeCommand,
  qaDecimals,
  READ_REQUEST,
  scale,
} from "./frame.js";

export interface WinsenZeSettings {
  sensor: string;
  port: string;
  baudRate: number;
  mode: ZeMode;
  gas: ZeGas;
  model: ZeModel;
  /** Q&A scale override; null: learn it from active frames or use the model's default. */
  decimals: number | null;
  /** How long a read waits for a valid frame before failing. */
  timeoutMs: number;
  log: Logger;
}

/** Cumulative since the driver was created (across reopens). */
export interface WinsenZeStats {
  frames: number;
  rejectedBytes: number;
  badChecksums: number;
  /** Frames with a valid checksum but unusable content (other gas, unknown unit, ...). */
  invalidFrames: number;
}

/** What one read can end with: a sample, or a fault the module itself reported. */
type Outcome = Sample | DriverError;

/** Q&A replies carry no unit byte: O2 modules measure %vol, the rest ppm (assumption, see report). */
function qaUnit(gas: ZeGas): Unit {
  return gas === "o2" ? "%" : "ppm";
}

/**
 * Reads one Winsen ZE module over a UART. Active mode: the module pushes a frame a
 * second [ZE07]; `read()` returns the newest valid one since the last read, waiting
 * up to `timeoutMs`. Q&A mode: `read()` sends the read request and waits for the reply.
 * No valid frame in time: SENSORD_FRAME_INVALID when bytes were rejected (noise, wrong
 * baud, other gas), else SENSORD_SERIAL_SILENT; both make RunningSensor degrade, and the
 * latter (not a frame error) also reopens the port after a backoff.
 */
export class WinsenZeDriver implements SensorDriver {
  private link: SerialLink | null = null;
  private parser = new FrameParser();
  private outcome: Outcome | null = null;
  private wake: (() => void) | null = null;
  private learnedDecimals: number | null = null;
  private learnedFullRange: number | null = null;
  /** In Q&A mode an active frame means the module reverted (power cycle): switch it again. */
  private uploadsWhileInQa = false;
  private readonly counters: WinsenZeStats = {
    frames: 0,
    rejectedBytes: 0,
    badChecksums: 0,
    invalidFrames: 0,
  };
  private sinceRead = { rejectedBytes: 0, invalidFrames: 0, problem: "" };

  constructor(private readonly settings: WinsenZeSettings) {}

  stats(): WinsenZeStats {
    return { ...this.counters };
  }

  async open(): Promise<void> {
    const { sensor, port, baudRate, model, mode } = this.settings;
    this.parser = new FrameParser();
    this.outcome = null;
    this.sinceRead = { rejectedBytes: 0, invalidFrames: 0, problem: "" };
    const link = await openSerialPort({ sensor, path: port, baudRate });
    this.link = link;
    link.onData((chunk) => this.onChunk(chunk));
    link.onFailure(() => this.wake?.());
    // Also in active mode: a module left in Q&A mode by an earlier config would stay silent.
    await link.write(modeCommand(model, mode));
  }

  async read(): Promise<Sample> {
    const link = this.link;
    if (link === null) {
      throw new DriverError(ERROR_CODES.serial.closed, this.settings.sensor, "read before open");
    }
    if (link.failure !== null) throw link.failure;
    if (this.settings.mode === "qa") {
      if (this.uploadsWhileInQa) {
        this.uploadsWhileInQa = false;
        await link.write(modeCommand(this.settings.model, "qa"));
      }
      this.outcome = null; // a reply is only an answer to this request
      await link.write(READ_REQUEST);
    }
    const deadline = performance.now() + this.settings.timeoutMs;
    for (;;) {
      const outcome = this.outcome;
      if (outcome !== null) {
        this.outcome = null;
        this.endRead();
        if (outcome instanceof DriverError) throw outcome;
        return outcome;
      }
      if (link.failure !== null) throw link.failure;
      if (this.link !== link) {
        // close() during a read (a shutdown): end it now rather than at the timeout.
        throw new DriverError(
          ERROR_CODES.serial.closed,
          this.settings.sensor,
          "port closed while reading",
        );
      }
      const left = deadline - performance.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = null;
    }
    throw this.timeoutError();
  }

  async close(): Promise<void> {
    const link = this.link;
    this.link = null;
    this.wake?.();
    await link?.close();
  }

  private timeoutError(): DriverError {
    const { sensor, port, mode, timeoutMs } = this.settings;
    const { rejectedBytes, invalidFrames, problem } = this.sinceRead;
    this.endRead();
    const waited = `${timeoutMs / 1000} s`;
    if (rejectedBytes > 0 || invalidFrames > 0) {
      return new DriverError(
        ERROR_CODES.driver.frameInvalid,
        sensor,
        `no valid frame on ${port} in ${waited}: ${rejectedBytes} byte(s) rejected, ` +
          `${invalidFrames} unusable frame(s)${problem ? ` (${problem})` : ""}; check \`baud\`, \`gas\` and wiring`,
      );
    }
    return new DriverError(
      ERROR_CODES.serial.silent,
      sensor,
      `no data from the module on ${port} in ${waited} (${mode} mode): check power, wiring ` +
        "(module TX to Pi RX, and Pi TX to module RX for Q&A) and `port`",
    );
  }

  /** Logs what a read had to skip (debug: a noisy line must not flood the journal). */
  private endRead(): void {
    const { rejectedBytes, invalidFrames, problem } = this.sinceRead;
    if (rejectedBytes > 0 || invalidFrames > 0) {
      this.settings.log.debug(
        `skipped ${rejectedBytes} byte(s) and ${invalidFrames} unusable frame(s) since the last read${problem ? `: ${problem}` : ""}`,
      );
    }
    this.sinceRead = { rejectedBytes: 0, invalidFrames: 0, problem: "" };
  }

  private onChunk(chunk: Buffer): void {
    const rejectedBefore = this.parser.rejectedBytes;
    const badBefore = this.parser.badChecksums;
    const frames = this.parser.push(chunk);
    const rejected = this.parser.rejectedBytes - rejectedBefore;
    this.counters.rejectedBytes += rejected;
    this.counters.badChecksums += this.parser.badChecksums - badBefore;
    this.sinceRead.rejectedBytes += rejected;
    if (this.parser.badChecksums > badBefore) this.sinceRead.problem = "bad checksum";
    for (const frame of frames) {
      this.counters.frames++;
      this.onFrame(frame);
    }
    if (this.outcome !== null) this.wake?.();
  }

  private invalid(problem: string): void {
    this.counters.invalidFrames++;
    this.sinceRead.invalidFrames++;
    this.sinceRead.problem = problem;
  }

  private onFrame(frame: Buffer): void {
    const { gas, model, mode, decimals } = this.settings;
    const decoded = decodeFrame(frame, { faultBit: model === "ze15" });
    if (decoded.kind === "ack") return; // some firmware acknowledges a mode switch [FEGA]
    if (decoded.kind === "invalid") {
      this.invalid(`${decoded.reason} in ${hexBytes(frame)}`);
      return;
    }
    if (decoded.kind === "upload") {
      if (decoded.gasCode !== GAS_CODE[gas]) {
        this.invalid(
          `frame reports gas ${gasCodeName(decoded.gasCode)}, but \`gas\` is "${gas}" (0x${hex(GAS_CODE[gas])})`,
        );
        return;
      }
      if (decoded.unit === null) {
        this.invalid(`unknown unit byte 0x${hex(decoded.unitCode)} in ${hexBytes(frame)}`);
        return;
      }
      this.learnedDecimals = decoded.decimals;
      this.learnedFullRange = scale(decoded.fullRangeRaw, decoded.decimals);
      if (mode === "qa") {
        this.uploadsWhileInQa = true;
        return;
      }
      this.outcome = decoded.fault
        ? this.faultError()
        : this.sample(scale(decoded.raw, decoded.decimals), decoded.unit);
      return;
    }
    if (mode !== "qa") return; // a late reply after switching back to active: not a reading
    const places = qaDecimals({ configured: decimals, learned: this.learnedDecimals, model, gas });
    this.outcome = decoded.fault
      ? this.faultError()
      : this.sample(scale(decoded.raw, places), qaUnit(gas));
  }

  private sample(value: number, unit: Unit): Sample {
    const fullRange = this.learnedFullRange;
    const outOfRange = fullRange !== null && fullRange > 0 && value > fullRange;
    return {
      values: [{ gas: this.settings.gas, value, unit, ...(outOfRange ? { outOfRange } : {}) }],
    };
  }

  private faultError(): DriverError {
    return new DriverError(
      ERROR_CODES.driver.sensorFault,
      this.settings.sensor,
      "the module reports a sensor fault (ZE15 fault bit set): check or replace the sensor",
    );
  }
}
