import type { SensordConfig, ThresholdRule } from "../config/types.js";
import type { RuleSlot, ThresholdOverrideTable } from "../store/overrides.js";
import { ruleKey } from "../thresholds/rule-key.js";
import { applyOverrides, type EffectiveRules, sameSlot, slotName, slotOf } from "./rules.js";
import { type RuleProblem, ruleProblems } from "./validate.js";

/** What changing overrides needs: the table, and the config they sit on top of. */
export interface OverrideContext {
  table: ThresholdOverrideTable;
  config: Pick<SensordConfig, "thresholds" | "thresholdPreset" | "sensors">;
  now: () => number;
}

export type OverrideOutcome =
  | { ok: true; message: string; effective: EffectiveRules }
  | { ok: false; status: 400 | 404; error: string; problems: RuleProblem[] };

export function effectiveRules(context: OverrideContext): EffectiveRules {
  const { config, table } = context;
  return applyOverrides(config.thresholds, config.thresholdPreset, table.list());
}

/** `threshold set`: the rule replaces whatever rules its slot holds, until `threshold reset`. */
export function setOverride(context: OverrideContext, rule: ThresholdRule): OverrideOutcome {
  const problems = ruleProblems(rule, context.config.sensors);
  if (problems.length > 0) {
    return { ok: false, status: 400, error: "invalid threshold rule", problems };
  }
  const replaced = effectiveRules(context).rules.filter((entry) => sameSlot(entry.rule, rule));
  context.table.put({ slot: slotOf(rule), rule, updatedAtMs: context.now() });
  const what =
    replaced.length === 0
      ? "added"
      : `replaces ${replaced.map((entry) => `${entry.key} (${entry.origin})`).join(", ")}`;
  return { ok: true, message: `${ruleKey(rule)}: ${what}`, effective: effectiveRules(context) };
}

/**
 * `threshold rm`: an override the config knows nothing of is simply deleted;
 * the config's rules of the slot are hidden by a stored removal (the config
 * file itself is never edited), undone with `threshold reset`.
 */
export function removeRule(context: OverrideContext, slot: RuleSlot): OverrideOutcome {
  const fromConfig = context.config.thresholds.filter((rule) => sameSlot(rule, slot));
  const inForce = effectiveRules(context).rules.filter((entry) => sameSlot(entry.rule, slot));
  if (inForce.length === 0) {
    return {
      ok: false,
      status: 404,
      error: `no rule in force for ${slotName(slot)}; \`sensorctl threshold list\` shows the rules`,
      problems: [],
    };
  }
  const keys = inForce.map((entry) => entry.key).join(", ");
  if (fromConfig.length === 0) {
    context.table.delete(slot);
    return { ok: true, message: `removed ${keys}`, effective: effectiveRules(context) };
  }
  context.table.put({ slot, rule: null, updatedAtMs: context.now() });
  return {
    ok: true,
    message:
      `removed ${keys}; the config file still has ${fromConfig.map((rule) => ruleKey(rule)).join(", ")}: ` +
      `\`sensorctl threshold reset ${slot.gas}\` brings it back`,
    effective: effectiveRules(context),
  };
}

/** `threshold reset`: drop the override of a slot, so the config's rules apply again. */
export function resetOverride(context: OverrideContext, slot: RuleSlot): OverrideOutcome {
  if (!context.table.delete(slot)) {
    return {
      ok: false,
      status: 404,
      error: `no override for ${slotName(slot)}; the config's rules already apply`,
      problems: [],
    };
  }
  const back = context.config.thresholds.filter((rule) => sameSlot(rule, slot));
  return {
    ok: true,
    message:
      back.length === 0
        ? `override ${slotName(slot)} dropped; the config has no rule there`
        : `override ${slotName(slot)} dropped; back to ${back.map((rule) => ruleKey(rule)).join(", ")}`,
    effective: effectiveRules(context),
  };
}
