import type { Batch, OriginalDocument } from "../schemas/batch.js";
import { parseWallTime, wallTimeToEpochMs } from "./timezone.js";
import { originalGasCheck, schemaViolation } from "./validate.js";

/** One reading as stored: the wire reading with ts as epoch ms and flags comma-joined. */
export interface IngestRow {
  id: string;
  sensor: string;
  gas: string;
  value: number;
  /** "" when the sender does not know it (original documents). */
  unit: string;
  ts: number;
  /** Comma-joined flag names, "" for none. */
  flags: string;
  /** "" when absent. */
  sensorId: string;
  /** "" when absent. */
  sensorType: string;
}

/** Everything one accepted request stores: the readings and what they share. */
export interface IngestUnit {
  format: "batch" | "original";
  /** The batch's `batchId`, or the original document's `id`. */
  batchId: string;
  device: string;
  group: string;
  /** "" when absent. */
  gps: string;
  /** The `index` header (the original gateway's index name), null when absent. */
  indexName: string | null;
  rows: IngestRow[];
}

export function batchToUnit(batch: Batch, indexName: string | null): IngestUnit {
  const rows = batch.readings.map(
    (reading): IngestRow => ({
      id: reading.id,
      sensor: reading.sensor,
      gas: reading.gas,
      value: reading.value,
      unit: reading.unit,
      // The schema checked the exact ISO shape, so Date.parse cannot misread it.
      ts: Date.parse(reading.ts),
      flags: reading.flags.join(","),
      sensorId: reading.sensorId ?? "",
      sensorType: reading.sensorType ?? "",
    }),
  );
  return {
    format: "batch",
    batchId: batch.batchId,
    device: batch.device.id,
    group: batch.device.group,
    gps: batch.device.gps ?? "",
    indexName,
    rows,
  };
}

/** Top-level keys of an original document that are not gases. */
const DOCUMENT_KEYS = new Set(["id", "groupid", "gps"]);

export interface OriginalContext {
  indexName: string;
  /** IANA zone `createdtime` is local time in. */
  timezone: string;
  /** The original format names no device; `x-device-id` may, else "". */
  device: string;
}

/**
 * One row per gas: id `${doc.id}:${gas}`, the value parsed from its string,
 * sensor = the original sensorid (the only sensor identity the format has),
 * unit "" (the format has none). Throws a 422 for an impossible createdtime
 * (the schema checks only its shape) or a document without gases.
 */
export function originalToUnit(document: OriginalDocument, context: OriginalContext): IngestUnit {
  const rows: IngestRow[] = [];
  for (const [gas, entry] of Object.entries(document)) {
    if (DOCUMENT_KEYS.has(gas) || !originalGasCheck.Check(entry)) continue;
    const wall = parseWallTime(entry.createdtime);
    if (wall === null) {
      throw schemaViolation([
        { field: `/${gas}/createdtime`, message: "Expected a real date and time" },
      ]);
    }
    rows.push({
      id: `${document.id}:${gas}`,
      sensor: entry.sensorid,
      gas,
      value: Number(entry.value),
      unit: "",
      ts: wallTimeToEpochMs(wall, context.timezone),
      flags: "",
      sensorId: entry.sensorid,
      sensorType: entry.sensortype,
    });
  }
  if (rows.length === 0) {
    throw schemaViolation([{ field: "", message: "Expected at least one gas entry" }]);
  }
  return {
    format: "original",
    batchId: document.id,
    device: context.device,
    group: document.groupid,
    gps: document.gps ?? "",
    indexName: context.indexName,
    rows,
  };
}
