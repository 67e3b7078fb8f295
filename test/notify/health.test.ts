import { describe, expect, it } from "vitest";
import { type HealthInput, healthVerdict, stallLimitMs } from "../../daemon/notify/health.js";

const NOW = 1_000_000;

function input(overrides: Partial<HealthInput> = {}): HealthInput {
  return {
    nowMs: NOW,
    samplers: [
      { id: "gas0", driverCallSince: null },
      { id: "gas1", driverCallSince: NOW - 20 },
    ],
    configs: [
      { id: "gas0", intervalMs: 1000, options: {} },
      { id: "gas1", intervalMs: 1000, options: {} },
    ],
    recorder: { lastFlushError: null, pending: 0 },
    ...overrides,
  };
}

describe("stallLimitMs", () => {
  it("allows three intervals plus 5 s for one driver call", () => {
    expect(stallLimitMs({ intervalMs: 1000, options: {} })).toBe(8000);
    expect(stallLimitMs({ intervalMs: 0, options: {} })).toBe(5000);
  });

  it("stretches for a driver whose own read timeout is longer", () => {
    expect(stallLimitMs({ intervalMs: 1000, options: { timeout: "10s" } })).toBe(23_000);
    // The default serial timeout (2.5 s) fits in the 5 s allowance.
    expect(stallLimitMs({ intervalMs: 1000, options: { timeout: "2.5s" } })).toBe(8000);
    expect(stallLimitMs({ intervalMs: 1000, options: { timeout: "soon" } })).toBe(8000);
  });
});

describe("healthVerdict", () => {
  it("is healthy when every loop waits or is inside a young driver call and commits succeed", () => {
    expect(healthVerdict(input())).toEqual({ healthy: true });
  });

  it("names the sampler stuck in a read past its limit", () => {
    const verdict = healthVerdict(
      input({
        samplers: [
          { id: "gas0", driverCallSince: null },
          { id: "gas1", driverCallSince: NOW - 8001 },
        ],
      }),
    );
    expect(verdict).toEqual({
      healthy: false,
      reasons: ["sensor gas1 stuck in a driver call for 8.0 s (limit 8.0 s)"],
    });
  });

  it("tolerates a call exactly at the limit", () => {
    const verdict = healthVerdict(
      input({ samplers: [{ id: "gas1", driverCallSince: NOW - 8000 }] }),
    );
    expect(verdict.healthy).toBe(true);
  });

  it("does not blame a sensor that is down and sleeping in backoff", () => {
    // A failing sensor sleeps between attempts (driverCallSince null), however long ago it last read.
    const verdict = healthVerdict(input({ samplers: [{ id: "gas0", driverCallSince: null }] }));
    expect(verdict.healthy).toBe(true);
  });

  it("ignores a sampler whose sensor a reload just removed", () => {
    const verdict = healthVerdict(
      input({ samplers: [{ id: "gone", driverCallSince: NOW - 60_000 }] }),
    );
    expect(verdict.healthy).toBe(true);
  });

  it("is unhealthy while the database refuses writes, with both reasons when both hold", () => {
    const verdict = healthVerdict(
      input({
        samplers: [{ id: "gas0", driverCallSince: NOW - 30_000 }],
        recorder: { lastFlushError: "SQLITE_FULL: database or disk is full", pending: 1234 },
      }),
    );
    expect(verdict).toEqual({
      healthy: false,
      reasons: [
        "sensor gas0 stuck in a driver call for 30.0 s (limit 8.0 s)",
        "database refuses writes (1234 readings held): SQLITE_FULL: database or disk is full",
      ],
    });
  });
});
