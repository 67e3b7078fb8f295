import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../core/duration.js";
import { formatSize, parseSize } from "../../core/size.js";

describe("durations", () => {
  it.each([
    ["250ms", 250],
    ["10s", 10_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1500],
    ["0s", 0],
    ["2d", 172_800_000],
  ])("%s = %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "10", "ten seconds", "5 parsecs", "-1s", "1s5"])("rejects %j", (text) =>
    expect(parseDuration(text)).toBeNull(),
  );

  it("formats back to the same value", () => {
    for (const ms of [0, 250, 1000, 90_000, 5_400_000, 86_400_001]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe("sizes", () => {
  it("parses binary and decimal units", () => {
    expect(parseSize("64MiB")).toBe(67_108_864);
    expect(parseSize("256KiB")).toBe(262_144);
    expect(parseSize("1 GB")).toBe(1_000_000_000);
    expect(parseSize("100B")).toBe(100);
    expect(parseSize("64 megs")).toBeNull();
    expect(parseSize("MiB")).toBeNull();
  });
  it("formats back", () => {
    expect(formatSize(268_435_456)).toBe("256MiB");
    expect(formatSize(1536)).toBe("1536B");
  });
});
