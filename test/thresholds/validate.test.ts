import { describe, expect, it } from "vitest";
import { ruleClearProblem, ruleUnitProblem } from "../../daemon/thresholds/validate.js";
import { rule } from "./helpers.js";

describe("ruleUnitProblem", () => {
  it("accepts a rule without unit and a convertible unit", () => {
    expect(ruleUnitProblem(rule({ gas: "voc", value: 500 }), "raw")).toBeNull();
    expect(ruleUnitProblem(rule({ gas: "no2", value: 88, unit: "ppb" }), "ppm")).toBeNull();
    expect(ruleUnitProblem(rule({ gas: "voc", value: 2, unit: "V" }), "mV")).toBeNull();
  });

  it("explains a unit that cannot be compared with the channel's", () => {
    expect(ruleUnitProblem(rule({ gas: "voc", value: 1, unit: "ppm" }), "raw")).toBe(
      'threshold unit "ppm" cannot be compared with voc readings in "raw"; give the threshold ' +
        "in raw (or leave the unit out), or configure the channel to report a convertible unit",
    );
  });
});

describe("ruleClearProblem", () => {
  it("accepts no clear level or one on the safe side (or at the threshold)", () => {
    expect(ruleClearProblem(rule({ gas: "co", value: 35 }))).toBeNull();
    expect(ruleClearProblem(rule({ gas: "co", value: 35, clear: 31 }))).toBeNull();
    expect(ruleClearProblem(rule({ gas: "co", op: ">", value: 35, clear: 35 }))).toBeNull();
    expect(ruleClearProblem(rule({ gas: "o2", op: "<", value: 19.5, clear: 20 }))).toBeNull();
  });

  it("rejects a clear level on the alarming side", () => {
    expect(ruleClearProblem(rule({ gas: "co", value: 35, clear: 40 }))).toBe(
      'clear level 40 must be at or below the threshold 35 for ">=": it is the level the value ' +
        "has to return past before the alarm clears",
    );
    expect(ruleClearProblem(rule({ gas: "o2", op: "<=", value: 19.5, clear: 19 }))).toBe(
      'clear level 19 must be at or above the threshold 19.5 for "<=": it is the level the value ' +
        "has to return past before the alarm clears",
    );
    expect(ruleClearProblem(rule({ gas: "co", value: 35, clear: Number.NaN }))).toBe(
      "clear level NaN is not a finite number",
    );
  });
});
