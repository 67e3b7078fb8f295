import { describe, expect, it } from "vitest";
import {
  buildCommand,
  checksum,
  decodeFrame,
  FrameParser,
  modeCommand,
  qaDecimals,
  READ_REQUEST,
  scale,
} from "../../../daemon/drivers/winsen-ze/frame.js";

const bytes = (text: string) => Buffer.from(text.replaceAll(" ", ""), "hex");
/** Two ZE07-CO active-upload frames: 0.5 ppm and 30 ppm (full scale 500.0 ppm = 0x1388). */
const HALF_PPM = bytes("FF 04 03 01 00 05 13 88 58");
const THIRTY_PPM = bytes("FF 04 03 01 01 2C 13 88 30");

describe("Winsen ZE checksum and commands", () => {
  it("computes the reference checksums", () => {
    expect(checksum(HALF_PPM)).toBe(0x58);
    expect(checksum(THIRTY_PPM)).toBe(0x30);
    expect(checksum(bytes("FF 01 86 00 00 00 00 00 00"))).toBe(0x79);
    // sum 0x100 wraps to 0: (~0 + 1) & 0xFF = 0
    expect(checksum(bytes("FF 80 80 00 00 00 00 00 00"))).toBe(0x00);
  });

  it("builds the documented command frames", () => {
    expect(READ_REQUEST.toString("hex")).toBe("ff0186000000000079");
    expect(modeCommand("ze07", "qa").toString("hex")).toBe("ff0178410000000046");
    expect(modeCommand("ze07", "active").toString("hex")).toBe("ff0178400000000047");
    expect(modeCommand("ze15", "qa").toString("hex")).toBe("ff0178410000000046");
    expect(modeCommand("ze03", "qa").toString("hex")).toBe("ff0178040000000083");
    expect(modeCommand("ze03", "active").toString("hex")).toBe("ff0178030000000084");
    expect(buildCommand(0xa7, 0x01).toString("hex")).toBe("ff01a70100000000" + "57");
  });
});

describe("decodeFrame", () => {
  it("decodes the reference active-upload frames", () => {
    const half = decodeFrame(HALF_PPM, { faultBit: false });
    expect(half).toEqual({
      kind: "upload",
      gasCode: 0x04,
      unitCode: 0x03,
      unit: "ppm",
      decimals: 1,
      raw: 5,
      fullRangeRaw: 5000,
      fault: false,
    });
    if (half.kind !== "upload") throw new Error("not an upload");
    expect(scale(half.raw, half.decimals)).toBe(0.5);
    expect(scale(half.fullRangeRaw, half.decimals)).toBe(500);
    const thirty = decodeFrame(THIRTY_PPM, { faultBit: false });
    if (thirty.kind !== "upload") throw new Error("not an upload");
    expect(scale(thirty.raw, thirty.decimals)).toBe(30);
  });

  it("reads the decimals from byte 3 and the unit from byte 2", () => {
    const frame = bytes("FF 2C 04 02 04 D2 07 D0 00");
    const decoded = decodeFrame(frame, { faultBit: false });
    if (decoded.kind !== "upload") throw new Error("not an upload");
    expect([decoded.gasCode, decoded.unit, scale(decoded.raw, decoded.decimals)]).toEqual([
      0x2c,
      "ppb",
      12.34,
    ]);
    const unknownUnit = decodeFrame(bytes("FF 04 02 01 00 05 13 88 00"), { faultBit: false });
    expect(unknownUnit).toMatchObject({ kind: "upload", unitCode: 0x02, unit: null });
    expect(decodeFrame(bytes("FF 04 03 09 00 05 13 88 00"), { faultBit: false })).toMatchObject({
      kind: "invalid",
    });
  });

  it("decodes Q&A replies and mode-switch acknowledgements", () => {
    expect(decodeFrame(bytes("FF 86 01 2C 00 00 00 00 4D"), { faultBit: false })).toEqual({
      kind: "reply",
      raw: 300,
      fault: false,
    });
    expect(decodeFrame(bytes("FF 78 41 00 00 00 00 00 47"), { faultBit: false })).toEqual({
      kind: "ack",
      argument: 0x41,
    });
  });

  it("splits the ZE15 fault bit from the value only when asked", () => {
    const frame = bytes("FF 04 03 01 81 2C 13 88 00");
    expect(decodeFrame(frame, { faultBit: true })).toMatchObject({ raw: 300, fault: true });
    expect(decodeFrame(frame, { faultBit: false })).toMatchObject({ raw: 0x812c, fault: false });
  });

  it("chooses the Q&A scale: option, then learned, then the model default", () => {
    const base = { configured: null, learned: null } as const;
    expect(qaDecimals({ ...base, model: "ze07", gas: "co" })).toBe(1);
    expect(qaDecimals({ ...base, model: "ze03", gas: "nh3" })).toBe(0);
    expect(qaDecimals({ ...base, model: "ze03", gas: "no2" })).toBe(1);
    expect(qaDecimals({ configured: null, learned: 2, model: "ze07", gas: "co" })).toBe(2);
    expect(qaDecimals({ configured: 0, learned: 2, model: "ze07", gas: "co" })).toBe(0);
  });
});

