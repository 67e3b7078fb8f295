import { type BackoffPolicy, backoffDelay } from "../core/backoff.js";
import { describeError, ERROR_CODES } from "../core/errors.js";
import { UploadError } from "./errors.js";

/** What to do with a batch after one attempt to upload it. */
export type UploadOutcome =
  | { kind: "accepted" }
  | { kind: "split" }
  | { kind: "quarantine"; reason: string }
  | { kind: "auth"; reason: string }
  | {
      kind: "retry";
      reason: string;
      retryAfterMs: number | null;
      /**
       * The request never left the Pi (connection refused, connect timeout,
       * DNS, no route): see UNREACHABLE_BACKOFF.
       */
      unreachable?: true;
    };

/**
 * 1 s .. 5 min, full jitter. `backoffDelay` never goes below initialMs / 2,
 * so initialMs = 2 s gives the 1 s floor; the ceiling doubles from 2 s.
 */
export const UPLOAD_BACKOFF: BackoffPolicy = { initialMs: 2_000, maxMs: 300_000 };

/**
 * 1 s .. 10 s, full jitter, for an endpoint that cannot be reached at all.
 * A refused or unanswered connect costs the server nothing, and the long
 * ceiling is what made Fluent Bit take 146 s to notice a receiver was back
 * after a 60 s outage: with this the backlog
 * starts moving within 10 s of the endpoint's return however long it was away
 * (plus the connect timeout of the probe in flight, if SYNs were being dropped).
 * Servers that answer (429, 5xx, resets after the request was sent) still get
 * the full 5 min ceiling: they are the ones a fleet can overload.
 */
export const UNREACHABLE_BACKOFF: BackoffPolicy = { initialMs: 2_000, maxMs: 10_000 };

/**
 * Retry-After is honoured up to 1 h. A Pi has no RTC and a proxy may send
 * nonsense; an unbounded value (days) would park the uploader while the disk
 * fills, whereas an hour covers any real maintenance window and the next
 * answer can ask for more.
 */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Rejected credentials will not fix themselves within seconds; retrying every
 * 2-10 min (uniform) keeps the log and the server quiet until someone rotates
 * the key, and the jitter keeps a fleet with the same bad key from retrying in step.
 */
export const AUTH_RETRY = { minMs: 120_000, maxMs: 600_000 } as const;

/** How much of a server's answer to keep as a quarantine or auth reason. */
export const MAX_REASON_CHARS = 500;

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export function classifyResponse(
  status: number,
  headers: ResponseHeaders,
  body: string,
  nowMs: number = Date.now(),
): UploadOutcome {
  if ((status >= 200 && status < 300) || status === 409) return { kind: "accepted" };
  if (status === 413) return { kind: "split" };
  const detail = reasonFromBody(body);
  const reason = detail === "" ? `HTTP ${status}` : `HTTP ${status}: ${detail}`;
  if (status === 400 || status === 422) return { kind: "quarantine", reason };
  if (status === 401 || status === 403) return { kind: "auth", reason };
  const retryAfterMs = parseRetryAfter(header(headers, "retry-after"), serverNow(headers, nowMs));
  if (status === 408 || status === 429 || (status >= 500 && status < 600)) {
    return { kind: "retry", reason, retryAfterMs };
  }
  // 3xx (redirects are not followed), 404, 405, ...: most likely a wrong
  // endpoint. Dropping data over it would be worse than retrying, so retry and say so.
  return {
    kind: "retry",
    reason: `unexpected ${reason} (treated as retryable)`,
    retryAfterMs,
  };
}

/** Every failure without a usable response is worth retrying: the batch id makes repeats harmless. */
export function classifyFailure(error: unknown): UploadOutcome {
  const reason = describeError(error);
  if (error instanceof UploadError && error.code === ERROR_CODES.upload.unreachable) {
    return { kind: "retry", reason, retryAfterMs: null, unreachable: true };
  }
  return { kind: "retry", reason, retryAfterMs: null };
}

/**
 * Retry-After as delay-seconds or an HTTP date (RFC 9110 section 10.2.3), in ms
 * from `nowMs`. Null when absent or unparsable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number.parseInt(text, 10) * 1000;
  // Date.parse also takes bare numbers and ISO fragments; an HTTP date always has a month name.
  if (!/[a-z]{3}/i.test(text)) return null;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return null;
  return Math.max(0, at - nowMs);
}

/**
 * How long to wait before the next attempt. `attempt` counts failed attempts
 * of this batch from 1 and resets after a success.
 */
export function nextDelayMs(
  outcome: UploadOutcome,
  attempt: number,
  random: () => number = Math.random,
): number {
  switch (outcome.kind) {
    case "accepted":
    case "split":
    case "quarantine":
      return 0;
    case "auth":
      return Math.round(AUTH_RETRY.minMs + random() * (AUTH_RETRY.maxMs - AUTH_RETRY.minMs));
    case "retry": {
      const policy = outcome.unreachable ? UNREACHABLE_BACKOFF : UPLOAD_BACKOFF;
      const backoff = backoffDelay(policy, attempt, random);
      // The larger of the two: a server asking for 2 s does not get hammered
      // by a client that has already backed off to minutes, and vice versa.
      const asked = outcome.retryAfterMs === null ? 0 : outcome.retryAfterMs;
      return Math.max(backoff, Math.min(asked, MAX_RETRY_AFTER_MS));
    }
  }
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The server's own Date header, when it has one, as "now" for an HTTP-date
 * Retry-After: the Pi's clock may be far off (no RTC, NTP not yet synced),
 * the server's Date and Retry-After come from the same clock.
 */
function serverNow(headers: ResponseHeaders, fallbackMs: number): number {
  const date = header(headers, "date");
  const parsed = date === undefined ? Number.NaN : Date.parse(date);
  return Number.isFinite(parsed) ? parsed : fallbackMs;
}

/**
 * A short reason from a response body: the usual JSON error fields when the
 * body is JSON, else the text itself; one line, at most MAX_REASON_CHARS.
 */
export function reasonFromBody(body: string): string {
  let text = body.trim();
  if (text.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(text);
      const field = pickMessage(parsed);
      if (field !== null) text = field;
    } catch {
      // not JSON after all: keep the text
    }
  }
  text = text.replace(/\s+/g, " ").trim();
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}...` : text;
}

function pickMessage(parsed: unknown): string | null {
  if (typeof parsed !== "object" || parsed === null) return null;
  for (const key of ["message", "error", "reason", "detail", "title"]) {
    if (key in parsed) {
      const value: unknown = Reflect.get(parsed, key);
      if (typeof value === "string" && value !== "") return value;
      if (typeof value === "object" && value !== null) {
        const nested = pickMessage(value);
        if (nested !== null) return nested;
      }
    }
  }
  return null;
}
