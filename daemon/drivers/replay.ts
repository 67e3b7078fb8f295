import { accessSync, constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { DriverError, describeError, ERROR_CODES } from "../../core/errors.js";
import type { SensorConfig } from "../../schemas/config-types.js";
import { GASES, type Gas } from "../../schemas/names.js";
import type { ChannelValue, Sample, SensorDriver } from "./driver.js";
import type { DriverDefinition } from "./registry.js";

const KNOWN_GASES: ReadonlySet<string> = new Set(GASES);
const CHUNK_BYTES = 64 * 1024;

/**
 * Parses one NDJSON line: `{"co": 26.2, "no2": 91.0}` (any subset of gases, values
 * in the channel's unit), optionally with `"ts"` (ISO string or epoch ms) to replay
 * recorded data at its original time. Throws a DriverError for a bad line, which the
 * sampler counts and skips like a corrupt frame.
 */
export function parseReplayLine(sensor: string, line: string, lineNumber: number): Sample {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new DriverError(
      ERROR_CODES.driver.frameInvalid,
      sensor,
      `line ${lineNumber}: not JSON (${describeError(error)})`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new DriverError(
      ERROR_CODES.driver.frameInvalid,
      sensor,
      `line ${lineNumber}: expected a JSON object`,
    );
  }
  const values: ChannelValue[] = [];
  let ts: number | undefined;
  for (const [key, value] of Object.entries(parsed)) {
    if (key === "ts") {
      ts =
        typeof value === "number"
          ? value
          : typeof value === "string"
            ? Date.parse(value)
            : Number.NaN;
      if (!Number.isFinite(ts)) {
        throw new DriverError(
          ERROR_CODES.driver.frameInvalid,
          sensor,
          `line ${lineNumber}: "ts" is not a time`,
        );
      }
    } else if (!KNOWN_GASES.has(key)) {
      throw new DriverError(
        ERROR_CODES.driver.frameInvalid,
        sensor,
        `line ${lineNumber}: unknown gas "${key}"`,
      );
    } else if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new DriverError(
        ERROR_CODES.driver.frameInvalid,
        sensor,
        `line ${lineNumber}: ${key} is not a number`,
      );
    } else {
      values.push({ gas: key as Gas, value });
    }
  }
  return ts === undefined ? { values } : { values, ts };
}

/** Streams lines from a file in chunks, so a week of recorded data does not sit in memory. */
class LineReader {
  private handle: FileHandle | null = null;
  private buffered = "";
  private position = 0;
  private exhausted = false;
  private pending: string[] = [];
  private nextIndex = 0;

  constructor(private readonly path: string) {}

  async open(): Promise<void> {
    this.handle = await open(this.path, "r");
  }

  async rewind(): Promise<void> {
    this.buffered = "";
    this.position = 0;
    this.exhausted = false;
    this.pending = [];
    this.nextIndex = 0;
  }

  /** The next non-empty line, or null at end of file. */
  async next(): Promise<string | null> {
    for (;;) {
      const line = this.pending[this.nextIndex];
      if (line !== undefined) {
        this.nextIndex++;
        if (line.trim() !== "") return line;
        continue;
      }
      if (this.exhausted) return null;
      await this.fill();
    }
  }

  private async fill(): Promise<void> {
    if (this.handle === null) throw new Error("LineReader used before open()");
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await this.handle.read(chunk, 0, CHUNK_BYTES, this.position);
    this.position += bytesRead;
    if (bytesRead === 0) {
      this.exhausted = true;
      this.pending = this.buffered === "" ? [] : [this.buffered];
      this.nextIndex = 0;
      this.buffered = "";
      return;
    }
    const lines = (this.buffered + chunk.toString("utf8", 0, bytesRead)).split("\n");
    this.buffered = lines.pop() ?? "";
    this.pending = lines;
    this.nextIndex = 0;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }
}

export function replayPath(sensor: SensorConfig, baseDir: string): string {
  const file = String(sensor.options.file ?? "");
  return isAbsolute(file) ? file : resolve(baseDir, file);
}

export const replayDriver: DriverDefinition = {
  name: "replay",
  defaultIntervalMs: 1000,
  defaultWarmupMs: 0,
  allowsFullSpeed: true,
  // Whatever the file holds: not known until it is read.
  gases: () => null,
  check(sensor, keyPrefix, baseDir) {
    const path = replayPath(sensor, baseDir);
    try {
      accessSync(path, constants.R_OK);
      return [];
    } catch (error) {
      return [
        {
          key: `${keyPrefix}.file`,
          message: `cannot read replay file ${path} (${describeError(error)}); fix the path (relative paths start at the config file's folder)`,
        },
      ];
    }
  },
  create(sensor, context) {
    const path = replayPath(sensor, context.baseDir);
    const loop = sensor.options.loop === true;
    const reader = new LineReader(path);
    let lineNumber = 0;
    const driver: SensorDriver = {
      open: async () => {
        try {
          await reader.open();
        } catch (error) {
          throw new DriverError(
            ERROR_CODES.driver.replayUnreadable,
            sensor.id,
            `cannot open ${path}: ${describeError(error)}`,
            { cause: error },
          );
        }
      },
      read: async () => {
        let line = await reader.next();
        if (line === null && loop) {
          await reader.rewind();
          lineNumber = 0;
          line = await reader.next();
        }
        if (line === null) return null;
        lineNumber++;
        return parseReplayLine(sensor.id, line, lineNumber);
      },
      close: () => reader.close(),
    };
    return driver;
  },
};
