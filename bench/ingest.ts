import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { migrate } from "../daemon/store/migrations.js";
import { BenchDaemon } from "./daemon-process.js";
import { writeReplayFile } from "./fixtures.js";

export interface IngestResult {
  readings: number;
  seconds: number;
  readingsPerSecond: number;
  alerts: number;
  peakRssBytes: number;
  /** Bytes the process caused to be written (/proc/<pid>/io write_bytes) per reading. */
  writeBytesPerReading: number;
  bare: { seconds: number; rowsPerSecond: number };
}

/**
 * Sampler -> threshold engine -> store in a real sensord process, replay
 * driver at full speed (`interval = "0s"`), safety thresholds. Timed from the
 * "started" log line until the last reading is visible to another connection.
 */
export async function benchIngest(dir: string, lines: number): Promise<IngestResult> {
  const replayFile = join(dir, "ingest.ndjson");
  const readings = writeReplayFile(replayFile, lines);
  const config = join(dir, "ingest.toml");
  const database = join(dir, "ingest.db");
  writeFileSync(
    config,
    [
      "[storage]",
      `path = "${database}"`,
      'flush_interval = "1s"',
      'max_bytes = "4GiB"',
      "[[sensors]]",
      'id = "replay0"',
      'driver = "replay"',
      'interval = "0s"',
      `file = "${replayFile}"`,
    ].join("\n"),
  );
  const daemon = new BenchDaemon(config);
  await daemon.waitForLog(/sensord started/);
  const ioBefore = daemon.io();
  const started = performance.now();
  await daemon.waitForLog(/source exhausted/);
  // Committed means visible to another connection: poll until the last reading is.
  const db = new Database(database, { readonly: true });
  const countReadings = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM readings");
  while ((countReadings.get()?.n ?? 0) < readings) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 10));
  }
  const seconds = (performance.now() - started) / 1000;
  const ioAfter = daemon.io();
  const peakRssBytes = daemon.peakRssBytes();
  await daemon.stop();
  const stored = countReadings.get()?.n ?? 0;
  const alerts = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM alerts").get()?.n ?? 0;
  db.close();
  if (stored !== readings) throw new Error(`ingest bench stored ${stored} of ${readings} readings`);

  return {
    readings,
    seconds,
    readingsPerSecond: readings / seconds,
    alerts,
    peakRssBytes,
    writeBytesPerReading: (ioAfter.writeBytes - ioBefore.writeBytes) / readings,
    bare: benchBareInsert(join(dir, "bare.db"), readings),
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
