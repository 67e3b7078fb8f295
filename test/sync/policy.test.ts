import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../core/errors.js";
import { UploadError } from "../../sync/errors.js";
import {
  AUTH_RETRY,
  classifyFailure,
  classifyResponse,
  MAX_RETRY_AFTER_MS,
  nextDelayMs,
  parseRetryAfter,
  reasonFromBody,
  type UploadOutcome,
} from "../../sync/policy.js";

const NOW = Date.parse("2015-10-21T07:27:50.000Z");

describe("parseRetryAfter", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("1", NOW)).toBe(1000);
    expect(parseRetryAfter(" 120 ", NOW)).toBe(120_000);
    expect(parseRetryAfter("0", NOW)).toBe(0);
  });

  it("reads an HTTP date relative to now, never negative", () => {
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", NOW)).toBe(10_000);
    expect(parseRetryAfter("Wednesday, 21-Oct-15 07:28:00 GMT", NOW)).toBe(10_000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", NOW)).toBe(0);
  });

  it("ignores what is neither", () => {
    for (const value of [undefined, null, "", "soon", "-5", "1.5", "2015-10-21", "in 5 minutes"]) {
      expect(parseRetryAfter(value, NOW)).toBeNull();
    }
  });
});

describe("classifyResponse", () => {
  it("accepts 2xx and 409 (already have it)", () => {
    for (const status of [200, 201, 202, 204, 299, 409]) {
      expect(classifyResponse(status, {}, "")).toEqual({ kind: "accepted" });
    }
  });

  it("splits on 413", () => {
    expect(classifyResponse(413, {}, "too big")).toEqual({ kind: "split" });
  });

  it("quarantines 400 and 422 with the server's reason", () => {
    expect(classifyResponse(400, {}, '{"error":"readings[3].value: not a number"}')).toEqual({
      kind: "quarantine",
      reason: "HTTP 400: readings[3].value: not a number",
    });
    expect(classifyResponse(422, {}, "unknown gas\n  'xyz'")).toEqual({
      kind: "quarantine",
      reason: "HTTP 422: unknown gas 'xyz'",
    });
    expect(classifyResponse(422, {}, "")).toEqual({ kind: "quarantine", reason: "HTTP 422" });
  });

  it("reports 401 and 403 as auth failures", () => {
    expect(classifyResponse(401, {}, '{"message":"bad api key"}')).toEqual({
      kind: "auth",
      reason: "HTTP 401: bad api key",
    });
    expect(classifyResponse(403, {}, "Forbidden")).toEqual({
      kind: "auth",
      reason: "HTTP 403: Forbidden",
    });
  });

  it("retries 408, 429 and 5xx, honouring Retry-After", () => {
    for (const status of [408, 429, 500, 502, 503, 504, 599]) {
      expect(classifyResponse(status, {}, "")).toEqual({
        kind: "retry",
        reason: `HTTP ${status}`,
        retryAfterMs: null,
      });
    }
    expect(classifyResponse(429, { "retry-after": "1" }, "slow down")).toEqual({
      kind: "retry",
      reason: "HTTP 429: slow down",
      retryAfterMs: 1000,
    });
  });

  it("measures an HTTP-date Retry-After against the server's Date, not the Pi's clock", () => {
    const headers = {
      date: "Wed, 21 Oct 2015 07:27:30 GMT",
      "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT",
    };
    // The Pi's clock is a year behind: the wait is still 30 s.
    const outcome = classifyResponse(503, headers, "", NOW - 365 * 86_400_000);
    expect(outcome).toMatchObject({ kind: "retry", retryAfterMs: 30_000 });
    // Without a Date header, the local clock is all there is.
    expect(classifyResponse(503, { "retry-after": headers["retry-after"] }, "", NOW)).toMatchObject(
      {
        retryAfterMs: 10_000,
      },
    );
  });

  it("retries anything else and says it was unexpected", () => {
    for (const status of [100, 301, 302, 404, 405, 418, 600]) {
      const outcome = classifyResponse(status, {}, "nope");
      expect(outcome).toEqual({
        kind: "retry",
        reason: `unexpected HTTP ${status}: nope (treated as retryable)`,
        retryAfterMs: null,
      });
    }
  });
});

