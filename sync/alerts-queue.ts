/** An alert event waiting for upload, with its JSON built once (see QueuedReading). */
export interface QueuedAlertUpload {
  seq: number;
  id: string;
  /** Exactly `JSON.stringify(event)`. */
  json: string;
  /** UTF-8 length of `json`. */
  bytes: number;
}

/** Alerts the endpoint refused as invalid (400/422): kept in the database, not retried. */
export interface QuarantinedAlerts {
  batchId: string;
  alerts: number;
  firstSeq: number;
  lastSeq: number;
  status: number;
  reason: string;
  atMs: number;
}

export interface AlertUploadStats {
  pending: number;
  quarantinedBatches: number;
  quarantinedAlerts: number;
}

/**
 * The alerts table as an upload queue: events above a watermark. Uploads go
 * strictly oldest-first, one request at a time, so the watermark alone says
 * what was taken; a crash between an upload and its marking re-sends the
 * same events, which the endpoint stores once per (device, id).
 */
export interface AlertUploadQueue {
  /** Up to `limit` events above the watermark, oldest first. */
  pending(limit: number): QueuedAlertUpload[];
  /** The endpoint accepted everything up to `lastSeq`. */
  markUploaded(lastSeq: number): void;
  /** The endpoint refused these (400/422): recorded and passed over, in one transaction. */
  quarantine(
    batch: { firstSeq: number; lastSeq: number; alerts: number },
    info: { batchId: string; status: number; reason: string },
  ): void;
  quarantined(): QuarantinedAlerts[];
  stats(): AlertUploadStats;
}
