import { hostname } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { DURATION_HINT, formatDuration, parseDuration } from "../../core/duration.js";
import type { LogLevel } from "../../core/logger.js";
import { formatSize, parseSize, SIZE_HINT } from "../../core/size.js";
import type { DeviceConfig, LogConfig, StorageConfig } from "../../schemas/config-types.js";
import { asString, asTable, type Problems } from "./problems.js";
import { didYouMean } from "./suggest.js";

export const DEFAULT_DATABASE_PATH = "/var/lib/sensord/sensord.db";
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;
/** Below this, commits per second would wear an SD card for no gain. */
export const MIN_FLUSH_INTERVAL_MS = 10;
/** Above this, a power cut loses too much. */
export const MAX_FLUSH_INTERVAL_MS = 600_000;
export const DEFAULT_MAX_BYTES = 256 * 1024 ** 2;
export const MIN_MAX_BYTES = 1024 ** 2;

/** Defaults computed from the machine; injectable so tests are deterministic. */
export interface MachineDefaults {
  hostname: string;
  timezone: string;
}

export function machineDefaults(): MachineDefaults {
  return { hostname: hostname(), timezone: Intl.DateTimeFormat().resolvedOptions().timeZone };
}

export function resolveDevice(
  raw: unknown,
  machine: MachineDefaults,
  problems: Problems,
): DeviceConfig {
  const table = asTable(raw) ?? {};
  const gps = asString(table.gps);
  const timezone = asString(table.timezone);
  if (gps !== undefined) {
    const problem = gpsProblem(gps);
    if (problem !== null) problems.add("device.gps", problem);
  }
  return {
    id: asString(table.id) ?? machine.hostname,
    group: asString(table.group) ?? "0",
    gps: gps ?? null,
    timezone: timezone === undefined ? machine.timezone : checkTimezone(timezone, problems),
  };
}

const GPS_EXAMPLE = 'write it as "lat, lng" in decimal degrees, e.g. "37.6100, 126.9963"';

/** `"lat, lng"`: two decimal numbers, latitude within ±90 and longitude within ±180. */
export function gpsProblem(text: string): string | null {
  const parts = text.split(",").map((part) => part.trim());
  const numbers = parts.map((part) =>
    /^[+-]?\d+(\.\d+)?$/.test(part) ? Number(part) : Number.NaN,
  );
  const [lat, lng] = numbers;
  if (parts.length !== 2 || lat === undefined || lng === undefined || numbers.some(Number.isNaN)) {
    return `"${text}" is not a position; ${GPS_EXAMPLE}`;
  }
  if (Math.abs(lat) > 90) return `latitude ${lat} is out of range (-90 to 90); ${GPS_EXAMPLE}`;
  if (Math.abs(lng) > 180) return `longitude ${lng} is out of range (-180 to 180); ${GPS_EXAMPLE}`;
  return null;
}

/** The canonical IANA name (`asia/seoul` -> `Asia/Seoul`), or the input with a problem added. */
function checkTimezone(zone: string, problems: Problems): string {
  try {
    // Offsets such as "+09:00" are not zones: they ignore daylight saving.
    if (/^[+-]/.test(zone)) throw new RangeError("offset");
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    const zones = Intl.supportedValuesOf("timeZone");
    problems.add(
      "device.timezone",
      `"${zone}" is not an IANA time zone;${didYouMean(zone, zones)} ` +
        'use a name such as "Asia/Seoul", "Europe/Berlin" or "UTC" (see `timedatectl list-timezones`)',
    );
    return zone;
  }
}

export function resolveStorage(raw: unknown, baseDir: string, problems: Problems): StorageConfig {
  const table = asTable(raw) ?? {};
  const path = asString(table.path) ?? DEFAULT_DATABASE_PATH;
  return {
    path: isAbsolute(path) ? path : resolve(baseDir, path),
    flushIntervalMs: durationInRange(
      table.flush_interval,
      "storage.flush_interval",
      {
        min: MIN_FLUSH_INTERVAL_MS,
        max: MAX_FLUSH_INTERVAL_MS,
        fallback: DEFAULT_FLUSH_INTERVAL_MS,
      },
      problems,
    ),
    maxBytes: resolveMaxBytes(table.max_bytes, problems),
  };
}

function resolveMaxBytes(raw: unknown, problems: Problems): number {
  const text = asString(raw);
  if (text === undefined) return DEFAULT_MAX_BYTES;
  const bytes = parseSize(text);
  if (bytes === null) {
    problems.add("storage.max_bytes", `"${text}" is not a size; ${SIZE_HINT}`);
  } else if (bytes < MIN_MAX_BYTES) {
    problems.add(
      "storage.max_bytes",
      `"${text}" is too small; use at least "${formatSize(MIN_MAX_BYTES)}", e.g. "64MiB"`,
    );
  }
  return bytes ?? DEFAULT_MAX_BYTES;
}

export interface DurationLimits {
  min: number;
  max?: number;
  fallback: number;
}

/**
 * A duration key: ms, or `fallback` when absent (or wrong, with a problem
 * added). A wrong type was already reported by the schema check.
 */
export function durationInRange(
  raw: unknown,
  key: string,
  limits: DurationLimits,
  problems: Problems,
): number {
  const text = asString(raw);
  if (text === undefined) return limits.fallback;
  const ms = parseDuration(text);
  if (ms === null) {
    problems.add(key, `"${text}" is not a duration; ${DURATION_HINT}`);
    return limits.fallback;
  }
  const range =
    limits.max === undefined
      ? `at least "${formatDuration(limits.min)}"`
      : `from "${formatDuration(limits.min)}" to "${formatDuration(limits.max)}"`;
  if (ms < limits.min || (limits.max !== undefined && ms > limits.max)) {
    problems.add(key, `"${text}" is out of range; use a duration ${range}`);
  }
  return ms;
}

export function resolveLog(raw: unknown): LogConfig {
  const level = asString(asTable(raw)?.level);
  return { level: isLogLevel(level) ? level : "info" };
}

function isLogLevel(value: string | undefined): value is LogLevel {
  return value === "error" || value === "warn" || value === "info" || value === "debug";
}
