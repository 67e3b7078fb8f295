import { alarmsHigh } from "../../schemas/fleet-rules.js";
import type { ComparisonOp } from "../../schemas/vocabulary.js";

/**
 * The two comparisons of a threshold rule. Kept apart from the engine so the
 * exact boundary semantics are in one small place (and tested directly).
 *
 * Raise: `value <op> threshold`.
 * Clear: the value is back past the clear level, strictly on the safe side of
 * the op's boundary: `>=` clears at value < clear, `>` at value <= clear,
 * `<=` at value > clear, `<` at value >= clear. With clear = threshold this is
 * exactly "the raise condition no longer holds".
 */
export function raiseHolds(op: ComparisonOp, value: number, threshold: number): boolean {
  switch (op) {
    case ">=":
      return value >= threshold;
    case ">":
      return value > threshold;
    case "<=":
      return value <= threshold;
    case "<":
      return value < threshold;
  }
}

export function clearHolds(op: ComparisonOp, value: number, clearLevel: number): boolean {
  switch (op) {
    case ">=":
      return value < clearLevel;
    case ">":
      return value <= clearLevel;
    case "<=":
      return value > clearLevel;
    case "<":
      return value >= clearLevel;
  }
}

// Shared with the fleet's check of desired thresholds (schemas/fleet-rules.ts).
export { alarmsHigh } from "../../schemas/fleet-rules.js";

/**
 * The clear level the engine uses: `clear` when it lies on the safe side of
 * the threshold (or on it), else the threshold itself. A clear level on the
 * wrong side (">= 88, clear 100") would clear an alarm on the reading after it
 * was raised while the value is still over the limit, i.e. chatter; config
 * validation rejects it (ruleClearProblem), and the engine degrades it to "no
 * hysteresis" rather than chattering if one slips through.
 */
export function effectiveClearLevel(op: ComparisonOp, threshold: number, clear: number | null) {
  if (clear === null || !Number.isFinite(clear)) return threshold;
  if (alarmsHigh(op)) return clear <= threshold ? clear : threshold;
  return clear >= threshold ? clear : threshold;
}
