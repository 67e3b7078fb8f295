import type Database from "better-sqlite3";
import { describeError, ERROR_CODES, StoreError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { newIdPrefix } from "../../schemas/ids.js";
import type { NewAlert, NewReading } from "../../schemas/records.js";
import { SqliteAlertUploadQueue } from "./alert-upload-queue.js";
import { FleetThresholdTable } from "./fleet-thresholds.js";
import { getMeta, getMetaInt, META, setMeta } from "./meta.js";
import { SqliteMqttOutbox } from "./mqtt-outbox.js";
import { openDatabase } from "./open.js";
import { ThresholdOverrideTable } from "./overrides.js";
import { Retention } from "./retention.js";
import { ACTIVE_ALERTS_WHERE, ALERT_COLUMNS, type AlertRow, toNewAlert } from "./rows.js";
import { SqliteSyncQueue } from "./sync-queue.js";
import type { CommitResult, ReadingStore } from "./types.js";

export interface StoreOptions {
  path: string;
  /** Cap on bytes of live pages in the database file (storage.max_bytes). */
  maxBytes: number;
  log: Logger;
}

/** Opens (creating, migrating or replacing a corrupt file as needed) the daemon's database. */
export function openStore(options: StoreOptions): SqliteStore {
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) {
    throw new StoreError(
      ERROR_CODES.db.config,
      options.path,
      `max_bytes must be a positive whole number of bytes, got ${options.maxBytes}`,
    );
  }
  const db = openDatabase(options.path, { log: options.log });
  try {
    return new SqliteStore(db, options);
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Must not throw: it runs inside `commit`, after the transaction. */
export type CommitListener = (readings: readonly NewReading[], alerts: readonly NewAlert[]) => void;

type SeriesKey = [sensor: string, gas: string, unit: string, sensorId: string, sensorType: string];

/** Use `openStore`; the constructor takes an already opened and migrated connection. */
export class SqliteStore implements ReadingStore {
  readonly idPrefix: string;
  private readonly db: Database.Database;
  /** The database file, for readers with connections of their own (the sync encoder thread). */
  readonly file: string;
  private readonly log: Logger;
  private readonly retention: Retention;
  /** Series ids by key: after the first sample of each channel, a commit only inserts readings. */
  private readonly seriesIds = new Map<string, number>();
  private readonly commitListeners = new Set<CommitListener>();
  private lastReading: number;
  private lastAlert: number;
  private readonly selectSeries: Database.Statement<SeriesKey, { id: number }>;
  private readonly insertSeries: Database.Statement<SeriesKey, { id: number }>;
  private readonly insertReading: Database.Statement<[number, number, number, number, number]>;
  private readonly insertAlert: Database.Statement<[NewAlert]>;
  private readonly writeBatch: (
    readings: readonly NewReading[],
    alerts: readonly NewAlert[],
  ) => void;

  constructor(db: Database.Database, options: StoreOptions) {
    this.db = db;
    this.file = options.path;
    this.log = options.log;
    this.retention = new Retention({ db, maxBytes: options.maxBytes, log: options.log });
    this.idPrefix = db.transaction(() => loadIdPrefix(db)).immediate();
    this.lastReading = Math.max(
      getMetaInt(db, META.readingSeqHighWater),
      maxSeq(db, "SELECT MAX(seq) AS seq FROM readings"),
    );
    this.lastAlert = Math.max(
      getMetaInt(db, META.alertSeqHighWater),
      maxSeq(db, "SELECT MAX(seq) AS seq FROM alerts"),
    );
    const seriesWhere = "sensor = ? AND gas = ? AND unit = ? AND sensor_id = ? AND sensor_type = ?";
    this.selectSeries = db.prepare(`SELECT id FROM series WHERE ${seriesWhere}`);
    this.insertSeries = db.prepare(
      "INSERT INTO series (sensor, gas, unit, sensor_id, sensor_type) VALUES (?, ?, ?, ?, ?) RETURNING id",
    );
    this.insertReading = db.prepare(
      "INSERT INTO readings (seq, series, ts, value, flags) VALUES (?, ?, ?, ?, ?)",
    );
    this.insertAlert = db.prepare(
      `INSERT INTO alerts (${ALERT_COLUMNS}) VALUES ` +
        "(@seq, @readingSeq, @rule, @sensor, @gas, @kind, @value, @unit, @threshold, @op, @severity, @tsMs)",
    );
    // One transaction per batch: one WAL append per flush, however many readings.
    // IMMEDIATE takes the write lock up front, so a concurrent writer (the sync
    // worker advancing sync_cursor) makes us wait instead of failing mid-way.
    const batch = db.transaction((readings: readonly NewReading[], alerts: readonly NewAlert[]) => {
      for (const r of readings) {
        this.insertReading.run(r.seq, this.seriesId(r), r.tsMs, r.value, r.flags);
      }
      for (const a of alerts) {
        this.insertAlert.run(a);
      }
    });
    this.writeBatch = (readings, alerts) => batch.immediate(readings, alerts);
  }

  /** Threshold overrides (sensorctl threshold set/rm) over this same connection. */
  thresholdOverrides(): ThresholdOverrideTable {
    return new ThresholdOverrideTable(this.db, this.file);
  }

  /** The fleet thresholds applied and refused (issue 16) over this same connection. */
  fleetThresholds(): FleetThresholdTable {
    return new FleetThresholdTable(this.db);
  }

  /** The MQTT outbox (alerts above a delivery watermark) over this same connection. */
  mqttOutbox(): SqliteMqttOutbox {
    return new SqliteMqttOutbox(this.db, this.idPrefix, this.file);
  }

  /**
   * Calls `listener` after every successful commit, so the MQTT relay hears
   * of new alerts at once instead of polling. Returns the unsubscribe function.
   */
  onCommit(listener: CommitListener): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** The upload queue of the output named `sink`, over this same connection (one writer per database file). */
  syncQueue(sink: string): SqliteSyncQueue {
    return new SqliteSyncQueue(this.db, this.idPrefix, this.file, sink);
  }

  /** Alert events above the watermark of the output named `sink`, over this same connection. */
  alertUploadQueue(sink: string): SqliteAlertUploadQueue {
    return new SqliteAlertUploadQueue(this.db, this.idPrefix, this.file, sink);
  }

  lastReadingSeq(): number {
    return this.lastReading;
  }

  lastAlertSeq(): number {
    return this.lastAlert;
  }

  /**
   * Writes all readings and alerts in one transaction, or nothing (then throws
   * StoreError and the caller keeps the batch to retry). Seqs must be whole,
   * strictly increasing and above `lastReadingSeq()` / `lastAlertSeq()`.
   */
  commit(readings: readonly NewReading[], alerts: readonly NewAlert[]): CommitResult {
    if (readings.length === 0 && alerts.length === 0) return { droppedReadings: 0 };
    const lastReading = checkBatch(this.file, "reading", readings, this.lastReading);
    const lastAlert = checkBatch(this.file, "alert", alerts, this.lastAlert);
    try {
      this.writeBatch(readings, alerts);
    } catch (error) {
      // Series rows inserted by the rolled-back transaction no longer exist.
      this.seriesIds.clear();
      throw new StoreError(
        ERROR_CODES.db.write,
        this.file,
        `commit of ${readings.length} readings and ${alerts.length} alerts failed, ` +
          `nothing was written: ${describeError(error)}`,
        { cause: error },
      );
    }
    this.lastReading = lastReading;
    this.lastAlert = lastAlert;
    for (const listener of this.commitListeners) {
      try {
        listener(readings, alerts);
      } catch (error) {
        // The batch is committed: a listener's failure must not make the caller write it twice.
        this.log.error(`a commit listener failed: ${describeError(error)}`);
      }
    }
    try {
      const pruned = this.retention.afterCommit(readings.length, alerts.length, {
        reading: this.lastReading,
        alert: this.lastAlert,
      });
      return { droppedReadings: pruned?.droppedReadings ?? 0 };
    } catch (error) {
      // The batch is safely committed; failing the commit now would make the caller write it twice.
      this.log.error(
        `retention failed, the database may exceed max_bytes until it succeeds: ${describeError(error)}`,
      );
      return { droppedReadings: 0 };
    }
  }

  activeAlarms(): NewAlert[] {
    const rows = this.db
      .prepare<[], AlertRow>(
        `SELECT ${ALERT_COLUMNS} FROM alerts WHERE ${ACTIVE_ALERTS_WHERE} ORDER BY seq`,
      )
      .all();
    return rows.map((row) => toNewAlert(this.file, row));
  }

  droppedReadingsTotal(): number {
    return getMetaInt(this.db, META.droppedReadingsTotal);
  }

  /** Idempotent. The last close checkpoints the WAL into the main file. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  private seriesId(reading: NewReading): number {
    const key: SeriesKey = [
      reading.sensor,
      reading.gas,
      reading.unit,
      reading.sensorId ?? "",
      reading.sensorType ?? "",
    ];
    const mapKey = key.join("\u0000");
    const cached = this.seriesIds.get(mapKey);
    if (cached !== undefined) return cached;
    const row = this.selectSeries.get(...key) ?? this.insertSeries.get(...key);
    if (row === undefined) {
      throw new StoreError(
        ERROR_CODES.db.write,
        this.file,
        `could not create series ${key.join("/")}`,
      );
    }
    this.seriesIds.set(mapKey, row.id);
    return row.id;
  }
}

/** The prefix is fixed at the first open and never replaced: changing it would re-id stored readings. */
function loadIdPrefix(db: Database.Database): string {
  const existing = getMeta(db, META.idPrefix);
  if (existing !== null && existing !== "") return existing;
  const prefix = newIdPrefix();
  setMeta(db, META.idPrefix, prefix);
  return prefix;
}

function maxSeq(db: Database.Database, sql: string): number {
  return db.prepare<[], { seq: number | null }>(sql).get()?.seq ?? 0;
}

interface Checked {
  seq: number;
  tsMs: number;
  value: number;
  flags?: number;
  threshold?: number;
}

/** What makes `item` unstorable after seq `last`, or null. */
function problemOf(item: Checked, last: number): string | null {
  if (!Number.isSafeInteger(item.seq)) return "seq is not a whole number";
  if (item.seq <= last) return `seq ${item.seq} is not above ${last}`;
  if (!Number.isFinite(item.value)) return `value ${item.value} is not a finite number`;
  if (item.threshold !== undefined && !Number.isFinite(item.threshold)) {
    return `threshold ${item.threshold} is not a finite number`;
  }
  if (!Number.isSafeInteger(item.tsMs))
    return `timestamp ${item.tsMs} is not whole epoch milliseconds`;
  if (item.flags !== undefined && !(Number.isSafeInteger(item.flags) && item.flags >= 0)) {
    return `flags ${item.flags} is not a bit set`;
  }
  return null;
}

/**
 * Rejects a batch SQLite would store wrongly or not at all (NaN breaks NOT
 * NULL, a reused seq would duplicate an uploaded id). Returns the batch's last seq.
 */
function checkBatch(file: string, what: string, items: readonly Checked[], after: number): number {
  let last = after;
  for (const item of items) {
    const problem = problemOf(item, last);
    if (problem !== null) {
      throw new StoreError(
        ERROR_CODES.db.invalid,
        file,
        `refusing to commit ${what} seq ${item.seq}: ${problem}; nothing was written`,
      );
    }
    last = item.seq;
  }
  return last;
}
