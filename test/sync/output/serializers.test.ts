import { describe, expect, it } from "vitest";
import type { BatchReading } from "../../../schemas/batch.js";
import { alertBatchJson } from "../../../sync/alerts-batch.js";
import { batchJson } from "../../../sync/batch.js";
import { originalDocuments } from "../../../sync/original.js";
import {
  alertsSerializer,
  originalSerializer,
  readingsBatchSerializer,
} from "../../../sync/output/serializers.js";
import type { QueuedReading } from "../../../sync/queue.js";

const DEVICE = { id: "pi-lab-3", group: "2" };
const ORIGINAL_DEVICE = { group: "2", gps: null, timezone: "Asia/Seoul" };

function queued(seq: number, gas: BatchReading["gas"], ts: string): QueuedReading {
  const reading: BatchReading = {
    id: `r${seq}`,
    sensor: "gas0",
    gas,
    value: seq,
    unit: "ppm",
    ts,
    flags: [],
  };
  const json = JSON.stringify(reading);
  return { seq, id: reading.id, json, bytes: Buffer.byteLength(json), reading };
}

const READINGS = [
  queued(1, "co", "2026-11-26T10:40:36.000Z"),
  queued(2, "no2", "2026-11-26T10:40:36.000Z"),
  queued(3, "co", "2026-11-26T10:40:37.000Z"),
];

describe("serializers", () => {
  it("batch: chunks to the item limit, each parcel the batch JSON with its id and seqs", () => {
    const parcels = readingsBatchSerializer(DEVICE)(READINGS, { items: 2, bytes: 1 << 20 });
    const first = batchJson(DEVICE, READINGS.slice(0, 2));
    expect(parcels).toEqual([
      {
        parcel: { id: first.batchId, seqs: [1, 2], body: first.json },
        items: READINGS.slice(0, 2),
      },
      {
        parcel: {
          id: batchJson(DEVICE, READINGS.slice(2)).batchId,
          seqs: [3],
          body: batchJson(DEVICE, READINGS.slice(2)).json,
        },
        items: READINGS.slice(2),
      },
    ]);
  });

  it("batch: chunks to the byte limit", () => {
    const oneReadingBatch = Buffer.byteLength(batchJson(DEVICE, READINGS.slice(0, 1)).json);
    const parcels = readingsBatchSerializer(DEVICE)(READINGS, {
      items: 1000,
      bytes: oneReadingBatch + 10,
    });
    expect(parcels.map(({ parcel }) => parcel.seqs)).toEqual([[1], [2], [3]]);
  });

  it("original: one document per sampling cycle, never cut on a 413", () => {
    const parcels = originalSerializer(ORIGINAL_DEVICE)(READINGS, { items: 1, bytes: 1 });
    const documents = originalDocuments(ORIGINAL_DEVICE, READINGS);
    expect(parcels).toEqual(
      documents.map((upload) => ({
        parcel: {
          id: upload.document.id,
          seqs: upload.seqs,
          body: JSON.stringify(upload.document),
        },
        items: null,
      })),
    );
    expect(parcels.map(({ parcel }) => parcel.seqs)).toEqual([[1, 2], [3]]);
  });

  it("alerts: the alerts envelope, chunked like readings", () => {
    const events = [1, 2, 3].map((seq) => {
      const json = JSON.stringify({ id: `a${seq}`, kind: "raise" });
      return { seq, id: `a${seq}`, json, bytes: Buffer.byteLength(json) };
    });
    const parcels = alertsSerializer(DEVICE)(events, { items: 2, bytes: 1 << 20 });
    expect(parcels.map(({ parcel }) => parcel.seqs)).toEqual([[1, 2], [3]]);
    const first = alertBatchJson(DEVICE, events.slice(0, 2));
    expect(parcels[0]?.parcel).toEqual({ id: first.batchId, seqs: [1, 2], body: first.json });
  });
});
