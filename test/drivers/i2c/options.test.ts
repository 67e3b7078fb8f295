import { Value } from "@sinclair/typebox/value";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { gmSettings, groveGmDriver } from "../../../daemon/drivers/grove-gm/index.js";
import { groveMics6814Driver, micsSettings } from "../../../daemon/drivers/grove-mics6814/index.js";
import { GmOptionsSchema } from "../../../schemas/drivers/grove-gm.js";
import { MicsOptionsSchema } from "../../../schemas/drivers/grove-mics6814.js";
import { sensorConfig } from "../../support/i2c/rig.js";

describe("I2C driver options", () => {
  it("accepts hex addresses from TOML and the documented keys", () => {
    const mics = parse('bus = 1\naddress = 0x04\ngases = ["co", "nh3"]\nr0_co = 950');
    expect(Value.Check(MicsOptionsSchema, mics)).toBe(true);
    expect(micsSettings(mics)).toEqual({
      bus: 1,
      address: 4,
      gases: ["co", "nh3"],
      r0Override: { co: 950 },
    });
    const gm = parse('address = 0x08\ngases = ["voc"]\noutput = "volts"');
    expect(Value.Check(GmOptionsSchema, gm)).toBe(true);
    expect(gmSettings(gm)).toEqual({ bus: 1, address: 8, gases: ["voc"], output: "volts" });
  });

  it("applies its own defaults when keys are absent", () => {
    expect(micsSettings({})).toEqual({
      bus: 1,
      address: 0x04,
      gases: ["co", "no2", "c2h5oh", "h2"],
      r0Override: {},
    });
    expect(gmSettings({})).toEqual({
      bus: 1,
      address: 0x08,
      gases: ["no2", "c2h5oh", "voc", "co"],
      output: "raw",
    });
  });

  it("rejects reserved addresses, unknown or repeated gases and bad outputs", () => {
    expect(Value.Check(MicsOptionsSchema, { address: 0x78 })).toBe(false);
    expect(Value.Check(MicsOptionsSchema, { address: 0x02 })).toBe(false);
    expect(Value.Check(MicsOptionsSchema, { gases: ["voc"] })).toBe(false);
    expect(Value.Check(MicsOptionsSchema, { gases: ["co", "co"] })).toBe(false);
    expect(Value.Check(MicsOptionsSchema, { gases: [] })).toBe(false);
    expect(Value.Check(MicsOptionsSchema, { r0_co: 0 })).toBe(false);
    expect(Value.Check(GmOptionsSchema, { gases: ["h2"] })).toBe(false);
    expect(Value.Check(GmOptionsSchema, { output: "ppm" })).toBe(false);
  });

  it("declares names, defaults and gases for the registry", () => {
    expect(groveMics6814Driver).toMatchObject({
      name: "grove-mics6814",
      defaultIntervalMs: 1000,
      defaultWarmupMs: 600_000,
      allowsFullSpeed: false,
    });
    expect(groveGmDriver).toMatchObject({
      name: "grove-gm",
      defaultIntervalMs: 1000,
      defaultWarmupMs: 1_800_000,
      allowsFullSpeed: false,
    });
    const sensor = sensorConfig("grove-mics6814", { gases: ["nh3", "co"] });
    expect(groveMics6814Driver.gases?.(sensor)).toEqual(["nh3", "co"]);
    expect(groveMics6814Driver.outputUnit?.(sensor, "nh3")).toBe("ppm");
    expect(groveMics6814Driver.outputUnit?.(sensor, "no2")).toBeNull();
  });
});
