import { checkRuleSlotBody, checkThresholdRuleBody } from "../../schemas/compiled/validators.js";
import type { RuleSlotBody, ThresholdRuleBody } from "../../schemas/control.js";

export type { RuleSlotBody, ThresholdRuleBody } from "../../schemas/control.js";

/** Which body a route expects: its generated validator, and its schema's name for the error path. */
export interface BodyShape<T> {
  name: "RuleSlotBody" | "ThresholdRuleBody";
  guard: (value: unknown) => value is T;
}

export const RULE_SLOT_BODY: BodyShape<RuleSlotBody> = {
  name: "RuleSlotBody",
  guard: (value): value is RuleSlotBody => checkRuleSlotBody(value),
};

export const THRESHOLD_RULE_BODY: BodyShape<ThresholdRuleBody> = {
  name: "ThresholdRuleBody",
  guard: (value): value is ThresholdRuleBody => checkThresholdRuleBody(value),
};

/**
 * `value` as T, or the first mismatch as "path: message". The schemas (and
 * TypeBox) load only for a bad body, so a daemon whose control socket only
 * ever sees sensorctl's well-formed requests never carries them.
 */
export async function checkBody<T>(
  shape: BodyShape<T>,
  value: unknown,
): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  if (shape.guard(value)) return { ok: true, value };
  const { firstMismatch } = await import("./wire-errors.js");
  return { ok: false, error: firstMismatch(shape.name, value) };
}
