import { describe, expect, it } from "vitest";
import {
  CURVES,
  channelsFor,
  concentration,
} from "../../../daemon/drivers/grove-mics6814/curves.js";
import {
  decodeReadAll,
  decodeV1Reply,
  decodeWord,
  firmwareFromMarker,
  heaterOnCommand,
  isUnsetWord,
  isUsableAdcR0,
  ratioFromAdc,
  ratioFromResistance,
  readEepromCommand,
} from "../../../daemon/drivers/grove-mics6814/protocol.js";
import { InvalidFrame } from "../../../daemon/drivers/i2c/errors.js";
import { MICS_GASES } from "../../../schemas/drivers/names.js";

const bytes = (...values: number[]) => Buffer.from(values);

describe("MiCS-6814 protocol", () => {
  it("detects firmware 2 only from the marker 1126 in EEPROM word 0", () => {
    expect(readEepromCommand(0)).toEqual([0x06, 0x00]);
    expect(firmwareFromMarker(decodeWord(bytes(0x04, 0x66)))).toBe(2);
    expect(firmwareFromMarker(0xffff)).toBe(1);
    expect(firmwareFromMarker(0x00ff)).toBe(1); // AVR TWI with nothing prepared: 0x00 then idle 0xFF
    expect(firmwareFromMarker(0)).toBe(1);
    expect(firmwareFromMarker(1125)).toBe(1);
  });

  it("switches the heater on with each firmware's own command", () => {
    expect(heaterOnCommand(2)).toEqual([0x0b, 0x01]);
    expect(heaterOnCommand(1)).toEqual([0x21]);
  });

  it("validates firmware-1 checksums: cs == (b0 + hi + lo) & 0xFF", () => {
    expect(decodeV1Reply(bytes(0x12, 0x02, 0xce, 0xe2))).toBe(718);
    // The sum wraps: 0x13 + 0xff + 0xf0 = 0x202 -> 0x02.
    expect(decodeV1Reply(bytes(0x13, 0xff, 0xf0, 0x02))).toBe(0xfff0);
    expect(() => decodeV1Reply(bytes(0x12, 0x02, 0xce, 0xe3))).toThrow(
      new InvalidFrame("checksum mismatch in [12 02 ce e3]: expected e2"),
    );
    expect(() => decodeV1Reply(bytes(0xff, 0xff, 0xff, 0xff))).toThrow(InvalidFrame);
    expect(() => decodeV1Reply(bytes(0x12, 0x02, 0xce))).toThrow("expected 4 bytes, got 3");
  });

  it("decodes big-endian words and the 6-byte read-all reply", () => {
    expect(decodeWord(bytes(0x03, 0xb6))).toBe(950);
    expect(() => decodeWord(bytes(0x03))).toThrow(InvalidFrame);
    expect(decodeReadAll(bytes(0x03, 0x5c, 0x02, 0xbc, 0x00, 0xc8))).toEqual({
      nh3: 860,
      co: 700,
      no2: 200,
    });
    expect(() => decodeReadAll(bytes(0x04, 0x00, 0x02, 0xbc, 0x00, 0xc8))).toThrow(
      "nh3 ADC 1024 exceeds the 10-bit maximum 1023",
    );
  });

  it("recognises unset EEPROM words and usable R0 counts", () => {
    expect(isUnsetWord(0)).toBe(true);
    expect(isUnsetWord(0xffff)).toBe(true);
    expect(isUnsetWord(950)).toBe(false);
    expect(isUsableAdcR0(1)).toBe(true);
    expect(isUsableAdcR0(1022)).toBe(true);
    expect(isUsableAdcR0(1023)).toBe(false);
    expect(isUsableAdcR0(0)).toBe(false);
  });

  it("computes Rs/R0 from ADC counts (reference worked example) and rejects impossible ADCs", () => {
    expect(ratioFromAdc("co", 700, 950)).toBeCloseTo(0.166531, 6);
    expect(ratioFromAdc("no2", 200, 155)).toBeCloseTo(1.360875, 6);
    expect(ratioFromAdc("co", 950, 950)).toBe(1);
    expect(() => ratioFromAdc("co", 1024, 950)).toThrow("co ADC 1024 exceeds the 10-bit maximum");
    expect(() => ratioFromAdc("co", 1023, 950)).toThrow(
      "co ADC 1023 (R0 950) gives ratio Infinity",
    );
    expect(() => ratioFromAdc("co", 0, 950)).toThrow("co ADC 0 (R0 950) gives ratio 0");
  });

  it("computes Rs/R0 from firmware-1 resistances", () => {
    expect(ratioFromResistance("co", 100, 600)).toBeCloseTo(1 / 6, 12);
    expect(() => ratioFromResistance("co", 0, 600)).toThrow(InvalidFrame);
  });
});

