import type { BatchReading } from "../schemas/batch.js";

/** A committed reading waiting for upload, with its sequence number (its place in the queue). */
export interface QueuedReading {
  seq: number;
  /** The reading's id, as in `reading` and `json`. */
  id: string;
  /**
   * Exactly `JSON.stringify(reading)`: what a batch carries, built once by the
   * queue so that measuring and sending a batch never re-serializes it.
   */
  json: string;
  /** UTF-8 length of `json`: what the reading adds to a batch's size. */
  bytes: number;
  reading: BatchReading;
}

export interface QuarantinedBatch {
  batchId: string;
  readings: number;
  firstSeq: number;
  lastSeq: number;
  /** The HTTP status the endpoint answered. */
  status: number;
  /** What the endpoint said was wrong. */
  reason: string;
  atMs: number;
}

export interface QueueStats {
  pending: number;
  oldestPendingTsMs: number | null;
  quarantinedBatches: number;
  quarantinedReadings: number;
}

/**
 * The upload queue over the database: which committed readings the endpoint
 * has not accepted yet. Marking is transactional, so a crash between an
 * upload and its marking re-sends the same readings (the endpoint dedupes by
 * id and idempotency key) and never loses one.
 */
export interface SyncQueue {
  /** Up to `limit` pending readings with seq > `afterSeq`, oldest first. */
  oldestPending(afterSeq: number, limit: number): QueuedReading[];
  /** The newest `limit` pending readings, returned oldest first. */
  newestPending(limit: number): QueuedReading[];
  /** The endpoint accepted these: one transaction. */
  markUploaded(seqs: readonly number[]): void;
  /** The endpoint refused these as invalid (400/422): kept, never retried blindly, shown in status. */
  quarantine(
    seqs: readonly number[],
    info: { batchId: string; status: number; reason: string },
  ): void;
  quarantined(): QuarantinedBatch[];
  stats(): QueueStats;
}
