import { type CodeOf, SensordError } from "../../core/errors.js";
import { type CoreResponse, jsonResponse } from "./exchange.js";

/**
 * A request the service refuses: answered with `status` and the JSON body
 * `{"error": message, "code": code, ...details}`. Clients branch on `code`
 * (stable), people read `error`.
 */
export class HttpError extends SensordError {
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>>;
  /** Extra response headers, e.g. `Allow` on a 405. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    status: number,
    code: CodeOf<"ingest">,
    message: string,
    options: {
      details?: Record<string, unknown>;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.status = status;
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }

  body(): Record<string, unknown> {
    return { error: this.message, code: this.code, ...this.details };
  }
}

/** The answer an HttpError stands for. */
export function errorResponse(error: HttpError): CoreResponse {
  return {
    ...jsonResponse(error.status, error.body(), error.message),
    headers: { ...error.headers, "content-type": "application/json; charset=utf-8" },
  };
}
