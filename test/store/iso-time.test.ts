import { describe, expect, it } from "vitest";
import { isoTime } from "../../daemon/store/iso-time.js";

describe("isoTime", () => {
  it("matches toISOString at the edges of days, years and the fast range", () => {
    const edges = [
      0,
      1,
      999,
      86_399_999,
      86_400_000,
      Date.UTC(2026, 10, 26, 10, 40, 36, 123),
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2025, 11, 31, 23, 59, 59, 999),
      Date.UTC(2026, 0, 1),
      253_402_300_799_999,
      253_402_300_800_000,
      -1,
      -86_400_001,
      1.5,
    ];
    for (const ms of edges) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it("matches toISOString on 100,000 random instants, in and out of order", () => {
    let state = 2026;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    let ms = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 100_000; i++) {
      // Mostly small steps (the cached day is reused), sometimes a jump to any year up to 9999.
      ms =
        random() < 0.01
          ? Math.floor(random() * 253_402_300_800_000)
          : ms + Math.floor(random() * 3_600_000);
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
