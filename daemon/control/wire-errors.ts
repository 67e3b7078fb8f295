import { Value } from "@sinclair/typebox/value";
import { RuleSlotBody, ThresholdRuleBody } from "../../schemas/control.js";

const SCHEMAS = { RuleSlotBody, ThresholdRuleBody };

/** The first way `value` misses the named body schema, as "path: message". */
export function firstMismatch(name: keyof typeof SCHEMAS, value: unknown): string {
  const [first] = Value.Errors(SCHEMAS[name], value);
  const where = first?.path === "" || first === undefined ? "body" : first.path.slice(1);
  return `${where}: ${first?.message ?? "invalid"}`;
}
