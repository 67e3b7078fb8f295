import { Agent, type Dispatcher, request } from "undici";
import { describeError } from "../core/errors.js";
import { UPLOAD_ERROR_CODES, UploadError, type UploadErrorCode } from "./errors.js";

/**
 * undici enforces these three on a ~0.5 s tick ("fast timers"): fine at the
 * daemon's seconds-scale values; a 50 ms setting fires after 0.5-1.5 s.
 */
export interface UploadTimeouts {
  /** TCP (and TLS) connect; an endpoint that drops SYNs hangs here. */
  connectTimeoutMs: number;
  /** From sending the request (refreshed while the body is written) to the end of the response headers. */
  headersTimeoutMs: number;
  /** Longest silence between two chunks of the response body. */
  bodyTimeoutMs: number;
}

export interface PostOptions extends UploadTimeouts {
  /** Bytes of response body kept; the rest is not read and the connection is dropped. */
  maxResponseBytes: number;
  /**
   * Whole exchange, ms. The per-phase timeouts reset on progress, so a server
   * trickling one byte per bodyTimeout could otherwise hold a request for ever.
   * Default: the sum of the three timeouts.
   */
  deadlineMs?: number;
  /** Aborts the request (daemon shutdown). */
  signal?: AbortSignal;
  /** Default: a shared keep-alive agent per connect timeout (see createUploadAgent). */
  dispatcher?: Dispatcher;
}

export interface PostResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body was longer than maxResponseBytes; `body` is its start. */
  truncated: boolean;
}

/**
 * A keep-alive connection pool for uploads: a drain of a million readings is a
 * few hundred back-to-back requests, and reconnecting (TLS especially) for each
 * would cost more Pi CPU than the gzip. The idle timeout stays at undici's 4 s,
 * under Node's and most proxies' 5 s server default, so the client drops an
 * idle socket before the server does and a request is not written into a
 * socket the server is closing (that would surface as a reset and a backoff);
 * servers that advertise `Keep-Alive: timeout=N` are honoured.
 */
export function createUploadAgent(
  timeouts: UploadTimeouts,
  options: { connections?: number } = {},
): Agent {
  return new Agent({
    connect: { timeout: timeouts.connectTimeoutMs },
    headersTimeout: timeouts.headersTimeoutMs,
    bodyTimeout: timeouts.bodyTimeoutMs,
    // A few in flight at most: the worker paces itself; this only caps a bug.
    connections: options.connections ?? 4,
  });
}

const sharedAgents = new Map<number, Agent>();

function sharedAgent(timeouts: UploadTimeouts): Agent {
  let agent = sharedAgents.get(timeouts.connectTimeoutMs);
  if (agent === undefined) {
    agent = createUploadAgent(timeouts);
    sharedAgents.set(timeouts.connectTimeoutMs, agent);
  }
  return agent;
}

/** Closes the agents postBody made for callers that passed no dispatcher (shutdown, tests). */
export async function closeSharedAgents(): Promise<void> {
  const agents = [...sharedAgents.values()];
  sharedAgents.clear();
  await Promise.all(agents.map((agent) => agent.destroy()));
}

/**
 * POST a prepared body. Resolves with any HTTP status (classifying it is the
 * policy's job); rejects with an UploadError only when no complete answer came
 * back: connect failure, reset, a timeout, the deadline, or `signal`.
 */
