import type Database from "better-sqlite3";
import { ERROR_CODES, StoreError } from "../../core/errors.js";
import { createLogger } from "../../core/logger.js";
import type { AlertEvent } from "../../schemas/alert.js";
import type { Reading } from "../../schemas/reading.js";
import type { AlertUploadStats } from "../../sync/alerts-queue.js";
import type { QuarantinedBatch, QueueStats } from "../../sync/queue.js";
import { SqliteAlertUploadQueue } from "./alert-upload-queue.js";
import { FleetThresholdTable, type StoredFleetState } from "./fleet-thresholds.js";
import { getMeta, getMetaInt, META } from "./meta.js";
import { openDatabase } from "./open.js";
import { type ThresholdOverride, ThresholdOverrideTable } from "./overrides.js";
import {
  ACTIVE_ALERTS_WHERE,
  ALERT_COLUMNS,
  type AlertRow,
  type ReadingRow,
  toAlertEvent,
  toReading,
} from "./rows.js";
import { SqliteSyncQueue } from "./sync-queue.js";
import type { ReadingQuery, StoreReader } from "./types.js";

export const DEFAULT_LIMIT = 100;

/** Readonly mode never logs (it never moves or repairs anything); errors are thrown instead. */
const SILENT = createLogger({ level: "error", journald: false, write: () => {} });

/**
 * Opens the daemon's database read-only, safe while sensord is writing it
 * (WAL: readers see the last committed state and never block the writer).
 * Throws StoreError with an actionable message when there is nothing to read.
 */
export function openStoreReader(path: string): SqliteStoreReader {
  const db = openDatabase(path, { log: SILENT, readonly: true });
  try {
    return new SqliteStoreReader(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
}

export class SqliteStoreReader implements StoreReader {
  private readonly db: Database.Database;
  private readonly file: string;
  private readonly prefix: string;

  constructor(db: Database.Database, file: string) {
    this.db = db;
    this.file = file;
    const prefix = getMeta(db, META.idPrefix);
    if (prefix === null) {
      throw new StoreError(
        ERROR_CODES.db.empty,
        file,
        "has no id prefix yet: sensord has not finished its first start with this file",
      );
    }
    this.prefix = prefix;
  }

  /** The newest `limit` readings matching (by commit order), returned oldest first. */
  readings(query: ReadingQuery): Reading[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.gas !== undefined) {
      where.push("s.gas = ?");
      params.push(query.gas);
    }
    if (query.sensor !== undefined) {
      where.push("s.sensor = ?");
      params.push(query.sensor);
    }
    if (query.sinceMs !== undefined) {
      where.push("r.ts >= ?");
      params.push(query.sinceMs);
    }
    const filter = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    const rows = this.db
      .prepare<(string | number)[], ReadingRow>(
        "SELECT r.seq, r.ts, r.value, r.flags, s.sensor, s.gas, s.unit " +
          `FROM readings r JOIN series s ON s.id = r.series ${filter} ORDER BY r.seq DESC LIMIT ?`,
      )
      .all(...params, this.limit(query.limit));
    return rows.reverse().map((row) => toReading(this.file, this.prefix, row));
  }

  /**
   * The newest `limit` alert events, oldest first. `active`: only the current
   * raise of each rule (per sensor) whose newest event is a raise.
   */
  alerts(query: { active?: boolean; limit?: number }): AlertEvent[] {
    const filter = query.active === true ? `WHERE ${ACTIVE_ALERTS_WHERE}` : "";
    const rows = this.db
      .prepare<[number], AlertRow>(
        `SELECT ${ALERT_COLUMNS} FROM alerts ${filter} ORDER BY seq DESC LIMIT ?`,
      )
      .all(this.limit(query.limit));
    return rows.reverse().map((row) => toAlertEvent(this.file, this.prefix, row));
  }

  /** The upload backlog and quarantine of the output named `sink`, for `sensorctl status` while sensord is down. */
  uploadQueue(sink: string): { stats: QueueStats; quarantined: QuarantinedBatch[] } {
    const queue = new SqliteSyncQueue(this.db, this.prefix, this.file, sink);
    return { stats: queue.stats(), quarantined: queue.quarantined() };
  }

  /** Alert events the output named `sink` has not uploaded yet, for `sensorctl status` while sensord is down. */
  alertUploads(sink: string): AlertUploadStats {
    return new SqliteAlertUploadQueue(this.db, this.prefix, this.file, sink).stats();
  }

  droppedReadingsTotal(): number {
    return getMetaInt(this.db, META.droppedReadingsTotal);
  }

  thresholdOverrides(): ThresholdOverride[] {
    return new ThresholdOverrideTable(this.db, this.file).list();
  }

  /** The fleet set applied last and the last refusal. */
  fleetThresholds(): StoredFleetState {
    return new FleetThresholdTable(this.db).read();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private limit(limit: number | undefined): number {
    const value = limit ?? DEFAULT_LIMIT;
    // SQLite treats a negative LIMIT as "no limit": refuse rather than dump the whole table.
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new StoreError(
        ERROR_CODES.db.query,
        this.file,
        `limit must be a whole number >= 0, got ${value}`,
      );
    }
    return value;
  }
}
