import type { AlertEvent } from "../../../schemas/alert.js";
import type { AlertBatch } from "../../../schemas/alert-batch.js";
import { type AlertRow, type ReadingRow, toStoredAlert, toWireReading } from "../rows.js";
import type { CsvRow, IngestRow, IngestUnit, StoredAlert, WireReading } from "../types.js";

/** A reading as stored in `<prefix>-readings-YYYY-MM` (see READING_MAPPINGS). */
export interface ReadingDocument {
  id: string;
  device: string;
  group: string;
  sensor: string;
  gas: string;
  unit: string;
  value: number;
  ts: number;
  flags: string;
  sensorId: string;
  sensorType: string;
  gpsText: string;
  gps?: { lat: number; lon: number };
  receivedAt: number;
  batchId: string;
  indexName?: string;
}

export function readingDocument(
  unit: IngestUnit,
  row: IngestRow,
  receivedAt: number,
): ReadingDocument {
  const position = parsePosition(unit.gps);
  return {
    id: row.id,
    device: unit.device,
    group: unit.group,
    sensor: row.sensor,
    gas: row.gas,
    unit: row.unit,
    value: row.value,
    ts: row.ts,
    flags: row.flags,
    sensorId: row.sensorId,
    sensorType: row.sensorType,
    gpsText: unit.gps,
    ...(position === null ? {} : { gps: position }),
    receivedAt,
    batchId: unit.batchId,
    ...(unit.indexName === null ? {} : { indexName: unit.indexName }),
  };
}

/**
 * "lat, lng" in decimal degrees as a geo_point, or null when the text is
 * not one (the field is free text on the wire; a bad one must not make
 * OpenSearch refuse the reading).
 */
export function parsePosition(text: string): { lat: number; lon: number } | null {
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  if (match === null) return null;
  const lat = Number(match[1]);
  const lon = Number(match[2]);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { lat, lon };
}

/** The `_source` fields the answers read. */
export const READING_FIELDS = [
  "id",
  "device",
  "group",
  "sensor",
  "gas",
  "unit",
  "value",
  "ts",
  "flags",
  "sensorId",
  "sensorType",
  "gpsText",
];

export type ReadingSource = Pick<
  ReadingDocument,
  | "id"
  | "device"
  | "group"
  | "sensor"
  | "gas"
  | "unit"
  | "value"
  | "ts"
  | "flags"
  | "sensorId"
  | "sensorType"
  | "gpsText"
>;

/** Through the same conversion as the SQL stores, so the answers cannot drift apart. */
export function wireReading(source: ReadingSource): WireReading {
  const row: ReadingRow = {
    id: source.id,
    ts: source.ts,
    value: source.value,
    flags: source.flags,
    device: source.device,
    group_id: source.group,
    sensor: source.sensor,
    gas: source.gas,
    unit: source.unit,
    sensor_id: source.sensorId,
    sensor_type: source.sensorType,
    gps: source.gpsText,
  };
  return toWireReading(row);
}

export function csvRow(source: ReadingSource): CsvRow {
  return {
    id: source.id,
    device: source.device,
    group: source.group,
    sensor: source.sensor,
    gas: source.gas,
    value: source.value,
    unit: source.unit,
    ts: source.ts,
    flags: source.flags,
  };
}

/** An alert event as stored in `<prefix>-alerts`, `_id` = device + "/" + event id. */
export interface AlertDocument {
  device: string;
  group: string;
  gpsText: string;
  id: string;
  readingId: string;
  rule: string;
  sensor: string;
  gas: AlertEvent["gas"];
  kind: AlertEvent["kind"];
  value: number;
  unit: AlertEvent["unit"];
  threshold: number;
  op: AlertEvent["op"];
  severity: AlertEvent["severity"];
  ts: number;
  receivedAt: number;
}

export function alertDocument(
  batch: AlertBatch,
  alert: AlertEvent,
  receivedAt: number,
): AlertDocument {
  return {
    device: batch.device.id,
    group: batch.device.group,
    gpsText: batch.device.gps ?? "",
    id: alert.id,
    readingId: alert.readingId,
    rule: alert.rule,
    sensor: alert.sensor,
    gas: alert.gas,
    kind: alert.kind,
    value: alert.value,
    unit: alert.unit,
    threshold: alert.threshold,
    op: alert.op,
    severity: alert.severity,
    ts: Date.parse(alert.ts),
    receivedAt,
  };
}

export function alertId(device: string, eventId: string): string {
  return `${device}/${eventId}`;
}

export function storedAlert(source: AlertDocument): StoredAlert {
  const row: AlertRow = {
    id: source.id,
    device: source.device,
    group_id: source.group,
    gps: source.gpsText,
    reading_id: source.readingId,
    rule: source.rule,
    sensor: source.sensor,
    gas: source.gas,
    kind: source.kind,
    value: source.value,
    unit: source.unit,
    threshold: source.threshold,
    op: source.op,
    severity: source.severity,
    ts: source.ts,
  };
  return toStoredAlert(row);
}
