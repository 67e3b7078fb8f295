import type { SensorConfig } from "../daemon/config/types.js";
import { DRIVERS } from "../daemon/drivers/registry.js";
import { createLogger } from "../daemon/log/logger.js";
import { RunningSensor } from "../daemon/sampler/running-sensor.js";
import { GmV2Board, MicsV2Board } from "../test/support/i2c/boards.js";
import { EmulatedI2cBus } from "../test/support/i2c/bus.js";

export interface DriverCpuResult {
  driver: string;
  samples: number;
  /** CPU time (user + system) of this process per sample, in microseconds. */
  cpuMicrosPerSample: number;
  /** Share of one core at the driver's normal rate. */
  coreShare: number;
}

const silent = createLogger({ level: "error", journald: false, write: () => {} });

/**
 * One driver inside the real RunningSensor at its normal rate (1 Hz), its board
 * emulated at the byte level in this same process (so the figure includes the
 * emulator's small share). CPU from process.cpuUsage() over the window.
 */
export async function benchI2cDriverCpu(
  driver: "grove-mics6814" | "grove-gm",
  seconds: number,
): Promise<DriverCpuResult> {
  const bus = new EmulatedI2cBus(1).attach(0x04, new MicsV2Board()).attach(0x08, new GmV2Board());
  const definition = DRIVERS.get(driver);
  if (!definition) throw new Error(`${driver} is not registered`);
  const sensor: SensorConfig = {
    id: "bench",
    driver,
    intervalMs: 1000,
    warmupMs: 0,
    channels: {},
    options: {},
  };
  return measure(
    driver,
    seconds,
    (onSample) =>
      new RunningSensor({
        sensor,
        driver: definition.create(sensor, {
          log: silent,
          baseDir: process.cwd(),
          openI2cBus: bus.opener,
        }),
        log: silent,
        onSample,
      }),
  );
}

export async function measure(
  driver: string,
  seconds: number,
  build: (onSample: () => void) => RunningSensor,
): Promise<DriverCpuResult> {
  let samples = 0;
  const running = build(() => samples++);
  running.start();
  // The first sample includes open (firmware detection, heater, R0): start counting after it.
  while (samples === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const firstSamples = samples;
  const before = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const cpu = process.cpuUsage(before);
  const elapsed = (performance.now() - started) / 1000;
  await running.stop();
  const counted = samples - firstSamples;
  const micros = (cpu.user + cpu.system) / Math.max(1, counted);
  return {
    driver,
    samples: counted,
    cpuMicrosPerSample: micros,
    coreShare: (cpu.user + cpu.system) / 1e6 / elapsed,
  };
}
