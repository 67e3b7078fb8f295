import {
  MAX_DECIMALS,
  ZE_GASES,
  type ZeGas,
  type ZeMode,
  type ZeModel,
} from "../../../schemas/drivers/names.js";
import type { Unit } from "../../../schemas/vocabulary.js";

/**
 * Winsen ZE-series UART protocol (ZE07, ZE15, ZE03): 9600 8N1, fixed 9-byte
 * frames `FF b1 .. b7 cs` with `cs = (~(b1 + ... + b7) + 1) & 0xFF`.
 * Pure functions only; the serial I/O lives in ./driver.ts.
 *
 * Sources (cited where each fact is used below):
 * - [ZE07] Winsen ZE07-CO user's manual v1.2, "Communication protocol" tables 5-8 and
 *   "Check sum and calculation" (mirrored at manualshive.com/en/manual/winsen/ze07-co/987735).
 * - [ZE15] Winsen ZE15-CO manual, issued 2023-03-27 (manualspro.net/333661): preheating 30 s,
 *   0-500 ppm, 0.1 ppm resolution.
 * - [ZE08] Winsen ZE08-CH2O frames `FF 17 04 00 ...` whose unit byte 0x04 is ppb, as
 *   parsed by a public ZE08CH20Parse unit test.
 * - [ESPH] github.com/Bjk8kds/esphome-winsen-co-sensor, components/ze07_co/ze07_co.cpp and
 *   components/ze15_co/ze15_co.cpp (commands, byte positions, the ZE15 fault bit).
 * - [MH411D] github.com/guillaumechardin/MH411D, ZE03.h (ZE03 gas codes, per-gas resolution,
 *   MODE_ACTIVEUP 0x03 / MODE_QA 0x04).
 * - [FEGA] github.com/fega/winsen-ze03-arduino-library, src/WinsenZE03.cpp (ZE03 `78 03`/`78 04`;
 *   beware: its hard-coded checksums are wrong for one of the two, hence computed here).
 */

export const FRAME_LENGTH = 9;
export const START_BYTE = 0xff;
/** Byte 1 of a Q&A reply [ZE07 table 8]. */
export const REPLY_COMMAND = 0x86;
/** Byte 1 of a mode-switch command, and of the acknowledgement some ZE03 firmware sends back [FEGA]. */
export const SWITCH_COMMAND = 0x78;

/**
 * Gas code in byte 1 of an active-upload frame [ZE07] [MH411D]. 0x2C is NO2 in the
 * reference notes but "SENSOR_NO" in [MH411D]: the sources disagree, so 0x2C is
 * accepted for a sensor configured as either `no2` or `no`.
 */
export const GAS_CODE: Readonly<Record<ZeGas, number>> = {
  nh3: 0x02,
  h2s: 0x03,
  co: 0x04,
  o2: 0x05,
  h2: 0x06,
  no2: 0x2c,
  no: 0x2c,
};

/** Name(s) of a gas code, for error messages. */
export function gasCodeName(code: number): string {
  const names = ZE_GASES.filter((gas) => GAS_CODE[gas] === code);
  return `0x${hex(code)}${names.length > 0 ? ` (${names.join("/")})` : " (unknown gas)"}`;
}

/**
 * Unit byte (byte 2) of an active-upload frame. 0x03 = ppm [ZE07] (`FF 04 03 01 ...`);
 * 0x04 = ppb [ZE08]. No source found for any other code (the 0x02 = ppb in the task
 * notes is unconfirmed), so other codes decode as `null` and the driver rejects the
 * frame rather than store a value in a guessed unit.
 */
export const UNIT_CODE: ReadonlyMap<number, Unit> = new Map<number, Unit>([
  [0x03, "ppm"],
  [0x04, "ppb"],
]);

/** `((~(b1 + ... + b7)) + 1) & 0xFF` over bytes 1..7 of a 9-byte frame [ZE07 section 3]. */
export function checksum(frame: Uint8Array): number {
  let sum = 0;
  for (let index = 1; index < FRAME_LENGTH - 1; index++) sum += frame[index] ?? 0;
  return (~sum + 1) & 0xff;
}

/** `FF 01 command argument 00 00 00 00 cs`, the shape of every host command [ZE07 tables 5-7]. */
export function buildCommand(command: number, argument = 0): Buffer {
  const frame = Buffer.from([START_BYTE, 0x01, command, argument, 0, 0, 0, 0, 0]);
  frame[8] = checksum(frame);
  return frame;
}

/** Q&A read request, `FF 01 86 00 00 00 00 00 79` [ZE07 table 7] [ESPH]. */
export const READ_REQUEST = buildCommand(REPLY_COMMAND);

/** Argument of the 0x78 switch command: ZE07/ZE15 0x41 Q&A / 0x40 active [ZE07] [ESPH]; ZE03 0x04 / 0x03 [MH411D] [FEGA]. */
const MODE_ARGUMENT: Readonly<Record<ZeModel, Readonly<Record<ZeMode, number>>>> = {
  ze07: { qa: 0x41, active: 0x40 },
  ze15: { qa: 0x41, active: 0x40 },
  ze03: { qa: 0x04, active: 0x03 },
};

