import { describe, expect, it } from "vitest";
import { progressBar, progressLine } from "../../cli/progress.js";
import { age, bytes } from "../../cli/status/human.js";

describe("sync progress", () => {
  it("draws a bar with counts, rate and ETA for a terminal", () => {
    expect(progressBar({ uploaded: 1000, pending: 3000, rate: 500 })).toBe(
      `[${"#".repeat(8)}${".".repeat(22)}]  1000/4000  500/s  ETA 6s`,
    );
    expect(progressBar({ uploaded: 0, pending: 0, rate: 0 })).toBe(`[${"#".repeat(30)}]  0/0  0/s`);
  });

  it("prints plain lines otherwise", () => {
    expect(progressLine({ uploaded: 12, pending: 3, rate: 40.4 })).toBe(
      "uploaded 12, pending 3, 40 readings/s",
    );
  });

  it("formats ages and sizes for the status screen", () => {
    expect([age(999), age(93_000), age(3_600_000), age(7_380_000), age(3 * 86_400_000)]).toEqual([
      "1s",
      "1m33s",
      "1h",
      "2h3m",
      "3d",
    ]);
    expect([bytes(512), bytes(1536), bytes(256 * 1024 ** 2)]).toEqual([
      "512 B",
      "1.5 KiB",
      "256.0 MiB",
    ]);
  });
});
