import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { DriverError, ERROR_CODES } from "../../core/errors.js";
import { createLogger } from "../../core/logger.js";
import type { Sample, SensorDriver } from "../../daemon/drivers/driver.js";
import { RunningSensor } from "../../daemon/sampler/running-sensor.js";
import type { SensorConfig } from "../../schemas/config-types.js";

/** A driver whose every read follows a script: a value, an error to throw, or end of data. */
type Step = number | Error | "end";
function scriptedDriver(
  steps: Step[],
  openErrors: Error[] = [],
): SensorDriver & { opens: number; closes: number } {
  let index = 0;
  const driver = {
    opens: 0,
    closes: 0,
    /** Throws the next of `openErrors`, then succeeds; counts only the opens that succeed. */
    open: async () => {
      const refusal = openErrors.shift();
      if (refusal !== undefined) throw refusal;
      driver.opens++;
    },
    close: async () => {
      driver.closes++;
    },
    read: async (): Promise<Sample | null> => {
      const step = steps[Math.min(index++, steps.length - 1)];
      if (step === "end" || step === undefined) return null;
      if (step instanceof Error) throw step;
      return { values: [{ gas: "co", value: step }] };
    },
  };
  return driver;
}

function sensorConfig(intervalMs: number, warmupMs = 0): SensorConfig {
  return { id: "t0", driver: "test", intervalMs, warmupMs, channels: {}, options: {} };
}

