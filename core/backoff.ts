/**
 * How a retry loop spaces its attempts: the ceiling doubles from `initialMs`
 * up to `maxMs`, and jitter spreads a fleet of Pis that lost the same bus,
 * network or broker at the same moment so they do not come back in lockstep
 * (AWS architecture blog, "Exponential Backoff And Jitter").
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /**
   * "full" (the default): anywhere from 0 to the ceiling, but never below
   * initialMs / 2, so a lucky draw is still no tight loop. "equal": half the
   * ceiling fixed, half random, for a loop that must never retry fast.
   */
  jitter?: "full" | "equal";
}

export const DRIVER_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 60_000 };

/**
 * The MQTT relay's reconnects to a broker that cannot be reached: 1 s at
 * first (never a tight loop, even against a broker that accepts and drops at
 * once), and at least every 10 s, so the backlog moves soon after the broker returns.
 */
export const BROKER_UNREACHABLE_BACKOFF: BackoffPolicy = {
  initialMs: 1000,
  maxMs: 10_000,
  jitter: "equal",
};

/** The broker refused the connection (TLS, credentials): retrying fast cannot help and AWS IoT throttles it. */
export const BROKER_REJECTED_BACKOFF: BackoffPolicy = {
  initialMs: 1000,
  maxMs: 60_000,
  jitter: "equal",
};

/** The delay before retry `attempt`, which counts from 1 (the retry after the first failure). */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  if (policy.jitter === "equal") return Math.round(ceiling / 2 + random() * (ceiling / 2));
  return Math.max(policy.initialMs / 2, Math.round(random() * ceiling));
}
