import { describe, expect, it } from "vitest";
import { ThresholdEngine } from "../../daemon/thresholds/engine.js";
import { SAFETY_RULES } from "../../daemon/thresholds/presets.js";
import { FLAG_BITS } from "../../schemas/records.js";
import { brief, feed, reading, rule } from "./helpers.js";

describe("ThresholdEngine crossings", () => {
  it(">= raises at the threshold and clears just below it, once per crossing", () => {
    const engine = new ThresholdEngine([rule({ gas: "no2", value: 88 })]);
    const events = feed(engine, [50, 87.9, 88, 95, 88, 87.99, 40, 90], {
      sensor: "gas0",
      gas: "no2",
      unit: "ppb",
    });
    expect(events).toEqual([
      ["raise", "no2>=88:warning", 88, 88, 3000],
      ["clear", "no2>=88:warning", 87.99, 88, 6000],
      ["raise", "no2>=88:warning", 90, 88, 8000],
    ]);
  });

  it("> raises only above the threshold and clears at it", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", op: ">", value: 50 })]);
    const events = feed(engine, [50, 50.1, 60, 50, 49], { sensor: "gas0", gas: "co", unit: "ppm" });
    expect(events).toEqual([
      ["raise", "co>50:warning", 50.1, 50, 2000],
      ["clear", "co>50:warning", 50, 50, 4000],
    ]);
  });

  it("<= raises at the threshold and clears above it (oxygen deficiency)", () => {
    const engine = new ThresholdEngine([rule({ gas: "o2", op: "<=", value: 19.5, unit: "%" })]);
    const events = feed(engine, [20.9, 19.5, 19.4, 19.6], { sensor: "ze03", gas: "o2", unit: "%" });
    expect(events).toEqual([
      ["raise", "o2<=19.5%:warning", 19.5, 19.5, 2000],
      ["clear", "o2<=19.5%:warning", 19.6, 19.5, 4000],
    ]);
  });

  it("< raises only below the threshold and clears at it", () => {
    const engine = new ThresholdEngine([rule({ gas: "o2", op: "<", value: 19.5, unit: "%" })]);
    const events = feed(engine, [19.5, 19.4, 19.5, 20], { sensor: "ze03", gas: "o2", unit: "%" });
    expect(events).toEqual([
      ["raise", "o2<19.5%:warning", 19.4, 19.5, 2000],
      ["clear", "o2<19.5%:warning", 19.5, 19.5, 3000],
    ]);
  });

  it("emits complete drafts that map 1:1 onto NewAlert fields", () => {
    const engine = new ThresholdEngine([
      rule({ gas: "co", value: 200, unit: "ppm", severity: "critical" }),
    ]);
    expect(engine.evaluate(reading({ sensor: "mics", gas: "co", value: 250, tsMs: 42 }))).toEqual([
      {
        rule: "co>=200ppm:critical",
        sensor: "mics",
        gas: "co",
        kind: "raise",
        value: 250,
        unit: "ppm",
        threshold: 200,
        op: ">=",
        severity: "critical",
        tsMs: 42,
      },
    ]);
    expect(engine.evaluate(reading({ sensor: "mics", gas: "co", value: 10, tsMs: 43 }))).toEqual([
      {
        rule: "co>=200ppm:critical",
        sensor: "mics",
        gas: "co",
        kind: "clear",
        value: 10,
        unit: "ppm",
        threshold: 200,
        op: ">=",
        severity: "critical",
        tsMs: 43,
      },
    ]);
  });

  it("raises and clears several rules of one gas in rule order (safety CO warning + critical)", () => {
    const engine = new ThresholdEngine(SAFETY_RULES);
    const events = feed(engine, [10, 250, 190, 100, 32, 31, 20], {
      sensor: "gas0",
      gas: "co",
      unit: "ppm",
    });
    expect(events).toEqual([
      ["raise", "co>=35ppm:warning", 250, 35, 2000],
      ["raise", "co>=200ppm:critical", 250, 200, 2000],
      // 190 is under 200 but not under the critical clear level 180: still critical.
      ["clear", "co>=200ppm:critical", 100, 200, 4000],
      // 31 is the warning's clear level: clears only strictly below it.
      ["clear", "co>=35ppm:warning", 20, 35, 7000],
    ]);
  });

  it("ignores gases without rules", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35 })]);
    expect(feed(engine, [1e9, 0], { sensor: "gas0", gas: "h2", unit: "ppm" })).toEqual([]);
  });
});

