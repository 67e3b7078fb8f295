import { describe, expect, it } from "vitest";
import { canConvert, convert, unitFamily } from "../../daemon/units/convert.js";
import { UNITS } from "../../schemas/vocabulary.js";

describe("convert", () => {
  it("converts among ppb, ppm and %vol (1 %vol = 10,000 ppm = 10,000,000 ppb)", () => {
    expect(convert(1, "ppm", "ppb")).toBe(1000);
    expect(convert(88, "ppb", "ppm")).toBe(0.088);
    expect(convert(1, "%", "ppm")).toBe(10_000);
    expect(convert(40_000, "ppm", "%")).toBe(4);
    expect(convert(1, "%", "ppb")).toBe(10_000_000);
    expect(convert(20_000_000, "ppb", "%")).toBe(2);
    expect(convert(19.5, "%", "ppm")).toBe(195_000);
  });

  it("gives the correctly rounded double, so a round trip is exact", () => {
    // Dividing by 1000 (not multiplying by 0.001, which is inexact) is what makes these hold.
    expect(convert(0.088, "ppm", "ppb")).toBe(88);
    expect(convert(3, "ppb", "ppm")).toBe(0.003);
    expect(convert(convert(0.199, "ppm", "ppb") ?? Number.NaN, "ppb", "ppm")).toBe(0.199);
  });

  it("converts V <-> mV", () => {
    expect(convert(2.258, "V", "mV")).toBe(2258);
    expect(convert(3300, "mV", "V")).toBe(3.3);
  });

  it("returns the value unchanged for the identity, raw included", () => {
    expect(convert(700, "raw", "raw")).toBe(700);
    expect(convert(-1.5, "ppm", "ppm")).toBe(-1.5);
    expect(convert(Number.NaN, "ppb", "ppb")).toBeNaN();
  });

  it("returns null across families", () => {
    expect(convert(700, "raw", "ppm")).toBeNull();
    expect(convert(1, "ppm", "raw")).toBeNull();
    expect(convert(1, "V", "ppm")).toBeNull();
    expect(convert(1, "%", "mV")).toBeNull();
    expect(convert(1, "raw", "V")).toBeNull();
  });
});

describe("canConvert", () => {
  it("agrees with convert for every pair of units", () => {
    for (const from of UNITS) {
      for (const to of UNITS) {
        expect(canConvert(from, to), `${from} -> ${to}`).toBe(convert(1, from, to) !== null);
      }
    }
  });

  it("groups units into families", () => {
    expect(UNITS.map((unit) => [unit, unitFamily(unit)])).toEqual([
      ["ppm", "concentration"],
      ["ppb", "concentration"],
      ["%", "concentration"],
      ["V", "voltage"],
      ["mV", "voltage"],
      ["raw", "raw"],
    ]);
    expect(canConvert("ppb", "%")).toBe(true);
    expect(canConvert("mV", "V")).toBe(true);
    expect(canConvert("raw", "ppb")).toBe(false);
  });
});
