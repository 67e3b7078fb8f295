import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { BenchDaemon } from "./daemon-process.js";
import { formatMib, printReport, type SectionReport } from "./report.js";

/** The sim driver: co, no2, c2h5oh, h2 at 1 Hz; only a sanity bound on the counted readings. */
const EXPECTED_PER_SECOND = 4;
/** A count this far from the expected one means sampling or the window went wrong: refuse to print it. */
const COUNT_TOLERANCE = 0.1;

export interface DiskResult {
  flushInterval: string;
  /** The sim's mean time between spikes; each spike raises and clears an alarm (two forced commits). */
  spikeEvery: string;
  windowSeconds: number;
  /** Readings stored with a `ts` inside the window, counted in the database after the daemon stopped. */
  readings: number;
  writeBytesPerReading: number;
  wcharPerReading: number;
  peakRssBytes: number;
}

/**
 * One sensord process on the sim driver (4 gases at 1 Hz) for `windowSeconds`
 * of steady state; bytes from /proc/<pid>/io over that window divided by the
 * readings sampled in it, counted in the database (rows whose `ts` falls in the
 * window), so a sampler that misses ticks shows in the figure instead of being
 * hidden by a computed seconds x 4. `write_bytes` is what reached the block layer,
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
  // Readings carry wall-clock ts (epoch ms): the window's bounds on the same clock.
  const openedAt = Date.now();
  await new Promise((resolveWait) => setTimeout(resolveWait, windowSeconds * 1000));
  const after = daemon.io();
  const closedAt = Date.now();
  const seconds = (performance.now() - opened) / 1000;
  const peakRssBytes = daemon.peakRssBytes();
  // SIGTERM commits what the window sampled but a 30 s flush has not written yet.
  await daemon.stop();
  const db = new Database(join(dir, `${name}.db`), { readonly: true });
  const readings =
    db
      .prepare<[number, number], { n: number }>(
        "SELECT count(*) AS n FROM readings WHERE ts >= ? AND ts < ?",
      )
      .get(openedAt, closedAt)?.n ?? 0;
  db.close();
  const expected = seconds * EXPECTED_PER_SECOND;
  if (Math.abs(readings - expected) > expected * COUNT_TOLERANCE) {
    throw new Error(
      `${name}: ${readings} readings stored in the ${seconds.toFixed(1)} s window, expected about ${Math.round(expected)}`,
    );
  }
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

/** The four daemons of `## Disk writes` side by side: flush 1 s and 30 s, each without and with alarms. */
export function benchDiskWriteRuns(dir: string, windowSeconds: number): Promise<DiskResult[]> {
  // spikes "100d": no alarm in the window; "20s": an alarm raised and cleared about every 20 s.
  const runs = ["1s", "30s"].flatMap((flush) =>
    ["100d", "20s"].map((spikes) => [flush, spikes] as const),
  );
  return Promise.all(
    runs.map(([flush, spikes]) => benchDiskWrites(dir, flush, spikes, windowSeconds)),
  );
}

/** "30s" as the README writes durations: "30 s". */
const spaced = (duration: string) => duration.replace(/^(\d+)([a-z]+)$/, "$1 $2");

/** The `## Disk writes` table of bench/README.md. */
export function diskWritesReport(results: readonly DiskResult[]): SectionReport {
  const rows = results.map((result) => [
    spaced(result.flushInterval),
    result.spikeEvery === "100d" ? "none" : `every ~${spaced(result.spikeEvery)}`,
    String(result.readings),
    result.writeBytesPerReading.toFixed(0),
    result.wcharPerReading.toFixed(0),
    formatMib(result.peakRssBytes),
  ]);
  const header = [
    "flush_interval",
    "alarms",
    "readings",
    "write_bytes / reading",
    "wchar / reading",
    "peak RSS",
  ];
  const window = results[0]?.windowSeconds ?? 0;
  return {
    blocks: [{ name: "disk-writes", tables: [{ header, rows }] }],
    notes: [`disk writes: window ${window.toFixed(1)} s after a 3 s start-up`],
  };
}

/**
 * `node dist/bench/disk-writes.js` runs this section alone (the four daemons of
 * `npm run bench` side by side; BENCH_SECONDS sets the window), for one-off
 * trials such as another page size without the rest of the bench.
 */
const isMain =
  process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const windowSeconds = Number(process.env.BENCH_SECONDS ?? 120);
  const dir = mkdtempSync(join(tmpdir(), "sensord-bench-disk-"));
  try {
    printReport(diskWritesReport(await benchDiskWriteRuns(dir, windowSeconds)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
