import { formatDuration } from "../../core/duration.js";
import { CONFIG_KEYS } from "../../schemas/compiled/validators.js";
import type { ChannelConfig, SensorConfig } from "../../schemas/config-types.js";
import { DEFAULT_UNIT, GASES, type Gas, UNITS, type Unit } from "../../schemas/names.js";
import { DRIVERS, type DriverDefinition } from "../drivers/registry.js";
import { canConvert } from "../units/convert.js";
import { decodeSection } from "./decode.js";
import {
  asNumber,
  asString,
  asTable,
  childKey,
  describeValue,
  type Problems,
  quoteList,
} from "./problems.js";
import type { ShapeChecks } from "./shape-checks.js";
import { didYouMean } from "./suggest.js";

/** The shortest interval between reads, except "0s" (as fast as the driver goes) where allowed. */
export const MIN_INTERVAL_MS = 10;

/** The keys every `[[sensors]]` entry accepts, whatever its driver; the rest are the driver's. */
const COMMON_KEYS: ReadonlySet<string> = new Set(Object.keys(CONFIG_KEYS.sensors));

function driverList(): string {
  return [...DRIVERS.keys()].join(", ");
}

/** `[[sensors]]` -> SensorConfig[], adding a problem for every bad key. */
export function resolveSensors(
  raw: unknown,
  baseDir: string,
  problems: Problems,
  checks: ShapeChecks,
): SensorConfig[] {
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) {
    problems.add(
      "sensors",
      'no sensors configured; add one, e.g. [[sensors]] with id = "gas0" and driver = "sim" ' +
        `(drivers: ${driverList()})`,
    );
    return [];
  }
  if (!Array.isArray(raw)) return []; // reported by the schema check
  const firstIndexOfId = new Map<string, number>();
  const sensors: SensorConfig[] = [];
  raw.forEach((entry: unknown, index) => {
    const prefix = childKey("sensors", index);
    const sensor = resolveSensor(entry, prefix, baseDir, problems, checks);
    if (sensor === null) return;
    const first = firstIndexOfId.get(sensor.id);
    if (first === undefined) {
      firstIndexOfId.set(sensor.id, index);
    } else if (sensor.id !== "") {
      problems.add(
        `${prefix}.id`,
        `duplicate sensor id "${sensor.id}" (also sensors[${first}].id); give each sensor its own id`,
      );
    }
    sensors.push(sensor);
  });
  return sensors;
}

function resolveSensor(
  entry: unknown,
  prefix: string,
  baseDir: string,
  problems: Problems,
  checks: ShapeChecks,
): SensorConfig | null {
  const table = asTable(entry);
  if (table === undefined) {
    problems.add(prefix, `expected a table ([[sensors]]), got ${describeValue(entry)}`);
    return null;
  }
  const definition = lookupDriver(table.driver, `${prefix}.driver`, problems);
  checks.sensorEntry(definition?.name, table, prefix, problems);
  const written = decodeSection("sensors", table, problems, prefix);
  const sensor: SensorConfig = {
    id: asString(table.id) ?? "",
    driver: definition?.name ?? asString(table.driver) ?? "",
    intervalMs: resolveInterval(written.interval, table.interval, prefix, definition, problems),
    warmupMs: written.warmup ?? definition?.defaultWarmupMs ?? 0,
    channels: resolveChannels(table.channels),
    options: driverOptions(table),
  };
  if (definition !== undefined) checkChannelUnits(sensor, definition, prefix, problems);
  if (definition?.check && !problems.hasUnder(prefix)) {
    problems.addAll(definition.check(sensor, prefix, baseDir));
  }
  return sensor;
}

function lookupDriver(raw: unknown, key: string, problems: Problems): DriverDefinition | undefined {
  if (raw === undefined) {
    problems.add(key, `missing; add driver = "sim" (one of: ${driverList()})`);
    return undefined;
  }
  if (typeof raw !== "string") return undefined; // wrong type: reported by the schema check
  const definition = DRIVERS.get(raw);
  if (definition === undefined) {
    problems.add(
      key,
      `unknown driver "${raw}";${didYouMean(raw, DRIVERS.keys())} use one of: ${driverList()}`,
    );
  }
  return definition;
}

