import { splitInHalf } from "../batch.js";
import { nextDelayMs } from "../policy.js";
import type { OutputState, WriteOutcome } from "./contract.js";

/** The outcomes that stop a cycle and schedule the next attempt. */
export type FailureOutcome = Extract<WriteOutcome, { kind: "auth" | "retry" }>;

/** What to do with the items of one write, given its outcome. */
export type Decision<Item> =
  | { action: "ack" }
  | { action: "quarantine"; reason: string }
  | { action: "split"; halves: [Item[], Item[]] }
  | { action: "halt"; failure: FailureOutcome };

/** Why a single item, or a parcel that cannot be cut, goes to quarantine on a 413. */
export const TOO_LARGE_ALONE = "too large for the endpoint even alone (413)";

/**
 * The decision for `items` after `outcome`. `items` null means the parcel
 * cannot be cut (one original document): a 413 quarantines it like a single item.
 */
export function decide<Item>(outcome: WriteOutcome, items: readonly Item[] | null): Decision<Item> {
  switch (outcome.kind) {
    case "accepted":
      return { action: "ack" };
    case "quarantine":
      return { action: "quarantine", reason: outcome.reason };
    case "split": {
      const halves = items === null ? null : splitInHalf(items);
      return halves === null
        ? { action: "quarantine", reason: TOO_LARGE_ALONE }
        : { action: "split", halves };
    }
    case "auth":
    case "retry":
      return { action: "halt", failure: outcome };
  }
}

/** How a failed attempt is handled: when to try again, what status shows, whether to log. */
export interface RetryPlan {
  delayMs: number;
  state: Extract<OutputState, "backoff" | "auth_failed">;
  lastError: string;
  /** One line when the trouble starts or changes kind (e.g. timeouts become auth failures). */
  worthALine: boolean;
  /**
   * Probe the endpoint with TCP connects meanwhile: only when the request
   * never left and the server asked for no delay. An endpoint that answers
   * (429, 5xx) or resets accepts connects, so a probe would turn its backoff
   * into a tight loop.
   */
  probe: boolean;
}

/**
 * The plan after the `consecutiveFailures`-th failure in a row (counted from
 * 1); `previousKind` is the kind of the failure before it, null after a success.
 */
export function planRetry(
  failure: FailureOutcome,
  consecutiveFailures: number,
  previousKind: FailureOutcome["kind"] | null,
  random?: () => number,
): RetryPlan {
  const auth = failure.kind === "auth";
  return {
    delayMs: nextDelayMs(failure, consecutiveFailures, random),
    state: auth ? "auth_failed" : "backoff",
    lastError: auth ? `auth failed: ${failure.reason}` : failure.reason,
    worthALine: consecutiveFailures === 1 || failure.kind !== previousKind,
    probe: !auth && failure.unreachable === true && failure.retryAfterMs === null,
  };
}