function capture() {
  const lines: string[] = [];
  return {
    lines,
    log: createLogger({ level: "debug", journald: true, write: (line) => lines.push(line.trim()) }),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const waitFor = async (condition: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** Runs `driver` until it delivered `count` values (backoff 10-40 ms), then stops it. */
async function runUntil(driver: SensorDriver, count: number) {
  const { lines, log } = capture();
  const values: number[] = [];
  const running = new RunningSensor({
    sensor: sensorConfig(10),
    driver,
    log,
    onSample: (sample) => values.push(sample.values[0]?.value ?? -1),
    backoff: { initialMs: 10, maxMs: 40 },
  });
  running.start();
  await waitFor(() => values.length >= count);
  await running.stop();
  return { lines, values, status: running.status() };
}

describe("RunningSensor", () => {
  it("samples on a fixed monotonic schedule", async () => {
    const stamps: number[] = [];
    const driver = scriptedDriver([1]);
    // Each read takes 10 ms of a 20 ms interval: a schedule that counts the
    // next tick from the end of the read would sample every 30 ms.
    const read = driver.read;
    driver.read = async () => {
      await sleep(10);
      return read();
    };
    const running = new RunningSensor({
      sensor: sensorConfig(20),
      driver,
      log: capture().log,
      onSample: () => stamps.push(performance.now()),
    });
    running.start();
    await waitFor(() => stamps.length >= 30);
    await running.stop();
    // On a fixed schedule each gap between samples is a whole number of
    // intervals (more than one when a busy machine made the sampler skip a
    // tick) give or take timer lateness; a drifting one is 30 ms, 10 ms off
    // the grid. The median ignores the odd late timer.
    const offGrid = stamps.slice(1, 30).map((stamp, k) => {
      const gap = stamp - (stamps[k] ?? 0);
      return Math.abs(gap - 20 * Math.max(1, Math.round(gap / 20)));
    });
    expect(median(offGrid)).toBeLessThan(5);
    expect(running.status().state).toBe("stopped");
    expect(driver.closes).toBe(1);
  });

  it("counts bad frames, goes degraded once, logs once per state change, and recovers", async () => {
    const frameError = new DriverError("SENSORD_FRAME_INVALID", "t0", "checksum mismatch");
    const driver = scriptedDriver([1, frameError, frameError, 2, 3, 4]);
    const { lines, log } = capture();
    const values: number[] = [];
    const running = new RunningSensor({
      sensor: sensorConfig(10),
      driver,
      log,
      onSample: (sample) => values.push(sample.values[0]?.value ?? -1),
    });
    running.start();
    await waitFor(() => values.length >= 6);
    await running.stop();
    expect(values.slice(0, 4)).toEqual([1, 2, 3, 4]);
    expect(running.status().errors).toEqual({ SENSORD_FRAME_INVALID: 2 });
    expect(lines.filter((line) => line.includes("-> degraded"))).toEqual([
      "<4>state ok -> degraded: sensor t0: checksum mismatch",
    ]);
    expect(lines.filter((line) => line.includes("recovered"))).toEqual([
      "<6>state degraded -> ok: recovered",
    ]);
    expect(driver.opens).toBe(1);
  });

  it("reopens the device with backoff after I/O errors and reports down after repeated failures", async () => {
    const ioError = new DriverError("SENSORD_I2C_IO", "t0", "EIO");
    const driver = scriptedDriver([1, ioError, ioError, ioError, 5]);
    const { lines, values, status } = await runUntil(driver, 2);
    expect(values.slice(0, 2)).toEqual([1, 5]);
    expect(status.errors).toEqual({ SENSORD_I2C_IO: 3 });
    expect(driver.opens).toBe(4);
    expect(lines.filter((line) => line.startsWith("<3>") || line.startsWith("<4>"))).toEqual([
      "<4>state ok -> degraded: sensor t0: EIO",
      "<3>state degraded -> down: sensor t0: EIO",
    ]);
  });

  it("reads again after a bad frame, but reopens once three in a row mark the sensor down", async () => {
    const frameError = new DriverError(ERROR_CODES.driver.frameInvalid, "t0", "checksum mismatch");
    const driver = scriptedDriver([1, frameError, frameError, frameError, 2]);
    const { lines, values, status } = await runUntil(driver, 2);
    expect(values.slice(0, 2)).toEqual([1, 2]);
    expect(status.errors).toEqual({ SENSORD_FRAME_INVALID: 3 });
    expect(driver.opens).toBe(2);
    expect(lines.filter((line) => line.includes("->") && !line.startsWith("<7>"))).toEqual([
      "<4>state ok -> degraded: sensor t0: checksum mismatch",
      "<3>state degraded -> down: sensor t0: checksum mismatch",
      "<6>state down -> ok: recovered",
    ]);
  });

  it("counts a failure that is no DriverError as SENSORD_DRIVER_FAILED and reopens", async () => {
    const driver = scriptedDriver([1, new Error("bus exploded"), 2]);
    const { values, status } = await runUntil(driver, 2);
    expect(values.slice(0, 2)).toEqual([1, 2]);
    expect(status.errors).toEqual({ SENSORD_DRIVER_FAILED: 1 });
    expect(driver.opens).toBe(2);
  });

  it("keeps retrying an open refused for permission, so fixing the permission needs no restart", async () => {
    const denied = new DriverError(
      ERROR_CODES.serial.permission,
      "t0",
      "no permission to open serial port /dev/ttyS0",
    );
    const driver = scriptedDriver([1], [denied, denied]);
    const { lines, status } = await runUntil(driver, 1);
    expect(status.errors).toEqual({ SENSORD_SERIAL_PERMISSION: 2 });
    expect(driver.opens).toBe(1);
    expect(lines.filter((line) => line.includes("->") && !line.startsWith("<7>"))).toEqual([
      "<3>state starting -> down: sensor t0: no permission to open serial port /dev/ttyS0",
      "<6>state down -> ok: recovered",
    ]);
  });

  it("flags samples within warm-up and reports the state", async () => {
    const seen: { warmingUp: boolean; state: string; afterMs: number }[] = [];
    let startedAt = 0;
    const running: RunningSensor = new RunningSensor({
      sensor: sensorConfig(10, 60),
      driver: scriptedDriver([1]),
      log: capture().log,
      onSample: (_sample, _ts, warmingUp) =>
        seen.push({
          warmingUp,
          state: running.status().state,
          afterMs: performance.now() - startedAt,
        }),
    });
    startedAt = performance.now();
    running.start();
    await waitFor(() => seen.some((sample) => !sample.warmingUp) && seen.length >= 8);
    await running.stop();
    // Timing-free: whatever the machine's load, each sample's flag and the
    // state reported with it agree, and warm-up ends no earlier than 60 ms.
    expect(seen[0]?.warmingUp).toBe(true);
    expect(seen.at(-1)?.warmingUp).toBe(false);
    for (const sample of seen) expect(sample.state).toBe(sample.warmingUp ? "warming" : "ok");
    const firstWarm = seen.find((sample) => !sample.warmingUp);
    expect(firstWarm?.afterMs).toBeGreaterThanOrEqual(60);
    const flagged = seen.filter((sample) => sample.warmingUp);
    expect(flagged.every((sample, index) => seen[index] === sample)).toBe(true);
  });

  it("at interval 0 reads back-to-back until the source ends, then reports finished", async () => {
    const steps: Step[] = [...Array.from({ length: 5000 }, (_, index) => index), "end"];
    let count = 0;
    const running = new RunningSensor({
      sensor: sensorConfig(0),
      driver: scriptedDriver(steps),
      log: capture().log,
      onSample: () => count++,
    });
    running.start();
    await waitFor(() => running.status().state === "finished");
    expect(count).toBe(5000);
    await running.stop();
  });
});
