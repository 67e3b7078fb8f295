import { describe, expect, it } from "vitest";
import { parseConfig } from "../../daemon/config/load.js";
import { applyOverrides } from "../../daemon/control/rules.js";
import { checkDesired } from "../../daemon/fleet/desired.js";
import { MACHINE } from "../config/helpers.js";
import { SAFETY_AND_CO50 as CONFIG } from "../control/fixtures.js";
import { rule } from "../thresholds/helpers.js";

/** A Pi whose second sensor reports no2 as raw counts: no ppm rule can apply to it. */
const SENSORS = parseConfig(
  `[thresholds_preset]
preset = "none"

[[sensors]]
id = "gas0"
driver = "sim"

[[sensors]]
id = "raw0"
driver = "sim"

[sensors.channels.no2]
unit = "raw"
`,
  "/etc/sensord/sensord.toml",
  { machine: MACHINE },
).sensors;

const desired = (thresholds: unknown[], etag = "g3-0123abcd") => ({
  device: "pi-1",
  source: "group",
  version: 3,
  etag,
  thresholds,
});

/** The answer checked against SENSORS. */
const checked = (thresholds: unknown[]) => checkDesired(desired(thresholds), null, SENSORS);

describe("checkDesired: a desired set is checked whole before anything applies", () => {
  it("resolves each rule as a [[thresholds]] entry: defaults, durations, units kept", () => {
    const thresholds = [{ gas: "co", value: 30, unit: "ppm", for: "5s", sensor: "gas0" }];
    expect(checked(thresholds)).toEqual({
      ok: true,
      set: {
        etag: "g3-0123abcd",
        source: "group",
        version: 3,
        rules: [rule({ gas: "co", value: 30, unit: "ppm", forMs: 5000, sensor: "gas0" })],
        received: thresholds,
      },
    });
  });

  it("takes `[]` (source none) as a set with no rules", () => {
    const none = { device: "pi-1", source: "none", version: 0, etag: "none", thresholds: [] };
    expect(checkDesired(none, null, SENSORS)).toMatchObject({
      ok: true,
      set: { etag: "none", source: "none", rules: [] },
    });
  });

  it("refuses the whole set for one rule the device cannot run: a ppm rule on a raw channel", () => {
    const check = checked([
      { gas: "co", value: 30, unit: "ppm" },
      { gas: "no2", value: 1, unit: "ppm", sensor: "raw0" },
    ]);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.etag).toBe("g3-0123abcd");
    expect(check.reason).toMatch(/^thresholds\[1\]\.unit: /);
    expect(check.reason).toContain("raw");
  });

  it("refuses a sensor id the Pi lacks, naming the ones it has", () => {
    const check = checked([{ gas: "co", value: 30, sensor: "gas9" }]);
    expect(check).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^thresholds\[0\]\.sensor: no sensor "gas9"/),
    });
  });

  it("refuses what the fleet's checks refuse (critical below warning) and a shape the schema refuses", () => {
    const order = checked([
      { gas: "co", value: 50, unit: "ppm" },
      { gas: "co", value: 40, unit: "ppm", severity: "critical" },
    ]);
    expect(order).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^thresholds\[1\]\.value: the critical level 40 is below/),
    });
    expect(checked([{ gas: "xenon", value: 1 }])).toEqual({
      ok: false,
      etag: "g3-0123abcd",
      reason: "thresholds do not match sensord.fleet-thresholds.v1",
    });
    expect(checkDesired({ thresholds: [] }, "d1-ffffffff", SENSORS)).toEqual({
      ok: false,
      etag: "d1-ffffffff",
      reason: "not a desired set: etag, source and version expected",
    });
  });
});

describe("applyOverrides with a fleet layer: override > fleet > config file > preset, per slot", () => {
  const fleetNo2 = rule({ gas: "no2", value: 80, unit: "ppb" });
  const fleetCo = rule({ gas: "co", value: 30, unit: "ppm" });

  it("a fleet rule replaces the config's and the preset's rules of its slot, and shows its etag", () => {
    const effective = applyOverrides(CONFIG.thresholds, CONFIG.thresholdPreset, [], {
      etag: "g3-0123abcd",
      rules: [fleetCo, fleetNo2],
    });
    const fleet = effective.rules.filter((entry) => entry.origin === "fleet");
    expect(fleet).toEqual([
      {
        key: "co>=30ppm:warning",
        origin: "fleet",
        rule: fleetCo,
        replaces: ["co>=50ppm:warning"],
        etag: "g3-0123abcd",
      },
      {
        key: "no2>=80ppb:warning",
        origin: "fleet",
        rule: fleetNo2,
        replaces: ["no2>=88ppb:warning"],
        etag: "g3-0123abcd",
      },
    ]);
    expect(
      effective.rules.some(
        (entry) =>
          entry.origin !== "fleet" && entry.rule.gas === "co" && entry.rule.severity === "warning",
      ),
    ).toBe(false);
  });

  it("a local override beats the fleet rule of its slot; a removal hides it", () => {
    const override = rule({ gas: "co", value: 20, unit: "ppm" });
    const effective = applyOverrides(
      CONFIG.thresholds,
      CONFIG.thresholdPreset,
      [
        { slot: { gas: "co", severity: "warning", sensor: null }, rule: override, updatedAtMs: 1 },
        { slot: { gas: "no2", severity: "warning", sensor: null }, rule: null, updatedAtMs: 2 },
      ],
      { etag: "d2-0123abcd", rules: [fleetCo, fleetNo2] },
    );
    expect(effective.rules.filter((entry) => entry.origin === "fleet")).toEqual([]);
    expect(effective.rules.find((entry) => entry.origin === "override")).toMatchObject({
      key: "co>=20ppm:warning",
      replaces: ["co>=50ppm:warning", "co>=30ppm:warning"],
    });
    expect(effective.removed[0]?.removes).toContain("no2>=80ppb:warning");
  });

  it("without a fleet layer (or an empty set) the config's rules apply as before", () => {
    const plain = applyOverrides(CONFIG.thresholds, CONFIG.thresholdPreset, []);
    expect(
      applyOverrides(CONFIG.thresholds, CONFIG.thresholdPreset, [], { etag: "none", rules: [] }),
    ).toEqual(plain);
    expect(plain.rules.map((entry) => entry.origin)).not.toContain("fleet");
  });
});
