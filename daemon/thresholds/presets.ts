import type { ThresholdPresetName, ThresholdRule } from "../../schemas/config-types.js";
import type { Gas } from "../../schemas/vocabulary.js";

/**
 * Built-in rule sets: SAFETY_RULES from published exposure limits (NIOSH,
 * OSHA, US EPA; each rule names its source), and the original Lambda's table
 * as it was.
 */

function rule(fields: Pick<ThresholdRule, "gas" | "op" | "value" | "unit" | "clear" | "severity">) {
  const full: ThresholdRule = { ...fields, forMs: 0, sensor: null };
  return Object.freeze(full);
}

/**
 * The default when the config has no `[[thresholds]]`. Every rule states its
 * unit, so it means the same whatever unit a channel reports in.
 *
 * Hysteresis: `clear` is 10 % below the raise level, rounded down to a whole
 * unit, so a value hovering at the limit does not chatter raise/clear.
 * `for` is 0: the limits below are time-weighted averages (TWA, 1 h), and
 * alarming on the first sample over one is the conservative reading of them
 * for an early warning.
 */
export const SAFETY_RULES: readonly ThresholdRule[] = Object.freeze([
  // The original system's NO2 rule, read in ppb: 88 ppb is just under the US
  // EPA 1-hour NAAQS for NO2 (100 ppb); 88 ppm would be far above NIOSH's
  // IDLH (13 ppm), so ppm cannot be what was meant.
  rule({ gas: "no2", op: ">=", value: 88, unit: "ppb", clear: 79, severity: "warning" }),
  // CO: NIOSH REL 35 ppm TWA, which is also the EPA 1-hour ambient standard.
  rule({ gas: "co", op: ">=", value: 35, unit: "ppm", clear: 31, severity: "warning" }),
  // CO: NIOSH ceiling 200 ppm (never to be exceeded).
  rule({ gas: "co", op: ">=", value: 200, unit: "ppm", clear: 180, severity: "critical" }),
  // Ethanol: OSHA PEL and NIOSH REL, both 1000 ppm TWA (IDLH 3300 ppm).
  rule({ gas: "c2h5oh", op: ">=", value: 1000, unit: "ppm", clear: 900, severity: "warning" }),
  // H2 has no exposure limit (simple asphyxiant); the hazard is fire: LEL 4 %vol
  // = 40000 ppm, and gas detectors commonly alarm at 10 % and 25 % of the LEL.
  rule({ gas: "h2", op: ">=", value: 4000, unit: "ppm", clear: 3600, severity: "warning" }),
  rule({ gas: "h2", op: ">=", value: 10000, unit: "ppm", clear: 9000, severity: "critical" }),
]);

/**
 * The original Lambda's table, reproduced exactly: `value >= threshold`,
 * one severity (its only message was "<gas> warning"), no hysteresis, no hold
 * time. It wrote no unit anywhere, so `unit` is null = the channel's unit:
 * NO2's 88 is read in ppb with the default channel unit (DEFAULT_UNIT), the
 * only reading that makes sense (see SAFETY_RULES). Several values (CH4
 * 500000 ppm = 50 %vol) are far beyond what the MiCS-6814 can report; they
 * are kept as they were for compatibility, not as advice.
 */
export const ORIGINAL_RULES: readonly ThresholdRule[] = Object.freeze(
  (
    [
      ["co", 1805],
      ["no2", 88],
      ["c2h5oh", 20000],
      ["h2", 7500],
      ["nh3", 2500],
      ["ch4", 500000],
      ["c3h8", 570000],
      ["c4h10", 520400],
    ] as const
  ).map(([gas, value]) =>
    rule({ gas, op: ">=", value, unit: null, clear: null, severity: "warning" }),
  ),
);

/** The rules a preset stands for ("none" has none). */
export function presetRules(preset: ThresholdPresetName): readonly ThresholdRule[] {
  switch (preset) {
    case "safety":
      return SAFETY_RULES;
    case "original":
      return ORIGINAL_RULES;
    case "none":
      return [];
  }
}

/**
 * The rules the daemon runs with, from the preset name, the config's
 * `[[thresholds]]` and whether the config named the preset itself:
 * - preset "none": the user's rules only (possibly none: no alarms at all);
 * - preset named explicitly: the preset's rules plus the user's, where a user
 *   rule with the same (gas, severity, sensor) replaces the preset's rule
 *   (so `[[thresholds]] gas="co" value=50 severity="warning"` retunes the
 *   safety CO warning without dropping the CO critical);
 * - preset not named, user rules given: the user's rules only (writing
 *   thresholds means "these are my alarms");
 * - neither: SAFETY_RULES, so a fresh install is never silently unprotected.
 *
 * Order: surviving preset rules in preset order, then user rules in config
 * order. Returns fresh, mutable copies.
 */
export function effectiveRules(
  preset: ThresholdPresetName,
  userRules: readonly ThresholdRule[],
  presetExplicit: boolean,
): ThresholdRule[] {
  const copy = (rules: readonly ThresholdRule[]) => rules.map((r) => ({ ...r }));
  if (preset === "none") return copy(userRules);
  if (!presetExplicit) return copy(userRules.length > 0 ? userRules : SAFETY_RULES);
  const overridden = (candidate: ThresholdRule) =>
    userRules.some(
      (user) =>
        user.gas === candidate.gas &&
        user.severity === candidate.severity &&
        user.sensor === candidate.sensor,
    );
  return copy([...presetRules(preset).filter((r) => !overridden(r)), ...userRules]);
}

/**
 * The original system's warning text for a gas, e.g. "no2 warning": old
 * subscribers of topic `pi/1` match on the payload `{"warning": "no2 warning"}`
 * (original-system.md, data path step 3), so the MQTT relay keeps it verbatim.
 */
export function originalWarningMessage(gas: Gas): string {
  return `${gas} warning`;
}
