import { join } from "node:path";
import Database from "better-sqlite3";
import type { SensordConfig } from "../daemon/config/types.js";
import { Daemon } from "../daemon/daemon.js";
import { createLogger } from "../daemon/log/logger.js";
import { migrate } from "../daemon/store/migrations.js";
import { writeReplayFile } from "./fixtures.js";

export interface IngestResult {
  readings: number;
  seconds: number;
  readingsPerSecond: number;
  alerts: number;
  peakRssBytes: number;
  bare: { seconds: number; rowsPerSecond: number };
}

const silent = createLogger({ level: "error", journald: false, write: () => {} });

function ingestConfig(dir: string, replayFile: string): SensordConfig {
  return {
    source: join(dir, "bench.toml"),
    device: { id: "bench", group: "0", gps: null, timezone: "UTC" },
    storage: { path: join(dir, "ingest.db"), flushIntervalMs: 1000, maxBytes: 4 * 1024 ** 3 },
    log: { level: "error" },
    sensors: [
      {
        id: "replay0",
        driver: "replay",
        intervalMs: 0,
        warmupMs: 0,
        channels: {},
        options: { file: replayFile },
      },
    ],
    thresholds: [
      {
        gas: "no2",
        op: ">=",
        value: 88,
        unit: "ppb",
        clear: 80,
        forMs: 0,
        severity: "warning",
        sensor: null,
      },
      {
        gas: "co",
        op: ">=",
        value: 35,
        unit: "ppm",
        clear: 30,
        forMs: 0,
        severity: "warning",
        sensor: null,
      },
      {
        gas: "co",
        op: ">=",
        value: 200,
        unit: "ppm",
        clear: 180,
        forMs: 0,
        severity: "critical",
        sensor: null,
      },
      {
        gas: "c2h5oh",
        op: ">=",
        value: 1000,
        unit: "ppm",
        clear: 900,
        forMs: 0,
        severity: "warning",
        sensor: null,
      },
      {
        gas: "h2",
        op: ">=",
        value: 4000,
        unit: "ppm",
        clear: 3600,
        forMs: 0,
        severity: "warning",
        sensor: null,
      },
    ],
    thresholdPreset: "none",
  };
}

/** Sampler -> threshold engine -> store, replay driver at full speed, in this process. */
export async function benchIngest(dir: string, lines: number): Promise<IngestResult> {
  const replayFile = join(dir, "ingest.ndjson");
  const readings = writeReplayFile(replayFile, lines);
  let peakRss = process.memoryUsage().rss;
  const started = performance.now();
  const daemon = Daemon.start(ingestConfig(dir, replayFile), silent);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const status = daemon.status();
    if (status.sensors[0]?.state === "finished") break;
  }
  await daemon.stop();
  const seconds = (performance.now() - started) / 1000;

  const db = new Database(join(dir, "ingest.db"), { readonly: true });
  const stored = (db.prepare("SELECT count(*) AS n FROM readings").get() as { n: number }).n;
  const alerts = (db.prepare("SELECT count(*) AS n FROM alerts").get() as { n: number }).n;
  db.close();
  if (stored !== readings) throw new Error(`ingest bench stored ${stored} of ${readings} readings`);

  return {
    readings,
    seconds,
    readingsPerSecond: readings / seconds,
    alerts,
    peakRssBytes: peakRss,
    bare: benchBareInsert(join(dir, "bare.db"), readings),
  };
}

/** The ceiling: the same rows into the same schema, one prepared statement, one transaction. */
function benchBareInsert(path: string, rows: number): { seconds: number; rowsPerSecond: number } {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  migrate(db);
  for (let series = 1; series <= 4; series++) {
    db.prepare("INSERT INTO series (id, sensor, gas, unit) VALUES (?, 'replay0', ?, 'ppm')").run(
      series,
      `g${series}`,
    );
  }
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
