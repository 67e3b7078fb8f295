import { describe, expect, it } from "vitest";
import { checkFleetThresholdsBody } from "../../schemas/compiled/validators.js";
import {
  formatThresholdReport,
  MAX_REPORT_REASON,
  parseThresholdReport,
} from "../../schemas/fleet-report.js";
import { fleetRuleProblems } from "../../schemas/fleet-rules.js";

describe("fleetRuleProblems", () => {
  it("accepts a consistent set, and the empty set", () => {
    expect(
      fleetRuleProblems([
        { gas: "no2", value: 100, unit: "ppb", clear: 80 },
        { gas: "no2", value: 0.2, unit: "ppm", severity: "critical" },
        { gas: "o2", op: "<", value: 19.5, clear: 20 },
        { gas: "o2", op: "<", value: 18, severity: "critical" },
        { gas: "co", value: 35, sensor: "gas0" },
        { gas: "co", value: 25 },
      ]),
    ).toEqual([]);
    expect(fleetRuleProblems([])).toEqual([]);
  });

  it("names the rule index and key of each problem, in rule order", () => {
    expect(
      fleetRuleProblems([
        { gas: "no2", value: 100, clear: 120 },
        { gas: "o2", op: "<=", value: 19.5, clear: 19 },
        { gas: "no2", value: 50, severity: "critical" },
        { gas: "no2", value: 90 },
        { gas: "co", value: Number.POSITIVE_INFINITY },
        { gas: "o2", op: "<", value: 20, severity: "critical" },
      ]),
    ).toEqual([
      {
        index: 0,
        key: "thresholds[0].clear",
        message:
          'clear level 120 must be at or below the threshold 100 for ">=": it is the level the value has to return past before the alarm clears',
      },
      {
        index: 1,
        key: "thresholds[1].clear",
        message:
          'clear level 19 must be at or above the threshold 19.5 for "<=": it is the level the value has to return past before the alarm clears',
      },
      {
        index: 2,
        key: "thresholds[2].value",
        message:
          "the critical level 50 is below the warning level 100 of thresholds[0]: the critical alarm would come first; move it above the warning level",
      },
      {
        index: 2,
        key: "thresholds[2].value",
        message:
          "the critical level 50 is below the warning level 90 of thresholds[3]: the critical alarm would come first; move it above the warning level",
      },
      {
        index: 3,
        key: "thresholds[3]",
        message:
          "same slot (gas no2, severity warning, every sensor) as thresholds[0]: a device keeps one rule per slot; remove one",
      },
      { index: 4, key: "thresholds[4].value", message: "Infinity is not a finite number" },
      {
        index: 5,
        key: "thresholds[5].value",
        message:
          "the critical level 20 is above the warning level 19.5 of thresholds[1]: the critical alarm would come first; move it below the warning level",
      },
    ]);
  });

  it("compares levels across convertible units only, and counts rules", () => {
    // 0.05 ppm = 50 ppb: below the 100 ppb warning.
    expect(
      fleetRuleProblems([
        { gas: "no2", value: 100, unit: "ppb" },
        { gas: "no2", value: 0.05, unit: "ppm", severity: "critical" },
      ]).map((problem) => problem.key),
    ).toEqual(["thresholds[1].value"]);
    // No unit: the channel's, which only the device knows.
    expect(
      fleetRuleProblems([
        { gas: "no2", value: 100, unit: "ppb" },
        { gas: "no2", value: 1, severity: "critical" },
      ]),
    ).toEqual([]);
    const many = Array.from({ length: 65 }, (_, index) => ({
      gas: "co" as const,
      value: 10,
      sensor: `s${index}`,
    }));
    expect(fleetRuleProblems(many)).toEqual([
      { index: 64, key: "thresholds[64]", message: "at most 64 rules; this set has 65" },
    ]);
  });

  it("has a compiled body check for devices, without TypeBox", () => {
    expect(checkFleetThresholdsBody({ thresholds: [{ gas: "no2", value: 1 }] })).toBe(true);
    expect(checkFleetThresholdsBody({ thresholds: [{ gas: "no2", value: 1, unit: "mg" }] })).toBe(
      false,
    );
    expect(checkFleetThresholdsBody({ thresholds: [], changed_by: "a".repeat(65) })).toBe(false);
  });
});

describe("x-sensord-thresholds", () => {
  it("formats and parses both states", () => {
    expect(formatThresholdReport({ state: "applied", etag: "g3-1a2b3c4d", reason: null })).toBe(
      'applied;etag="g3-1a2b3c4d"',
    );
    const refused = formatThresholdReport({
      state: "refused",
      etag: "d1-00ff00ff",
      reason: 'thresholds[2].unit: "mg" ünknown\\',
    });
    expect(refused).toBe(
      'refused;etag="d1-00ff00ff";reason="thresholds[2].unit: \\"mg\\" ?nknown\\\\"',
    );
    expect(parseThresholdReport(refused)).toEqual({
      state: "refused",
      etag: "d1-00ff00ff",
      reason: 'thresholds[2].unit: "mg" ?nknown\\',
    });
    expect(parseThresholdReport(' applied; etag="none"; other=?1; n=12.5; t=tok ')).toEqual({
      state: "applied",
      etag: "none",
      reason: null,
    });
    const long = formatThresholdReport({ state: "refused", etag: "x", reason: "r".repeat(300) });
    expect(parseThresholdReport(long)?.reason).toHaveLength(MAX_REPORT_REASON);
  });

  it("refuses what is not an item of this shape", () => {
    for (const value of [
      "",
      "applied",
      'applied;etag=""',
      "applied;etag=g1",
      'done;etag="g1"',
      'refused;etag="g1"',
      '"applied";etag="g1"',
      'applied;etag="g1',
      'applied;etag="g\\x"',
      'applied;etag="g1" trailing',
      'applied;Etag="g1"',
      `refused;etag="g1";reason="${"r".repeat(201)}"`,
      'refused;etag="g1";reason="tab\there"',
    ]) {
      expect(parseThresholdReport(value), value).toBeNull();
    }
  });
});