describe("ThresholdEngine `for` (hold time)", () => {
  const co = { sensor: "gas0", gas: "co", unit: "ppm" } as const;

  it("raises on the first reading at which the condition has held for forMs", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35, forMs: 5000 })]);
    // Condition first met at 1000; 6000 - 1000 = 5000 >= forMs.
    expect(feed(engine, [40, 40, 40, 40, 40, 40, 40], co)).toEqual([
      ["raise", "co>=35:warning", 40, 35, 6000],
    ]);
  });

  it("restarts the timer when a reading does not meet the condition", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35, forMs: 5000 })]);
    // Met from 1000, broken at 4000, met again from 5000: raise at 10000, not 6000.
    expect(feed(engine, [40, 40, 40, 30, 40, 40, 40, 40, 40, 40], co)).toEqual([
      ["raise", "co>=35:warning", 40, 35, 10000],
    ]);
  });

  it("does not raise when the run is shorter than forMs", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35, forMs: 5000 })]);
    expect(feed(engine, [40, 40, 40, 40, 40, 30, 40, 40], co)).toEqual([]);
  });

  it("clears immediately (forMs delays raising only)", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35, forMs: 2000 })]);
    expect(feed(engine, [40, 40, 40, 10], co)).toEqual([
      ["raise", "co>=35:warning", 40, 35, 3000],
      ["clear", "co>=35:warning", 10, 35, 4000],
    ]);
  });

  it("restarts the run at a reading stamped before its start (clock stepped back)", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35, forMs: 3000 })]);
    const at = (value: number, tsMs: number) =>
      brief(engine.evaluate(reading({ gas: "co", value, tsMs })));
    expect(at(40, 10_000)).toEqual([]);
    expect(at(40, 5000)).toEqual([]);
    expect(at(40, 7000)).toEqual([]);
    // Measured from 5000, not 10000.
    expect(at(40, 8000)).toEqual([["raise", "co>=35:warning", 40, 35, 8000]]);
  });
});

describe("ThresholdEngine hysteresis", () => {
  const no2 = { sensor: "gas0", gas: "no2", unit: "ppb" } as const;

  it("stays raised between the clear and the raise level and clears strictly past clear", () => {
    const engine = new ThresholdEngine([rule({ gas: "no2", value: 88, unit: "ppb", clear: 79 })]);
    expect(feed(engine, [88, 80, 87.9, 79, 78.9, 85, 88], no2)).toEqual([
      ["raise", "no2>=88ppb:warning", 88, 88, 1000],
      ["clear", "no2>=88ppb:warning", 78.9, 88, 5000],
      ["raise", "no2>=88ppb:warning", 88, 88, 7000],
    ]);
  });

  it("does not chatter when the value hovers around the raise level", () => {
    const hovering = [87, 89, 87, 89, 87, 89, 87, 89];
    const damped = new ThresholdEngine([rule({ gas: "no2", value: 88, clear: 79 })]);
    expect(feed(damped, hovering, no2)).toEqual([["raise", "no2>=88:warning", 89, 88, 2000]]);
    // Without hysteresis every crossing is an event: the reason `clear` exists.
    const bare = new ThresholdEngine([rule({ gas: "no2", value: 88 })]);
    expect(feed(bare, hovering, no2)).toHaveLength(7);
  });

  it("uses the clear level above the threshold for <= rules", () => {
    const engine = new ThresholdEngine([
      rule({ gas: "o2", op: "<=", value: 19.5, unit: "%", clear: 20 }),
    ]);
    expect(feed(engine, [19.5, 19.9, 20, 20.1], { sensor: "ze03", gas: "o2", unit: "%" })).toEqual([
      ["raise", "o2<=19.5%:warning", 19.5, 19.5, 1000],
      ["clear", "o2<=19.5%:warning", 20.1, 19.5, 4000],
    ]);
  });

  it("treats a clear level on the alarming side as no hysteresis instead of chattering", () => {
    const engine = new ThresholdEngine([rule({ gas: "no2", value: 88, clear: 100 })]);
    expect(feed(engine, [95, 95, 87], no2)).toEqual([
      ["raise", "no2>=88:warning", 95, 88, 1000],
      ["clear", "no2>=88:warning", 87, 88, 3000],
    ]);
  });
});