export async function postBody(
  url: string | URL,
  body: Buffer,
  headers: Record<string, string>,
  options: PostOptions,
): Promise<PostResult> {
  const deadlineMs =
    options.deadlineMs ??
    options.connectTimeoutMs + options.headersTimeoutMs + options.bodyTimeoutMs;
  // One controller per request, unlinked in `finally`. Not AbortSignal.any:
  // combining the daemon's long-lived shutdown signal per request leaks every
  // combined signal in Node (nodejs/node#55351), a real leak for a daemon
  // that posts for months.
  const controller = new AbortController();
  const context: FailureContext = { url: String(url), options, deadlineMs, deadlineHit: false };
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  const timer = setTimeout(() => {
    context.deadlineHit = true;
    controller.abort(new Error(`deadline of ${deadlineMs} ms`));
  }, deadlineMs);
  timer.unref();
  if (options.signal?.aborted) onCallerAbort();
  else options.signal?.addEventListener("abort", onCallerAbort, { once: true });

  try {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: "POST",
        body,
        headers,
        signal: controller.signal,
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
        dispatcher: options.dispatcher ?? sharedAgent(options),
      });
    } catch (error) {
      throw uploadError(error, context, undefined);
    }

    const status = response.statusCode;
    try {
      const read = await readLimited(response.body, options.maxResponseBytes);
      // The body ends a moment before undici marks the connection idle; a
      // caller posting the next batch straight away would otherwise get a second
      // connection (measured: 25 back-to-back posts alternated over 2 sockets).
      await new Promise((resolve) => setImmediate(resolve));
      return { status, headers: flattenHeaders(response.headers), ...read };
    } catch (error) {
      throw uploadError(error, context, status);
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onCallerAbort);
  }
}

async function readLimited(
  stream: Dispatcher.ResponseData["body"],
  maxBytes: number,
): Promise<{ body: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of stream) {
    const buffer: Buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    const room = maxBytes - size;
    if (buffer.length > room) {
      chunks.push(buffer.subarray(0, room));
      truncated = true;
      break;
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  // Leaving the loop early does not always end the stream; destroying it makes
  // undici drop the connection instead of waiting to read the rest.
  if (truncated) stream.destroy();
  return { body: Buffer.concat(chunks).toString("utf8"), truncated };
}

function flattenHeaders(headers: Dispatcher.ResponseData["headers"]): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

interface FailureContext {
  url: string;
  options: PostOptions;
  deadlineMs: number;
  deadlineHit: boolean;
}

/** System error codes that mean the request never reached a server. */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EADDRNOTAVAIL",
]);
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET"]);

/** Turns whatever undici or the socket threw into a message a log reader can act on. */
function uploadError(
  error: unknown,
  context: FailureContext,
  status: number | undefined,
): UploadError {
  const { options } = context;
  const make = (code: UploadErrorCode, message: string, retryable = true) =>
    new UploadError(code, message, { retryable, status, cause: error });

  if (options.signal?.aborted) return make(UPLOAD_ERROR_CODES.aborted, "upload aborted");
  if (context.deadlineHit) {
    return make(
      UPLOAD_ERROR_CODES.timeout,
      `no complete response within the ${context.deadlineMs} ms deadline`,
    );
  }
  const code = errorCode(error);
  const text = errorText(error);
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return make(
        UPLOAD_ERROR_CODES.unreachable,
        `connect timeout after ${options.connectTimeoutMs} ms to ${origin(context.url)}`,
      );
    case "UND_ERR_HEADERS_TIMEOUT":
      return make(
        UPLOAD_ERROR_CODES.timeout,
        `timeout waiting for response headers (${options.headersTimeoutMs} ms)`,
      );
    case "UND_ERR_BODY_TIMEOUT":
      return make(
        UPLOAD_ERROR_CODES.timeout,
        `timeout reading response body (no data for ${options.bodyTimeoutMs} ms)`,
      );
    case "UND_ERR_INVALID_ARG":
    case "ERR_INVALID_URL":
      // A bad URL or header value is configuration; retrying the same request cannot fix it.
      return make(UPLOAD_ERROR_CODES.network, `invalid request: ${text}`, false);
  }
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return make(UPLOAD_ERROR_CODES.unreachable, text);
  }
  if (code !== undefined && RESET_CODES.has(code)) {
    const when =
      status === undefined ? "before the response" : `in the middle of a ${status} response`;
    return make(UPLOAD_ERROR_CODES.reset, `connection reset ${when}: ${text}`);
  }
  return make(UPLOAD_ERROR_CODES.network, text);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    return typeof error.code === "string" ? error.code : undefined;
  }
  return undefined;
}

/** Node's happy-eyeballs connect throws an AggregateError with an empty message. */
function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") {
    return error.errors.map((inner: unknown) => describeError(inner)).join("; ");
  }
  return describeError(error);
}

function origin(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
