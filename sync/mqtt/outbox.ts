import type { AlertEvent } from "../../schemas/alert.js";

export interface QueuedAlert {
  seq: number;
  event: AlertEvent;
}

/**
 * The relay's view of the database: alert events above a per-topic delivery
 * watermark. The store implements it (daemon/store/mqtt-outbox.ts), so the
 * relay needs no SQL.
 */
export interface MqttOutbox {
  /** The topic's watermark; a topic seen for the first time starts at `startSeq`. */
  watermark(topic: string, startSeq: number): number;
  /** Up to `limit` events with seq > `after`, oldest first. */
  after(after: number, limit: number): QueuedAlert[];
  countAfter(after: number): number;
  setWatermark(topic: string, seq: number): void;
}
