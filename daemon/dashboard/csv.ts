import type { Writable } from "node:stream";
import type Database from "better-sqlite3";
import { drained } from "../../core/stream.js";
import { readingId } from "../../schemas/ids.js";
import { READING_FLAGS } from "../../schemas/names.js";
import { FLAG_BITS } from "../../schemas/records.js";
import { seqRanges, type TimeIndex } from "./time-index.js";

export interface CsvQuery {
  fromMs: number;
  toMs: number;
  gas?: string;
}

export const DEVICE_CSV_HEADER = "id,sensor,gas,value,unit,ts,flags\n";

interface CsvRow {
  seq: number;
  ts: number;
  value: number;
  flags: number;
  sensor: string;
  gas: string;
  unit: string;
}

/** Rows per query: one page never holds the daemon's event loop for long. */
const PAGE_ROWS = 2000;

/**
 * Streams the readings of [fromMs, toMs) as CSV in commit order (seq; time
 * order per sensor), paging by seq through the ranges the time index
 * names, waiting for the socket to drain between pages and stopping when the
 * client goes away. Readings committed during the download are not included:
 * the export is the database as it was when it started. Every field is a
 * vocabulary word, a validated sensor name, a number or an ISO time, so
 * none needs quoting.
 */
export function deviceCsv(
  db: Database.Database,
  index: TimeIndex,
  prefix: () => string,
): (query: CsvQuery, out: Writable) => Promise<number> {
  const sql = (gasFilter: string) =>
    `SELECT r.seq, r.ts, r.value, r.flags, s.sensor, s.gas, s.unit
     FROM readings r JOIN series s ON s.id = r.series
     WHERE r.seq > ? AND r.seq < ? AND r.ts >= ? AND r.ts < ? ${gasFilter}
     ORDER BY r.seq LIMIT ${PAGE_ROWS}`;
  const all = db.prepare<unknown[], CsvRow>(sql(""));
  const oneGas = db.prepare<unknown[], CsvRow>(sql("AND s.gas = ?"));
  return async (query, out) => {
    const blocks = await index.refresh();
    const lastSeq = index.lastSeq;
    const id = prefix();
    let written = 0;
    if (!out.write(DEVICE_CSV_HEADER)) await drained(out);
    for (const [lo, blockHi] of seqRanges(blocks, query.fromMs, query.toMs)) {
      const hi = Math.min(blockHi, lastSeq + 1);
      let after = lo - 1;
      for (;;) {
        if (out.destroyed) return written;
        const params = [after, hi, query.fromMs, query.toMs];
        const rows =
          query.gas === undefined ? all.all(...params) : oneGas.all(...params, query.gas);
        if (rows.length === 0) break;
        written += rows.length;
        after = rows[rows.length - 1]?.seq ?? hi;
        const text = rows.map((row) => csvLine(id, row)).join("");
        // Yield either way: a fast client never fills the socket buffer, and sampling shares this thread.
        if (!out.write(text)) await drained(out);
        else await new Promise((resolve) => setImmediate(resolve));
        if (rows.length < PAGE_ROWS) break;
      }
    }
    return written;
  };
}

function csvLine(prefix: string, row: CsvRow): string {
  const flags = READING_FLAGS.filter((flag) => (row.flags & FLAG_BITS[flag]) !== 0).join(";");
  const ts = new Date(row.ts).toISOString();
  return `${readingId(prefix, row.seq)},${row.sensor},${row.gas},${row.value},${row.unit},${ts},${flags}\n`;
}
