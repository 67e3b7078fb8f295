import { describe, expect, it } from "vitest";
import { ORIGINAL_RULES, SAFETY_RULES } from "../../daemon/thresholds/presets.js";
import type { ThresholdRule } from "../../schemas/config-types.js";
import { loadText, ONE_SENSOR } from "./helpers.js";

function rule(
  fields: Partial<ThresholdRule> & Pick<ThresholdRule, "gas" | "value">,
): ThresholdRule {
  return {
    op: ">=",
    unit: null,
    clear: null,
    forMs: 0,
    severity: "warning",
    sensor: null,
    ...fields,
  };
}

describe("threshold presets", () => {
  it("no [[thresholds]] and no preset: the safety rules", () => {
    const config = loadText(ONE_SENSOR);
    expect(config.thresholdPreset).toBe("safety");
    expect(config.thresholds).toEqual([...SAFETY_RULES]);
    expect(config.thresholds.length).toBeGreaterThan(0);
  });

  it('preset = "original": the original system\'s table', () => {
    const config = loadText(`${ONE_SENSOR}[thresholds_preset]\npreset = "original"\n`);
    expect(config.thresholdPreset).toBe("original");
    expect(config.thresholds).toEqual([...ORIGINAL_RULES]);
    expect(config.thresholds.find((r) => r.gas === "no2")?.value).toBe(88);
  });

  it('preset = "none" and no rules: no alarms', () => {
    const config = loadText(`${ONE_SENSOR}[thresholds_preset]\npreset = "none"\n`);
    expect(config.thresholdPreset).toBe("none");
    expect(config.thresholds).toEqual([]);
  });

  it("[[thresholds]] without a preset: only the user's rules", () => {
    const config = loadText(`${ONE_SENSOR}[[thresholds]]\ngas = "co"\nvalue = 50\n`);
    expect(config.thresholdPreset).toBe("none");
    expect(config.thresholds).toEqual([rule({ gas: "co", value: 50 })]);
  });

  it("a user rule with the same gas, severity and sensor overrides the explicit preset's rule", () => {
    const config = loadText(
      `${ONE_SENSOR}[thresholds_preset]\npreset = "safety"\n` +
        `[[thresholds]]\ngas = "co"\nvalue = 50\nunit = "ppm"\nclear = 45\nseverity = "warning"\n`,
    );
    const override = rule({ gas: "co", value: 50, unit: "ppm", clear: 45 });
    expect(config.thresholdPreset).toBe("safety");
    expect(config.thresholds).toEqual([
      ...SAFETY_RULES.filter((r) => !(r.gas === "co" && r.severity === "warning")),
      override,
    ]);
    // The CO critical rule of the preset survives.
    expect(config.thresholds.some((r) => r.gas === "co" && r.severity === "critical")).toBe(true);
  });

  it("a sensor-specific rule adds to the preset's general rule instead of replacing it", () => {
    const config = loadText(
      `${ONE_SENSOR}[thresholds_preset]\npreset = "original"\n` +
        `[[thresholds]]\ngas = "no2"\nvalue = 60\nsensor = "gas0"\n`,
    );
    expect(config.thresholds).toEqual([
      ...ORIGINAL_RULES,
      rule({ gas: "no2", value: 60, sensor: "gas0" }),
    ]);
  });
});
