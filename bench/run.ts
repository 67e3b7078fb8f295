import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchDashboard, printDashboard } from "./dashboard.js";
import { benchDiskWrites } from "./disk-writes.js";
import { benchI2cDriverCpu, benchZeDriverCpu, benchZeParser } from "./drivers.js";
import { benchFleetLoad, fleetLoadOptionsFromEnv, printFleetLoad } from "./fleet-load.js";
import { benchIngest } from "./ingest.js";
import { benchMemory, printMemory } from "./memory.js";
import { benchSync, printSync } from "./sync.js";

/**
 * `npm run bench`: prints the figures bench/README.md records.
 * BENCH_LINES (default 250000 ticks x 4 gases), BENCH_SECONDS (disk window,
 * default 120) and BENCH_DRIVER_SECONDS (per driver, default 20) shrink the run.
 */
const lines = Number(process.env.BENCH_LINES ?? 250_000);
const windowSeconds = Number(process.env.BENCH_SECONDS ?? 120);
const driverSeconds = Number(process.env.BENCH_DRIVER_SECONDS ?? 20);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const count = (value: number) => Math.round(value).toLocaleString("en-US");

const dir = mkdtempSync(join(tmpdir(), "sensord-bench-"));
try {
  const ingest = await benchIngest(dir, lines);
  console.log(
    "## Ingest: sampler -> threshold engine -> SQLite (sensord process, replay driver at full speed)",
  );
  console.log(
    `readings             ${count(ingest.readings)} (${count(ingest.alerts)} alert events)`,
  );
  console.log(
    `sensord              ${count(ingest.readingsPerSecond)} readings/s (${ingest.seconds.toFixed(2)} s, started -> last reading committed; ${(ingest.tailSeconds * 1000).toFixed(0)} ms of it after the file ended)`,
  );
  console.log(
    `bare better-sqlite3  ${count(ingest.bare.rowsPerSecond)} rows/s (same row count and schema, one transaction)`,
  );
  console.log(
    `ratio                ${((ingest.readingsPerSecond / ingest.bare.rowsPerSecond) * 100).toFixed(0)} % of the ceiling`,
  );
  console.log(`sensord peak RSS     ${mib(ingest.peakRssBytes)}`);
  console.log(
    `bytes written        ${ingest.writeBytesPerReading.toFixed(1)} per reading (write_bytes; Fluent Bit: ~124 per record)`,
  );
  console.log("");
  console.log(
    `## Disk writes: sim driver, 4 gases x 1 Hz, ${windowSeconds} s window, four daemons side by side`,
  );
  // spikes "100d": no alarm in the window; "20s": an alarm raised and cleared about every 20 s,
  // each event forcing an immediate commit.
  const runs = ["1s", "30s"].flatMap((flush) =>
    ["100d", "20s"].map((spikes) => [flush, spikes] as const),
  );
  const results = await Promise.all(
    runs.map(([flush, spikes]) => benchDiskWrites(dir, flush, spikes, windowSeconds)),
  );
  console.log(
    "flush_interval  alarms        readings  write_bytes/reading  wchar/reading  peak RSS",
  );
  for (const result of results) {
    console.log(
      [
        result.flushInterval.padEnd(14),
        (result.spikeEvery === "100d" ? "none" : `every ~${result.spikeEvery}`).padEnd(12),
        String(result.readings).padEnd(8),
        result.writeBytesPerReading.toFixed(0).padEnd(19),
        result.wcharPerReading.toFixed(0).padEnd(13),
        mib(result.peakRssBytes),
      ].join("  "),
    );
  }
  console.log(
    "Fluent Bit 5.1.1 (peers.md: 1 M records, filesystem buffering): ~124 bytes written per record",
  );
  console.log("");
  console.log("## Drivers");
  const parser = benchZeParser(1_000_000);
  console.log(
    `winsen-ze frame parser  ${count(parser.framesPerSecond)} frames/s (${parser.megabytesPerSecond.toFixed(0)} MB/s, 32-byte chunks, ${count(parser.rejectedBytes)} garbage bytes skipped)`,
  );
  console.log(
    `CPU per sample at the normal rate (1 Hz, RunningSensor, ${driverSeconds} s, emulator in-process):`,
  );
  for (const result of [
    await benchI2cDriverCpu("grove-mics6814", driverSeconds),
    await benchI2cDriverCpu("grove-gm", driverSeconds),
    await benchZeDriverCpu(dir, driverSeconds),
  ]) {
    console.log(
      `  ${result.driver.padEnd(15)} ${result.cpuMicrosPerSample.toFixed(0).padStart(6)} us/sample  (${(result.coreShare * 100).toFixed(3)} % of a core, ${result.samples} samples)`,
    );
  }
  console.log("");
  printSync(await benchSync(dir));
  console.log("");
  printDashboard(await benchDashboard(dir));
  console.log("");
  printFleetLoad(await benchFleetLoad(dir, fleetLoadOptionsFromEnv()));
  console.log("");
  printMemory(await benchMemory(dir));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
