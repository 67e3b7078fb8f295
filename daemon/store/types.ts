import type { AlertEvent } from "../../schemas/alert.js";
import type { Reading } from "../../schemas/reading.js";
import type { NewAlert, NewReading } from "../../schemas/records.js";
import type { Gas } from "../../schemas/vocabulary.js";

export interface CommitResult {
  /** Readings deleted by retention to stay under `max_bytes` (uploaded ones first). */
  droppedReadings: number;
}

/**
 * The daemon's write side. One `commit` = one transaction holding readings and
 * the alert events they caused, so an alert never exists without its reading.
 */
export interface ReadingStore {
  /** Random per-database id prefix: ids never repeat even if the file is deleted and recreated. */
  readonly idPrefix: string;
  /** Highest reading seq ever allocated in this database (survives retention deleting every row). */
  lastReadingSeq(): number;
  lastAlertSeq(): number;
  commit(readings: readonly NewReading[], alerts: readonly NewAlert[]): CommitResult;
  /** The newest event of each rule whose newest event is a raise: the alarms active at last stop. */
  activeAlarms(): NewAlert[];
  /** Total readings dropped by retention over the life of this database. */
  droppedReadingsTotal(): number;
  close(): void;
}

export interface ReadingQuery {
  gas?: Gas;
  sensor?: string;
  sinceMs?: number;
  /** The newest `limit` readings matching, returned oldest first. */
  limit?: number;
}

/** The read-only side used by sensorctl while the daemon runs. */
export interface StoreReader {
  readings(query: ReadingQuery): Reading[];
  alerts(query: { active?: boolean; limit?: number }): AlertEvent[];
  close(): void;
}
