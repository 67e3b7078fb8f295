import { createLogger, type Logger } from "../../../core/logger.js";
import type { I2cTiming } from "../../../daemon/drivers/i2c/transfer.js";
import type { SensorConfig } from "../../../schemas/config-types.js";

/** Short deadlines so fault tests take milliseconds; the pause still separates write and read. */
export const FAST_TIMING: I2cTiming = { timeoutMs: 60, pauseMs: 1 };

export function sensorConfig(
  driver: string,
  options: Record<string, unknown> = {},
  overrides: Partial<SensorConfig> = {},
): SensorConfig {
  return { id: "gas0", driver, intervalMs: 10, warmupMs: 0, channels: {}, options, ...overrides };
}

export function captureLog(): { lines: string[]; log: Logger } {
  const lines: string[] = [];
  return {
    lines,
    log: createLogger({ level: "debug", journald: true, write: (line) => lines.push(line.trim()) }),
  };
}

/** The rejection of `promise`, failing the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but the promise resolved");
}

export async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
