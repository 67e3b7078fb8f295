import type { SensorConfig, ThresholdRule } from "../../schemas/config-types.js";
import { DEFAULT_UNIT, type Unit } from "../../schemas/names.js";
import { channelUnit } from "../config/sensors.js";
import { ruleClearProblem, ruleRangeProblem, ruleUnitProblem } from "../thresholds/validate.js";

/** A bad part of a rule, named as the `sensorctl threshold set` argument that carries it. */
export interface RuleProblem {
  field: string;
  message: string;
}

/**
 * What makes `rule` unusable with the configured sensors: the same checks the
 * config loader runs on [[thresholds]] (thresholds/validate.ts), so an
 * override can never be a rule the config file would have refused.
 */
export function ruleProblems(rule: ThresholdRule, sensors: readonly SensorConfig[]): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (!Number.isFinite(rule.value)) {
    problems.push({ field: "<value>", message: `${rule.value} is not a finite number` });
  }
  if (!Number.isSafeInteger(rule.forMs) || rule.forMs < 0) {
    problems.push({ field: "--for", message: "must be a duration of 0 or more" });
  }
  const clear = ruleClearProblem(rule);
  if (clear !== null) problems.push({ field: "--clear", message: clear });
  const ids = sensors.map((sensor) => sensor.id);
  if (rule.sensor !== null && !ids.includes(rule.sensor)) {
    problems.push({
      field: "--sensor",
      message: `no sensor "${rule.sensor}" is configured; use one of: ${ids.join(", ") || "(none)"}`,
    });
  }
  const units = targetUnits(rule, sensors);
  for (const { unit } of units) {
    const problem = ruleUnitProblem(rule, unit);
    if (problem !== null) {
      problems.push({ field: "--unit", message: problem });
      break;
    }
  }
  const distinct = [...new Map(units.map((target) => [target.unit, target])).values()];
  if (rule.unit === null && distinct.length > 1) {
    // Without a unit the value would mean 12 ppm on one sensor and 12 raw counts on another.
    const [first, ...others] = distinct;
    problems.push({
      field: "--unit",
      message:
        `${first?.sensor} reports ${rule.gas} in ${first?.unit} and ` +
        `${others.map((target) => `${target.sensor} in ${target.unit}`).join(", ")}: ` +
        "give --unit (or --sensor for one of them)",
    });
  }
  const range = ruleRangeProblem(rule, rule.unit ?? units[0]?.unit ?? DEFAULT_UNIT[rule.gas]);
  if (range !== null) problems.push({ field: "<value>", message: range });
  return problems;
}

/** Each sensor the rule applies to, with the unit it reports the rule's gas in. */
function targetUnits(
  rule: Pick<ThresholdRule, "gas" | "sensor">,
  sensors: readonly SensorConfig[],
): { sensor: string; unit: Unit }[] {
  const targets = sensors.filter((sensor) => rule.sensor === null || sensor.id === rule.sensor);
  if (targets.length === 0) return [{ sensor: "(no sensor)", unit: DEFAULT_UNIT[rule.gas] }];
  return targets.map((sensor) => ({ sensor: sensor.id, unit: channelUnit(sensor, rule.gas) }));
}

/**
 * The unit a `threshold set` without --unit means: the one its sensors report
 * the gas in (ruleProblems refuses it when they disagree). Stored with the
 * rule, so `threshold list` shows `>= 12 ppm`, not a bare `>= 12`.
 */
export function channelUnitOf(
  rule: Pick<ThresholdRule, "gas" | "sensor">,
  sensors: readonly SensorConfig[],
): Unit {
  return targetUnits(rule, sensors)[0]?.unit ?? DEFAULT_UNIT[rule.gas];
}
