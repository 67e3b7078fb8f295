import type Database from "better-sqlite3";
import { MAX_AHEAD_MS } from "../limits.js";
import type { RetentionOutcome } from "../types.js";

/** Rows per DELETE: one chunk holds the write lock for milliseconds, so ingest keeps flowing. */
const CHUNK_ROWS = 5000;

/**
 * Deletes what is older than the cutoff in bounded chunks, yielding to the
 * event loop between them: one DELETE of a month of a fleet's readings
 * would hold SQLite's only write lock (and the event loop) for minutes.
 * A request's record (gps, idempotency answer) outlives its readings by
 * the day a reading may be ahead of its arrival, so no kept reading loses it.
 */
export function sqliteRetention(
  db: Database.Database,
): (cutoffMs: number) => Promise<RetentionOutcome> {
  const readings = db.prepare<[number, number]>(
    "DELETE FROM readings WHERE (ts, id) IN (SELECT ts, id FROM readings WHERE ts < ? LIMIT ?)",
  );
  const alerts = db.prepare<[number, number]>(
    "DELETE FROM alerts WHERE (device, id) IN (SELECT device, id FROM alerts WHERE ts < ? LIMIT ?)",
  );
  const batches = db.prepare<[number, number]>(
    "DELETE FROM batches WHERE seq IN (SELECT seq FROM batches WHERE received_at < ? ORDER BY seq LIMIT ?)",
  );
  const drain = async (statement: Database.Statement<[number, number]>, cutoff: number) => {
    let total = 0;
    for (;;) {
      const { changes } = statement.run(cutoff, CHUNK_ROWS);
      total += changes;
      if (changes < CHUNK_ROWS) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return async (cutoffMs) => ({
    readings: await drain(readings, cutoffMs),
    alerts: await drain(alerts, cutoffMs),
    batches: await drain(batches, cutoffMs - MAX_AHEAD_MS),
  });
}
