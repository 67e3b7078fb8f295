import { createLogger } from "../core/logger.js";
import { DRIVERS } from "../daemon/drivers/registry.js";
import { FrameParser } from "../daemon/drivers/winsen-ze/frame.js";
import { RunningSensor } from "../daemon/sampler/running-sensor.js";
import type { SensorConfig } from "../schemas/config-types.js";
import { GmV2Board, MicsV2Board } from "../test/support/i2c/boards.js";
import { EmulatedI2cBus } from "../test/support/i2c/bus.js";
import { SocatPair } from "../test/support/serial/socat.js";
import { uploadFrame, ZeEmulator } from "../test/support/serial/ze-emulator.js";
import { formatCount, type SectionReport } from "./report.js";

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

/**
 * The winsen-ze driver over a real socat pty pair at its normal rate (the
 * module uploads one frame a second), the module emulator writing at 9600-baud
 * pacing in this same process: the figure is an upper bound for the driver.
 */
export async function benchZeDriverCpu(dir: string, seconds: number): Promise<DriverCpuResult> {
  const socat = await SocatPair.start(dir);
  const emulator = await ZeEmulator.open({ path: socat.emuPath, raw: 300, uploading: true });
  const definition = DRIVERS.get("winsen-ze");
  if (!definition) throw new Error("winsen-ze is not registered");
  const sensor: SensorConfig = {
    id: "bench",
    driver: "winsen-ze",
    intervalMs: 1000,
    warmupMs: 0,
    channels: {},
    options: { port: socat.devPath, gas: "co" },
  };
  try {
    return await measure(
      "winsen-ze",
      seconds,
      (onSample) =>
        new RunningSensor({
          sensor,
          driver: definition.create(sensor, {
            log: silent,
            baseDir: dir,
            openI2cBus: () => Promise.reject(new Error("no I2C")),
          }),
          log: silent,
          onSample,
        }),
    );
  } finally {
    await emulator.close();
    await socat.stop();
  }
}

export interface ParserResult {
  frames: number;
  framesPerSecond: number;
  megabytesPerSecond: number;
  rejectedBytes: number;
}

/**
 * The sliding-window frame parser alone: 1 M ZE07 upload frames with a burst of
 * garbage (including 0xFF bytes) after every 100th, fed in 32-byte chunks like
 * a UART read delivers them.
 */
export function benchZeParser(frameCount: number): ParserResult {
  const garbage = Buffer.from([0x13, 0xff, 0x04, 0x88, 0xff, 0x00, 0x7a]);
  const parts: Buffer[] = [];
  for (let index = 0; index < frameCount; index++) {
    parts.push(uploadFrame(index % 5000));
    if (index % 100 === 99) parts.push(garbage);
  }
  const stream = Buffer.concat(parts);
  const parser = new FrameParser();
  const chunk = 32;
  const started = performance.now();
  let frames = 0;
  for (let offset = 0; offset < stream.length; offset += chunk) {
    frames += parser.push(stream.subarray(offset, offset + chunk)).length;
  }
  const seconds = (performance.now() - started) / 1000;
  if (frames !== frameCount) throw new Error(`parser found ${frames} of ${frameCount} frames`);
  return {
    frames,
    framesPerSecond: frames / seconds,
    megabytesPerSecond: stream.length / 1024 / 1024 / seconds,
    rejectedBytes: parser.rejectedBytes,
  };
}

/** How each driver's CPU figure was taken, as the README's row says it. */
const CPU_ROW_LABELS: Record<string, string> = {
  "grove-mics6814":
    "grove-mics6814, CPU per sample at 1 Hz (inside RunningSensor, byte-level board emulator in the same process)",
  "grove-gm": "grove-gm, same",
  "winsen-ze": "winsen-ze over a real socat pty pair, module emulator in the same process",
};

/** 9600 baud, 10 bits a byte on the wire, 9-byte frames: what a real UART can deliver. */
const UART_FRAMES_PER_SECOND = 9600 / 10 / 9;

/** The `## Drivers` table of bench/README.md. */
export function driversReport(
  parser: ParserResult,
  cpu: readonly DriverCpuResult[],
  seconds: number,
): SectionReport {
  const rows = [
    [
      `winsen-ze frame parser (sliding window, ${formatCount(parser.frames)} frames with a garbage burst after every 100th, fed in 32-byte chunks)`,
      `${formatCount(parser.framesPerSecond)} frames/s (${parser.megabytesPerSecond.toFixed(0)} MB/s); a UART at 9600 baud delivers at most ~${UART_FRAMES_PER_SECOND.toFixed(0)} frames/s`,
    ],
    ...cpu.map((result) => [
      CPU_ROW_LABELS[result.driver] ?? result.driver,
      `${formatCount(result.cpuMicrosPerSample)} us (${(result.coreShare * 100).toFixed(2)} % of a core)`,
    ]),
  ];
  return {
    blocks: [{ name: "drivers", tables: [{ header: ["", "figure"], rows }] }],
    notes: [
      `drivers: parser skipped ${formatCount(parser.rejectedBytes)} garbage bytes; CPU over ${seconds} s each, ` +
        cpu.map((result) => `${result.driver} ${result.samples} samples`).join(", "),
    ],
  };
}
