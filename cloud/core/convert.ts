import type { Batch, OriginalDocument } from "../../schemas/batch.js";
import { EARLIEST_TS_MS, MAX_AHEAD_MS } from "../store/limits.js";
import type { IngestRow, IngestUnit } from "../store/types.js";
import { parseWallTime, wallTimeToEpochMs } from "./timezone.js";
import { originalGasCheck, schemaViolation } from "./validate.js";

/**
 * A reading time the fleet can use: not before 2000 and at most a day
 * ahead. Anything else is a device clock that was never set or jumped, and
 * stored it would become the device's "last reading" for years; a 422
 * makes the device keep the batch aside instead.
 */
function checkTime(ts: number, field: string, nowMs: number): void {
  if (ts < EARLIEST_TS_MS) {
    throw schemaViolation([
      { field, message: "Expected a time after 2000-01-01 (was the device clock set?)" },
    ]);
  }
  if (ts > nowMs + MAX_AHEAD_MS) {
    throw schemaViolation([
      {
        field,
        message: `Expected a time at most a day ahead of the server's clock (${new Date(nowMs).toISOString()})`,
      },
    ]);
  }
}

export function batchToUnit(batch: Batch, indexName: string | null, nowMs: number): IngestUnit {
  const rows = batch.readings.map((reading, index): IngestRow => {
    // The schema checked the exact ISO shape and calendar, so Date.parse cannot misread it.
    const ts = Date.parse(reading.ts);
    checkTime(ts, `/readings/${index}/ts`, nowMs);
    return {
      id: reading.id,
      sensor: reading.sensor,
      gas: reading.gas,
      value: reading.value,
      unit: reading.unit,
      ts,
      flags: reading.flags.join(","),
      sensorId: reading.sensorId ?? "",
      sensorType: reading.sensorType ?? "",
    };
  });
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
export function originalToUnit(
  document: OriginalDocument,
  context: OriginalContext,
  nowMs: number,
): IngestUnit {
  const rows: IngestRow[] = [];
  for (const [gas, entry] of Object.entries(document)) {
    if (DOCUMENT_KEYS.has(gas) || !originalGasCheck.Check(entry)) continue;
    const wall = parseWallTime(entry.createdtime);
    if (wall === null) {
      throw schemaViolation([
        { field: `/${gas}/createdtime`, message: "Expected a real date and time" },
      ]);
    }
    const ts = wallTimeToEpochMs(wall, context.timezone);
    checkTime(ts, `/${gas}/createdtime`, nowMs);
    rows.push({
      id: `${document.id}:${gas}`,
      sensor: entry.sensorid,
      gas,
      value: Number(entry.value),
      unit: "",
      ts,
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
