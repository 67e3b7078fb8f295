import { isAbsolute } from "node:path";
import { DURATION_HINT, parseDuration } from "../../../core/duration.js";
import type { ConfigProblem } from "../../../core/errors.js";
import type { SensorConfig } from "../../../schemas/config-types.js";
import {
  ZE_DEFAULTS,
  ZE_GASES,
  ZE_MODELS,
  ZE_MODES,
  type ZeGas,
  type ZeModel,
} from "../../../schemas/drivers/names.js";
import type { DriverDefinition } from "../registry.js";
import { WinsenZeDriver, type WinsenZeSettings } from "./driver.js";

export { WinsenZeDriver } from "./driver.js";

/** ZE15-CO manual: "Preheating time: 30 seconds" (manualspro.net/333661). */
const DEFAULT_WARMUP_MS = 30_000;

function option<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.find((candidate) => candidate === value) ?? fallback;
}

function timeoutMs(sensor: SensorConfig): number | null {
  const raw = sensor.options.timeout;
  if (typeof raw !== "string") return ZE_DEFAULTS.timeoutMs;
  const ms = parseDuration(raw);
  return ms !== null && ms > 0 ? ms : null;
}

/** Options as parsed from TOML (already schema-checked); defaults applied here. */
export function winsenZeSettings(
  sensor: SensorConfig,
  log: WinsenZeSettings["log"],
): WinsenZeSettings {
  const { options } = sensor;
  return {
    sensor: sensor.id,
    port: String(options.port ?? ""),
    baudRate: typeof options.baud === "number" ? options.baud : ZE_DEFAULTS.baud,
    mode: option(options.mode, ZE_MODES, ZE_DEFAULTS.mode),
    gas: option<ZeGas>(options.gas, ZE_GASES, "co"),
    model: option<ZeModel>(options.model, ZE_MODELS, ZE_DEFAULTS.model),
    decimals: typeof options.decimals === "number" ? options.decimals : null,
    timeoutMs: timeoutMs(sensor) ?? ZE_DEFAULTS.timeoutMs,
    log,
  };
}

/**
 * Winsen ZE07 / ZE15 / ZE03 electrochemical gas modules on a UART (9600 8N1).
 * Values are reported in the unit the frame states (ppm for the CO modules) and
 * converted by the recorder to the channel's unit.
 */
export const winsenZeDriver: DriverDefinition = {
  name: "winsen-ze",
  defaultIntervalMs: 1000,
  defaultWarmupMs: DEFAULT_WARMUP_MS,
  allowsFullSpeed: false,
  gases: (sensor) => [option<ZeGas>(sensor.options.gas, ZE_GASES, "co")],
  check(sensor, keyPrefix) {
    const problems: ConfigProblem[] = [];
    const port = String(sensor.options.port ?? "");
    // Not resolved against the config folder: a device path is absolute. The port itself
    // may legitimately be missing at start-up (USB adapter plugged in later): not checked.
    if (!isAbsolute(port)) {
      problems.push({
        key: `${keyPrefix}.port`,
        message: `"${port}" is not an absolute device path; use e.g. "/dev/serial0" or "/dev/ttyUSB0"`,
      });
    }
    if (timeoutMs(sensor) === null) {
      problems.push({
        key: `${keyPrefix}.timeout`,
        message: `"${String(sensor.options.timeout)}" is not a positive duration; ${DURATION_HINT}`,
      });
    }
    return problems;
  },
  create(sensor, context) {
    return new WinsenZeDriver(winsenZeSettings(sensor, context.log));
  },
};
