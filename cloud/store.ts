import type Database from "better-sqlite3";
import type { IngestUnit } from "./convert.js";
import { openIngestDatabase } from "./db.js";

export interface IngestStats {
  /** Readings stored. */
  readings: number;
  /** Readings received again (same id) and not stored a second time. */
  duplicates: number;
  /** Ingest requests processed (idempotent replays excluded). */
  batches: number;
}

/** The answer given to an ingest request, kept for replays under its idempotency key. */
export interface IngestAnswer {
  status: number;
  /** JSON text, sent verbatim. */
  body: string;
  /** True when the answer was stored earlier and nothing was processed now. */
  replayed: boolean;
}

export interface IngestOutcome extends IngestAnswer {
  accepted: number;
  duplicates: number;
}

/** `GET /readings` filters; absent fields do not filter. */
export interface ReadingFilter {
  device?: string;
  group?: string;
  gas?: string;
  sensor?: string;
  /** Inclusive. */
  fromMs?: number;
  /** Exclusive. */
  toMs?: number;
  limit: number;
}

/** The `Reading` wire shape plus who sent it. Optional fields are omitted when unknown. */
export interface WireReading {
  id: string;
  device: string;
  group: string;
  gps?: string;
  sensor: string;
  gas: string;
  value: number;
  unit: string;
  ts: string;
  flags: string[];
  sensorId?: string;
  sensorType?: string;
}

export interface IngestStore {
  /** The stored answer for an idempotency key, or null when the key is new. */
  replay(key: string): IngestAnswer | null;
  /**
   * Stores a request's readings in one transaction, skipping ids already
   * stored. With a `key` seen before, returns that request's answer instead.
   */
  ingest(unit: IngestUnit, key: string | null, receivedAt: number): IngestOutcome;
  query(filter: ReadingFilter): WireReading[];
  stats(): IngestStats;
  close(): void;
}

interface ReadingRow {
  id: string;
  ts: number;
  value: number;
  flags: string;
  device: string;
  group_id: string;
  sensor: string;
  gas: string;
  unit: string;
  sensor_id: string;
  sensor_type: string;
  gps: string;
}

export function openIngestStore(file: string): IngestStore {
  return createIngestStore(openIngestDatabase(file));
}

