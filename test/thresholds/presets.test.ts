import { describe, expect, it } from "vitest";
import {
  effectiveRules,
  ORIGINAL_RULES,
  originalWarningMessage,
  presetRules,
  SAFETY_RULES,
} from "../../daemon/thresholds/presets.js";
import { ruleKey } from "../../daemon/thresholds/rule-key.js";
import { ruleClearProblem } from "../../daemon/thresholds/validate.js";
import type { ThresholdRule } from "../../schemas/config-types.js";
import { GASES } from "../../schemas/vocabulary.js";
import { rule } from "./helpers.js";

describe("ORIGINAL_RULES", () => {
  it("reproduces the original Lambda's table exactly", () => {
    const original = (gas: ThresholdRule["gas"], value: number): ThresholdRule => ({
      gas,
      op: ">=",
      value,
      unit: null,
      clear: null,
      forMs: 0,
      severity: "warning",
      sensor: null,
    });
    expect(ORIGINAL_RULES).toEqual([
      original("co", 1805),
      original("no2", 88),
      original("c2h5oh", 20000),
      original("h2", 7500),
      original("nh3", 2500),
      original("ch4", 500000),
      original("c3h8", 570000),
      original("c4h10", 520400),
    ]);
  });

  it("keys each rule by the bare number, read in the channel's unit", () => {
    expect(ORIGINAL_RULES.map(ruleKey)).toEqual([
      "co>=1805:warning",
      "no2>=88:warning",
      "c2h5oh>=20000:warning",
      "h2>=7500:warning",
      "nh3>=2500:warning",
      "ch4>=500000:warning",
      "c3h8>=570000:warning",
      "c4h10>=520400:warning",
    ]);
  });

  it("keeps the original warning messages", () => {
    expect(ORIGINAL_RULES.map((r) => originalWarningMessage(r.gas))).toEqual([
      "co warning",
      "no2 warning",
      "c2h5oh warning",
      "h2 warning",
      "nh3 warning",
      "ch4 warning",
      "c3h8 warning",
      "c4h10 warning",
    ]);
    expect(originalWarningMessage("o2")).toBe("o2 warning");
  });
});

describe("SAFETY_RULES", () => {
  it("holds the documented limits with explicit units and 10 % hysteresis", () => {
    expect(SAFETY_RULES.map((r) => [ruleKey(r), r.clear, r.forMs, r.sensor])).toEqual([
      ["no2>=88ppb:warning", 79, 0, null],
      ["co>=35ppm:warning", 31, 0, null],
      ["co>=200ppm:critical", 180, 0, null],
      ["c2h5oh>=1000ppm:warning", 900, 0, null],
      ["h2>=4000ppm:warning", 3600, 0, null],
      ["h2>=10000ppm:critical", 9000, 0, null],
    ]);
  });

  it("has every clear level on the safe side: 10 % below the raise level, rounded down", () => {
    for (const r of SAFETY_RULES) {
      expect(ruleClearProblem(r), ruleKey(r)).toBeNull();
      expect(r.clear, ruleKey(r)).toBe(Math.floor((r.value * 9) / 10));
    }
  });

  it("cannot be changed by a caller", () => {
    expect(Object.isFrozen(SAFETY_RULES)).toBe(true);
    expect(SAFETY_RULES.every((r) => Object.isFrozen(r))).toBe(true);
    expect(ORIGINAL_RULES.every((r) => Object.isFrozen(r))).toBe(true);
  });
});

describe("presetRules", () => {
  it("maps each preset name to its rules", () => {
    expect(presetRules("safety")).toBe(SAFETY_RULES);
    expect(presetRules("original")).toBe(ORIGINAL_RULES);
    expect(presetRules("none")).toEqual([]);
  });
});

describe("effectiveRules", () => {
  const keys = (rules: readonly ThresholdRule[]) => rules.map(ruleKey);
  const user = [
    rule({ gas: "co", value: 50, unit: "ppm" }),
    rule({ gas: "o2", op: "<", value: 19.5, unit: "%" }),
  ];

  it("uses SAFETY_RULES when the config has neither thresholds nor a preset", () => {
    expect(effectiveRules("safety", [], false)).toEqual(SAFETY_RULES);
  });

  it("uses only the user's rules when thresholds are given without a preset", () => {
    expect(keys(effectiveRules("safety", user, false))).toEqual([
      "co>=50ppm:warning",
      "o2<19.5%:warning",
    ]);
  });

  it("merges an explicit preset with the user's rules, a user rule replacing the same (gas, severity, sensor)", () => {
    expect(keys(effectiveRules("safety", user, true))).toEqual([
      "no2>=88ppb:warning",
      // co warning replaced by the user's; the co critical stays.
      "co>=200ppm:critical",
      "c2h5oh>=1000ppm:warning",
      "h2>=4000ppm:warning",
      "h2>=10000ppm:critical",
      "co>=50ppm:warning",
      "o2<19.5%:warning",
    ]);
  });

  it("does not let a sensor-restricted user rule replace a preset rule for all sensors", () => {
    const restricted = [rule({ gas: "no2", value: 100, unit: "ppb", sensor: "gas0" })];
    expect(keys(effectiveRules("original", restricted, true))).toEqual([
      ...ORIGINAL_RULES.map(ruleKey),
      "gas0/no2>=100ppb:warning",
    ]);
  });

  it("replaces an original rule by the user's of the same gas and severity", () => {
    const ppbNo2 = [rule({ gas: "no2", value: 88, unit: "ppb" })];
    expect(keys(effectiveRules("original", ppbNo2, true))).toEqual([
      "co>=1805:warning",
      "c2h5oh>=20000:warning",
      "h2>=7500:warning",
      "nh3>=2500:warning",
      "ch4>=500000:warning",
      "c3h8>=570000:warning",
      "c4h10>=520400:warning",
      "no2>=88ppb:warning",
    ]);
  });

  it("uses the explicit preset alone when there are no user rules", () => {
    expect(effectiveRules("original", [], true)).toEqual(ORIGINAL_RULES);
    expect(effectiveRules("safety", [], true)).toEqual(SAFETY_RULES);
  });

  it("uses only the user's rules for preset none, and no rules at all without them", () => {
    expect(keys(effectiveRules("none", user, true))).toEqual(keys(user));
    expect(effectiveRules("none", [], true)).toEqual([]);
  });

  it("returns mutable copies, never the frozen presets", () => {
    const rules = effectiveRules("safety", [], false);
    expect(rules).not.toBe(SAFETY_RULES);
    expect(Object.isFrozen(rules[0])).toBe(false);
  });

  it("covers only gases of the vocabulary", () => {
    for (const r of [...SAFETY_RULES, ...ORIGINAL_RULES]) expect(GASES).toContain(r.gas);
  });
});
