import { type Static, Type } from "@sinclair/typebox";
import { AlertEvent } from "./alert.js";
import { BatchDevice } from "./batch.js";

/**
 * `POST /ingest/alerts` on sensord-ingest: alert events with the device that
 * raised them (an AlertEvent names its sensor, not its device). Event ids are
 * unique per device, so the ingest stores each (device, id) once.
 */
export const AlertBatch = Type.Object(
  {
    schema: Type.Literal("sensord.alerts.v1"),
    device: BatchDevice,
    alerts: Type.Array(AlertEvent, { minItems: 1, maxItems: 10_000 }),
  },
  { $id: "sensord.alerts.v1", additionalProperties: false },
);
export type AlertBatch = Static<typeof AlertBatch>;
