export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DRIVER_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 60_000 };

/**
 * Exponential backoff with full jitter (a delay drawn at random up to the
 * doubling ceiling, not the ceiling itself): spreads retries of many Pis that
 * lost the same bus or network at the same moment. `attempt` counts from 1.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(policy.initialMs / 2, Math.round(random() * ceiling));
}
