import { type CodeOf, SensordError } from "../core/errors.js";

/** Upload failures carry one of these; see ERROR_CODES.upload for what each tells the sync policy. */
export type UploadErrorCode = CodeOf<"upload">;

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
