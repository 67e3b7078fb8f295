import { describe, expect, it } from "vitest";
import { ORIGINAL_RULES, SAFETY_RULES } from "../../daemon/thresholds/presets.js";
import { duplicateRuleKeys, parseRuleKey, ruleKey } from "../../daemon/thresholds/rule-key.js";
import { rule } from "./helpers.js";

describe("ruleKey", () => {
  it("writes gas, op, value, unit and severity, with an optional sensor prefix", () => {
    expect(ruleKey(rule({ gas: "no2", value: 88, unit: "ppb" }))).toBe("no2>=88ppb:warning");
    expect(ruleKey(rule({ gas: "no2", value: 88 }))).toBe("no2>=88:warning");
    expect(ruleKey(rule({ gas: "co", value: 35, unit: "ppm", sensor: "gas0" }))).toBe(
      "gas0/co>=35ppm:warning",
    );
    expect(
      ruleKey(rule({ gas: "o2", op: "<", value: 19.5, unit: "%", severity: "critical" })),
    ).toBe("o2<19.5%:critical");
    expect(ruleKey(rule({ gas: "voc", op: ">", value: 2.5, unit: "V" }))).toBe("voc>2.5V:warning");
    expect(ruleKey(rule({ gas: "voc", op: "<=", value: 0.1, unit: "mV" }))).toBe(
      "voc<=0.1mV:warning",
    );
  });

  it("is deterministic: the same number always prints the same, and clear/for are not part of it", () => {
    const a = rule({ gas: "no2", value: 88.0, unit: "ppb" });
    const b = rule({ gas: "no2", value: 8.8e1, unit: "ppb", clear: 79, forMs: 60_000 });
    expect(ruleKey(a)).toBe(ruleKey(b));
    expect(ruleKey(rule({ gas: "no2", value: 0.088, unit: "ppm" }))).toBe("no2>=0.088ppm:warning");
  });
});

describe("parseRuleKey", () => {
  it("round-trips every preset rule and restricted / unusual ones", () => {
    const rules = [
      ...SAFETY_RULES,
      ...ORIGINAL_RULES,
      rule({ gas: "co", value: 35, unit: "ppm", sensor: "ze07.kitchen_1" }),
      rule({ gas: "o2", op: "<", value: 19.5, unit: "%", severity: "critical" }),
      rule({ gas: "voc", op: "<=", value: -3, unit: "mV" }),
      rule({ gas: "h2", op: ">", value: 1e-7, unit: "V" }),
      rule({ gas: "ch4", value: 1e21, unit: "raw" }),
    ];
    for (const r of rules) {
      const { gas, op, value, unit, severity, sensor } = r;
      expect(parseRuleKey(ruleKey(r)), ruleKey(r)).toEqual({
        gas,
        op,
        value,
        unit,
        severity,
        sensor,
      });
    }
  });

  it("rejects text that ruleKey would not produce", () => {
    for (const key of [
      "",
      "no2>=88",
      "no2>=88ppb",
      "no2=>88:warning",
      "radon>=4:warning",
      "no2>=88.0:warning",
      "no2>=88ppt:warning",
      "no2>=88:fatal",
      "/no2>=88:warning",
      "NO2>=88:warning",
    ]) {
      expect(parseRuleKey(key), key).toBeNull();
    }
  });
});

describe("duplicateRuleKeys", () => {
  it("lists each key used by more than one rule", () => {
    const co = rule({ gas: "co", value: 35, unit: "ppm" });
    expect(duplicateRuleKeys([co, { ...co, clear: 30 }, co, ...SAFETY_RULES.slice(0, 1)])).toEqual([
      "co>=35ppm:warning",
    ]);
    expect(duplicateRuleKeys(SAFETY_RULES)).toEqual([]);
    expect(duplicateRuleKeys([co, { ...co, sensor: "gas0" }])).toEqual([]);
  });
});