describe("ThresholdEngine units", () => {
  it("converts a ppm rule to ppb readings and reports the threshold in ppb", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35, unit: "ppm", clear: 31 })]);
    expect(
      feed(engine, [34_999, 35_000, 31_000, 30_999], { sensor: "gas0", gas: "co", unit: "ppb" }),
    ).toEqual([
      ["raise", "co>=35ppm:warning", 35_000, 35_000, 2000],
      ["clear", "co>=35ppm:warning", 30_999, 35_000, 4000],
    ]);
  });

  it("converts a ppb rule to ppm readings and reports the threshold in ppm", () => {
    const engine = new ThresholdEngine([rule({ gas: "no2", value: 88, unit: "ppb", clear: 79 })]);
    const events = engine.evaluate(reading({ gas: "no2", value: 0.088, unit: "ppm", tsMs: 1 }));
    expect(events.map((e) => [e.kind, e.value, e.unit, e.threshold])).toEqual([
      ["raise", 0.088, "ppm", 0.088],
    ]);
    expect(
      feed(engine, [0.087, 0.079, 0.0789], { sensor: "gas0", gas: "no2", unit: "ppm" }, 2),
    ).toEqual([["clear", "no2>=88ppb:warning", 0.0789, 0.088, 2002]]);
  });

  it("converts %vol rules to ppm readings", () => {
    const engine = new ThresholdEngine([rule({ gas: "h2", value: 1, unit: "%" })]);
    expect(feed(engine, [9999, 10_000], { sensor: "gas0", gas: "h2", unit: "ppm" })).toEqual([
      ["raise", "h2>=1%:warning", 10_000, 10_000, 2000],
    ]);
  });

  it("reads a rule without unit in the reading's unit, raw included", () => {
    const engine = new ThresholdEngine([rule({ gas: "voc", value: 500 })]);
    expect(feed(engine, [499, 500], { sensor: "v2", gas: "voc", unit: "raw" })).toEqual([
      ["raise", "voc>=500:warning", 500, 500, 2000],
    ]);
  });

  it("never matches a rule whose unit cannot be converted to the reading's", () => {
    const engine = new ThresholdEngine([rule({ gas: "voc", value: 1, unit: "ppm" })]);
    expect(feed(engine, [1e6, 0, 1e6], { sensor: "v2", gas: "voc", unit: "raw" })).toEqual([]);
    expect(engine.active()).toEqual([]);
  });

  it("keeps an alarm across a change of the reading unit and converts anew", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35, unit: "ppm" })]);
    expect(feed(engine, [40], { sensor: "gas0", gas: "co", unit: "ppm" })).toEqual([
      ["raise", "co>=35ppm:warning", 40, 35, 1000],
    ]);
    expect(
      feed(engine, [36_000, 30_000], { sensor: "gas0", gas: "co", unit: "ppb" }, 2000),
    ).toEqual([["clear", "co>=35ppm:warning", 30_000, 35_000, 3000]]);
  });
});

