import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describeError, ERROR_CODES, StoreError } from "../../../core/errors.js";

/** "sdig" in ASCII: marks a file as an ingest database, so --db cannot scribble over the daemon's. */
export const INGEST_APPLICATION_ID = 0x73646967;
export const INGEST_SCHEMA_VERSION = 4;

/**
 * Readings are normalised because row width is what limits insert speed:
 * what a whole request shares (gps, received_at, batch id, index) lives once
 * in `batches`, what a channel shares (device, group, sensor, gas, unit,
 * sensorId, sensorType) once in `series`. With every column inline the
 * table took ~110,000 rows/s on a 2-core box; narrow, ~240,000.
 * `readings_wide` joins them back into one row per reading.
 */
const SCHEMA = `
  CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    group_id TEXT NOT NULL,
    sensor TEXT NOT NULL,
    gas TEXT NOT NULL,
    unit TEXT NOT NULL,
    sensor_id TEXT NOT NULL,
    sensor_type TEXT NOT NULL,
    UNIQUE (device, group_id, sensor, gas, unit, sensor_id, sensor_type)
  );
  -- One row per processed ingest request; key is the idempotency key (NULL
  -- when the request had none), status/body the answer a replay gets.
  CREATE TABLE batches (
    seq INTEGER PRIMARY KEY,
    key TEXT UNIQUE,
    batch_id TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('batch', 'original')),
    index_name TEXT,
    gps TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    duplicates INTEGER NOT NULL
  );
  -- Keyed by the reading's own id: a reading sent twice is stored once.
  -- WITHOUT ROWID: the id is the only key, so no second b-tree maps it to a rowid.
  CREATE TABLE readings (
    id TEXT PRIMARY KEY,
    series INTEGER NOT NULL REFERENCES series (id),
    ts INTEGER NOT NULL,
    value REAL NOT NULL,
    flags TEXT NOT NULL,
    batch INTEGER NOT NULL REFERENCES batches (seq)
  ) WITHOUT ROWID;
  -- Serves ORDER BY ts, id (the index carries the primary key) and time ranges.
  -- The only secondary index: each one costs ~20 % of insert speed, and a
  -- device/gas filter is a cheap check while walking ts order.
  CREATE INDEX readings_ts ON readings (ts);
  CREATE VIEW readings_wide AS
    SELECT r.id, s.device, s.group_id, b.gps, s.sensor, s.gas, r.value, s.unit, r.ts, r.flags,
           s.sensor_id, s.sensor_type, b.received_at, b.batch_id, b.index_name
    FROM readings r JOIN series s ON s.id = r.series JOIN batches b ON b.seq = r.batch;
`;

/**
 * Version 2, for the fleet dashboard (cloud/core/fleet.ts). The covering index lets
 * a chart bucket be answered from the index alone, in time order per series:
 * a week of 4 gases at 1 Hz went from ~3 s to ~0.3 s, for ~20-30 % of insert
 * speed. `alerts` holds the alert events devices send to POST /ingest/alerts.
 */
const SCHEMA_V2 = `
  CREATE INDEX readings_series_ts ON readings (series, ts, value);
  CREATE TABLE alerts (
    id TEXT NOT NULL,
    device TEXT NOT NULL,
    group_id TEXT NOT NULL,
    gps TEXT NOT NULL,
    reading_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    sensor TEXT NOT NULL,
    gas TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('raise', 'clear')),
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    threshold REAL NOT NULL,
    op TEXT NOT NULL,
    severity TEXT NOT NULL,
    ts INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    -- An event id is unique per device database, not across the fleet.
    PRIMARY KEY (device, id)
  ) WITHOUT ROWID;
  CREATE INDEX alerts_ts ON alerts (ts);
`;

/**
 * Version 3: readings keyed by (ts, id), as a re-sent reading carries both
 * and as the PostgreSQL store keys them. Rows are stored in time order, so
 * inserts append near the end of the table instead of landing all over an
 * id-ordered one, and the (ts) index goes: the key serves ORDER BY ts, id.
 * One b-tree fewer per reading; with group commit, the 1,000-device fleet
 * load went from ~80k to ~N readings/s (bench/README.md). A v2 file is
 * copied over once at open (~1-2 s per million readings).
 */
