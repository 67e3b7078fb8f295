import type { SensordConfig, ThresholdRule } from "../../schemas/config-types.js";
import type { RuleSlot, ThresholdOverrideTable } from "../store/overrides.js";
import { alarmsHigh } from "../thresholds/condition.js";
import { ruleKey } from "../thresholds/rule-key.js";
import { convert } from "../units/convert.js";
import {
  applyOverrides,
  configOrigin,
  type EffectiveRules,
  type FleetLayer,
  type RuleInForce,
  resetCommand,
  sameSlot,
  slotName,
  slotOf,
} from "./rules.js";
import { channelUnitOf, type RuleProblem, ruleProblems } from "./validate.js";

/** What changing overrides needs: the table, and the config they sit on top of. */
export interface OverrideContext {
  table: ThresholdOverrideTable;
  config: Pick<SensordConfig, "thresholds" | "thresholdPreset" | "sensors">;
  /** The fleet's set in force, which an override replaces per slot too; null: none. */
  fleet: FleetLayer | null;
  now: () => number;
}

export type OverrideOutcome =
  | {
      ok: true;
      message: string;
      effective: EffectiveRules;
      /** Accepted, but probably not what was meant (sensorctl prints them on stderr). */
      warnings?: string[];
    }
  | { ok: false; status: 400 | 404; error: string; problems: RuleProblem[] };

export function effectiveRules(context: OverrideContext): EffectiveRules {
  const { config, table } = context;
  return applyOverrides(config.thresholds, config.thresholdPreset, table.list(), context.fleet);
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
  const effective = effectiveRules(context);
  const warnings = severityOrderWarnings(rule, effective.rules, context);
  if (rule.unit === null) {
    // Legal (the "original" preset has no units either), but `>= 12` alone reads as anything.
    const unit = channelUnitOf(rule, context.config.sensors);
    warnings.unshift(
      `${ruleKey(rule)} has no unit: it is read in the unit the sensors report ${rule.gas} in (${unit}); ` +
        `give --unit ${unit} to say so`,
    );
  }
  return { ok: true, message: `${ruleKey(rule)}: ${what}`, effective, warnings };
}

/**
 * A critical rule that raises before the warning rule of the same gas (for
 * `>=`: at a lower level) is legal, and is sometimes a step on the way to new
 * levels, so it is stored; but it is worth saying.
 */
function severityOrderWarnings(
  rule: ThresholdRule,
  inForce: readonly RuleInForce[],
  context: OverrideContext,
): string[] {
  const unitOf = (of: ThresholdRule) => of.unit ?? channelUnitOf(of, context.config.sensors);
  const high = alarmsHigh(rule.op);
  const warnings: string[] = [];
  for (const other of inForce) {
    const { rule: them } = other;
    if (them.gas !== rule.gas || them.severity === rule.severity) continue;
    if (alarmsHigh(them.op) !== high) continue;
    if (them.sensor !== null && rule.sensor !== null && them.sensor !== rule.sensor) continue;
    const theirs = convert(them.value, unitOf(them), unitOf(rule));
    if (theirs === null) continue;
    const critical = rule.severity === "critical" ? rule.value : theirs;
    const warning = rule.severity === "critical" ? theirs : rule.value;
    if (high ? critical >= warning : critical <= warning) continue;
    // For ">=" rules the critical level is the higher one; for "<=" the lower one.
    const [earlier, later] = high ? ["below", "above"] : ["above", "below"];
    const fix =
      rule.severity === "critical"
        ? `move it ${later} ${theirs} ${unitOf(rule)}, or move the warning rule`
        : `move it ${earlier} ${theirs} ${unitOf(rule)}, or move the critical rule`;
    warnings.push(
      `the ${rule.severity} rule ${ruleKey(rule)} raises ${rule.severity === "critical" ? earlier : later} ` +
        `the ${them.severity} rule ${other.key} (${other.origin}): the critical alarm comes first; ${fix}`,
    );
  }
  return warnings;
}

/** The rules a slot holds without an override: the fleet's set's, else the config's. */
function beneath(context: OverrideContext, slot: RuleSlot): RuleInForce[] {
  const { config, fleet } = context;
  return applyOverrides(config.thresholds, config.thresholdPreset, [], fleet).rules.filter(
    (entry) => sameSlot(entry.rule, slot),
  );
}

/** "the safety preset's", "the config file's" or "the fleet's (g3-...)": whose rule a message names. */
function ownerOf(entry: RuleInForce, preset: OverrideContext["config"]["thresholdPreset"]): string {
  return entry.origin === "fleet"
    ? `the fleet's (${entry.etag})`
    : configOrigin(entry.rule, preset);
}

/**
 * `threshold rm`: an override with nothing beneath it is simply deleted;
 * the fleet's or the config's rules of the slot are hidden by a stored
 * removal (the config file itself is never edited), undone with `threshold reset`.
 */
export function removeRule(context: OverrideContext, slot: RuleSlot): OverrideOutcome {
  const fromConfig = beneath(context, slot);
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
  const hidden = fromConfig
    .map((entry) => `${ownerOf(entry, context.config.thresholdPreset)} ${entry.key}`)
    .join(", ");
  return {
    ok: true,
    message: `removed ${keys}; ${hidden} comes back with \`${resetCommand(slot)}\``,
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
  const back = beneath(context, slot);
  const origin = (entry: RuleInForce) =>
    entry.origin === "fleet"
      ? `fleet ${entry.etag}`
      : entry.origin === "config"
        ? "config file"
        : `${context.config.thresholdPreset} preset`;
  return {
    ok: true,
    message:
      back.length === 0
        ? `override ${slotName(slot)} dropped; the config has no rule there`
        : `override ${slotName(slot)} dropped; back to ${back.map((entry) => `${entry.key} (${origin(entry)})`).join(", ")}`,
    effective: effectiveRules(context),
  };
}