/** The store over an open ingest database (see openIngestDatabase); closes it on close(). */
export function createIngestStore(db: Database.Database): IngestStore {
  const selectAnswer = db.prepare<[string], { status: number; body: string }>(
    "SELECT status, body FROM batches WHERE key = ?",
  );
  const insertBatch = db.prepare<
    [string | null, string, string, string | null, string, number, number]
  >(
    `INSERT INTO batches (key, batch_id, format, index_name, gps, received_at, status, body, accepted, duplicates)
     VALUES (?, ?, ?, ?, ?, ?, ?, '', 0, 0)`,
  );
  const finishBatch = db.prepare<[string, number, number, number]>(
    "UPDATE batches SET body = ?, accepted = ?, duplicates = ? WHERE seq = ?",
  );
  const insertSeries = db.prepare<[string, string, string, string, string, string, string]>(
    `INSERT INTO series (device, group_id, sensor, gas, unit, sensor_id, sensor_type)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const selectSeries = db.prepare<
    [string, string, string, string, string, string, string],
    { id: number }
  >(
    `SELECT id FROM series WHERE device = ? AND group_id = ? AND sensor = ? AND gas = ?
     AND unit = ? AND sensor_id = ? AND sensor_type = ?`,
  );
  const insertReading = db.prepare<[string, number, number, number, string, number]>(
    "INSERT INTO readings (id, series, ts, value, flags, batch) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
  );

  // Series ids by their columns as a JSON array: unambiguous whatever the strings contain.
  const seriesIds = new Map<string, number>();
  const seriesId = (
    device: string,
    group: string,
    sensor: string,
    gas: string,
    unit: string,
    sensorId: string,
    sensorType: string,
  ): number => {
    const key = JSON.stringify([device, group, sensor, gas, unit, sensorId, sensorType]);
    const cached = seriesIds.get(key);
    if (cached !== undefined) return cached;
    const columns = [device, group, sensor, gas, unit, sensorId, sensorType] as const;
    insertSeries.run(...columns);
    const row = selectSeries.get(...columns);
    if (row === undefined) throw new Error(`series ${key} vanished inside its own transaction`);
    seriesIds.set(key, row.id);
    return row.id;
  };

  const counts = loadStats(db);

  const ingestTransaction = db.transaction(
    (unit: IngestUnit, key: string | null, receivedAt: number): IngestOutcome => {
      // Checked again inside the transaction: two requests with the same key
      // can both pass the early replay() check while their bodies upload.
      if (key !== null) {
        const prior = selectAnswer.get(key);
        if (prior !== undefined) return { ...prior, replayed: true, accepted: 0, duplicates: 0 };
      }
      const batchSeq = Number(
        insertBatch.run(
          key,
          unit.batchId,
          unit.format,
          unit.indexName,
          unit.gps,
          receivedAt,
          200,
        ).lastInsertRowid,
      );
      let accepted = 0;
      for (const row of unit.rows) {
        const series = seriesId(
          unit.device,
          unit.group,
          row.sensor,
          row.gas,
          row.unit,
          row.sensorId,
          row.sensorType,
        );
        accepted += insertReading.run(row.id, series, row.ts, row.value, row.flags, batchSeq).changes;
      }
      const duplicates = unit.rows.length - accepted;
      const body = JSON.stringify({ accepted, duplicates, batchId: unit.batchId });
      finishBatch.run(body, accepted, duplicates, batchSeq);
      return { status: 200, body, replayed: false, accepted, duplicates };
    },
  );

  const statements = new Map<string, Database.Statement<unknown[], ReadingRow>>();
  const prepared = (sql: string): Database.Statement<unknown[], ReadingRow> => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare<unknown[], ReadingRow>(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  return {
    replay(key) {
      const prior = selectAnswer.get(key);
      return prior === undefined ? null : { ...prior, replayed: true };
    },
    ingest(unit, key, receivedAt) {
      let outcome: IngestOutcome;
      try {
        outcome = ingestTransaction(unit, key, receivedAt);
      } catch (error) {
        // A rolled-back transaction may have created series the cache now names.
        seriesIds.clear();
        throw error;
      }
      if (!outcome.replayed) {
        counts.readings += outcome.accepted;
        counts.duplicates += outcome.duplicates;
        counts.batches += 1;
      }
      return outcome;
    },
    query(filter) {
      const { sql, params } = readingsQuery(filter);
      return prepared(sql).all(...params).map(toWire);
    },
    stats: () => ({ ...counts }),
    close: () => db.close(),
  };
}

/** Counters are kept in memory (count(*) over millions of rows per /healthz would be slow), loaded once. */
function loadStats(db: Database.Database): IngestStats {
  const readings = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM readings").get();
  const batches = db
    .prepare<[], { n: number; duplicates: number }>(
      "SELECT count(*) AS n, coalesce(sum(duplicates), 0) AS duplicates FROM batches",
    )
    .get();
  return {
    readings: readings?.n ?? 0,
    duplicates: batches?.duplicates ?? 0,
    batches: batches?.n ?? 0,
  };
}

const SERIES_FILTERS = [
  ["device", "device"],
  ["group", "group_id"],
  ["sensor", "sensor"],
  ["gas", "gas"],
] as const;

/**
 * SQL text depends only on which filters are present (values are bound), so
 * at most 64 shapes get prepared and cached. Series filters select series
 * ids first; the readings are then walked in (ts, id) order on readings_ts.
 */
function readingsQuery(filter: ReadingFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const seriesWhere: string[] = [];
  for (const [name, column] of SERIES_FILTERS) {
    const value = filter[name];
    if (value === undefined) continue;
    seriesWhere.push(`${column} = ?`);
    params.push(value);
  }
  if (seriesWhere.length > 0) {
    where.push(`r.series IN (SELECT id FROM series WHERE ${seriesWhere.join(" AND ")})`);
  }
  if (filter.fromMs !== undefined) {
    where.push("r.ts >= ?");
    params.push(filter.fromMs);
  }
  if (filter.toMs !== undefined) {
    where.push("r.ts < ?");
    params.push(filter.toMs);
  }
  params.push(filter.limit);
  const sql = `SELECT r.id, r.ts, r.value, r.flags, s.device, s.group_id, s.sensor, s.gas, s.unit,
      s.sensor_id, s.sensor_type, b.gps
    FROM readings r JOIN series s ON s.id = r.series JOIN batches b ON b.seq = r.batch
    ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY r.ts, r.id LIMIT ?`;
  return { sql, params };
}

function toWire(row: ReadingRow): WireReading {
  const reading: WireReading = {
    id: row.id,
    device: row.device,
    group: row.group_id,
    sensor: row.sensor,
    gas: row.gas,
    value: row.value,
    unit: row.unit,
    ts: new Date(row.ts).toISOString(),
    flags: row.flags === "" ? [] : row.flags.split(","),
  };
  if (row.gps !== "") reading.gps = row.gps;
  if (row.sensor_id !== "") reading.sensorId = row.sensor_id;
  if (row.sensor_type !== "") reading.sensorType = row.sensor_type;
  return reading;
}
