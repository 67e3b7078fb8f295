import { SensordError } from "../core/errors.js";

/**
 * Stable codes for upload failures. The sync policy branches on these (never on
 * message text): `UNREACHABLE` means the request never left the Pi, so probing
 * again soon costs the server nothing; the others may have reached it.
 */
export const UPLOAD_ERROR_CODES = {
  unreachable: "SENSORD_UPLOAD_UNREACHABLE",
  timeout: "SENSORD_UPLOAD_TIMEOUT",
  reset: "SENSORD_UPLOAD_RESET",
  aborted: "SENSORD_UPLOAD_ABORTED",
  network: "SENSORD_UPLOAD_NETWORK",
} as const;
export type UploadErrorCode = (typeof UPLOAD_ERROR_CODES)[keyof typeof UPLOAD_ERROR_CODES];

/**
 * An upload did not get a complete answer. `retryable` says whether sending the
 * same batch again can help (it is safe: the idempotency key makes a repeat a
 * no-op on the server); `status` is set when the response headers had arrived
 * before the failure (e.g. a reset in the middle of a 200's body).
 */
export class UploadError extends SensordError {
  readonly retryable: boolean;
  readonly status?: number;
  constructor(
    code: UploadErrorCode,
    message: string,
    options: { retryable?: boolean; status?: number; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.retryable = options.retryable ?? true;
    if (options.status !== undefined) this.status = options.status;
  }
}
