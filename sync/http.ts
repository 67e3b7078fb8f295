import type { Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage } from "node:http";
import { request } from "node:http";
import { describeError, ERROR_CODES } from "../core/errors.js";
import { UploadError, type UploadErrorCode } from "./errors.js";
import { UploadAgent } from "./upload-agent.js";

/** Each is a plain timer armed for its phase, so a 50 ms setting fires after 50 ms. */
export interface UploadTimeouts {
  /** TCP (and TLS) connect of a new socket; an endpoint that drops SYNs hangs here. */
  connectTimeoutMs: number;
  /** From sending the request (refreshed while the body is written) to the end of the response headers. */
  headersTimeoutMs: number;
  /** Longest silence between two chunks of the response body. */
  bodyTimeoutMs: number;
}

export interface PostOptions extends UploadTimeouts {
  /** Default POST; GET for the fleet's desired thresholds (sync/fleet.ts), with an empty body. */
  method?: "POST" | "GET";
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
  /**
   * The connection pool, which also owns the connect timeout. Default: a
   * shared keep-alive agent per connect timeout (see createUploadAgent).
   */
  dispatcher?: UploadAgent;
}

export interface PostResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body was longer than maxResponseBytes; `body` is its start. */
  truncated: boolean;
}

/** A keep-alive connection pool for uploads (see UploadAgent). */
export function createUploadAgent(
  timeouts: UploadTimeouts,
  options: { connections?: number } = {},
): UploadAgent {
  return new UploadAgent(timeouts.connectTimeoutMs, options.connections);
}

const sharedAgents = new Map<number, UploadAgent>();

