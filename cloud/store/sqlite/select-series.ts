import type Database from "better-sqlite3";
import { groupSeries, SERIES_FILTERS, type SeriesGroup, type SeriesRow } from "../rows.js";
import type { SeriesSelector } from "../types.js";

/** The series matching a selector, one group per chart line, in a stable order. */
export function selectSeries(db: Database.Database, selector: SeriesSelector): SeriesGroup[] {
  const where: string[] = [];
  const params: string[] = [];
  for (const [name, column] of SERIES_FILTERS) {
    const value = selector[name];
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  const rows = db
    .prepare<string[], SeriesRow>(
      `SELECT id, device, group_id, sensor, gas, unit FROM series
       ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY gas, device, sensor, unit, group_id, id`,
    )
    .all(...params);
  return groupSeries(rows);
}