describe("reasonFromBody", () => {
  it("keeps reasons short and on one line", () => {
    expect(reasonFromBody("x".repeat(2000))).toBe(`${"x".repeat(500)}...`);
    expect(reasonFromBody('{"error":{"message":"nested"}}')).toBe("nested");
    expect(reasonFromBody('{"errors":[1]}')).toBe('{"errors":[1]}');
    expect(reasonFromBody("{not json")).toBe("{not json");
  });
});

describe("classifyFailure", () => {
  it("retries network failures with the cause as reason", () => {
    const refused = new UploadError(
      ERROR_CODES.upload.unreachable,
      "connect ECONNREFUSED 127.0.0.1:8787",
    );
    expect(classifyFailure(refused)).toEqual({
      kind: "retry",
      reason: "connect ECONNREFUSED 127.0.0.1:8787",
      retryAfterMs: null,
      unreachable: true,
    });
    const timeout = new UploadError(
      ERROR_CODES.upload.timeout,
      "timeout waiting for response headers (30000 ms)",
    );
    expect(classifyFailure(timeout)).toEqual({
      kind: "retry",
      reason: "timeout waiting for response headers (30000 ms)",
      retryAfterMs: null,
    });
    expect(classifyFailure(new Error("boom"))).toEqual({
      kind: "retry",
      reason: "boom",
      retryAfterMs: null,
    });
    expect(classifyFailure("weird")).toMatchObject({ kind: "retry", reason: "weird" });
  });
});

describe("nextDelayMs", () => {
  const retry = (retryAfterMs: number | null = null): UploadOutcome => ({
    kind: "retry",
    reason: "HTTP 503",
    retryAfterMs,
  });
  const randoms = [0, 1e-9, 0.25, 0.5, 0.75, 0.999999999];

  it("stays within 1 s .. 5 min for every attempt", () => {
    for (let attempt = 1; attempt <= 60; attempt++) {
      for (const r of randoms) {
        const delay = nextDelayMs(retry(), attempt, () => r);
        expect(delay).toBeGreaterThanOrEqual(1000);
        expect(delay).toBeLessThanOrEqual(300_000);
      }
    }
  });

  it("grows exponentially with full jitter up to the ceiling", () => {
    const top = (attempt: number) => nextDelayMs(retry(), attempt, () => 1);
    expect([1, 2, 3, 4, 5, 8, 9, 20].map(top)).toEqual([
      2000, 4000, 8000, 16_000, 32_000, 256_000, 300_000, 300_000,
    ]);
    // Full jitter: the same attempt spreads over the whole range.
    expect(nextDelayMs(retry(), 9, () => 0.5)).toBe(150_000);
  });

  it("waits at least as long as Retry-After asks, capped at an hour", () => {
    expect(nextDelayMs(retry(30_000), 1, () => 0)).toBe(30_000);
    expect(nextDelayMs(retry(1000), 20, () => 1)).toBe(300_000);
    expect(nextDelayMs(retry(7_200_000), 1, () => 0)).toBe(MAX_RETRY_AFTER_MS);
    expect(nextDelayMs(retry(0), 1, () => 0)).toBe(1000);
  });

  it("probes an unreachable endpoint every 1-10 s so its return is noticed quickly", () => {
    const unreachable: UploadOutcome = {
      kind: "retry",
      reason: "connect ECONNREFUSED 127.0.0.1:8787",
      retryAfterMs: null,
      unreachable: true,
    };
    for (let attempt = 1; attempt <= 60; attempt++) {
      for (const r of randoms) {
        const delay = nextDelayMs(unreachable, attempt, () => r);
        expect(delay).toBeGreaterThanOrEqual(1000);
        expect(delay).toBeLessThanOrEqual(10_000);
      }
    }
  });

  it("retries auth failures slowly, with jitter", () => {
    const auth: UploadOutcome = { kind: "auth", reason: "HTTP 401" };
    expect(nextDelayMs(auth, 1, () => 0)).toBe(AUTH_RETRY.minMs);
    expect(nextDelayMs(auth, 1, () => 1)).toBe(AUTH_RETRY.maxMs);
    expect(nextDelayMs(auth, 1, () => 0.5)).toBe(360_000);
  });

  it("does not wait after an accepted, split or quarantined batch", () => {
    expect(nextDelayMs({ kind: "accepted" }, 3)).toBe(0);
    expect(nextDelayMs({ kind: "split" }, 3)).toBe(0);
    expect(nextDelayMs({ kind: "quarantine", reason: "x" }, 3)).toBe(0);
  });
});
