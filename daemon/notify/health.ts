import { parseDuration } from "../../core/duration.js";
import type { SensorConfig } from "../../schemas/config-types.js";
import type { RecorderStats } from "../pipeline/recorder.js";
import type { SensorStatus } from "../sampler/running-sensor.js";

/**
 * Slack for one driver call on top of three sampling intervals. Every driver
 * bounds its own I/O (an I2C transfer 500 ms, a serial read its `timeout`,
 * 2.5 s by default), so a call still running after this is stuck, not slow.
 */
export const DRIVER_CALL_ALLOWANCE_MS = 5000;

/** How long one driver call (open, read or close) may run before its sampler counts as hung. */
export function stallLimitMs(sensor: Pick<SensorConfig, "intervalMs" | "options">): number {
  const raw = sensor.options.timeout;
  const declared = typeof raw === "string" ? (parseDuration(raw) ?? 0) : 0;
  return 3 * sensor.intervalMs + Math.max(DRIVER_CALL_ALLOWANCE_MS, 2 * declared);
}

export interface HealthInput {
  /** performance.now(): the clock SensorStatus.driverCallSince is on. */
  nowMs: number;
  samplers: ReadonlyArray<Pick<SensorStatus, "id" | "driverCallSince">>;
  configs: ReadonlyArray<Pick<SensorConfig, "id" | "intervalMs" | "options">>;
  recorder: Pick<RecorderStats, "lastFlushError" | "pending">;
}

export type HealthVerdict = { healthy: true } | { healthy: false; reasons: string[] };

/**
 * Whether sensord deserves a watchdog ping: every sampler loop is either
 * waiting for its next tick (or backoff) or inside a driver call younger than
 * its stall limit, and the last commit succeeded. A sensor that is merely down
 * (unplugged, failing reads) is healthy here: restarting cannot plug it back
 * in. A read that never returns, or a database that refuses writes, is not.
 */
export function healthVerdict(input: HealthInput): HealthVerdict {
  const reasons: string[] = [];
  const configs = new Map(input.configs.map((config) => [config.id, config]));
  for (const sampler of input.samplers) {
    const config = configs.get(sampler.id);
    if (config === undefined || sampler.driverCallSince === null) continue;
    const busyMs = input.nowMs - sampler.driverCallSince;
    if (busyMs > stallLimitMs(config)) {
      reasons.push(
        `sensor ${sampler.id} stuck in a driver call for ${seconds(busyMs)} (limit ${seconds(stallLimitMs(config))})`,
      );
    }
  }
  if (input.recorder.lastFlushError !== null) {
    reasons.push(
      `database refuses writes (${input.recorder.pending} readings held): ${input.recorder.lastFlushError}`,
    );
  }
  return reasons.length === 0 ? { healthy: true } : { healthy: false, reasons };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
