import type { CloudStore } from "../types.js";
import { sqliteAlerts } from "./alerts.js";
import { Checkpointer } from "./checkpointer.js";
import { csvPages } from "./csv.js";
import { openIngestDatabase } from "./db.js";
import { devicesQuery } from "./devices.js";
import { GroupCommit } from "./group-commit.js";
import { sqliteIngest } from "./ingest.js";
import { readingsQuery } from "./readings.js";
import { sqliteRetention } from "./retention.js";
import { seriesQuery } from "./series.js";
import { sqliteThresholds } from "./thresholds.js";

/**
 * The embedded store: one SQLite file, owned by one process (WAL lets
 * readers in, but a second writer process would wait on the lock).
 * better-sqlite3 is synchronous: each call runs to completion on the event
 * loop, which for SQLite is faster than any hop to another thread.
 */
export function openSqliteStore(
  file: string,
  log: (level: "info" | "warn", message: string) => void = () => {},
): CloudStore {
  const db = openIngestDatabase(file);
  db.pragma("wal_autocheckpoint = 0");
  const checkpointer = new Checkpointer(file, (message) => log("warn", message));
  let store: CloudStore;
  try {
    const writes = sqliteIngest(db);
    const group = new GroupCommit(writes);
    const alerts = sqliteAlerts(db);
    const readings = readingsQuery(db);
    const series = seriesQuery(db);
    const devices = devicesQuery(db);
    const csv = csvPages(db);
    const prune = sqliteRetention(db);
    let pruning: Promise<unknown> = Promise.resolve();
    store = {
      ...sqliteThresholds(db),
      kind: "sqlite",
      location: file,
      replay: async (key) => writes.replay(key),
      ingest: (unit, key, receivedAt) => group.add({ unit, key, receivedAt }),
      addAlerts: async (batch, receivedAt) => alerts.add(batch, receivedAt),
      stats: async () => writes.stats(),
      readings: async (filter) => readings(filter),
      series: async (query) => series(query),
      csv,
      devices: async (selector, nowMs) => devices(selector, nowMs),
      alerts: async (filter) => alerts.list(filter),
      async prune(cutoffMs) {
        const pass = prune(cutoffMs);
        pruning = pass.catch(() => {});
        const outcome = await pass;
        writes.forget(outcome.readings);
        return outcome;
      },
      async close() {
        await pruning;
        await checkpointer.stop();
        // The last connection to close checkpoints what is left and removes the WAL.
        if (db.open) db.close();
      },
    };
  } catch (error) {
    void checkpointer.stop();
    db.close();
    throw error;
  }
  return store;
}
