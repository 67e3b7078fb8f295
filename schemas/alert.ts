import { type Static, Type } from "@sinclair/typebox";
import {
  ComparisonOp,
  Gas,
  IsoTimestamp,
  SensorName,
  Severity,
  Unit,
  WireId,
} from "./vocabulary.js";

export const AlertKind = Type.Union([Type.Literal("raise"), Type.Literal("clear")]);
export type AlertKind = Static<typeof AlertKind>;

/** One raise or clear of a threshold rule, committed with the reading that caused it. */
export const AlertEvent = Type.Object(
  {
    id: WireId("Unique per device database; at most 128 characters"),
    readingId: WireId("The reading that caused this event"),
    rule: Type.String({ description: "Stable key of the threshold rule, e.g. no2>=88ppb:warning" }),
    sensor: SensorName,
    gas: Gas,
    kind: AlertKind,
    value: Type.Number({ description: "The reading's value, in `unit`" }),
    unit: Unit,
    threshold: Type.Number({ description: "The rule's threshold converted to `unit`" }),
    op: ComparisonOp,
    severity: Severity,
    ts: IsoTimestamp,
  },
  { $id: "sensord.alert.v1", additionalProperties: false },
);
export type AlertEvent = Static<typeof AlertEvent>;
