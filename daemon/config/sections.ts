import { hostname } from "node:os";
import { isAbsolute, resolve } from "node:path";
import type { DeviceConfig, LogConfig, StorageConfig } from "../../schemas/config-types.js";
import { decodeSection } from "./decode.js";
import { asTable, type Problems } from "./problems.js";
import { didYouMean } from "./suggest.js";

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
  const { id, group, gps, timezone } = decodeSection("device", asTable(raw) ?? {}, problems);
  if (gps !== undefined) {
    const problem = gpsProblem(gps);
    if (problem !== null) problems.add("device.gps", problem);
  }
  return {
    id: id ?? machine.hostname,
    group,
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
  const storage = decodeSection("storage", asTable(raw) ?? {}, problems);
  return {
    path: isAbsolute(storage.path) ? storage.path : resolve(baseDir, storage.path),
    flushIntervalMs: storage.flush_interval,
    maxBytes: storage.max_bytes,
  };
}

export function resolveLog(raw: unknown, problems: Problems): LogConfig {
  return decodeSection("log", asTable(raw) ?? {}, problems);
}
