import { type Static, Type } from "@sinclair/typebox";
import { Reading } from "./reading.js";
import { PRINTABLE, WireName } from "./vocabulary.js";

/** Who sent a batch: the `[device]` section. */
export const BatchDevice = Type.Object(
  {
    id: WireName({ minLength: 1, description: "device.id, at most 64 characters, printable" }),
    group: WireName({
      minLength: 0,
      description: "device.group, the original system's groupid; at most 64 characters, printable",
    }),
    gps: Type.Optional(Type.String({ description: '"lat, lng" in decimal degrees' })),
  },
  { additionalProperties: false },
);
export type BatchDevice = Static<typeof BatchDevice>;

/**
 * Wire format `batch` (`[sync] format = "batch"`): POST <endpoint> with
 * headers content-type: application/json, content-encoding: gzip (when
 * compressed), idempotency-key: <batchId>, index: <index>, x-api-key (when
 * configured), user-agent: sensord/<version>.
 */
export const Batch = Type.Object(
  {
    schema: Type.Literal("sensord.batch.v1"),
    device: BatchDevice,
    batchId: Type.String({
      minLength: 1,
      description:
        "Derived from the batch's content: a batch re-sent after a crash carries the same id",
    }),
    readings: Type.Array(
      Type.Object(
        {
          ...Reading.properties,
          sensorId: Type.Optional(Type.String({ description: "The original system's sensorid" })),
          sensorType: Type.Optional(
            Type.String({ description: "The original system's sensortype" }),
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { $id: "sensord.batch.v1", additionalProperties: false },
);
export type Batch = Static<typeof Batch>;
export type BatchReading = Batch["readings"][number];

/** One gas in the original system's document: every value a string. */
export const OriginalGas = Type.Object(
  {
    sensorid: Type.String(),
    sensortype: Type.String(),
    value: Type.String({
      pattern: "^-?\\d+(\\.\\d+)?$",
      description:
        'A decimal number as a string: sensord sends two decimals ("26.20"); the original sample also has "400"',
    }),
    createdtime: Type.String({
      pattern: "^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}$",
      description: "Local time in device.timezone, YYYY-MM-DD HH:mm:ss, no offset",
    }),
  },
  { additionalProperties: false },
);

/**
 * Wire format `original` (`[sync] format = "original"`): one POST per sampling
 * cycle with the gas document the original (Lambda-based) system posted,
 * plus a top-level `id` so a downstream can dedupe. Gas keys are gas names.
 */
export const OriginalDocument = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      // Each gas's reading id is `${id}:${gas}`, which must stay within a reading id's 128.
      maxLength: 120,
      pattern: PRINTABLE,
      description: "Unique per document: derived from its readings' ids",
    }),
    groupid: WireName({ minLength: 0, description: "The group id, at most 64 characters" }),
    gps: Type.Optional(Type.String()),
  },
  { $id: "sensord.original.v1", additionalProperties: OriginalGas },
);
export type OriginalDocument = Static<typeof OriginalDocument> & Record<string, unknown>;
