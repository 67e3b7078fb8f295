import { join } from "node:path";
import Database from "better-sqlite3";
import { migrate } from "../daemon/store/migrations.js";
import { replayIntoDatabase } from "./replay-run.js";
import { formatCount, formatMib, type SectionReport } from "./report.js";

export interface IngestResult {
  readings: number;
  seconds: number;
  readingsPerSecond: number;
  /** "source exhausted" -> last reading visible (see ReplayRun.tailSeconds). */
  tailSeconds: number;
  alerts: number;
  peakRssBytes: number;
  /** Bytes the process caused to be written (/proc/<pid>/io write_bytes) per reading. */
  writeBytesPerReading: number;
  bare: { seconds: number; rowsPerSecond: number };
}

/**
 * Sampler -> threshold engine -> store in a real sensord process, replay
 * driver at full speed (`interval = "0s"`), safety thresholds. Timed from the
 * "started" log line until the last reading is visible to another connection:
 * sensord commits when the replay file ends, so no idle wait for the next flush.
 */
export async function benchIngest(dir: string, lines: number): Promise<IngestResult> {
  const run = await replayIntoDatabase(dir, "ingest", lines);
  return {
    readings: run.readings,
    seconds: run.seconds,
    readingsPerSecond: run.readings / run.seconds,
    tailSeconds: run.tailSeconds,
    alerts: run.alerts,
    peakRssBytes: run.peakRssBytes,
    writeBytesPerReading: run.writeBytes / run.readings,
    bare: benchBareInsert(join(dir, "bare.db"), run.readings),
  };
}

/** The ceiling: the same number of rows into the same schema, one prepared statement, one transaction. */
function benchBareInsert(path: string, rows: number): { seconds: number; rowsPerSecond: number } {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  migrate(db);
  const series = db.prepare(
    "INSERT INTO series (id, sensor, gas, unit) VALUES (?, 'replay0', ?, 'ppm')",
  );
  for (let id = 1; id <= 4; id++) series.run(id, `g${id}`);
  const insert = db.prepare(
    "INSERT INTO readings (seq, series, ts, value, flags) VALUES (?, ?, ?, ?, 0)",
  );
  const now = Date.now();
  const started = performance.now();
  db.transaction(() => {
    for (let seq = 1; seq <= rows; seq++)
      insert.run(seq, (seq % 4) + 1, now + (seq >> 2), 40 + (seq % 17));
  })();
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return { seconds, rowsPerSecond: rows / seconds };
}

/** The `## Ingest` table of bench/README.md. */
export function ingestReport(result: IngestResult): SectionReport {
  const rows: Array<[string, string]> = [
    [
      "readings",
      `${formatCount(result.readings)} (${formatCount(result.alerts)} alert events, each forcing an immediate commit)`,
    ],
    [
      "sensord",
      `${formatCount(result.readingsPerSecond)} readings/s (${result.seconds.toFixed(2)} s to the last reading committed, ${(result.tailSeconds * 1000).toFixed(0)} ms of it after the file ended)`,
    ],
    [
      "bare better-sqlite3, same row count and schema, one prepared INSERT, one transaction",
      `${formatCount(result.bare.rowsPerSecond)} rows/s`,
    ],
    [
      "ratio to that ceiling",
      `${((result.readingsPerSecond / result.bare.rowsPerSecond) * 100).toFixed(0)} %`,
    ],
    [
      "bytes written per reading (`/proc/<pid>/io` `write_bytes`)",
      `${result.writeBytesPerReading.toFixed(1)} (WAL + checkpoint into the database)`,
    ],
    ["peak RSS (`VmHWM`)", formatMib(result.peakRssBytes)],
  ];
  return { blocks: [{ name: "ingest", tables: [{ header: ["", "figure"], rows }] }], notes: [] };
}
