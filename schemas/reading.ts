import { type Static, Type } from "@sinclair/typebox";
import { Gas, IsoTimestamp, ReadingFlag, SensorName, Unit } from "./vocabulary.js";

/** A stored reading as sensorctl prints it and as the sync worker will ship it. */
export const Reading = Type.Object(
  {
    id: Type.String({ description: "Globally unique: random per-database prefix + sequence" }),
    sensor: SensorName,
    gas: Gas,
    value: Type.Number(),
    unit: Unit,
    ts: IsoTimestamp,
    flags: Type.Array(ReadingFlag),
  },
  { $id: "sensord.reading.v1", additionalProperties: false },
);
export type Reading = Static<typeof Reading>;
