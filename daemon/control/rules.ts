import type { ThresholdPresetName, ThresholdRule } from "../../schemas/config-types.js";
import type { RuleSlot, ThresholdOverride } from "../store/overrides.js";
import { presetRules } from "../thresholds/presets.js";
import { ruleKey } from "../thresholds/rule-key.js";

/** Where a rule in force comes from, as `sensorctl threshold list` shows it. */
export type RuleOrigin = "preset" | "config" | "fleet" | "override";

export interface RuleInForce {
  key: string;
  origin: RuleOrigin;
  rule: ThresholdRule;
  /** For an override or a fleet rule: the keys of the rules below it that it replaces. */
  replaces: string[];
  /** For a fleet rule: the etag of the set it came in. */
  etag?: string;
}

/** The fleet's desired set this Pi applied (daemon/fleet/), resolved against its sensors. */
export interface FleetLayer {
  etag: string;
  rules: readonly ThresholdRule[];
}

/** A `threshold rm` in force: the slot's config rules it hides. */
export interface RemovedSlot {
  slot: RuleSlot;
  removes: string[];
}

export interface EffectiveRules {
  rules: RuleInForce[];
  removed: RemovedSlot[];
}

export function slotOf(rule: RuleSlot): RuleSlot {
  return { gas: rule.gas, severity: rule.severity, sensor: rule.sensor };
}

export function sameSlot(a: RuleSlot, b: RuleSlot): boolean {
  return a.gas === b.gas && a.severity === b.severity && a.sensor === b.sensor;
}

/** `no2:warning` or `gas0/no2:critical`: how messages name a slot. */
export function slotName(slot: RuleSlot): string {
  return `${slot.sensor === null ? "" : `${slot.sensor}/`}${slot.gas}:${slot.severity}`;
}

/**
 * The command that drops the override of `slot`, with every option that
 * names the slot (a `reset co` would miss `co:critical`).
 */
export function resetCommand(slot: RuleSlot): string {
  const severity = slot.severity === "warning" ? "" : ` --severity ${slot.severity}`;
  const sensor = slot.sensor === null ? "" : ` --sensor ${slot.sensor}`;
  return `sensorctl threshold reset ${slot.gas}${severity}${sensor}`;
}

/** Where a config rule comes from, as messages name it: "the safety preset's" or "the config file's". */
export function configOrigin(rule: ThresholdRule, preset: ThresholdPresetName): string {
  return presetRules(preset).some((known) => ruleKey(known) === ruleKey(rule))
    ? `the ${preset} preset's`
    : "the config file's";
}

/**
 * The rules the daemon runs, each slot (gas, severity, sensor) taking the
 * first layer that has it: an override (`sensorctl threshold set`/`rm`) >
 * the fleet's set > the config (preset + [[thresholds]]), the same way a
 * [[thresholds]] rule replaces a preset rule (thresholds/presets.ts
 * effectiveRules). Config rules keep their order; fleet rules follow in the
 * set's order, overrides in the order they were set. Pure.
 */
export function applyOverrides(
  configRules: readonly ThresholdRule[],
  preset: ThresholdPresetName,
  overrides: readonly ThresholdOverride[],
  fleet: FleetLayer | null = null,
): EffectiveRules {
  const fromPreset = new Set(presetRules(preset).map((rule) => ruleKey(rule)));
  const fleetRules = fleet?.rules ?? [];
  const overridden = (rule: ThresholdRule) =>
    overrides.some((override) => sameSlot(override.slot, rule));
  const keysIn = (rules: readonly ThresholdRule[], slot: RuleSlot) =>
    rules.filter((rule) => sameSlot(slot, rule)).map((rule) => ruleKey(rule));
  const rules: RuleInForce[] = [];
  for (const rule of configRules) {
    if (overridden(rule) || fleetRules.some((other) => sameSlot(other, rule))) continue;
    const key = ruleKey(rule);
    rules.push({ key, origin: fromPreset.has(key) ? "preset" : "config", rule, replaces: [] });
  }
  if (fleet !== null) {
    for (const rule of fleet.rules) {
      if (overridden(rule)) continue;
      const replaces = keysIn(configRules, rule);
      rules.push({ key: ruleKey(rule), origin: "fleet", rule, replaces, etag: fleet.etag });
    }
  }
  const removed: RemovedSlot[] = [];
  for (const override of overrides) {
    const replaced = keysIn([...configRules, ...fleetRules], override.slot);
    if (override.rule === null) {
      removed.push({ slot: override.slot, removes: replaced });
      continue;
    }
    rules.push({
      key: ruleKey(override.rule),
      origin: "override",
      rule: override.rule,
      replaces: replaced,
    });
  }
  return { rules, removed };
}
