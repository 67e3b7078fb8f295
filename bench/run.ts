import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchDiskWrites } from "./disk-writes.js";
import { benchIngest } from "./ingest.js";

/**
 * `npm run bench`: prints the figures bench/README.md records.
 * BENCH_LINES (default 250000 ticks x 4 gases) and BENCH_SECONDS (default 120)
 * shrink the run for a quick look.
 */
const lines = Number(process.env.BENCH_LINES ?? 250_000);
const windowSeconds = Number(process.env.BENCH_SECONDS ?? 120);
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
    `sensord              ${count(ingest.readingsPerSecond)} readings/s (${ingest.seconds.toFixed(2)} s)`,
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
} finally {
  rmSync(dir, { recursive: true, force: true });
}