describe("ThresholdEngine ignored readings", () => {
  const rules = [rule({ gas: "co", value: 35 })];

  it("never raises on warm-up, out-of-range or non-finite readings", () => {
    const engine = new ThresholdEngine(rules);
    for (const fields of [
      { value: 1000, flags: FLAG_BITS.warmup },
      { value: 1000, flags: FLAG_BITS.out_of_range },
      { value: 1000, flags: FLAG_BITS.warmup | FLAG_BITS.out_of_range },
      { value: Number.NaN },
      { value: Number.POSITIVE_INFINITY },
    ]) {
      expect(engine.evaluate(reading({ gas: "co", tsMs: 1, ...fields }))).toEqual([]);
    }
    expect(engine.active()).toEqual([]);
  });

  it("never clears on them either", () => {
    const engine = new ThresholdEngine(rules);
    engine.evaluate(reading({ gas: "co", value: 40, tsMs: 1 }));
    for (const fields of [
      { value: 0, flags: FLAG_BITS.warmup },
      { value: 0, flags: FLAG_BITS.out_of_range },
      { value: Number.NaN },
      { value: Number.NEGATIVE_INFINITY },
    ]) {
      expect(engine.evaluate(reading({ gas: "co", tsMs: 2, ...fields }))).toEqual([]);
    }
    expect(engine.active().map((alarm) => alarm.rule)).toEqual(["co>=35:warning"]);
    expect(brief(engine.evaluate(reading({ gas: "co", value: 0, tsMs: 3 })))).toEqual([
      ["clear", "co>=35:warning", 0, 35, 3],
    ]);
  });

  it("does not reset a pending hold time", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35, forMs: 3000 })]);
    const at = (value: number, tsMs: number, flags = 0) =>
      brief(engine.evaluate(reading({ gas: "co", value, tsMs, flags })));
    expect(at(40, 1000)).toEqual([]);
    expect(at(0, 2000, FLAG_BITS.out_of_range)).toEqual([]);
    expect(at(Number.NaN, 3000)).toEqual([]);
    expect(at(40, 4000)).toEqual([["raise", "co>=35:warning", 40, 35, 4000]]);
  });

  it("returns one shared, frozen empty array when nothing happens", () => {
    const engine = new ThresholdEngine(rules);
    const first = engine.evaluate(reading({ gas: "co", value: 1, tsMs: 1 }));
    const second = engine.evaluate(reading({ gas: "h2", value: 1, tsMs: 2 }));
    const third = engine.evaluate(reading({ gas: "co", value: 1, tsMs: 3, flags: 1 }));
    expect(first).toBe(second);
    expect(second).toBe(third);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe("ThresholdEngine per-sensor rules", () => {
  it("applies a sensor-restricted rule to that sensor only", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 10, sensor: "gas1" })]);
    expect(feed(engine, [40], { sensor: "gas0", gas: "co", unit: "ppm" })).toEqual([]);
    expect(feed(engine, [40], { sensor: "gas1", gas: "co", unit: "ppm" })).toEqual([
      ["raise", "gas1/co>=10:warning", 40, 10, 1000],
    ]);
  });

  it("keeps one state per sensor for an unrestricted rule", () => {
    const engine = new ThresholdEngine([rule({ gas: "co", value: 35 })]);
    const at = (sensor: string, value: number, tsMs: number) =>
      engine.evaluate(reading({ sensor, gas: "co", value, tsMs })).map((e) => [e.kind, e.sensor]);
    expect(at("gas0", 40, 1)).toEqual([["raise", "gas0"]]);
    expect(at("gas1", 40, 2)).toEqual([["raise", "gas1"]]);
    expect(at("gas0", 50, 3)).toEqual([]);
    expect(at("gas0", 0, 4)).toEqual([["clear", "gas0"]]);
    expect(engine.active()).toEqual([
      { rule: "co>=35:warning", sensor: "gas1", gas: "co", severity: "warning", sinceMs: 2 },
    ]);
  });

  it("lists active alarms sorted by sensor, then rule, with their raise time", () => {
    const engine = new ThresholdEngine(SAFETY_RULES);
    engine.evaluate(reading({ sensor: "b", gas: "h2", value: 20_000, tsMs: 5 }));
    engine.evaluate(reading({ sensor: "a", gas: "co", value: 40, tsMs: 6 }));
    expect(engine.active()).toEqual([
      { rule: "co>=35ppm:warning", sensor: "a", gas: "co", severity: "warning", sinceMs: 6 },
      { rule: "h2>=10000ppm:critical", sensor: "b", gas: "h2", severity: "critical", sinceMs: 5 },
      { rule: "h2>=4000ppm:warning", sensor: "b", gas: "h2", severity: "warning", sinceMs: 5 },
    ]);
  });
});
