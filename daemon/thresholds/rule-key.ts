import type { ThresholdRule } from "../../schemas/config-types.js";
import { GASES, OPS, SEVERITIES, UNITS } from "../../schemas/names.js";

/** The parts of a rule its key is made of. */
export type RuleKeyParts = Pick<
  ThresholdRule,
  "gas" | "op" | "value" | "unit" | "severity" | "sensor"
>;

/**
 * Stable, human-readable key of a rule: `[sensor/]gas op value [unit] :severity`,
 * e.g. `no2>=88ppb:warning`, `no2>=88:warning` (unit = the channel's),
 * `gas0/co>=35ppm:warning` (only sensor gas0).
 *
 * Alert events store this key, and after a restart the daemon matches the
 * database's active alarms to the configured rules by it, so it must depend
 * only on the rule's meaning: `String(number)` is deterministic for a given
 * double (88, 88.0 and 8.8e1 all give "88"). `clear` and `forMs` are left out
 * on purpose: retuning hysteresis or the hold time of a rule keeps its alarm
 * state across a reload. Sensor names cannot contain "/" (SensorName in
 * schemas/vocabulary.ts) and gas names no operator characters, so the key
 * can be parsed back (parseRuleKey).
 */
export function ruleKey(rule: RuleKeyParts): string {
  const prefix = rule.sensor === null ? "" : `${rule.sensor}/`;
  return `${prefix}${rule.gas}${rule.op}${String(rule.value)}${rule.unit ?? ""}:${rule.severity}`;
}

// Longest alternatives first so ">=" is not read as ">" followed by "=", and "mV" not as "V".
const UNIT_PATTERN = [...UNITS]
  .sort((a, b) => b.length - a.length)
  .map((unit) => unit.replace(/[%]/g, "\\$&"))
  .join("|");
const KEY_PATTERN = new RegExp(
  `^(?:([^/]+)/)?([a-z0-9]+)(>=|<=|>|<)(-?\\d+(?:\\.\\d+)?(?:e[+-]\\d+)?)(${UNIT_PATTERN})?:(warning|critical)$`,
);

/**
 * The rule parts encoded in a key made by ruleKey, or null when `key` is not
 * one (or not in canonical form). Used to clear an alarm restored from the
 * database whose rule is no longer configured.
 */
export function parseRuleKey(key: string): RuleKeyParts | null {
  const match = KEY_PATTERN.exec(key);
  if (!match) return null;
  const [, sensor, gasText = "", opText = "", valueText = "", unitText, severityText = ""] = match;
  // Look the texts up rather than casting them: the result is typed by the vocabulary itself.
  const gas = GASES.find((candidate) => candidate === gasText);
  const op = OPS.find((candidate) => candidate === opText);
  const severity = SEVERITIES.find((candidate) => candidate === severityText);
  const unit = unitText === undefined ? null : UNITS.find((candidate) => candidate === unitText);
  if (gas === undefined || op === undefined || severity === undefined || unit === undefined) {
    return null;
  }
  const value = Number(valueText);
  // Only canonical keys (what ruleKey would print) round-trip: "88.0" is not a key ruleKey makes.
  if (!Number.isFinite(value) || String(value) !== valueText) return null;
  return { gas, op, value, unit, severity, sensor: sensor ?? null };
}

/** Keys that occur more than once in `rules` (config validation: two rules with one key share one alarm). */
export function duplicateRuleKeys(rules: readonly RuleKeyParts[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const rule of rules) {
    const key = ruleKey(rule);
    if (seen.has(key)) duplicates.add(key);
    seen.add(key);
  }
  return [...duplicates];
}
