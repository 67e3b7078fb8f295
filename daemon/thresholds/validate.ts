import type { ThresholdRule } from "../../schemas/config-types.js";
import { clearLevelProblem } from "../../schemas/fleet-rules.js";
import type { Unit } from "../../schemas/vocabulary.js";
import { canConvert, unitFamily } from "../units/convert.js";

/**
 * Checks for the config loader, so a rule the engine could never evaluate
 * fails at start-up with the key and a fix instead of silently never alarming
 * Each returns a message, or null when the rule is fine.
 */

/**
 * The rule's unit cannot be compared with readings of a channel reporting in
 * `channelUnit` (e.g. a ppm threshold on a `raw` Grove V2 channel, which has no
 * vendor ppm curve: sensor-protocols.md section 2). A null rule unit means
 * "the channel's unit" and always fits.
 */
export function ruleUnitProblem(rule: Pick<ThresholdRule, "gas" | "unit">, channelUnit: Unit) {
  if (rule.unit === null || canConvert(rule.unit, channelUnit)) return null;
  return (
    `threshold unit "${rule.unit}" cannot be compared with ${rule.gas} readings in ` +
    `"${channelUnit}"; give the threshold in ${channelUnit} (or leave the unit out), ` +
    "or configure the channel to report a convertible unit"
  );
}

/**
 * A concentration is never below 0, so on a concentration channel some rules
 * can never be meant: `>= 0` or `> -5` is in alarm all the time, `< 0` or
 * `<= -1` never raises. `unit` is the unit the value is in (the rule's, else
 * the channel's). Voltages and raw counts may be negative: not checked.
 */
export function ruleRangeProblem(
  rule: Pick<ThresholdRule, "gas" | "op" | "value">,
  unit: Unit,
): string | null {
  if (unitFamily(unit) !== "concentration") return null;
  const always = (rule.op === ">=" && rule.value <= 0) || (rule.op === ">" && rule.value < 0);
  const never = (rule.op === "<=" && rule.value < 0) || (rule.op === "<" && rule.value <= 0);
  if (!always && !never) return null;
  const what = `${rule.gas} ${rule.op} ${rule.value} ${unit}`;
  return (
    `a concentration is never below 0, so ${what} would ${always ? "always be in alarm" : "never raise"}; ` +
    `give a threshold above 0 ${unit}`
  );
}

/** The clear (hysteresis) level lies on the alarming side of the threshold, which would chatter. */
export function ruleClearProblem(rule: Pick<ThresholdRule, "op" | "value" | "clear">) {
  return clearLevelProblem(rule.op, rule.value, rule.clear);
}
