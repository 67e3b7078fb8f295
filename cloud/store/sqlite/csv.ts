import type Database from "better-sqlite3";
import type { CsvQuery, CsvRow } from "../types.js";
import { readingsWhere } from "./readings.js";

interface Row {
  id: string;
  ts: number;
  value: number;
  flags: string;
  device: string;
  group: string;
  sensor: string;
  gas: string;
  unit: string;
}

/** Rows per query: small enough that one page never holds the event loop for long. */
const PAGE_ROWS = 2000;

/**
 * The matching readings, oldest first (ts, then id), with no row limit.
 * better-sqlite3 is synchronous and an open iterator would hold the
 * connection from ingest for the whole download, so it pages with keyset
 * queries on the (ts, id) primary key; the consumer pulls the next page when it has
 * written the last. Readings that arrive during the download and sort after
 * the current position are included.
 */
export function csvPages(db: Database.Database): (query: CsvQuery) => AsyncIterable<CsvRow[]> {
  const statements = new Map<string, Database.Statement<unknown[], Row>>();
  return async function* pages(query) {
    const { sql, params } = csvSql(query);
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare<unknown[], Row>(sql);
      statements.set(sql, statement);
    }
    let after: { ts: number; id: string } | null = null;
    for (;;) {
      const rows: Row[] = statement.all(
        ...params,
        after?.ts ?? Number.MIN_SAFE_INTEGER,
        after?.ts ?? Number.MIN_SAFE_INTEGER,
        after?.id ?? "",
        PAGE_ROWS,
      );
      const last = rows[rows.length - 1];
      if (last === undefined) return;
      after = { ts: last.ts, id: last.id };
      yield rows;
      if (rows.length < PAGE_ROWS) return;
    }
  };
}

function csvSql(query: CsvQuery): { sql: string; params: unknown[] } {
  const { where, params } = readingsWhere(query);
  // Keyset: after the last (ts, id) sent, walking the primary key in order.
  where.push("r.ts >= ? AND (r.ts > ? OR r.id > ?)");
  const sql = `SELECT r.id, r.ts, r.value, r.flags, s.device, s.group_id AS "group", s.sensor, s.gas, s.unit
    FROM readings r JOIN series s ON s.id = r.series
    WHERE ${where.join(" AND ")} ORDER BY r.ts, r.id LIMIT ?`;
  return { sql, params };
}