describe("FrameParser", () => {
  it("emits the reference frames fed whole", () => {
    const parser = new FrameParser();
    const frames = parser.push(Buffer.concat([HALF_PPM, THIRTY_PPM]));
    expect(frames.map((frame) => frame.toString("hex"))).toEqual([
      HALF_PPM.toString("hex"),
      THIRTY_PPM.toString("hex"),
    ]);
    expect([parser.frames, parser.rejectedBytes, parser.badChecksums, parser.buffered]).toEqual([
      2, 0, 0, 0,
    ]);
  });

  it("reassembles frames split across chunks at every position", () => {
    const stream = Buffer.concat([HALF_PPM, THIRTY_PPM]);
    for (let cut = 1; cut < stream.length; cut++) {
      const parser = new FrameParser();
      const first = parser.push(stream.subarray(0, cut));
      const second = parser.push(stream.subarray(cut));
      expect([...first, ...second].map((frame) => frame[5])).toEqual([0x05, 0x2c]);
      expect(parser.rejectedBytes).toBe(0);
    }
    const parser = new FrameParser();
    const seen = [...stream].flatMap((byte) => parser.push(Buffer.from([byte])));
    expect(seen).toHaveLength(2);
  });

  it("accepts 0xFF inside a frame, in the value, the full range and the checksum", () => {
    const withFf = bytes("FF 04 03 01 00 FF 13 88 5E"); // 25.5 ppm
    const ffChecksum = bytes("FF 04 03 01 00 5E 13 88 FF"); // 9.4 ppm, checksum 0xFF
    const ffEverywhere = bytes("FF 04 03 01 FF FF FF FF FC");
    expect(checksum(withFf)).toBe(0x5e);
    expect(checksum(ffChecksum)).toBe(0xff);
    expect(checksum(ffEverywhere)).toBe(0xfc);
    const parser = new FrameParser();
    const frames = parser.push(Buffer.concat([withFf, ffChecksum, ffEverywhere, HALF_PPM]));
    expect(frames.map((frame) => frame.toString("hex"))).toEqual(
      [withFf, ffChecksum, ffEverywhere, HALF_PPM].map((frame) => frame.toString("hex")),
    );
    expect(parser.rejectedBytes).toBe(0);
  });

  it("counts a corrupt frame as one bad checksum and nine rejected bytes, then resyncs", () => {
    const corrupt = Buffer.from(THIRTY_PPM);
    corrupt[8] = 0x31;
    const parser = new FrameParser();
    const frames = parser.push(Buffer.concat([corrupt, HALF_PPM]));
    expect(frames.map((frame) => frame.toString("hex"))).toEqual([HALF_PPM.toString("hex")]);
    expect([parser.badChecksums, parser.rejectedBytes]).toEqual([1, 9]);
  });

  it("does not let a corrupt frame with 0xFF inside swallow the next frame", () => {
    const corrupt = bytes("FF 04 03 01 00 FF 13 88 00");
    const parser = new FrameParser();
    const frames = parser.push(Buffer.concat([corrupt, HALF_PPM]));
    expect(frames.map((frame) => frame.toString("hex"))).toEqual([HALF_PPM.toString("hex")]);
    // Windows at 0 and at the inner 0xFF (index 5) both fail: 2 bad checksums, 9 bytes dropped.
    expect([parser.badChecksums, parser.rejectedBytes]).toEqual([2, 9]);
  });

  it("skips a partial frame followed by a whole one", () => {
    const parser = new FrameParser();
    expect(parser.push(HALF_PPM.subarray(0, 4))).toEqual([]);
    expect(parser.buffered).toBe(4);
    const frames = parser.push(THIRTY_PPM);
    expect(frames.map((frame) => frame.toString("hex"))).toEqual([THIRTY_PPM.toString("hex")]);
    expect([parser.badChecksums, parser.rejectedBytes, parser.buffered]).toEqual([1, 4, 0]);
  });

  it("resyncs after garbage and counts every rejected byte", () => {
    const garbage = bytes("00 13 FF 42 FF FF 7E 01 02 03 04 05 06 88");
    const parser = new FrameParser();
    const frames = parser.push(Buffer.concat([garbage, HALF_PPM, garbage.subarray(0, 2)]));
    expect(frames.map((frame) => frame.toString("hex"))).toEqual([HALF_PPM.toString("hex")]);
    expect(parser.rejectedBytes).toBe(garbage.length + 2);
    expect(parser.badChecksums).toBe(3); // windows at each of the three 0xFF bytes
    expect(parser.buffered).toBe(0);
  });

  it("holds back at most a frame's start while waiting for the rest", () => {
    const parser = new FrameParser();
    parser.push(bytes("01 02 FF 04 03"));
    expect([parser.rejectedBytes, parser.buffered]).toEqual([2, 3]);
  });
});