describe("MiCS-6814 curves", () => {
  it("reproduces the reference worked example for the CO (RED) element", () => {
    const ratio = ratioFromAdc("co", 700, 950);
    expect(concentration("co", ratio).ppm).toBeCloseTo(36.3, 1);
    expect(concentration("h2", ratio).ppm).toBeCloseTo(18.4, 1);
    expect(concentration("c2h5oh", ratio).ppm).toBeCloseTo(26.2, 1);
    expect(concentration("co", ratio)).toEqual({
      ppm: expect.closeTo(36.2934, 3),
      outOfRange: false,
    });
  });

  it("reproduces the reference worked example for NO2", () => {
    const { ppm, outOfRange } = concentration("no2", ratioFromAdc("no2", 200, 155));
    expect(ppm).toBeCloseTo(0.199, 3);
    expect(outOfRange).toBe(false);
  });

  it("uses Seeed's NH3 constant 1/1.47, and the propane, butane and methane fits", () => {
    expect(CURVES.nh3.ppm(1)).toBeCloseTo(0.680272, 6);
    expect(CURVES.nh3.ppm(0.5)).toBeCloseTo(0.680272 * 0.5 ** -1.67, 5);
    expect(CURVES.c3h8.ppm(0.1)).toBeCloseTo(570.164 * 0.1 ** -2.518, 6);
    expect(CURVES.c4h10.ppm(0.1)).toBeCloseTo(398.107 * 0.1 ** -2.138, 6);
    expect(CURVES.ch4.ppm(0.5)).toBeCloseTo(630.957 * 0.5 ** -4.363, 6);
  });

  it("flags values outside a curve's window and never clamps them", () => {
    // Clean air (ratio 1): ethanol 1.622 ppm is under its 10 ppm floor.
    expect(concentration("c2h5oh", 1)).toEqual({ ppm: 1.622, outOfRange: true });
    expect(concentration("co", 1)).toEqual({ ppm: 4.385, outOfRange: false });
    // A strongly reducing atmosphere: CO far above 1000 ppm.
    const high = concentration("co", 0.003948720722669984);
    expect(high.ppm).toBeCloseTo(2990.5, 1);
    expect(high.outOfRange).toBe(true);
    expect(concentration("no2", 0.2).outOfRange).toBe(true); // 0.0290 ppm < 0.05
    expect(concentration("ch4", 1)).toEqual({ ppm: 630.957, outOfRange: true });
    expect(concentration("ch4", 0.5).outOfRange).toBe(false);
  });

  it("maps every gas to the element Seeed's calcGas() uses", () => {
    expect(MICS_GASES.map((gas) => [gas, CURVES[gas].channel])).toEqual([
      ["co", "co"],
      ["no2", "no2"],
      ["c2h5oh", "co"],
      ["h2", "co"],
      ["nh3", "nh3"],
      ["ch4", "co"],
      ["c3h8", "nh3"],
      ["c4h10", "nh3"],
    ]);
    expect(channelsFor(["co", "no2", "c2h5oh", "h2"])).toEqual(["co", "no2"]);
    expect(channelsFor(["c3h8", "h2"])).toEqual(["nh3", "co"]);
  });
});
