import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BenchDaemon } from "./daemon-process.js";

const READINGS_PER_SECOND = 4; // the sim driver: co, no2, c2h5oh, h2 at 1 Hz

export interface DiskResult {
  flushInterval: string;
  /** The sim's mean time between spikes; each spike raises and clears an alarm (two forced commits). */
  spikeEvery: string;
  windowSeconds: number;
  readings: number;
  writeBytesPerReading: number;
  wcharPerReading: number;
  peakRssBytes: number;
}

/**
 * One sensord process on the sim driver (4 gases at 1 Hz) for `windowSeconds`
 * of steady state; bytes from /proc/<pid>/io over that window divided by the
 * readings sampled in it. `write_bytes` is what reached the block layer,
 * `wchar` what the process handed to write(2).
 */
export async function benchDiskWrites(
  dir: string,
  flushInterval: string,
  spikeEvery: string,
  windowSeconds: number,
): Promise<DiskResult> {
  const name = `disk-${flushInterval}-${spikeEvery}`;
  const config = join(dir, `${name}.toml`);
  writeFileSync(
    config,
    [
      "[storage]",
      `path = "${name}.db"`,
      `flush_interval = "${flushInterval}"`,
      "[log]",
      'level = "error"',
      "[[sensors]]",
      'id = "gas0"',
      'driver = "sim"',
      'interval = "1s"',
      `spike_every = "${spikeEvery}"`,
    ].join("\n"),
  );
  const daemon = new BenchDaemon(config);
  // Let start-up (database creation, migrations) finish before the window opens.
  await new Promise((resolveWait) => setTimeout(resolveWait, 3000));
  const before = daemon.io();
  const opened = performance.now();
  await new Promise((resolveWait) => setTimeout(resolveWait, windowSeconds * 1000));
  const after = daemon.io();
  const seconds = (performance.now() - opened) / 1000;
  const peakRssBytes = daemon.peakRssBytes();
  await daemon.stop();
  const readings = Math.round(seconds * READINGS_PER_SECOND);
  return {
    flushInterval,
    spikeEvery,
    windowSeconds: seconds,
    readings,
    writeBytesPerReading: (after.writeBytes - before.writeBytes) / readings,
    wcharPerReading: (after.wchar - before.wchar) / readings,
    peakRssBytes,
  };
}
