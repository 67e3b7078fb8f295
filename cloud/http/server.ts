import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describeError, ERROR_CODES } from "../../core/errors.js";
import { Router } from "../../core/http/router.js";
import { createLogger, type Logger } from "../../core/logger.js";
import { drained } from "../../core/stream.js";
import { dashboardFiles } from "../../web/server/assets.js";
import { createIngestCore, type IngestCore } from "../core/core.js";
import { DEFAULT_MAX_BODY } from "../core/decode.js";
import { errorResponse, HttpError } from "../core/errors.js";
import type { CoreHead, CoreHeaders, CoreResponse } from "../core/exchange.js";
import { openStore } from "../store/open.js";
import type { CloudStore, IngestStats } from "../store/types.js";
import { ClientGoneError, discard, readRawBody } from "./body.js";
import { DEFAULT_MAX_INFLIGHT_BYTES, InflightBudget } from "./inflight.js";
import { formatUrl, LISTEN_HINT, type ListenAddress, parseListen } from "./listen.js";

export interface IngestServerOptions {
  /** "HOST:PORT" or an address; port 0 picks a free port. Default 127.0.0.1:0 (in-process use is for tests and benchmarks). */
  listen?: string | ListenAddress;
  /** SQLite file (created when missing) or a postgres:// URL. */
  dbPath: string;
  /** PostgreSQL password (else PGPASSWORD or ~/.pgpass). */
  dbPassword?: string | null;
  /** When set, every route except /healthz needs `x-api-key: <apiKey>`. */
  apiKey?: string | null;
  /** Host names served without an API key besides loopback names and the listen address. */
  allowedHosts?: readonly string[];
  /** Byte limit for a request body, on the wire and after gunzip. Default 8 MiB. */
  maxBody?: number;
  /** Bytes of request bodies held at once; past it, 503. Default 64 MiB. */
  maxInflightBytes?: number;
  /** Delete readings older than this many ms, hourly. Default: keep everything. */
  retentionMs?: number | null;
  /** Default: no output. */
  log?: Logger;
  /** How long close() lets in-flight requests run before cutting their connections. Default 10 s. */
  closeTimeoutMs?: number;
  /** Epoch ms; for tests. */
  now?: () => number;
}

export interface IngestServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  address: ListenAddress;
  store: CloudStore;
  stats(): Promise<IngestStats>;
  /** Stops accepting, lets in-flight requests finish, closes the database. Idempotent. */
  close(): Promise<void>;
}

const RETENTION_EVERY_MS = 3_600_000;
const silent = createLogger({ level: "error", journald: false, write: () => {} });

