import { describe, expect, it } from "vitest";
import { ThresholdEngine } from "../../daemon/thresholds/engine.js";
import { ORIGINAL_RULES, SAFETY_RULES } from "../../daemon/thresholds/presets.js";
import { FLAG_BITS } from "../../schemas/records.js";
import { brief, feed, reading, rule } from "./helpers.js";

const no2 = { sensor: "gas0", gas: "no2", unit: "ppb" } as const;
const co = { sensor: "gas0", gas: "co", unit: "ppm" } as const;

describe("ThresholdEngine restored alarms", () => {
  it("does not raise again after a restart, and clears when the value drops", () => {
    const engine = new ThresholdEngine(SAFETY_RULES, [
      { rule: "no2>=88ppb:warning", sensor: "gas0" },
    ]);
    expect(engine.active()).toEqual([
      {
        rule: "no2>=88ppb:warning",
        sensor: "gas0",
        gas: "no2",
        severity: "warning",
        sinceMs: null,
      },
    ]);
    expect(feed(engine, [95, 85, 78], no2)).toEqual([
      ["clear", "no2>=88ppb:warning", 78, 88, 3000],
    ]);
    expect(feed(engine, [90], no2, 4000)).toEqual([["raise", "no2>=88ppb:warning", 90, 88, 4000]]);
  });

  it("keeps the raise time when the caller knows it", () => {
    const engine = new ThresholdEngine(SAFETY_RULES, [
      { rule: "co>=35ppm:warning", sensor: "gas0", sinceMs: 1234 },
    ]);
    expect(engine.active()).toEqual([
      { rule: "co>=35ppm:warning", sensor: "gas0", gas: "co", severity: "warning", sinceMs: 1234 },
    ]);
  });

  it("does not clear a restored alarm on a warm-up reading (the normal state right after boot)", () => {
    const engine = new ThresholdEngine(SAFETY_RULES, [
      { rule: "co>=35ppm:warning", sensor: "gas0" },
    ]);
    const low = reading({ gas: "co", value: 1, tsMs: 1, flags: FLAG_BITS.warmup });
    expect(engine.evaluate(low)).toEqual([]);
    expect(engine.active()).toHaveLength(1);
    expect(brief(engine.evaluate({ ...low, flags: 0, tsMs: 2 }))).toEqual([
      ["clear", "co>=35ppm:warning", 1, 35, 2],
    ]);
  });

  it("clears, on the next reading of its sensor and gas, an alarm whose rule is no longer configured", () => {
    // Stopped under the original preset, restarted under the safety preset.
    const engine = new ThresholdEngine(SAFETY_RULES, [
      { rule: "co>=1805:warning", sensor: "gas0" },
    ]);
    expect(engine.active().map((alarm) => [alarm.rule, alarm.gas])).toEqual([
      ["co>=1805:warning", "co"],
    ]);
    expect(feed(engine, [1], { sensor: "gas1", gas: "co", unit: "ppm" })).toEqual([]);
    expect(feed(engine, [1], { sensor: "gas0", gas: "no2", unit: "ppb" })).toEqual([]);
    // The old rule's clear comes first, then the current rules are evaluated on the same reading.
    expect(feed(engine, [40, 41], co, 5000)).toEqual([
      ["clear", "co>=1805:warning", 40, 1805, 5000],
      ["raise", "co>=35ppm:warning", 40, 35, 5000],
    ]);
    expect(engine.active().map((alarm) => alarm.rule)).toEqual(["co>=35ppm:warning"]);
  });

  it("reports the old rule's threshold in the reading's unit", () => {
    const engine = new ThresholdEngine([], [{ rule: "no2>=0.1ppm:critical", sensor: "gas0" }]);
    expect(feed(engine, [20], no2)).toEqual([["clear", "no2>=0.1ppm:critical", 20, 100, 1000]]);
  });

  it("forgets restored alarms it cannot attribute to a gas or to that sensor", () => {
    const engine = new ThresholdEngine(SAFETY_RULES, [
      { rule: "not a rule key", sensor: "gas0" },
      { rule: "gas1/co>=35ppm:warning", sensor: "gas0" },
      { rule: "radon>=4:warning", sensor: "gas0" },
    ]);
    expect(engine.active()).toEqual([]);
    expect(feed(engine, [1], co)).toEqual([]);
  });

  it("restores a duplicated entry once", () => {
    const alarm = { rule: "co>=1805:warning", sensor: "gas0" };
    const engine = new ThresholdEngine([], [alarm, alarm]);
    expect(engine.active()).toHaveLength(1);
    expect(feed(engine, [1], co)).toEqual([["clear", "co>=1805:warning", 1, 1805, 1000]]);
  });

  it("restores into a sensor-restricted rule only for its sensor", () => {
    const rules = [rule({ gas: "co", value: 35, sensor: "gas0" })];
    const engine = new ThresholdEngine(rules, [{ rule: "gas0/co>=35:warning", sensor: "gas0" }]);
    expect(feed(engine, [50], co)).toEqual([]);
    expect(feed(engine, [10], co, 2000)).toEqual([["clear", "gas0/co>=35:warning", 10, 35, 2000]]);
  });
});

