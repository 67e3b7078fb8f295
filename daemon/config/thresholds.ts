import type {
  SensorConfig,
  ThresholdPresetName,
  ThresholdRule,
} from "../../schemas/config-types.js";
import { DEFAULT_UNIT } from "../../schemas/names.js";
import { effectiveRules } from "../thresholds/presets.js";
import { duplicateRuleKeys, ruleKey } from "../thresholds/rule-key.js";
import { ruleClearProblem, ruleRangeProblem, ruleUnitProblem } from "../thresholds/validate.js";
import { decodeSection } from "./decode.js";
import { asTable, childKey, type Problems } from "./problems.js";
import { channelUnit } from "./sensors.js";
import { didYouMean } from "./suggest.js";

export interface ResolvedThresholds {
  thresholds: ThresholdRule[];
  thresholdPreset: ThresholdPresetName;
}

/**
 * `[[thresholds]]` and `[thresholds_preset]` -> the effective rules
 * (thresholds/presets.ts effectiveRules decides how they combine), checking
 * each rule against the sensors it applies to.
 */
export function resolveThresholds(
  rawRules: unknown,
  rawPreset: unknown,
  sensors: readonly SensorConfig[],
  problems: Problems,
): ResolvedThresholds {
  const entries = Array.isArray(rawRules) ? rawRules : [];
  const userRules: ThresholdRule[] = [];
  const ruleIndexes: number[] = [];
  entries.forEach((entry: unknown, index) => {
    const rule = resolveRule(entry, childKey("thresholds", index), sensors, problems);
    if (rule === null) return;
    userRules.push(rule);
    ruleIndexes.push(index);
  });
  for (const duplicate of duplicateRuleKeys(userRules)) {
    const positions = userRules.flatMap((rule, at) => (ruleKey(rule) === duplicate ? [at] : []));
    const [first, ...rest] = positions.map((at) => ruleIndexes[at] ?? at);
    for (const index of rest) {
      problems.add(
        childKey("thresholds", index),
        `same rule as thresholds[${first}] (${duplicate}); remove one of them`,
      );
    }
  }

  const named = decodeSection("thresholds_preset", asTable(rawPreset) ?? {}, problems).preset;
  const explicit = named !== undefined;
  const thresholdPreset = named ?? (userRules.length > 0 ? "none" : "safety");
  const thresholds = effectiveRules(thresholdPreset, userRules, explicit);
  // effectiveRules lists the surviving preset rules first, then the user's.
  const fromPreset = thresholds.slice(0, thresholds.length - userRules.length);
  checkPresetRules(fromPreset, thresholdPreset, explicit, sensors, problems);
  return { thresholds, thresholdPreset };
}

/**
 * One `[[thresholds]]` table -> a rule, its problems added under `prefix`:
 * the schema's defaults and durations, the clear level, the sensor id, the
 * unit against each target channel's, the range. The fleet's desired rules
 * go through here too (daemon/fleet/desired.ts), so a fleet rule is never
 * one the config file would refuse. null when there is no rule to check.
 */
export function resolveRule(
  entry: unknown,
  prefix: string,
  sensors: readonly SensorConfig[],
  problems: Problems,
): ThresholdRule | null {
  const table = asTable(entry);
  if (table === undefined) return null;
  const written = decodeSection("thresholds", table, problems, prefix);
  const { gas, value } = written;
  // Without a gas or a value there is no rule to check further (the schema check said why).
  if (gas === undefined || value === undefined) return null;
  const rule: ThresholdRule = {
    gas,
    op: written.op,
    value,
    unit: written.unit ?? null,
    clear: written.clear ?? null,
    forMs: written.for,
    severity: written.severity,
    sensor: written.sensor ?? null,
  };
  const clearProblem = ruleClearProblem(rule);
  if (clearProblem !== null) problems.add(`${prefix}.clear`, clearProblem);

  const ids = [...new Set(sensors.map((sensor) => sensor.id).filter((id) => id !== ""))];
  if (rule.sensor !== null && !ids.includes(rule.sensor)) {
    problems.add(
      `${prefix}.sensor`,
      `no sensor "${rule.sensor}" is configured;${didYouMean(rule.sensor, ids)} ` +
        `use one of: ${ids.join(", ") || "(none)"}, or leave sensor out to apply the rule to every sensor`,
    );
  }
  const targets = sensors.filter((sensor) => rule.sensor === null || sensor.id === rule.sensor);
  for (const sensor of targets) {
    const problem = ruleUnitProblem(rule, channelUnit(sensor, gas));
    if (problem !== null) {
      problems.add(`${prefix}.unit`, `${problem} (sensor ${sensor.id})`);
      break;
    }
  }
  if (targets.length === 0) {
    const problem = ruleUnitProblem(rule, DEFAULT_UNIT[gas]);
    if (problem !== null) problems.add(`${prefix}.unit`, problem);
  }
  const first = targets[0];
  const range = ruleRangeProblem(
    rule,
    rule.unit ?? (first === undefined ? DEFAULT_UNIT[gas] : channelUnit(first, gas)),
  );
  if (range !== null) problems.add(`${prefix}.value`, range);
  return rule;
}

/**
 * A preset rule in a unit a configured channel cannot be converted to (a
 * ppm rule on a channel set to `raw`) would never fire: report it at the
 * channel's unit, where the user made the choice. A channel left at its
 * driver's default (an uncalibrated Grove V2 ADC count) is not an error: the
 * daemon warns at start that those preset rules cannot apply to it.
 */
function checkPresetRules(
  rules: readonly ThresholdRule[],
  preset: ThresholdPresetName,
  explicit: boolean,
  sensors: readonly SensorConfig[],
  problems: Problems,
): void {
  sensors.forEach((sensor, index) => {
    for (const rule of rules) {
      if (rule.sensor !== null && rule.sensor !== sensor.id) continue;
      if (sensor.channels[rule.gas] === undefined) continue;
      const unit = channelUnit(sensor, rule.gas);
      if (ruleUnitProblem(rule, unit) === null) continue;
      problems.add(
        sensor.channels[rule.gas]
          ? `sensors[${index}].channels.${rule.gas}.unit`
          : "thresholds_preset.preset",
        presetUnitMessage(rule, unit, preset, explicit),
      );
    }
  });
}

function presetUnitMessage(
  rule: ThresholdRule,
  unit: string,
  preset: ThresholdPresetName,
  explicit: boolean,
): string {
  const replace = explicit
    ? `add a [[thresholds]] rule with gas = "${rule.gas}", severity = "${rule.severity}" in ${unit} (it replaces the preset's)`
    : `add your own [[thresholds]] rules (they replace the default ${preset} rules)`;
  return (
    `${rule.gas} readings in "${unit}" cannot be compared with the ${preset} preset's rule ` +
    `${ruleKey(rule)}; use a unit convertible to ${rule.unit ?? unit}, or ${replace}, ` +
    'or set [thresholds_preset] preset = "none"'
  );
}
