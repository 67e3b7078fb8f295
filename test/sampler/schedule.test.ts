import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../core/backoff.js";
import { nextTick } from "../../daemon/sampler/schedule.js";

describe("nextTick", () => {
  it("schedules tick k at start + k * interval, independent of how late the previous read ended", () => {
    expect(nextTick(1000, 100, 0, 1003)).toEqual({ tick: 1, dueMs: 1100, skipped: 0 });
    expect(nextTick(1000, 100, 1, 1199)).toEqual({ tick: 2, dueMs: 1200, skipped: 0 });
    // 10,000 ticks later the due time is still exact: no drift accumulates.
    expect(nextTick(1000, 100, 9999, 1000 + 9999 * 100 + 57)).toEqual({
      tick: 10_000,
      dueMs: 1_001_000,
      skipped: 0,
    });
  });

  it("skips and counts the ticks a slow read overran instead of stacking them", () => {
    // Read for tick 1 ran until 1350: ticks 2 and 3 are gone; the next is tick 4 at 1400.
    expect(nextTick(1000, 100, 1, 1350)).toEqual({ tick: 4, dueMs: 1400, skipped: 2 });
    // Ending exactly on a due time is not an overrun.
    expect(nextTick(1000, 100, 1, 1200)).toEqual({ tick: 2, dueMs: 1200, skipped: 0 });
  });
});

describe("backoffDelay", () => {
  const policy = { initialMs: 1000, maxMs: 60_000 };
  it("grows exponentially up to the cap, with full jitter", () => {
    expect(backoffDelay(policy, 1, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 3, () => 1)).toBe(4000);
    expect(backoffDelay(policy, 20, () => 1)).toBe(60_000);
    expect(backoffDelay(policy, 20, () => 0.25)).toBe(15_000);
  });
  it("never retries in a tight loop", () => {
    expect(backoffDelay(policy, 1, () => 0)).toBe(500);
  });
});
