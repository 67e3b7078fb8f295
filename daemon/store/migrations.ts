import type Database from "better-sqlite3";
import { ERROR_CODES, StoreError } from "../../core/errors.js";

export interface Migration {
  /** The `PRAGMA user_version` the database has once this migration ran. */
  version: number;
  description: string;
  sql: string;
}

/**
 * The schema's whole history, oldest first. Never edit a released entry:
 * files in the field were built by it. Add a new version instead.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "meta, series and readings",
    // Readings are kept narrow on purpose: every byte per row is SD-card wear
    // at one row per gas per sample, so sensor/gas/unit live once in `series`
    // and there is no index beyond the rowid (seq).
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE series (
        id INTEGER PRIMARY KEY,
        sensor TEXT NOT NULL,
        gas TEXT NOT NULL,
        unit TEXT NOT NULL,
        sensor_id TEXT NOT NULL DEFAULT '',
        sensor_type TEXT NOT NULL DEFAULT '',
        UNIQUE (sensor, gas, unit, sensor_id, sensor_type)
      );
      CREATE TABLE readings (
        seq INTEGER PRIMARY KEY,
        series INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        value REAL NOT NULL,
        flags INTEGER NOT NULL DEFAULT 0
      );`,
  },
  {
    version: 2,
    description: "alert events",
    sql: `
      CREATE TABLE alerts (
        seq INTEGER PRIMARY KEY,
        reading_seq INTEGER NOT NULL,
        rule TEXT NOT NULL,
        sensor TEXT NOT NULL,
        gas TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('raise', 'clear')),
        value REAL NOT NULL,
        unit TEXT NOT NULL,
        threshold REAL NOT NULL,
        op TEXT NOT NULL,
        severity TEXT NOT NULL,
        ts INTEGER NOT NULL
      );
      -- "Newest event per rule" (active alarms at start-up) without a table scan.
      CREATE INDEX alerts_rule_seq ON alerts (rule, seq);`,
  },
  {
    version: 3,
    description: "upload watermark per sink",
    // Readings with seq <= min(acked_seq) are uploaded everywhere; retention drops them first.
    sql: "CREATE TABLE sync_cursor (sink TEXT PRIMARY KEY, acked_seq INTEGER NOT NULL) WITHOUT ROWID;",
  },
  {
    version: 4,
    description: "upload state above the watermark: accepted and quarantined seq ranges",
    // Uploads run newest-first after an outage, so what the endpoint accepted is
    // not always a prefix: ranges above sync_cursor record it. They coalesce and
    // fold into the watermark as the backlog drains, so the table stays tiny.
    sql: `
      CREATE TABLE sync_ranges (
        lo INTEGER PRIMARY KEY,
        hi INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('uploaded', 'quarantined')),
        batch_id TEXT,
        status INTEGER,
        reason TEXT,
        readings INTEGER NOT NULL,
        at INTEGER NOT NULL
      );`,
  },
  {
    version: 5,
    description: "MQTT delivery watermark per topic",
    // The alerts table is the MQTT outbox: events with seq <= delivered_seq were
    // acknowledged (PUBACK) on `topic`. Separate from sync_cursor, whose minimum
    // is the readings' upload watermark that retention relies on.
    sql: "CREATE TABLE mqtt_cursor (topic TEXT PRIMARY KEY, delivered_seq INTEGER NOT NULL) WITHOUT ROWID;",
  },
  // Keep this list sorted by version: migrate() skips versions at or below the file's.
  {
    version: 6,
    description: "threshold overrides set with sensorctl",
    // One row per rule slot (gas, severity, sensor; '' = every sensor), the
    // same slot a [[thresholds]] rule replaces a preset rule in. removed = 1
    // hides the config's rules of that slot; otherwise the row is the rule.
    sql: `
      CREATE TABLE threshold_overrides (
        gas TEXT NOT NULL,
        severity TEXT NOT NULL,
        sensor TEXT NOT NULL DEFAULT '',
        removed INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1)),
        op TEXT,
        value REAL,
        unit TEXT,
        clear REAL,
        for_ms INTEGER,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (gas, severity, sensor)
      ) WITHOUT ROWID;`,
  },
  {
    version: 7,
    description: "alert upload watermark and quarantine",
    // Alerts upload strictly oldest-first, one request at a time, so what the
    // endpoint took is always a prefix: one watermark per sink. A batch it
    // refused (400/422) moves the watermark past it and is recorded here; the
    // events stay in `alerts`. Separate from sync_cursor, whose minimum is the
    // readings' watermark that retention relies on.
    sql: `
      CREATE TABLE alert_upload (sink TEXT PRIMARY KEY, acked_seq INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE alert_quarantine (
        lo INTEGER PRIMARY KEY,
        hi INTEGER NOT NULL,
        alerts INTEGER NOT NULL,
        batch_id TEXT NOT NULL,
        status INTEGER NOT NULL,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL
      );`,
  },
  {
    version: 8,
    description: "readings upload ranges per sink",
    // Each output keeps its own watermark (sync_cursor has a row per sink) and
    // so its own ranges above it. SQLite cannot change a primary key in place:
    // the table is rebuilt, the ranges of the one sink there was ("http") kept.
    sql: `
      CREATE TABLE sync_ranges_by_sink (
        sink TEXT NOT NULL,
        lo INTEGER NOT NULL,
        hi INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('uploaded', 'quarantined')),
        batch_id TEXT,
        status INTEGER,
        reason TEXT,
        readings INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (sink, lo)
      ) WITHOUT ROWID;
      INSERT INTO sync_ranges_by_sink (sink, lo, hi, state, batch_id, status, reason, readings, at)
        SELECT 'http', lo, hi, state, batch_id, status, reason, readings, at FROM sync_ranges;
      DROP TABLE sync_ranges;
      ALTER TABLE sync_ranges_by_sink RENAME TO sync_ranges;`,
  },
  {
    version: 9,
    description: "alert quarantine per sink",
    // As migration 8 for readings: each output its own quarantine, the table
    // rebuilt for its primary key. The sink is the output's name, "alerts";
    // the alert watermark was kept under "http" and moves to that name too,
    // so an output's watermark and quarantine share one sink.
    sql: `
      CREATE TABLE alert_quarantine_by_sink (
        sink TEXT NOT NULL,
        lo INTEGER NOT NULL,
        hi INTEGER NOT NULL,
        alerts INTEGER NOT NULL,
        batch_id TEXT NOT NULL,
        status INTEGER NOT NULL,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (sink, lo)
      ) WITHOUT ROWID;
      INSERT INTO alert_quarantine_by_sink (sink, lo, hi, alerts, batch_id, status, reason, at)
        SELECT 'alerts', lo, hi, alerts, batch_id, status, reason, at FROM alert_quarantine;
      DROP TABLE alert_quarantine;
      ALTER TABLE alert_quarantine_by_sink RENAME TO alert_quarantine;
      UPDATE alert_upload SET sink = 'alerts' WHERE sink = 'http';`,
  },
  {
    version: 10,
    description: "fleet thresholds: the applied set and the last refusal",
    // One row: a Pi restarted without network runs and reports the set it
    // applied last. The rules are kept as received (JSON), resolved again
    // against the config at each start, as a [[thresholds]] entry is.
    sql: `
      CREATE TABLE fleet_thresholds (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        applied_etag TEXT,
        applied_source TEXT,
        applied_version INTEGER,
        applied_rules TEXT,
        applied_at INTEGER,
        refused_etag TEXT,
        refused_reason TEXT,
        refused_at INTEGER
      );
      INSERT INTO fleet_thresholds (id) VALUES (1);`,
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((latest, m) => Math.max(latest, m.version), 0);

export function schemaVersion(db: Database.Database): number {
  const version = db.pragma("user_version", { simple: true });
  return typeof version === "number" ? version : 0;
}

/** A file written by a newer sensord: refusing beats silently misreading or downgrading it. */
export function assertNotTooNew(db: Database.Database, program = "sensord"): number {
  const version = schemaVersion(db);
  if (version > LATEST_VERSION) {
    throw new StoreError(
      ERROR_CODES.db.tooNew,
      db.name,
      `schema version ${version} is newer than this ${program} understands (${LATEST_VERSION}): ` +
        `upgrade ${program}; the file was left untouched`,
    );
  }
  return version;
}

/**
 * Brings the schema up to `targetVersion`, one transaction per migration, so
 * a crash mid-upgrade leaves a consistent older version that simply resumes.
 * Never goes down: a file already at or past the target is left as it is
 * (tests build old files by migrating to an old target).
 */
export function migrate(db: Database.Database, targetVersion: number = LATEST_VERSION): number {
  let version = assertNotTooNew(db);
  for (const migration of MIGRATIONS) {
    if (migration.version <= version || migration.version > targetVersion) continue;
    db.transaction(() => {
      // Re-read under the write lock: another process may have run it meanwhile.
      if (schemaVersion(db) >= migration.version) return;
      db.exec(migration.sql);
      // user_version lives in the file header, so it commits or rolls back with the DDL.
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
    version = migration.version;
  }
  return version;
}