/** Starts the ingest service over Node's http; resolves once it is listening. */
export async function startIngestServer(options: IngestServerOptions): Promise<IngestServer> {
  const listen = resolveListen(options.listen ?? "127.0.0.1:0");
  // An empty key would let an empty x-api-key header through.
  if (options.apiKey === "") throw new TypeError("apiKey must not be empty (use null for no key)");
  const maxBody = options.maxBody ?? DEFAULT_MAX_BODY;
  if (!Number.isSafeInteger(maxBody) || maxBody < 1) {
    throw new TypeError(`maxBody must be a positive whole number of bytes, got ${maxBody}`);
  }
  const budget = new InflightBudget(options.maxInflightBytes ?? DEFAULT_MAX_INFLIGHT_BYTES);
  if (budget.limit < maxBody) {
    throw new TypeError(`maxInflightBytes (${budget.limit}) must be at least maxBody (${maxBody})`);
  }
  const log = options.log ?? silent;
  const store = await openStore({
    db: options.dbPath,
    password: options.dbPassword ?? null,
    log: (level, message) => log[level](message),
  });
  const core = createIngestCore({
    store,
    apiKey: options.apiKey ?? null,
    maxBody,
    allowedHosts: options.allowedHosts ?? [],
    listenHost: listen.host,
    now: options.now,
  });
  // config.json: the fleet page asks where its API is ("" = here); answering spares it a 404.
  const files = dashboardFiles({
    "/": "fleet.html",
    "/dashboard": "fleet.html",
    "/config.json": "config.json",
  });
  // The page and its files need no key: they hold no data, and a page load cannot carry a header.
  const pages = new Router(
    files.paths.map((path) => ({ method: "GET" as const, path })),
    { headFromGet: true },
  );
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  const server = createServer((request, response) => {
    if (closing) {
      // Asks keep-alive clients to reconnect (to the next instance) after this answer.
      response.setHeader("connection", "close");
    }
    const done = (async () => {
      const started = performance.now();
      const path = request.url?.split("?")[0] ?? "";
      if (
        pages.match(request.method ?? "", path).kind === "found" &&
        files.serve(path, request.method ?? "GET", request.headers, response)
      ) {
        log.debug(`${request.method} ${path} ${response.statusCode}`);
        return;
      }
      const answer = await serve(request, response, core, budget, maxBody, log);
      if (answer === null) return;
      const ms = (performance.now() - started).toFixed(1);
      const line = `${request.method} ${path} ${answer.status} ${ms} ms${answer.note ? `: ${answer.note}` : ""}`;
      // A 503 is the in-flight cap working as meant (the client retries), not a failure.
      if (answer.status >= 500 && answer.status !== 503) log.error(line);
      else if (answer.status >= 400) log.warn(line);
      else log.debug(line);
    })()
      .catch((error: unknown) => {
        log.error(`${request.method} ${request.url} failed: ${describeError(error)}`);
        response.destroy();
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listen.port, listen.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const address = boundAddress(server.address(), listen);
  // Past listen(), an 'error' without a listener would crash the process (e.g. EMFILE on accept).
  server.on("error", (error) => log.error(`server error: ${describeError(error)}`));

  const retention = scheduleRetention(store, options.retentionMs ?? null, log, options.now);

  let closed: Promise<void> | null = null;
  const close = async (): Promise<void> => {
    closing = true;
    retention.stop();
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    // A keep-alive connection turns idle when its request ends, which for a
    // refused body still being drained is after its handler finished: sweep
    // until all are gone rather than wait out keepAliveTimeout.
    server.closeIdleConnections();
    const sweeper = setInterval(() => server.closeIdleConnections(), 25);
    const timer = setTimeout(() => {
      log.warn("in-flight requests still running at shutdown deadline; closing their connections");
      server.closeAllConnections();
    }, options.closeTimeoutMs ?? 10_000);
    try {
      // A handler can outlive its connection (client gone mid-gunzip): wait for it before closing the DB.
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      // What is left holds no request being answered: a refused body still
      // being drained would otherwise keep its connection until the keep-alive timeout.
      server.closeAllConnections();
      await stopped;
      await retention.idle();
    } finally {
      clearTimeout(timer);
      clearInterval(sweeper);
      await store.close();
    }
  };

  return {
    url: formatUrl(address),
    address,
    store,
    stats: () => core.stats(),
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}

/** One request through the core; null when nobody is left to answer. */
async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  core: IngestCore,
  budget: InflightBudget,
  maxBody: number,
  log: Logger,
): Promise<CoreResponse | null> {
  const head = toHead(request);
  if (head === null) {
    discard(request);
    const answer = errorResponse(
      new HttpError(
        400,
        ERROR_CODES.ingest.badTarget,
        "the request target is not a valid URL path",
      ),
    );
    await send(response, answer);
    return answer;
  }
  const admission = await core.admit(head);
  let answer: CoreResponse;
  if (admission.kind === "answered") {
    discard(request);
    answer = admission.response;
  } else {
    let read: Awaited<ReturnType<typeof readRawBody>>;
    try {
      read = await readRawBody(request, maxBody, budget);
    } catch (error) {
      if (error instanceof ClientGoneError) {
        log.debug(`${head.method} ${head.path} client gone before the body was read`);
        response.destroy();
        return null;
      }
      if (!(error instanceof HttpError)) throw error;
      answer = errorResponse(error);
      await send(response, answer);
      return answer;
    }
    try {
      answer = await admission.run(read.body);
    } finally {
      read.release();
    }
  }
  await send(response, answer);
  return answer;
}

function toHead(request: IncomingMessage): CoreHead | null {
  const target = request.url ?? "/";
  if (!URL.canParse(target, "http://localhost")) return null;
  const url = new URL(target, "http://localhost");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return {
    method: request.method ?? "",
    path: url.pathname,
    query: url.searchParams,
    headers: headers as CoreHeaders,
  };
}

/** Writes an answer; a streamed body waits for each chunk to drain and stops when the client leaves. */
async function send(response: ServerResponse, answer: CoreResponse): Promise<void> {
  if (response.headersSent || response.destroyed) return;
  if (typeof answer.body === "string") {
    const body = Buffer.from(answer.body, "utf8");
    response.writeHead(answer.status, { ...answer.headers, "content-length": body.length });
    response.end(body);
    return;
  }
  response.writeHead(answer.status, answer.headers);
  try {
    for await (const chunk of answer.body) {
      if (response.destroyed) break;
      if (!response.write(chunk)) await drained(response);
    }
  } catch (error) {
    // The status line is gone: cutting the connection is the only way left to say it failed.
    response.destroy();
    throw error;
  }
  response.end();
}

/** Hourly retention passes (and one at start), one at a time; failures are logged and retried next hour. */
function scheduleRetention(
  store: CloudStore,
  retentionMs: number | null,
  log: Logger,
  now: () => number = Date.now,
): { stop(): void; idle(): Promise<void> } {
  if (retentionMs === null) return { stop() {}, idle: async () => {} };
  let running: Promise<void> = Promise.resolve();
  const pass = (): void => {
    running = running.then(async () => {
      const cutoff = now() - retentionMs;
      try {
        const removed = await store.prune(cutoff);
        if (removed.readings + removed.alerts + removed.batches > 0) {
          log.info(
            `retention: removed ${removed.readings} readings, ${removed.alerts} alerts, ${removed.batches} request records older than ${new Date(cutoff).toISOString()}`,
          );
        }
      } catch (error) {
        log.error(`retention pass failed (retried in an hour): ${describeError(error)}`);
      }
    });
  };
  pass();
  const timer = setInterval(pass, RETENTION_EVERY_MS);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    idle: () => running,
  };
}

/** server.address() is a string only for pipes and sockets, which this server never listens on. */
function boundAddress(bound: AddressInfo | string | null, requested: ListenAddress): ListenAddress {
  if (bound === null || typeof bound === "string") return requested;
  return { host: bound.address, port: bound.port };
}

function resolveListen(listen: string | ListenAddress): ListenAddress {
  if (typeof listen !== "string") return listen;
  const parsed = parseListen(listen);
  if (parsed === null) throw new TypeError(`listen address "${listen}": ${LISTEN_HINT}`);
  return parsed;
}
