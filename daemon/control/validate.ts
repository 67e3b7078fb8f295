import { DEFAULT_UNIT } from "../../schemas/vocabulary.js";
import { channelUnit } from "../config/sensors.js";
import type { SensorConfig, ThresholdRule } from "../config/types.js";
import { ruleClearProblem, ruleUnitProblem } from "../thresholds/validate.js";

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
  const targets = sensors.filter((sensor) => rule.sensor === null || sensor.id === rule.sensor);
  const units = targets.map((sensor) => channelUnit(sensor, rule.gas));
  for (const unit of units.length > 0 ? units : [DEFAULT_UNIT[rule.gas]]) {
    const problem = ruleUnitProblem(rule, unit);
    if (problem !== null) {
      problems.push({ field: "--unit", message: problem });
      break;
    }
  }
  return problems;
}
