import type { EncodedBody } from "../batch.js";
import type { UploadOutcome } from "../policy.js";

/**
 * What one write's answer means for the items it carried (sync/policy.ts):
 * `accepted`; `quarantine` (rejected as invalid, 400/422: kept aside, later
 * items go on); `split` (too large, 413: the halves go separately); `auth`
 * (credentials refused, 401/403: pause until the key may have changed);
 * `retry` (retry later, honouring Retry-After when the server sent one).
 */
export type WriteOutcome = UploadOutcome;

/** One request's worth of items, serialized for the wire by the output's serializer. */
export interface Parcel {
  /** The idempotency key: the same items give the same id, so a resend after a crash dedupes. */
  id: string;
  /** The store sequence numbers of the items, what the backlog marks once the output answers. */
  seqs: readonly number[];
  /** JSON text, or a body already encoded (and gzip'd) by the encoder thread. */
  body: string | EncodedBody;
}

export interface WriteResult {
  outcome: WriteOutcome;
  /** The HTTP status, or 0 when there was no answer; kept with quarantined items. */
  status: number;
  /** Bytes put on the wire for this request (after compression). */
  bytesSent: number;
}

/**
 * A destination for committed data. It only talks to the destination:
 * scheduling, backoff, splitting, quarantine and status belong to the
 * RunningOutput that drives it.
 */
export interface Output {
  /** Names the output in status, logs and metrics (`output="..."`); stable, lowercase. */
  readonly name: string;
  /** Called at the start of each delivery cycle, e.g. to re-read a key file fixed after an auth failure. */
  startCycle(): void;
  /** One attempt; never throws: every failure is an outcome. */
  write(parcel: Parcel): Promise<WriteResult>;
  /** Ends requests in flight and releases connections; writes after it fail as retryable. */
  close(): Promise<void>;
}

/** Where an output's items wait: the daemon's database, behind an interface. */
export interface OutputBacklog {
  /** The output accepted these items. */
  ack(seqs: readonly number[]): void;
  /** The output refused these as invalid: kept aside, shown in status, never retried blindly. */
  quarantine(
    seqs: readonly number[],
    info: { batchId: string; status: number; reason: string },
  ): void;
}

/** Every output's status, in one shape. */
export type OutputState = "idle" | "uploading" | "backoff" | "auth_failed" | "stopped";

export interface OutputStatus {
  name: string;
  state: OutputState;
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  /** When the next attempt after a failure is due (epoch ms), or null. */
  nextAttemptAt: number | null;
  consecutiveFailures: number;
  /** Items the destination accepted since start. */
  deliveredTotal: number;
  /** Requests made, every attempt counted. */
  requests: number;
  /** Request body bytes sent (gzip'd when compressed), every attempt counted. */
  bytesSent: number;
  /** Attempts that failed (each retry counts), since start. */
  failuresTotal: number;
  /** Items per second over the last cycle that delivered anything. */
  itemsPerSecond: number;
}

/** An output's status before its first attempt. */
export function freshOutputStatus(name: string): OutputStatus {
  return {
    name,
    state: "idle",
    lastSuccessAt: null,
    lastError: null,
    lastErrorAt: null,
    nextAttemptAt: null,
    consecutiveFailures: 0,
    deliveredTotal: 0,
    requests: 0,
    bytesSent: 0,
    failuresTotal: 0,
    itemsPerSecond: 0,
  };
}
