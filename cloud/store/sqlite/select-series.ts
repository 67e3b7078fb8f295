import type Database from "better-sqlite3";
import type { SeriesSelector } from "../types.js";

export interface LineKey {
  device: string;
  group: string;
  sensor: string;
  gas: string;
  unit: string;
}

export interface SeriesGroup {
  key: LineKey;
  /** `series` rows that differ only in what a chart does not show (sensor id and type). */
  ids: number[];
}

interface SeriesRow {
  id: number;
  device: string;
  group_id: string;
  sensor: string;
  gas: string;
  unit: string;
}

const FILTERS = [
  ["device", "device"],
  ["group", "group_id"],
  ["gas", "gas"],
] as const;

/** The series matching a selector, one group per chart line, in a stable order. */
export function selectSeries(db: Database.Database, selector: SeriesSelector): SeriesGroup[] {
  const where: string[] = [];
  const params: string[] = [];
  for (const [name, column] of FILTERS) {
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
  const groups = new Map<string, SeriesGroup>();
  for (const row of rows) {
    const key: LineKey = {
      device: row.device,
      group: row.group_id,
      sensor: row.sensor,
      gas: row.gas,
      unit: row.unit,
    };
    const name = JSON.stringify(key);
    const group = groups.get(name);
    if (group === undefined) groups.set(name, { key, ids: [row.id] });
    else group.ids.push(row.id);
  }
  return [...groups.values()];
}
