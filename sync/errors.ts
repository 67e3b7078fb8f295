import { type CodeOf, SensordError } from "../core/errors.js";

/** Upload failures carry one of these; see ERROR_CODES.upload for what each tells the sync policy. */
export type UploadErrorCode = CodeOf<"upload">;

/**
 * An upload did not get a complete answer. The sync policy sends the same batch
 * again after every one (safe: the idempotency key makes a repeat a no-op on the
 * server), sooner when the code says it never left the Pi; `status` is set when
 * the response headers had arrived before the failure (e.g. a reset in the
 * middle of a 200's body).
 */
export class UploadError extends SensordError {
  readonly status?: number;
  constructor(
    code: UploadErrorCode,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause });
    if (options.status !== undefined) this.status = options.status;
  }
}
