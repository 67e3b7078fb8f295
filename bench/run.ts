import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchDiskWrites } from "./disk-writes.js";
import { benchIngest } from "./ingest.js";

/**
 * `npm run bench`: prints the figures bench/README.md records.
 * BENCH_LINES (default 250000 ticks x 4 gases) and BENCH_SECONDS (default 60)
 * shrink the run for a quick look.
 */
const lines = Number(process.env.BENCH_LINES ?? 250_000);
const windowSeconds = Number(process.env.BENCH_SECONDS ?? 60);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const fmt = (value: number) => Math.round(value).toLocaleString("en-US");

const dir = mkdtempSync(join(tmpdir(), "sensord-bench-"));
try {
  const ingest = await benchIngest(dir, lines);
  console.log("## Ingest: sampler -> threshold engine -> SQLite (replay driver, full speed)");
  console.log(`readings             ${fmt(ingest.readings)} (${fmt(ingest.alerts)} alert events)`);
  console.log(
    `sensord pipeline     ${fmt(ingest.readingsPerSecond)} readings/s (${ingest.seconds.toFixed(2)} s)`,
  );
  console.log(
    `bare better-sqlite3  ${fmt(ingest.bare.rowsPerSecond)} rows/s (one transaction, same rows)`,
  );
  console.log(
    `ratio                ${((ingest.readingsPerSecond / ingest.bare.rowsPerSecond) * 100).toFixed(0)} % of the ceiling`,
  );
  console.log(
    `peak RSS             ${mib(ingest.peakRssBytes)} (bench process, including the 1M-reading replay)`,
  );
  console.log("");
  console.log(
    `## Disk writes: sim driver, 4 gases x 1 Hz, ${windowSeconds} s steady state, two daemons side by side`,
  );
  const results = await Promise.all(
    ["1s", "30s"].map((flush) => benchDiskWrites(dir, flush, windowSeconds)),
  );
  console.log("flush_interval  readings  write_bytes/reading  wchar/reading  peak RSS");
  for (const result of results) {
    console.log(
      `${result.flushInterval.padEnd(14)}  ${String(result.readings).padEnd(8)}  ${result.writeBytesPerReading.toFixed(0).padEnd(19)}  ${result.wcharPerReading.toFixed(0).padEnd(13)}  ${mib(result.peakRssBytes)}`,
    );
  }
  console.log("Fluent Bit 5.1.1 (peers.md, filesystem buffering): ~124 bytes written per record");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
