/**
 * Publishes in flight, in seq order. The broker may acknowledge them in any
 * order (QoS 1 does not promise ordered PUBACKs), but the watermark may only
 * cover a contiguous acknowledged prefix, or a crash would skip an event.
 */
export class DeliveryWindow {
  /** seq -> acked, in insertion (= seq) order. */
  private readonly pending = new Map<number, boolean>();

  get size(): number {
    return this.pending.size;
  }

  /** Highest seq handed out, or null when empty. */
  get last(): number | null {
    let last: number | null = null;
    for (const seq of this.pending.keys()) last = seq;
    return last;
  }

  add(seq: number): void {
    const last = this.last;
    if (last !== null && seq <= last) throw new Error(`seq ${seq} is not above ${last}`);
    this.pending.set(seq, false);
  }

  /** Marks `seq` acked; returns the new watermark when the acked prefix grew, else null. */
  ack(seq: number): number | null {
    if (!this.pending.has(seq)) return null;
    this.pending.set(seq, true);
    let watermark: number | null = null;
    for (const [pendingSeq, acked] of this.pending) {
      if (!acked) break;
      this.pending.delete(pendingSeq);
      watermark = pendingSeq;
    }
    return watermark;
  }

  clear(): void {
    this.pending.clear();
  }
}
