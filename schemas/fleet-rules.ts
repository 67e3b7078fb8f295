import type { FleetRule } from "./fleet-thresholds.js";
import type { ComparisonOp, Unit } from "./names.js";

/**
 * The checks of a fleet threshold set that go beyond its schema, as plain
 * functions without TypeBox: the daemon runs them before applying a set and
 * must not load TypeBox for that (schemas/names.ts says why).
 */

/** More rules than a device's alarm engine needs; bounds the check and the stored set. */
export const MAX_FLEET_RULES = 64;

/** One thing wrong with one rule of a set; `key` is the path a person fixes, e.g. `thresholds[2].clear`. */
export interface FleetRuleProblem {
  index: number;
  key: string;
  message: string;
}

/** The parts of a rule fleetRuleProblems reads, with the JSON form's defaults not yet applied. */
export type FleetRuleFields = Pick<
  FleetRule,
  "gas" | "op" | "value" | "unit" | "clear" | "severity" | "sensor"
>;

/** True for ops that alarm on high values (their clear level lies at or below the threshold). */
export function alarmsHigh(op: ComparisonOp): boolean {
  return op === ">=" || op === ">";
}

/**
 * The clear (hysteresis) level lies on the alarming side of the threshold,
 * which would chatter: the message, or null when the level is fine (or
 * absent). The daemon's config check and the fleet's use this one rule.
 */
export function clearLevelProblem(op: ComparisonOp, value: number, clear: number | null) {
  if (clear === null) return null;
  if (!Number.isFinite(clear)) return `clear level ${clear} is not a finite number`;
  if (alarmsHigh(op) ? clear <= value : clear >= value) return null;
  const side = alarmsHigh(op) ? "at or below" : "at or above";
  return (
    `clear level ${clear} must be ${side} the threshold ${value} for "${op}": ` +
    "it is the level the value has to return past before the alarm clears"
  );
}

/** Concentration and electrical units convert within their family; `raw` converts to nothing else. */
const UNIT_SCALE: Partial<Record<Unit, { family: string; factor: number }>> = {
  ppb: { family: "concentration", factor: 1 },
  ppm: { family: "concentration", factor: 1000 },
  "%": { family: "concentration", factor: 10_000_000 },
  mV: { family: "voltage", factor: 1 },
  V: { family: "voltage", factor: 1000 },
};

/**
 * `value` of a rule in `unit` expressed in `target`, or null when the two
 * cannot be compared: no unit means "the channel's unit", which only the
 * device knows, so it compares only with another rule without a unit.
 */
function comparable(value: number, unit: Unit | undefined, target: Unit | undefined) {
  if (unit === target) return value;
  if (unit === undefined || target === undefined) return null;
  const from = UNIT_SCALE[unit];
  const to = UNIT_SCALE[target];
  if (from === undefined || to === undefined || from.family !== to.family) return null;
  return (value * from.factor) / to.factor;
}

/**
 * What makes a schema-valid set unusable as a whole, in rule order: a value
 * or clear level that is no finite number, a clear level on the alarming
 * side, two rules for one slot (gas, severity, sensor: a device keeps one
 * rule per slot), a critical rule that would raise before the warning rule
 * of its gas, sensor and direction, more than MAX_FLEET_RULES rules. Checks
 * that need the device's channels (a unit its sensor cannot convert to) are
 * the device's to make.
 */
export function fleetRuleProblems(rules: readonly FleetRuleFields[]): FleetRuleProblem[] {
  const problems: FleetRuleProblem[] = [];
  const add = (index: number, field: string, message: string) =>
    problems.push({ index, key: `thresholds[${index}]${field}`, message });
  if (rules.length > MAX_FLEET_RULES) {
    add(MAX_FLEET_RULES, "", `at most ${MAX_FLEET_RULES} rules; this set has ${rules.length}`);
  }
  const slots = new Map<string, number>();
  for (const [index, rule] of rules.entries()) {
    const op = rule.op ?? ">=";
    if (!Number.isFinite(rule.value)) add(index, ".value", `${rule.value} is not a finite number`);
    const clear = clearLevelProblem(op, rule.value, rule.clear ?? null);
    if (clear !== null) add(index, ".clear", clear);
    const severity = rule.severity ?? "warning";
    const slot = `${rule.sensor ?? ""}/${rule.gas}:${severity}`;
    const first = slots.get(slot);
    if (first === undefined) slots.set(slot, index);
    else {
      add(
        index,
        "",
        `same slot (gas ${rule.gas}, severity ${severity}, ${rule.sensor === undefined ? "every sensor" : `sensor ${rule.sensor}`}) as thresholds[${first}]: a device keeps one rule per slot; remove one`,
      );
    }
    if (severity === "critical") {
      for (const [at, other] of rules.entries()) {
        const problem = orderProblem(rule, op, other, at);
        if (problem !== null) add(index, ".value", problem);
      }
    }
  }
  return problems;
}

/** When `critical` raises before the warning rule `warning` (same gas, sensor and direction), why. */
function orderProblem(
  critical: FleetRuleFields,
  op: ComparisonOp,
  warning: FleetRuleFields,
  at: number,
): string | null {
  if ((warning.severity ?? "warning") !== "warning") return null;
  if (warning.gas !== critical.gas || warning.sensor !== critical.sensor) return null;
  const high = alarmsHigh(op);
  if (alarmsHigh(warning.op ?? ">=") !== high) return null;
  const level = comparable(warning.value, warning.unit, critical.unit);
  if (level === null) return null;
  if (high ? critical.value >= level : critical.value <= level) return null;
  return (
    `the critical level ${critical.value} is ${high ? "below" : "above"} the warning level ` +
    `${warning.value} of thresholds[${at}]: the critical alarm would come first; ` +
    `move it ${high ? "above" : "below"} the warning level`
  );
}
