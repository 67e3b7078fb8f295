import { type CodeOf, describeError, ERROR_CODES, StoreError } from "../../../core/errors.js";
import { StoreBusyError } from "../types.js";

/**
 * An OpenSearch store failure, `path` being the endpoint (never a
 * credential: the signer's keys are not part of any message); its code is one
 * of ERROR_CODES.opensearch, each explained in README.md beside this file.
 */
export class OpenSearchStoreError extends StoreError {
  constructor(
    code: CodeOf<"opensearch">,
    endpoint: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, endpoint, message, options);
  }
}

/** Seconds a sender waits before retrying after OpenSearch pushed back. */
export const RETRY_AFTER_SECONDS = 5;

/** The parts of an OpenSearch client error this store reads (ResponseError, ConnectionError, ...). */
interface ClientErrorFields {
  name?: unknown;
  meta?: { statusCode?: unknown; body?: unknown } | null;
}

/** The `reason` of an OpenSearch error body, or AWS's `message`/`Message`, or the body's text. */
export function bodyReason(body: unknown): string {
  if (typeof body === "string") return body.slice(0, 500);
  if (typeof body !== "object" || body === null) return "";
  const fields = body as { error?: unknown; message?: unknown; Message?: unknown };
  if (typeof fields.message === "string") return fields.message;
  if (typeof fields.Message === "string") return fields.Message;
  if (typeof fields.error === "string") return fields.error;
  if (typeof fields.error === "object" && fields.error !== null) {
    const error = fields.error as { type?: unknown; reason?: unknown };
    return `${String(error.type ?? "error")}: ${String(error.reason ?? "")}`;
  }
  return JSON.stringify(body).slice(0, 500);
}

/** HTTP status of a client error that carries an answer, else null (no answer came). */
export function statusOf(error: unknown): number | null {
  if (typeof error !== "object" || error === null) return null;
  const status = (error as ClientErrorFields).meta?.statusCode;
  return typeof status === "number" ? status : null;
}

/**
 * What went wrong talking to the domain, and what to change. Throttling
 * (429) and an overloaded domain (503) are StoreBusyError: the core turns
 * them into 503 with Retry-After and the device keeps its readings.
 */
export function requestError(error: unknown, endpoint: string, action: string): Error {
  if (error instanceof OpenSearchStoreError || error instanceof StoreBusyError) return error;
  const fail = (code: CodeOf<"opensearch">, message: string) =>
    new OpenSearchStoreError(code, endpoint, `${action}: ${message}`, { cause: error });
  const name = typeof error === "object" && error !== null ? (error as ClientErrorFields).name : "";
  const status = statusOf(error);
  if (status !== null) {
    const reason = bodyReason((error as ClientErrorFields).meta?.body);
    if (status === 429 || status === 503 || status === 502 || status === 504) {
      return new StoreBusyError(`OpenSearch answered ${status} (${reason})`, RETRY_AFTER_SECONDS);
    }
    if (status === 403 || status === 401) {
      return fail(
        ERROR_CODES.opensearch.forbidden,
        `the domain refused the request (${status}: ${reason}): the Lambda's role / your credentials need es:ESHttp* on the domain (its access policy), and the region must be the domain's`,
      );
    }
    return fail(ERROR_CODES.opensearch.request, `OpenSearch answered ${status}: ${reason}`);
  }
  const detail = describeError(error);
  if (name === "TimeoutError") {
    return fail(
      ERROR_CODES.opensearch.timeout,
      `no answer in time (${detail}): the domain is overloaded or unreachable from here`,
    );
  }
  if (name === "ConnectionError" || name === "NoLivingConnectionsError") {
    return fail(
      ERROR_CODES.opensearch.unreachable,
      `nothing answers (${detail}): check the endpoint URL, and that this host (the Lambda: its VPC subnets and security group) can reach the domain`,
    );
  }
  if (name === "CredentialsProviderError" || /credential/i.test(detail)) {
    return fail(
      ERROR_CODES.opensearch.credentials,
      `no AWS credentials to sign with (${detail}): run with an IAM role (the Lambda's), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE`,
    );
  }
  return fail(ERROR_CODES.opensearch.request, detail);
}
