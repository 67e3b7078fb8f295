import type Database from "better-sqlite3";
import { type ReadingRow, toWireReading } from "../rows.js";
import type { ReadingFilter, WireReading } from "../types.js";

/** `GET /readings` over an open ingest database: oldest first, ties broken by id. */
export function readingsQuery(db: Database.Database): (filter: ReadingFilter) => WireReading[] {
  const statements = new Map<string, Database.Statement<unknown[], ReadingRow>>();
  return (filter) => {
    const { sql, params } = readingsSql(filter);
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare<unknown[], ReadingRow>(sql);
      statements.set(sql, statement);
    }
    return statement.all(...params).map(toWireReading);
  };
}

const SERIES_FILTERS = [
  ["device", "device"],
  ["group", "group_id"],
  ["sensor", "sensor"],
  ["gas", "gas"],
] as const;

/** Which readings a filter keeps, as WHERE terms over `readings r` and their bound values. */
export interface ReadingsWhereFilter {
  device?: string;
  group?: string;
  sensor?: string;
  gas?: string;
  fromMs?: number;
  toMs?: number;
}

/** The WHERE terms for series filters and a time range; shared by /readings and the fleet CSV. */
export function readingsWhere(filter: ReadingsWhereFilter): { where: string[]; params: unknown[] } {
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
  return { where, params };
}

/**
 * SQL text depends only on which filters are present (values are bound), so
 * at most 64 shapes get prepared and cached. Series filters select series
 * ids first; the readings are then walked in (ts, id) order on the primary key.
 */
function readingsSql(filter: ReadingFilter): { sql: string; params: unknown[] } {
  const { where, params } = readingsWhere(filter);
  params.push(filter.limit);
  const sql = `SELECT r.id, r.ts, r.value, r.flags, s.device, s.group_id, s.sensor, s.gas, s.unit,
      s.sensor_id, s.sensor_type, b.gps
    FROM readings r JOIN series s ON s.id = r.series JOIN batches b ON b.seq = r.batch
    ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY r.ts, r.id LIMIT ?`;
  return { sql, params };
}
