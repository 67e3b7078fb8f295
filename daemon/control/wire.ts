import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ComparisonOp, Gas, Severity, Unit } from "../../schemas/vocabulary.js";

/**
 * Request bodies of the control API, checked on arrival: the socket is the
 * daemon's boundary even though only sensorctl is expected on the other side.
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

/** `value` as T, or the first mismatch as "path: message". */
export function checkBody<T>(
  schema: Parameters<typeof Value.Check>[0],
  value: unknown,
  guard: (checked: unknown) => checked is T,
): { ok: true; value: T } | { ok: false; error: string } {
  if (guard(value)) return { ok: true, value };
  const [first] = Value.Errors(schema, value);
  const where = first?.path === "" || first === undefined ? "body" : first.path.slice(1);
  return { ok: false, error: `${where}: ${first?.message ?? "invalid"}` };
}

export function isRuleSlotBody(value: unknown): value is RuleSlotBody {
  return Value.Check(RuleSlotBody, value);
}

export function isThresholdRuleBody(value: unknown): value is ThresholdRuleBody {
  return Value.Check(ThresholdRuleBody, value);
}
