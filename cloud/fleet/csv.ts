import type { Writable } from "node:stream";
import type Database from "better-sqlite3";
import { readingsWhere } from "../readings-sql.js";
import type { SeriesSelector } from "./select-series.js";

export interface CsvQuery extends SeriesSelector {
  fromMs?: number;
  toMs?: number;
}

export const CSV_HEADER = "id,device,group,sensor,gas,value,unit,ts,flags\n";

interface CsvRow {
  id: string;
  ts: number;
  value: number;
  flags: string;
  device: string;
  group_id: string;
  sensor: string;
  gas: string;
  unit: string;
}

/** Rows per query: small enough that one chunk never holds the event loop for long. */
const CHUNK_ROWS = 2000;

/**
 * Streams the matching readings as CSV, oldest first (ts, then id), with no
 * row limit. better-sqlite3 is synchronous and an open iterator would block
 * the connection for ingest, so it pages through with keyset queries on
 * readings_ts, waits for the socket to drain between pages, and stops when
 * the client goes away. Readings that arrive during the download and sort
 * after the current position are included.
 */
export function csvExport(
  db: Database.Database,
): (query: CsvQuery, out: Writable) => Promise<number> {
  const statements = new Map<string, Database.Statement<unknown[], CsvRow>>();
  return async (query, out) => {
    const { sql, params } = csvSql(query);
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare<unknown[], CsvRow>(sql);
      statements.set(sql, statement);
    }
    let written = 0;
    let after: { ts: number; id: string } | null = null;
    if (!out.write(CSV_HEADER)) await drained(out);
    for (;;) {
      if (out.destroyed) return written;
      const rows: CsvRow[] = statement.all(
        ...params,
        after?.ts ?? Number.MIN_SAFE_INTEGER,
        after?.ts ?? Number.MIN_SAFE_INTEGER,
        after?.id ?? "",
        CHUNK_ROWS,
      );
      if (rows.length === 0) return written;
      written += rows.length;
      const last = rows[rows.length - 1];
      if (last !== undefined) after = { ts: last.ts, id: last.id };
      if (!out.write(rows.map(csvLine).join(""))) await drained(out);
      if (rows.length < CHUNK_ROWS) return written;
    }
  };
}

function csvSql(query: CsvQuery): { sql: string; params: unknown[] } {
  const { where, params } = readingsWhere(query);
  // Keyset: after the last (ts, id) sent. readings_ts carries the primary key, so it walks in (ts, id) order.
  where.push("r.ts >= ? AND (r.ts > ? OR r.id > ?)");
  const sql = `SELECT r.id, r.ts, r.value, r.flags, s.device, s.group_id, s.sensor, s.gas, s.unit
    FROM readings r INDEXED BY readings_ts JOIN series s ON s.id = r.series
    WHERE ${where.join(" AND ")} ORDER BY r.ts, r.id LIMIT ?`;
  return { sql, params };
}

function csvLine(row: CsvRow): string {
  return `${[
    row.id,
    row.device,
    row.group_id,
    row.sensor,
    row.gas,
    String(row.value),
    row.unit,
    new Date(row.ts).toISOString(),
    row.flags.replaceAll(",", ";"),
  ]
    .map(csvField)
    .join(",")}\n`;
}

/** RFC 4180: quote a field holding a comma, quote or line break; double its quotes. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.once("drain", done);
    out.once("close", done);
  });
}