/** E.g. ZE07 to Q&A: `FF 01 78 41 00 00 00 00 46`; ZE03 to Q&A: `FF 01 78 04 00 00 00 00 83`. */
export function modeCommand(model: ZeModel, mode: ZeMode): Buffer {
  return buildCommand(SWITCH_COMMAND, MODE_ARGUMENT[model][mode]);
}

/**
 * Digits after the decimal point of a Q&A reply, which (unlike an active frame)
 * does not carry them. Order: an explicit `decimals` option, else what the module's
 * own active frames said, else the model's documented resolution: 0.1 ppm for
 * ZE07-CO/ZE15-CO [ZE07] [ZE15]; per gas for ZE03 [MH411D] (unverified against
 * Winsen's ZE03 manual, hence the option).
 */
export function qaDecimals(choice: {
  configured: number | null;
  learned: number | null;
  model: ZeModel;
  gas: ZeGas;
}): number {
  if (choice.configured !== null) return choice.configured;
  if (choice.learned !== null) return choice.learned;
  if (choice.model !== "ze03") return 1;
  return choice.gas === "o2" || choice.gas === "no2" || choice.gas === "no" ? 1 : 0;
}

export type ZeFrame =
  | {
      kind: "upload";
      gasCode: number;
      unitCode: number;
      unit: Unit | null;
      decimals: number;
      /** Concentration in counts: value = raw / 10^decimals. */
      raw: number;
      fullRangeRaw: number;
      fault: boolean;
    }
  | { kind: "reply"; raw: number; fault: boolean }
  | { kind: "ack"; argument: number }
  | { kind: "invalid"; reason: string };

/**
 * Decodes a frame whose checksum already holds. Active upload: `FF gas unit decimals
 * Hi Lo FullHi FullLo cs` [ZE07]; Q&A reply: `FF 86 Hi Lo xx xx xx xx cs`, value in
 * bytes 2-3 [ESPH]. With `faultBit` (ZE15), bit 7 of Hi flags a sensor fault and
 * only its low 5 bits belong to the value [ESPH ze15_co.cpp]; 500.0 ppm = 0x1388 fits.
 */
export function decodeFrame(frame: Uint8Array, options: { faultBit: boolean }): ZeFrame {
  const byte = (index: number): number => frame[index] ?? 0;
  const value = (high: number, low: number) =>
    options.faultBit
      ? { raw: (high & 0x1f) * 256 + low, fault: (high & 0x80) !== 0 }
      : { raw: high * 256 + low, fault: false };
  if (byte(1) === REPLY_COMMAND) return { kind: "reply", ...value(byte(2), byte(3)) };
  if (byte(1) === SWITCH_COMMAND) return { kind: "ack", argument: byte(2) };
  const decimals = byte(3);
  if (decimals > MAX_DECIMALS) {
    return { kind: "invalid", reason: `decimal places byte 0x${hex(decimals)} is implausible` };
  }
  return {
    kind: "upload",
    gasCode: byte(1),
    unitCode: byte(2),
    unit: UNIT_CODE.get(byte(2)) ?? null,
    decimals,
    ...value(byte(4), byte(5)),
    fullRangeRaw: byte(6) * 256 + byte(7),
  };
}

/** raw / 10^decimals: dividing by an exact power of ten gives the correctly rounded double (5 -> 0.5). */
export function scale(raw: number, decimals: number): number {
  return raw / 10 ** decimals;
}

export function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, "0");
}

export function hexBytes(bytes: Uint8Array): string {
  return [...bytes].map(hex).join(" ");
}

/**
 * Finds frames in a byte stream delivered in arbitrary chunks. 0xFF may occur
 * inside a frame (any data byte, or the checksum), so a start byte alone proves
 * nothing: a 9-byte window starting at 0xFF is accepted only when its checksum
 * holds; otherwise the parser drops one byte and looks again (a sliding window),
 * so a corrupt or partial frame never swallows the valid frame that follows it.
 * A random window passes the checksum with probability 1/256; callers validate
 * the content (gas code, unit) too.
 */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);
  /** Valid frames emitted. */
  frames = 0;
  /** Bytes dropped: not at a frame start, or the start of a window that failed its checksum. */
  rejectedBytes = 0;
  /** 9-byte windows that began with 0xFF but failed the checksum (corrupt frames, or 0xFF in garbage). */
  badChecksums = 0;

  push(chunk: Uint8Array): Buffer[] {
    const buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let start = 0;
    while (start < buffer.length) {
      if (buffer[start] !== START_BYTE) {
        start++;
        this.rejectedBytes++;
        continue;
      }
      if (buffer.length - start < FRAME_LENGTH) break;
      const window = buffer.subarray(start, start + FRAME_LENGTH);
      if (checksum(window) === window[FRAME_LENGTH - 1]) {
        frames.push(Buffer.from(window));
        this.frames++;
        start += FRAME_LENGTH;
      } else {
        this.badChecksums++;
        this.rejectedBytes++;
        start++;
      }
    }
    // Copy: at most 8 bytes, and the caller's chunk must not be retained.
    this.pending = Buffer.from(buffer.subarray(start));
    return frames;
  }

  /** Bytes held back as the possible beginning of a frame. */
  get buffered(): number {
    return this.pending.length;
  }
}
