import type { AlertEvent } from "../../schemas/alert.js";
import type { FleetRule } from "../../schemas/fleet-thresholds.js";
import type { StoredAlert, ThresholdReport, ThresholdVersion, WireReading } from "./types.js";

/**
 * Row shapes both stores select (same column names in SQLite and
 * PostgreSQL) and their one conversion to the wire, so the stores cannot
 * drift apart in what they answer.
 */

/** A reading joined with its series and its request (`GET /readings`). */
export interface ReadingRow {
  id: string;
  /** Epoch ms. */
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

/** Unknown optional fields ("" in the tables) are left out. */
export function toWireReading(row: ReadingRow): WireReading {
  return {
    id: row.id,
    device: row.device,
    group: row.group_id,
    ...(row.gps === "" ? {} : { gps: row.gps }),
    sensor: row.sensor,
    gas: row.gas,
    value: row.value,
    unit: row.unit,
    ts: new Date(row.ts).toISOString(),
    flags: row.flags === "" ? [] : row.flags.split(","),
    ...(row.sensor_id === "" ? {} : { sensorId: row.sensor_id }),
    ...(row.sensor_type === "" ? {} : { sensorType: row.sensor_type }),
  };
}

export interface AlertRow {
  id: string;
  device: string;
  group_id: string;
  gps: string;
  reading_id: string;
  rule: string;
  sensor: string;
  gas: AlertEvent["gas"];
  kind: AlertEvent["kind"];
  value: number;
  unit: AlertEvent["unit"];
  threshold: number;
  op: AlertEvent["op"];
  severity: AlertEvent["severity"];
  /** Epoch ms. */
  ts: number;
}

export function toStoredAlert(row: AlertRow): StoredAlert {
  return {
    id: row.id,
    readingId: row.reading_id,
    rule: row.rule,
    sensor: row.sensor,
    gas: row.gas,
    kind: row.kind,
    value: row.value,
    unit: row.unit,
    threshold: row.threshold,
    op: row.op,
    severity: row.severity,
    ts: new Date(row.ts).toISOString(),
    device: row.device,
    group: row.group_id,
    ...(row.gps === "" ? {} : { gps: row.gps }),
  };
}

/** What tells one chart line from another. */
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

/** A `series` row as the line grouping reads it, selected ORDER BY gas, device, sensor, unit, group_id, id. */
export interface SeriesRow {
  id: number;
  device: string;
  group_id: string;
  sensor: string;
  gas: string;
  unit: string;
}

/** The text filters of the series table, as (selector field, column). */
export const SERIES_FILTERS = [
  ["device", "device"],
  ["group", "group_id"],
  ["gas", "gas"],
] as const;

/** Series rows in line order -> one group per chart line, in that order. */
export function groupSeries(rows: readonly SeriesRow[]): SeriesGroup[] {
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

/** A stored threshold set; `rules` is the JSON text putThresholds wrote. */
export interface ThresholdRow {
  name: string;
  version: number;
  rules: string;
  /** Epoch ms. */
  changed_at: number;
  changed_by: string | null;
}

export function toThresholdVersion(row: ThresholdRow): ThresholdVersion {
  return {
    version: row.version,
    // Written by putThresholds from a set the core validated; kept as text so every store
    // answers the rules exactly as they were sent (PostgreSQL's jsonb would reorder keys).
    thresholds: JSON.parse(row.rules) as FleetRule[],
    changedAt: row.changed_at,
    changedBy: row.changed_by,
  };
}

/** What a device last reported of its thresholds. */
export interface ThresholdReportRow {
  device: string;
  group_id: string;
  state: string;
  etag: string;
  reason: string | null;
  /** Epoch ms. */
  reported_at: number;
}

export function toThresholdReport(row: ThresholdReportRow): ThresholdReport {
  return {
    device: row.device,
    group: row.group_id,
    state: row.state === "refused" ? "refused" : "applied",
    etag: row.etag,
    reason: row.reason,
    reportedAt: row.reported_at,
  };
}
