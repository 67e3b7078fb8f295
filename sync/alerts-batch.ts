import type { AlertBatch } from "../schemas/alert-batch.js";
import type { BatchDevice } from "../schemas/batch.js";
import { contentId } from "./batch.js";

export const ALERTS_SCHEMA = "sensord.alerts.v1";

/**
 * Events per request at most. Alerts are rare (a few per hour on a bad day),
 * so a full batch means a backlog after a long outage; 500 events are
 * ~150 KB of JSON, under the default batch_max_bytes.
 */
export const MAX_ALERTS_PER_BATCH = 500;

/**
 * The idempotency key of an alert batch: a hash over the device and the
 * event ids, so the batch rebuilt after a crash carries the same key.
 */
export function alertBatchId(deviceId: string, alertIds: readonly string[]): string {
  return contentId(ALERTS_SCHEMA, [deviceId, ...alertIds]);
}

/** `sensord.alerts.v1` JSON joined from the events' JSON (same text as JSON.stringify of the batch). */
export function alertBatchJson(
  device: BatchDevice,
  items: readonly { id: string; json: string }[],
): { batchId: string; json: string } {
  const batchId = alertBatchId(
    device.id,
    items.map((item) => item.id),
  );
  const head = `{"schema":"${ALERTS_SCHEMA}","device":${JSON.stringify(envelopeDevice(device))},"alerts":[`;
  return { batchId, json: `${head}${items.map((item) => item.json).join(",")}]}` };
}

/** Bytes of an alert batch besides its events, for chunkReadings. */
export function alertEnvelopeBytes(device: BatchDevice): number {
  const envelope: Omit<AlertBatch, "alerts"> & { alerts: [] } = {
    schema: ALERTS_SCHEMA,
    device: envelopeDevice(device),
    alerts: [],
  };
  return Buffer.byteLength(JSON.stringify(envelope));
}

/** The schema's keys in the schema's order. */
function envelopeDevice(device: BatchDevice): BatchDevice {
  const copy: BatchDevice = { id: device.id, group: device.group };
  if (device.gps !== undefined) copy.gps = device.gps;
  return copy;
}
