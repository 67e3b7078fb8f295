/** First reconnect delay; never a tight loop, even against a broker that accepts and drops at once. */
export const RECONNECT_MIN_MS = 1000;
/** Broker unreachable: retry at least this often, so the backlog moves soon after it returns. */
export const RECONNECT_MAX_MS = 10_000;
/** Rejected (TLS, credentials): retrying fast cannot help and AWS IoT throttles it. */
export const REJECTED_MAX_MS = 60_000;

/**
 * Delay before reconnect attempt `failures` (1 = after the first failure):
 * exponential, "equal jitter" (half fixed, half random) so a fleet that lost
 * the broker together does not come back in lockstep, and never below half
 * of the step.
 */
export function reconnectDelayMs(
  failures: number,
  rejected: boolean,
  random: () => number,
): number {
  const cap = rejected ? REJECTED_MAX_MS : RECONNECT_MAX_MS;
  const step = Math.min(cap, RECONNECT_MIN_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * At most `limit` publishes in any `windowMs` (AWS IoT Core: 100 per second
 * per connection). Pure: the caller passes the clock.
 */
export class RatePacer {
  private readonly sent: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** 0 when a publish may go now, else how long to wait. */
  waitMs(now: number): number {
    while (this.sent.length > 0 && (this.sent[0] ?? 0) <= now - this.windowMs) this.sent.shift();
    if (this.sent.length < this.limit) return 0;
    return (this.sent[0] ?? now) + this.windowMs - now;
  }

  record(now: number): void {
    this.sent.push(now);
  }
}
