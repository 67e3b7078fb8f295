import { describeError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { BatchDevice } from "../schemas/batch.js";
import { alertBatchJson, alertEnvelopeBytes, MAX_ALERTS_PER_BATCH } from "./alerts-batch.js";
import type { AlertUploadQueue, QueuedAlertUpload } from "./alerts-queue.js";
import { chunkReadings, splitInHalf } from "./batch.js";
import { nextDelayMs, type UploadOutcome } from "./policy.js";

/** One POST of a prepared JSON body with the upload headers; never throws. */
export type AlertPost = (
  url: string,
  json: string,
  idempotencyKey: string,
) => Promise<{ outcome: UploadOutcome; status: number }>;

export interface AlertUploaderDeps {
  endpoint: string;
  device: BatchDevice;
  queue: AlertUploadQueue;
  /** [sync] batch_max_bytes: the same cap as for readings. */
  maxBytes: number;
  post: AlertPost;
  log: Logger;
  /** A backoff ended: run an upload cycle. */
  onRetryDue: () => void;
  random?: () => number;
}

export interface AlertUploadStatus {
  endpoint: string;
  /** Events in the database the endpoint has not taken (quarantined ones excluded). */
  pending: number;
  /** Events the endpoint accepted since start. */
  uploadedTotal: number;
  /** Events the endpoint refused as invalid (400/422), kept in the database. */
  quarantined: number;
  lastError: string | null;
  nextAttemptAt: number | null;
  consecutiveFailures: number;
}

/**
 * Uploads alert events as `sensord.alerts.v1`, oldest first, one request at
 * a time, as part of the sync cycle. It keeps its own backoff: an alerts
 * endpoint that is missing or failing (an ingest without the route answers
 * 404) must not hold back readings, nor readings trouble hold back alerts.
 * Outcomes follow sync/policy.ts like readings; nothing is dropped.
 */
export class AlertUploader {
  private uploadedTotal = 0;
  private lastError: string | null = null;
  private lastFailureKind: UploadOutcome["kind"] | null = null;
  private nextAttemptAt: number | null = null;
  private consecutiveFailures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly envelopeBytes: number;

  constructor(private readonly deps: AlertUploaderDeps) {
    this.envelopeBytes = alertEnvelopeBytes(deps.device);
  }

  /** Sends every pending event unless a backoff is running; records a failure instead of throwing. */
  async run(): Promise<void> {
    if (this.stopped) return;
    if (this.nextAttemptAt !== null && Date.now() < this.nextAttemptAt) return;
    let sent = 0;
    try {
      for (;;) {
        const items = this.deps.queue.pending(MAX_ALERTS_PER_BATCH);
        if (items.length === 0) break;
        for (const chunk of chunkReadings(
          items,
          MAX_ALERTS_PER_BATCH,
          this.deps.maxBytes,
          this.envelopeBytes,
        )) {
          const accepted = await this.send(chunk);
          if (accepted === null) return;
          sent += accepted;
        }
      }
    } catch (error) {
      // A database error: the events stay where they are; try again later.
      this.fail({ kind: "retry", reason: describeError(error), retryAfterMs: null });
      return;
    }
    this.succeeded(sent);
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  status(): AlertUploadStatus {
    const stats = this.deps.queue.stats();
    return {
      endpoint: this.deps.endpoint,
      pending: stats.pending,
      uploadedTotal: this.uploadedTotal,
      quarantined: stats.quarantinedAlerts,
      lastError: this.lastError,
      nextAttemptAt: this.nextAttemptAt,
      consecutiveFailures: this.consecutiveFailures,
    };
  }

  /** Events the endpoint took, or null when the run must stop (a backoff was scheduled). */
  private async send(chunk: QueuedAlertUpload[]): Promise<number | null> {
    const first = chunk[0];
    const last = chunk.at(-1);
    if (first === undefined || last === undefined) return 0;
    const batch = alertBatchJson(this.deps.device, chunk);
    const { outcome, status } = await this.deps.post(this.deps.endpoint, batch.json, batch.batchId);
    switch (outcome.kind) {
      case "accepted":
        this.deps.queue.markUploaded(last.seq);
        this.uploadedTotal += chunk.length;
        return chunk.length;
      case "quarantine":
        this.quarantine(chunk, batch.batchId, status, outcome.reason);
        return 0;
      case "split": {
        const halves = splitInHalf(chunk);
        if (halves === null) {
          this.quarantine(
            chunk,
            batch.batchId,
            status,
            "too large for the endpoint even alone (413)",
          );
          return 0;
        }
        const head = await this.send(halves[0]);
        if (head === null) return null;
        const tail = await this.send(halves[1]);
        return tail === null ? null : head + tail;
      }
      case "auth":
      case "retry":
        if (!this.stopped) this.fail(outcome);
        return null;
    }
  }

  private quarantine(
    chunk: QueuedAlertUpload[],
    batchId: string,
    status: number,
    reason: string,
  ): void {
    const firstSeq = chunk[0]?.seq ?? 0;
    const lastSeq = chunk.at(-1)?.seq ?? firstSeq;
    this.deps.queue.quarantine(
      { firstSeq, lastSeq, alerts: chunk.length },
      { batchId, status, reason },
    );
    this.deps.log.error(
      `alerts endpoint rejected batch ${batchId} (${chunk.length} alert events, HTTP ${status}): ${reason}; ` +
        "kept in quarantine, later alerts go on",
    );
  }

  private fail(outcome: UploadOutcome): void {
    this.consecutiveFailures++;
    const delay = nextDelayMs(outcome, this.consecutiveFailures, this.deps.random);
    const reason = "reason" in outcome ? outcome.reason : outcome.kind;
    const worthALine = this.consecutiveFailures === 1 || outcome.kind !== this.lastFailureKind;
    this.lastFailureKind = outcome.kind;
    this.lastError = outcome.kind === "auth" ? `auth failed: ${reason}` : reason;
    this.nextAttemptAt = Date.now() + delay;
    if (worthALine) {
      this.deps.log.warn(
        `alert upload failed (${this.lastError}); keeping every event, retrying in ${Math.round(delay / 1000)} s`,
      );
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      // Due now: timers may fire a millisecond before Date.now() reaches nextAttemptAt.
      this.nextAttemptAt = null;
      this.deps.onRetryDue();
    }, delay);
    this.retryTimer.unref();
  }

  private succeeded(sent: number): void {
    if (this.consecutiveFailures > 0) {
      this.deps.log.info(
        `alert uploads work again after ${this.consecutiveFailures} failed attempt(s)`,
      );
    }
    this.consecutiveFailures = 0;
    this.lastFailureKind = null;
    this.lastError = null;
    this.nextAttemptAt = null;
    if (sent > 0) this.deps.log.debug(`uploaded ${sent} alert events`);
  }
}
