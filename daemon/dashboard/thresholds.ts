import type { Unit } from "../../schemas/vocabulary.js";
import type { RuleInForce } from "../control/rules.js";
import { convert } from "../units/convert.js";

/** A threshold as a chart draws it: in the unit that gas's line is in. */
export interface ThresholdLine {
  key: string;
  origin: RuleInForce["origin"];
  gas: string;
  /** null: every sensor reporting the gas. */
  sensor: string | null;
  unit: Unit;
  op: string;
  value: number;
  clear: number | null;
  severity: string;
  label: string;
}

/**
 * The rules in force, one line per (rule, unit the gas is stored in): a
 * rule written in ppm shows on a ppb chart at its ppb value. Rules whose unit
 * cannot be converted to a line's (raw counts) are left out for that line. Pure.
 */
export function thresholdLines(
  rules: readonly RuleInForce[],
  units: ReadonlyArray<{ gas: string; unit: Unit }>,
): ThresholdLine[] {
  const lines: ThresholdLine[] = [];
  for (const { key, origin, rule } of rules) {
    for (const { gas, unit } of units) {
      if (gas !== rule.gas) continue;
      const value = rule.unit === null ? rule.value : convert(rule.value, rule.unit, unit);
      if (value === null) continue;
      const clear =
        rule.clear === null
          ? null
          : rule.unit === null
            ? rule.clear
            : convert(rule.clear, rule.unit, unit);
      lines.push({
        key,
        origin,
        gas,
        sensor: rule.sensor,
        unit,
        op: rule.op,
        value,
        clear,
        severity: rule.severity,
        label: `${rule.severity} ${rule.op} ${value} ${unit}${rule.sensor === null ? "" : ` (${rule.sensor})`}`,
      });
    }
  }
  return lines;
}
