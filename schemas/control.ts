import { type Static, Type } from "@sinclair/typebox";
import { ComparisonOp, Gas, Severity, Unit } from "./vocabulary.js";

/**
 * Request bodies of the control API, checked on arrival: the socket is the
 * daemon's boundary even though only sensorctl is expected on the other side.
 * schemas/compile.ts turns these into the validators wire.ts runs; TypeBox
 * itself loads only to explain a body that fails them (wire-errors.ts).
 */

export const RuleSlotBody = Type.Object(
  { gas: Gas, severity: Severity, sensor: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);
export type RuleSlotBody = Static<typeof RuleSlotBody>;

export const ThresholdRuleBody = Type.Object(
  {
    gas: Gas,
    op: ComparisonOp,
    value: Type.Number(),
    unit: Type.Union([Unit, Type.Null()]),
    clear: Type.Union([Type.Number(), Type.Null()]),
    forMs: Type.Integer({ minimum: 0 }),
    severity: Severity,
    sensor: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ThresholdRuleBody = Static<typeof ThresholdRuleBody>;
