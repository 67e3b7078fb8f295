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