describe("ThresholdEngine.setRules", () => {
  it("keeps an active alarm of a rule whose key is unchanged and applies its new clear level", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35 })]);
    expect(feed(engine, [40], co)).toEqual([["raise", "co>=35:warning", 40, 35, 1000]]);
    engine.setRules([rule({ gas: "co", value: 35, clear: 20 })]);
    expect(engine.active().map((alarm) => [alarm.rule, alarm.sinceMs])).toEqual([
      ["co>=35:warning", 1000],
    ]);
    expect(feed(engine, [40, 30, 20, 19], co, 2000)).toEqual([
      ["clear", "co>=35:warning", 19, 35, 5000],
    ]);
  });

  it("keeps the start of a pending hold time", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35, forMs: 5000 })]);
    expect(feed(engine, [40, 40], co)).toEqual([]);
    // Pending since 1000; the new hold time 3000 is met at 4000.
    engine.setRules([rule({ gas: "co", value: 35, forMs: 3000 })]);
    expect(feed(engine, [40, 40], co, 3000)).toEqual([["raise", "co>=35:warning", 40, 35, 4000]]);
  });

  it("clears an active alarm of a removed rule on the next reading of its sensor and gas", () => {
    const engine = new ThresholdEngine(ORIGINAL_RULES);
    expect(feed(engine, [100], no2)).toEqual([["raise", "no2>=88:warning", 100, 88, 1000]]);
    engine.setRules(SAFETY_RULES.filter((r) => r.gas !== "no2"));
    // Still listed until its clear event has been produced.
    expect(engine.active().map((alarm) => [alarm.rule, alarm.sinceMs])).toEqual([
      ["no2>=88:warning", 1000],
    ]);
    // Another gas of the same sensor does not clear it.
    expect(feed(engine, [1], co, 2000)).toEqual([]);
    expect(feed(engine, [100, 100], no2, 3000)).toEqual([
      ["clear", "no2>=88:warning", 100, 88, 3000],
    ]);
    expect(engine.active()).toEqual([]);
  });

  it("drops the pending hold time of a removed rule, so re-adding it starts afresh", () => {
    const forRule = rule({ gas: "co", value: 35, forMs: 3000 });
    const engine = new ThresholdEngine([forRule]);
    expect(feed(engine, [40, 40], co)).toEqual([]);
    engine.setRules([]);
    expect(feed(engine, [40], co, 3000)).toEqual([]);
    engine.setRules([forRule]);
    expect(feed(engine, [40, 40, 40, 40], co, 4000)).toEqual([
      ["raise", "co>=35:warning", 40, 35, 7000],
    ]);
  });

  it("keeps the alarm when a rule is removed and re-added before any reading", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35 })]);
    feed(engine, [40], co);
    engine.setRules([]);
    engine.setRules([rule({ gas: "co", value: 35 })]);
    expect(feed(engine, [50, 10], co, 2000)).toEqual([["clear", "co>=35:warning", 10, 35, 3000]]);
  });

  it("treats a changed unit or severity as a new rule: clear the old, evaluate the new", () => {
    const engine = new ThresholdEngine([rule({ gas: "no2", value: 88 })]);
    feed(engine, [100], no2);
    engine.setRules([rule({ gas: "no2", value: 88, unit: "ppb", severity: "critical" })]);
    expect(feed(engine, [100], no2, 2000)).toEqual([
      ["clear", "no2>=88:warning", 100, 88, 2000],
      ["raise", "no2>=88ppb:critical", 100, 88, 2000],
    ]);
  });

  it("revives a restored alarm of an unknown rule when the rule is added back", () => {
    const engine = new ThresholdEngine([], [{ rule: "co>=35:warning", sensor: "gas0" }]);
    engine.setRules([rule({ gas: "co", value: 35 })]);
    expect(feed(engine, [50, 10], co)).toEqual([["clear", "co>=35:warning", 10, 35, 2000]]);
  });
});