/** Driver-dependent limits the schema cannot state; `raw` is the text as written, for the message. */
function resolveInterval(
  written: number | undefined,
  raw: unknown,
  prefix: string,
  definition: DriverDefinition | undefined,
  problems: Problems,
): number {
  const key = `${prefix}.interval`;
  const ms = written ?? definition?.defaultIntervalMs ?? 1000;
  if (ms === 0 && definition !== undefined && !definition.allowsFullSpeed) {
    const fullSpeed = [...DRIVERS.values()].filter((driver) => driver.allowsFullSpeed);
    problems.add(
      key,
      `"0s" (read as fast as possible) is not allowed for driver "${definition.name}", only for ` +
        `${quoteList(fullSpeed.map((driver) => driver.name))}; use at least "${formatDuration(MIN_INTERVAL_MS)}"`,
    );
  } else if (ms > 0 && ms < MIN_INTERVAL_MS) {
    const zero = definition?.allowsFullSpeed ? ' (or "0s" to read as fast as possible)' : "";
    problems.add(
      key,
      `"${String(raw)}" is too short; use at least "${formatDuration(MIN_INTERVAL_MS)}"${zero}`,
    );
  }
  return ms;
}

function isGas(name: string): name is Gas {
  return (GASES as readonly string[]).includes(name);
}

function isUnit(name: unknown): name is Unit {
  return typeof name === "string" && (UNITS as readonly string[]).includes(name);
}

function resolveChannels(raw: unknown): SensorConfig["channels"] {
  const channels: SensorConfig["channels"] = {};
  for (const [gas, value] of Object.entries(asTable(raw) ?? {})) {
    if (!isGas(gas)) continue; // reported by the schema check
    const table = asTable(value) ?? {};
    const calibration = asTable(table.calibration);
    const slope = asNumber(calibration?.slope);
    const channel: ChannelConfig = {
      unit: isUnit(table.unit) ? table.unit : DEFAULT_UNIT[gas],
      calibration:
        slope === undefined ? null : { slope, offset: asNumber(calibration?.offset) ?? 0 },
      sensorId: asString(table.sensor_id) ?? null,
      sensorType: asString(table.sensor_type) ?? null,
    };
    channels[gas] = channel;
  }
  return channels;
}

/**
 * The driver's own keys as written: drivers apply their own defaults
 * (schemas/compile.ts refuses option schemas that declare any).
 */
function driverOptions(table: Record<string, unknown>): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) {
    if (!COMMON_KEYS.has(key)) options[key] = value;
  }
  return options;
}

/**
 * The unit readings of `gas` from `sensor` are stored in: the channel's unit,
 * unless the driver reports in a unit that cannot be converted to it (an
 * uncalibrated ADC count) and no calibration bridges the two.
 * pipeline/recorder.ts applies the same rule to each value.
 */
export function channelUnit(sensor: SensorConfig, gas: Gas): Unit {
  const channel = sensor.channels[gas];
  const configured = channel?.unit ?? DEFAULT_UNIT[gas];
  if (channel?.calibration) return configured;
  const native = DRIVERS.get(sensor.driver)?.outputUnit?.(sensor, gas) ?? null;
  return native === null || canConvert(native, configured) ? configured : native;
}

/** A unit set on a channel the driver cannot deliver in, with no calibration to get there. */
function checkChannelUnits(
  sensor: SensorConfig,
  definition: DriverDefinition,
  prefix: string,
  problems: Problems,
): void {
  for (const [gas, channel] of Object.entries(sensor.channels)) {
    if (!isGas(gas) || channel === undefined || channel.calibration !== null) continue;
    const native = definition.outputUnit?.(sensor, gas) ?? null;
    if (native === null || canConvert(native, channel.unit)) continue;
    problems.add(
      `${prefix}.channels.${gas}.unit`,
      `driver "${definition.name}" reports ${gas} in "${native}", which cannot be converted to ` +
        `"${channel.unit}"; add calibration = { slope = ..., offset = ... } to this channel, ` +
        `or set unit = "${native}"`,
    );
  }
}
