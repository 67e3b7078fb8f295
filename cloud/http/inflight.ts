import { ERROR_CODES } from "../../core/errors.js";
import { formatSize } from "../../core/size.js";
import { HttpError } from "../core/errors.js";

export const DEFAULT_MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;
/** Seconds a refused client is asked to wait: about one request's time under load. */
const RETRY_AFTER_SECONDS = 2;

/**
 * Bytes of request bodies being read or processed at once. Without a cap,
 * 80 slow 8 MiB uploads held ~730 MB; with it, past the cap the answer is
 * 503 with Retry-After, which sensord (and any well-behaved client) retries.
 */
export class InflightBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get bytes(): number {
    return this.used;
  }

  /** Takes `bytes` if they fit; false (nothing taken) otherwise. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  refusal(): HttpError {
    return new HttpError(
      503,
      ERROR_CODES.ingest.busy,
      `request bodies in progress already hold ${formatSize(this.limit)} (--max-inflight-bytes); retry after ${RETRY_AFTER_SECONDS} s`,
      {
        headers: { "retry-after": String(RETRY_AFTER_SECONDS) },
        details: { retryAfter: RETRY_AFTER_SECONDS },
      },
    );
  }
}
