import { describe, expect, it } from "vitest";
import { decide, planRetry, TOO_LARGE_ALONE } from "../../../sync/output/decide.js";
import { AUTH_RETRY } from "../../../sync/policy.js";

describe("decide", () => {
  it("acks an accepted parcel and quarantines an invalid one with the server's reason", () => {
    expect(decide({ kind: "accepted" }, [1, 2])).toEqual({ action: "ack" });
    expect(decide({ kind: "quarantine", reason: "HTTP 422: bad gas" }, [1, 2])).toEqual({
      action: "quarantine",
      reason: "HTTP 422: bad gas",
    });
  });

  it("cuts a 413 in halves, the first taking the odd item", () => {
    expect(decide({ kind: "split" }, [1, 2, 3, 4, 5])).toEqual({
      action: "split",
      halves: [
        [1, 2, 3],
        [4, 5],
      ],
    });
  });

  it("quarantines a 413 that cannot be cut: one item, or a parcel that is a unit", () => {
    expect(decide({ kind: "split" }, [7])).toEqual({
      action: "quarantine",
      reason: TOO_LARGE_ALONE,
    });
    expect(decide({ kind: "split" }, null)).toEqual({
      action: "quarantine",
      reason: TOO_LARGE_ALONE,
    });
  });

  it("halts the cycle on auth and retry outcomes, carrying the failure", () => {
    const retry = { kind: "retry", reason: "HTTP 503", retryAfterMs: null } as const;
    expect(decide(retry, [1])).toEqual({ action: "halt", failure: retry });
    const auth = { kind: "auth", reason: "HTTP 401" } as const;
    expect(decide(auth, [1])).toEqual({ action: "halt", failure: auth });
  });
});

describe("planRetry", () => {
  const unreachable = {
    kind: "retry",
    reason: "connect ECONNREFUSED",
    retryAfterMs: null,
    unreachable: true,
  } as const;

  it("backs off with jitter, logs the first failure, and probes an unreachable endpoint", () => {
    expect(planRetry(unreachable, 1, null, () => 0)).toEqual({
      delayMs: 1000,
      state: "backoff",
      lastError: "connect ECONNREFUSED",
      worthALine: true,
      probe: true,
    });
    // The second failure of the same kind: longer ceiling, no new line.
    expect(planRetry(unreachable, 2, "retry", () => 1)).toMatchObject({
      delayMs: 4000,
      worthALine: false,
    });
  });

  it("honours Retry-After and does not probe a server that answered", () => {
    const busy = { kind: "retry", reason: "HTTP 429", retryAfterMs: 30_000 } as const;
    expect(planRetry(busy, 1, null, () => 0)).toEqual({
      delayMs: 30_000,
      state: "backoff",
      lastError: "HTTP 429",
      worthALine: true,
      probe: false,
    });
  });

  it("pauses 2-10 min on refused credentials, with a line when the trouble changes kind", () => {
    const auth = { kind: "auth", reason: "HTTP 401: bad key" } as const;
    expect(planRetry(auth, 3, "retry", () => 0)).toEqual({
      delayMs: AUTH_RETRY.minMs,
      state: "auth_failed",
      lastError: "auth failed: HTTP 401: bad key",
      worthALine: true,
      probe: false,
    });
    expect(planRetry(auth, 4, "auth", () => 1)).toMatchObject({
      delayMs: AUTH_RETRY.maxMs,
      worthALine: false,
    });
  });
});