function sharedAgent(timeouts: UploadTimeouts): UploadAgent {
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
 * Bodies are written in slices of this size, each acknowledged by the socket,
 * so the headers timeout is refreshed while a large batch is still going out
 * on a slow link instead of running from the first byte.
 */
const WRITE_SLICE_BYTES = 64 * 1024;

/**
 * POST a prepared body. Resolves with any HTTP status (classifying it is the
 * policy's job); rejects with an UploadError only when no complete answer came
 * back: connect failure, reset, a timeout, the deadline, or `signal`.
 * Redirects are not followed: a 3xx is returned like any other status.
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
  const agent = options.dispatcher ?? sharedAgent(options);
  const context: FailureContext = {
    url: String(url),
    options,
    connectTimeoutMs: agent.connectTimeoutMs,
    deadlineMs,
    deadlineHit: false,
    phaseTimedOut: null,
  };
  let target: URL;
  try {
    target = new URL(url);
    if (target.protocol !== "http:" && target.protocol !== "https:") {
      throw new Error(`unsupported protocol ${target.protocol} (http: or https: only)`);
    }
  } catch (error) {
    throw new UploadError(ERROR_CODES.upload.network, `invalid request: ${errorText(error)}`, {
      cause: error,
    });
  }
  if (options.signal?.aborted) {
    throw new UploadError(ERROR_CODES.upload.aborted, "upload aborted", {
      cause: options.signal.reason,
    });
  }
  let exchange = new Exchange(context);
  // One listener per request, removed in `finally`. Not AbortSignal.any:
  // combining the daemon's long-lived shutdown signal per request leaks every
  // combined signal in Node (nodejs/node#55351), a real leak for a daemon
  // that posts for months.
  const onCallerAbort = () => exchange.stop(options.signal?.reason);
  options.signal?.addEventListener("abort", onCallerAbort, { once: true });
  const deadline = setTimeout(() => {
    context.deadlineHit = true;
    exchange.stop(new Error(`deadline of ${deadlineMs} ms`));
  }, deadlineMs);
  deadline.unref();
  try {
    const pool = await agent.for(target);
    for (let retries = 0; ; retries++) {
      try {
        return await exchange.run(target, body, headers, pool);
      } catch (error) {
        if (!exchange.failedOnStaleSocket || retries >= STALE_SOCKET_RETRIES) throw error;
        exchange = new Exchange(context);
      }
    }
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener("abort", onCallerAbort);
  }
}

/**
 * node's Agent hands out an idle keep-alive socket without knowing whether the
 * server closed it a moment ago (its keep-alive timeout, an endpoint going
 * down): the server's FIN may still be unread. A request that fails as a
 * reset on a reused socket before any answer is therefore sent again, on the
 * next idle socket or a new one, which then connects, or is refused like any
 * down endpoint. Safe: the idempotency key makes a repeat a no-op on the
 * server. Bounded by the pool's sockets per origin.
 */
const STALE_SOCKET_RETRIES = 4;

type Phase = "connect" | "headers" | "body";

/**
 * One request and its answer: the phase timers, the capped body read, and
 * every way it can end mapped to one UploadError. Settles exactly once.
 */
class Exchange {
  private request: ClientRequest | null = null;
  private phaseTimer: NodeJS.Timeout | null = null;
  private status: number | undefined;
  private settled = false;
  private resolveRun: (result: PostResult) => void = () => undefined;
  private rejectRun: (error: UploadError) => void = () => undefined;
  /** stop() called before run() attached the request. */
  private stoppedEarly: unknown = null;
  private reusedSocket = false;
  /** Failed as a reset on a reused keep-alive socket before any answer (see STALE_SOCKET_RETRIES). */
  failedOnStaleSocket = false;

  constructor(private readonly context: FailureContext) {}

  run(
    target: URL,
    body: Buffer,
    headers: Record<string, string>,
    agent: Agent,
  ): Promise<PostResult> {
    return new Promise<PostResult>((resolve, reject) => {
      this.resolveRun = resolve;
      this.rejectRun = reject;
      if (this.stoppedEarly !== null) {
        this.fail(this.stoppedEarly);
        return;
      }
      let req: ClientRequest;
      try {
        req = request(target, {
          method: this.context.options.method ?? "POST",
          agent,
          headers: { ...headers, "content-length": String(body.length) },
        });
      } catch (error) {
        // Invalid header names or values: configuration, not the network.
        this.fail(error);
        return;
      }
      this.request = req;
      req.on("error", (error) => this.fail(error));
      req.on("socket", (socket) => {
        if (req.reusedSocket) {
          this.reusedSocket = true;
          this.arm("headers");
          return;
        }
        this.arm("connect");
        const connected = target.protocol === "https:" ? "secureConnect" : "connect";
        socket.once(connected, () => {
          if (!this.settled) this.arm("headers");
        });
      });
      req.on("response", (response) => this.read(response));
      for (let offset = 0; offset < body.length; offset += WRITE_SLICE_BYTES) {
        req.write(body.subarray(offset, offset + WRITE_SLICE_BYTES), () => {
          if (this.phaseTimer !== null && this.status === undefined) this.phaseTimer.refresh();
        });
      }
      req.end();
    });
  }

  /** Ends the exchange from outside (deadline, caller's signal). */
  stop(reason: unknown): void {
    if (this.request === null) this.stoppedEarly = reason ?? new Error("stopped");
    else this.fail(reason);
  }

  private read(response: IncomingMessage): void {
    this.status = response.statusCode ?? 0;
    this.arm("body");
    const { maxResponseBytes } = this.context.options;
    const chunks: Buffer[] = [];
    let size = 0;
    response.on("data", (chunk: Buffer) => {
      this.phaseTimer?.refresh();
      const room = maxResponseBytes - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        // The rest is not read: dropping the socket is cheaper than draining it.
        this.succeed(response, chunks, true);
        this.request?.destroy();
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    response.on("end", () => this.succeed(response, chunks, false));
    response.on("error", (error) => this.fail(error));
  }

  private arm(phase: Phase): void {
    const { options } = this.context;
    const ms =
      phase === "connect"
        ? this.context.connectTimeoutMs
        : phase === "headers"
          ? options.headersTimeoutMs
          : options.bodyTimeoutMs;
    this.clearPhaseTimer();
    this.phaseTimer = setTimeout(() => {
      this.context.phaseTimedOut = phase;
      this.fail(new Error(`${phase} timeout`));
    }, ms);
    this.phaseTimer.unref();
  }

  private clearPhaseTimer(): void {
    if (this.phaseTimer !== null) clearTimeout(this.phaseTimer);
    this.phaseTimer = null;
  }

  private succeed(response: IncomingMessage, chunks: Buffer[], truncated: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.clearPhaseTimer();
    this.resolveRun({
      status: this.status ?? 0,
      headers: flattenHeaders(response.headers),
      body: Buffer.concat(chunks).toString("utf8"),
      truncated,
    });
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    const code = errorCode(error);
    this.failedOnStaleSocket =
      this.reusedSocket &&
      this.status === undefined &&
      this.context.phaseTimedOut === null &&
      code !== undefined &&
      RESET_CODES.has(code);
    this.clearPhaseTimer();
    // A socket stuck in any phase is not returned to the pool.
    this.request?.destroy();
    this.rejectRun(uploadError(error, this.context, this.status));
  }
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
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
  connectTimeoutMs: number;
  deadlineMs: number;
  deadlineHit: boolean;
  /** The phase whose timer ended the exchange, if one did. */
  phaseTimedOut: Phase | null;
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
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);
/** node:http's refusals of a URL or header value: configuration, which retrying cannot fix. */
const INVALID_REQUEST_CODES = new Set([
  "ERR_INVALID_URL",
  "ERR_INVALID_PROTOCOL",
  "ERR_INVALID_CHAR",
  "ERR_INVALID_HTTP_TOKEN",
  "ERR_HTTP_INVALID_HEADER_VALUE",
  "ERR_INVALID_ARG_TYPE",
  "ERR_INVALID_ARG_VALUE",
  "ERR_UNESCAPED_CHARACTERS",
]);

/** What to do about a TLS failure, by OpenSSL's or node's code; the reader of the log is the one who can act. */
const TLS_FIXES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT:
    "the endpoint's certificate is self-signed: give sensord its CA with NODE_EXTRA_CA_CERTS=/path/ca.pem in the service's environment",
  SELF_SIGNED_CERT_IN_CHAIN:
    "the endpoint's chain ends in an untrusted CA: give sensord that CA with NODE_EXTRA_CA_CERTS=/path/ca.pem in the service's environment",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    "the endpoint's CA is not trusted here: give sensord that CA with NODE_EXTRA_CA_CERTS=/path/ca.pem, or have the server send its intermediate certificates",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    "the endpoint sent an incomplete chain: have the server send its intermediate certificates, or give sensord the CA with NODE_EXTRA_CA_CERTS=/path/ca.pem",
  CERT_HAS_EXPIRED:
    "the endpoint's certificate has expired, or this Pi's clock is wrong: check `timedatectl`, then renew the certificate",
  CERT_NOT_YET_VALID:
    "the endpoint's certificate is not valid yet: this Pi's clock is probably behind, check `timedatectl`",
  ERR_TLS_CERT_ALTNAME_INVALID:
    "the endpoint's certificate is for another name: set [sync] endpoint to a host name the certificate lists",
  ERR_SSL_WRONG_VERSION_NUMBER:
    "the endpoint does not speak TLS on that port: use http:// or the server's TLS port",
};

/** Turns whatever node:http or the socket threw into a message a log reader can act on. */
function uploadError(
  error: unknown,
  context: FailureContext,
  status: number | undefined,
): UploadError {
  const { options } = context;
  const make = (code: UploadErrorCode, message: string) =>
    new UploadError(code, message, { status, cause: error });

  if (options.signal?.aborted) return make(ERROR_CODES.upload.aborted, "upload aborted");
  if (context.deadlineHit) {
    return make(
      ERROR_CODES.upload.timeout,
      `no complete response within the ${context.deadlineMs} ms deadline`,
    );
  }
  switch (context.phaseTimedOut) {
    case "connect":
      return make(
        ERROR_CODES.upload.unreachable,
        `connect timeout after ${context.connectTimeoutMs} ms to ${origin(context.url)}`,
      );
    case "headers":
      return make(
        ERROR_CODES.upload.timeout,
        `timeout waiting for response headers (${options.headersTimeoutMs} ms)`,
      );
    case "body":
      return make(
        ERROR_CODES.upload.timeout,
        `timeout reading response body (no data for ${options.bodyTimeoutMs} ms)`,
      );
  }
  const code = errorCode(error);
  const text = errorText(error);
  if (code === undefined) return make(ERROR_CODES.upload.network, text);
  if (INVALID_REQUEST_CODES.has(code)) {
    return make(ERROR_CODES.upload.network, `invalid request: ${text}`);
  }
  if (UNREACHABLE_CODES.has(code)) return make(ERROR_CODES.upload.unreachable, text);
  if (RESET_CODES.has(code)) {
    const when =
      status === undefined ? "before the response" : `in the middle of a ${status} response`;
    return make(ERROR_CODES.upload.reset, `connection reset ${when}: ${text}`);
  }
  const tlsFix = TLS_FIXES[code];
  if (tlsFix !== undefined) {
    return make(
      ERROR_CODES.upload.network,
      `TLS to ${origin(context.url)} failed (${text}): ${tlsFix}`,
    );
  }
  return make(ERROR_CODES.upload.network, text);
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
