import type { BatchDevice } from "../../schemas/batch.js";
import { alertBatchJson, alertEnvelopeBytes } from "../alerts-batch.js";
import type { QueuedAlertUpload } from "../alerts-queue.js";
import { batchEnvelopeBytes, batchJson, chunkReadings } from "../batch.js";
import { type OriginalDevice, originalDocuments } from "../original.js";
import type { QueuedReading } from "../queue.js";
import type { Parcel } from "./contract.js";

/** How many items and body bytes one request carries at most. */
export interface ParcelLimits {
  items: number;
  bytes: number;
}

/** A parcel with the items it was made of; items null: the parcel cannot be cut on a 413. */
export interface SerializedParcel<Item> {
  parcel: Parcel;
  items: Item[] | null;
}

/** Items, oldest first, into the parcels of one wire format: pure, no I/O. */
export type Serializer<Item> = (items: Item[], limits: ParcelLimits) => SerializedParcel<Item>[];

/** `sensord.batch.v1`: readings chunked to the limits, the byte count exact (chunkReadings). */
export function readingsBatchSerializer(device: BatchDevice): Serializer<QueuedReading> {
  return chunkedSerializer(batchEnvelopeBytes(device), (chunk) => batchJson(device, chunk));
}

/**
 * The original system's format: one document per sampling cycle, whatever the
 * limits. A document is the receiver's unit, so one refused as too large is
 * quarantined whole rather than cut into documents the original never sent.
 */
export function originalSerializer(device: OriginalDevice): Serializer<QueuedReading> {
  return (items) =>
    originalDocuments(device, items).map((upload) => ({
      parcel: {
        id: upload.document.id,
        seqs: upload.seqs,
        body: JSON.stringify(upload.document),
      },
      items: null,
    }));
}

/** `sensord.alerts.v1`: alert events chunked to the limits like readings. */
export function alertsSerializer(device: BatchDevice): Serializer<QueuedAlertUpload> {
  return chunkedSerializer(alertEnvelopeBytes(device), (chunk) => alertBatchJson(device, chunk));
}

/** Chunks within the limits, each joined into one JSON document with its content id. */
function chunkedSerializer<Item extends { seq: number; bytes: number }>(
  envelopeBytes: number,
  join: (chunk: Item[]) => { batchId: string; json: string },
): Serializer<Item> {
  return (items, limits) =>
    chunkReadings(items, limits.items, limits.bytes, envelopeBytes).map((chunk) => {
      const { batchId, json } = join(chunk);
      return {
        parcel: { id: batchId, seqs: chunk.map((item) => item.seq), body: json },
        items: chunk,
      };
    });
}
