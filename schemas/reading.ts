import { type Static, Type } from "@sinclair/typebox";
import { Gas, IsoTimestamp, ReadingFlag, SensorName, Unit, WireId } from "./vocabulary.js";

/** A stored reading as sensorctl prints it and as the sync worker will ship it. */
export const Reading = Type.Object(
  {
    id: WireId("Globally unique: random per-database prefix + sequence; at most 128 characters"),
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