const SCHEMA_V3 = `
  CREATE TABLE readings_v3 (
    ts INTEGER NOT NULL,
    id TEXT NOT NULL,
    series INTEGER NOT NULL REFERENCES series (id),
    value REAL NOT NULL,
    flags TEXT NOT NULL,
    batch INTEGER NOT NULL REFERENCES batches (seq),
    PRIMARY KEY (ts, id)
  ) WITHOUT ROWID;
  INSERT INTO readings_v3 (ts, id, series, value, flags, batch)
    SELECT ts, id, series, value, flags, batch FROM readings ORDER BY ts, id;
  DROP VIEW readings_wide;
  DROP TABLE readings;
  ALTER TABLE readings_v3 RENAME TO readings;
  CREATE INDEX readings_series_ts ON readings (series, ts, value);
  CREATE VIEW readings_wide AS
    SELECT r.id, s.device, s.group_id, b.gps, s.sensor, s.gas, r.value, s.unit, r.ts, r.flags,
           s.sensor_id, s.sensor_type, b.received_at, b.batch_id, b.index_name
    FROM readings r JOIN series s ON s.id = r.series JOIN batches b ON b.seq = r.batch;
`;

/**
 * Version 4, the fleet's desired thresholds (cloud/core/thresholds.ts):
 * every version of every group's and device's set is kept (the audit list),
 * the rules as the JSON text they were sent in; `threshold_reports` holds
 * each device's last `x-sensord-thresholds` report.
 */
const SCHEMA_V4 = `
  CREATE TABLE fleet_thresholds (
    scope TEXT NOT NULL CHECK (scope IN ('group', 'device')),
    name TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version > 0),
    rules TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    changed_by TEXT,
    PRIMARY KEY (scope, name, version)
  ) WITHOUT ROWID;
  CREATE TABLE threshold_reports (
    device TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('applied', 'refused')),
    etag TEXT NOT NULL,
    reason TEXT,
    reported_at INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/**
 * Opens (creating when new) an ingest database: WAL and synchronous NORMAL as
 * the daemon uses (a power cut may lose the last commits, never the file).
 * Refuses a file that belongs to something else or to a newer version.
 */
export function openIngestDatabase(file: string): Database.Database {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  } catch (error) {
    throw new StoreError(
      ERROR_CODES.ingestDb.open,
      file,
      `cannot create its directory: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (error) {
    throw new StoreError(ERROR_CODES.ingestDb.open, file, `cannot open: ${describeError(error)}`, {
      cause: error,
    });
  }
  try {
    db.pragma("busy_timeout = 5000");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    // 32 MiB of page cache (SQLite's default is 2): a fleet's inserts land all over three
    // b-trees, and every page missed is a read before the write.
    db.pragma("cache_size = -32768");
    ensureSchema(db, file);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError(ERROR_CODES.ingestDb.open, file, `cannot open: ${describeError(error)}`, {
      cause: error,
    });
  }
}

function ensureSchema(db: Database.Database, file: string): void {
  const applicationId = Number(db.pragma("application_id", { simple: true }));
  const version = Number(db.pragma("user_version", { simple: true }));
  if (applicationId === INGEST_APPLICATION_ID) {
    if (version > INGEST_SCHEMA_VERSION) {
      throw new StoreError(
        ERROR_CODES.ingestDb.tooNew,
        file,
        `schema version ${version} is newer than this sensord-ingest knows (${INGEST_SCHEMA_VERSION})`,
      );
    }
    migrate(db, version);
    return;
  }
  const tables = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_schema").get();
  if ((tables?.n ?? 0) > 0) {
    throw new StoreError(
      ERROR_CODES.ingestDb.foreign,
      file,
      "is not a sensord-ingest database (is it a sensord device database?); choose another --db",
    );
  }
  db.transaction(() => {
    db.exec(SCHEMA);
    db.pragma(`application_id = ${INGEST_APPLICATION_ID}`);
    db.pragma("user_version = 1");
  })();
  migrate(db, 1);
}

/** Brings a database from `version` to the current one, each step in its own transaction. */
function migrate(db: Database.Database, version: number): void {
  const steps: ReadonlyArray<[number, string]> = [
    [2, SCHEMA_V2],
    [3, SCHEMA_V3],
    [4, SCHEMA_V4],
  ];
  for (const [target, sql] of steps) {
    if (version >= target) continue;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${target}`);
    })();
  }
}
