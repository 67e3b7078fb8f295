import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describeError } from "../daemon/errors.js";
import { createLogger, type Logger } from "../daemon/log/logger.js";
import { apiKeyCheck } from "./auth.js";
import { DEFAULT_MAX_BODY } from "./body.js";
import { openIngestDatabase } from "./db.js";
import { ClientGoneError, HttpError } from "./errors.js";
import {
  createFleet,
  FLEET_ROUTES,
  type FleetContext,
  type FleetRoute,
  serveStaticFile,
} from "./fleet/routes.js";
import { handleIngest } from "./ingest-route.js";
import { formatUrl, LISTEN_HINT, type ListenAddress, parseListen } from "./listen.js";
import { parseReadingsQuery } from "./query.js";
import { jsonReply, type Reply, send } from "./reply.js";
import { createIngestStore, type IngestStats } from "./store.js";

export interface IngestServerOptions {
  /** "HOST:PORT" or an address; port 0 picks a free port. Default 127.0.0.1:0 (in-process use is for tests and benchmarks). */
  listen?: string | ListenAddress;
  /** SQLite file, created when missing. */
  dbPath: string;
  /** When set, every route except /healthz needs `x-api-key: <apiKey>`. */
  apiKey?: string | null;
  /** Byte limit for a request body, on the wire and after gunzip. Default 8 MiB. */
  maxBody?: number;
  /** Default: no output. */
  log?: Logger;
  /** How long close() lets in-flight requests run before cutting their connections. Default 10 s. */
  closeTimeoutMs?: number;
}

export interface IngestServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  address: ListenAddress;
  stats(): IngestStats;
  /** Stops accepting, lets in-flight requests finish, closes the database. Idempotent. */
  close(): Promise<void>;
}

/**
 * `auth` is false only for /healthz (liveness probes need no secret: it
 * reveals only counts) and the dashboard's page and files (they hold no data).
 */
type Route = FleetRoute;

const ingestRoute: Route = {
  method: "POST",
  auth: true,
  handle: (request, _url, context) => handleIngest(request, context),
};

const ROUTES = new Map<string, Route>([
  ["/ingest", ingestRoute],
  // The original API Gateway resource: clients configured with its URL keep working.
  ["/proxyLambda", ingestRoute],
  [
    "/readings",
    {
      method: "GET",
      auth: true,
      handle: (_request, url, context) => {
        const readings = context.store.query(parseReadingsQuery(url.searchParams));
        return jsonReply(200, { readings }, `${readings.length} readings`);
      },
    },
  ],
  [
    "/healthz",
    {
      method: "GET",
      auth: false,
      handle: (_request, _url, context) =>
        jsonReply(200, { status: "ok", ...context.store.stats() }),
    },
  ],
  // The fleet dashboard and the queries behind it: cloud/fleet/.
  ...FLEET_ROUTES,
]);

const silent = createLogger({ level: "error", journald: false, write: () => {} });

/** Starts the reference ingest service; resolves once it is listening. */
export async function startIngestServer(options: IngestServerOptions): Promise<IngestServer> {
  const listen = resolveListen(options.listen ?? "127.0.0.1:0");
  // An empty key would let an empty x-api-key header through.
  if (options.apiKey === "") throw new TypeError("apiKey must not be empty (use null for no key)");
  const maxBody = options.maxBody ?? DEFAULT_MAX_BODY;
  if (!Number.isSafeInteger(maxBody) || maxBody < 1) {
    throw new TypeError(`maxBody must be a positive whole number of bytes, got ${maxBody}`);
  }
  const log = options.log ?? silent;
  const db = openIngestDatabase(options.dbPath);
  const store = createIngestStore(db);
  let context: FleetContext;
  try {
    context = { store, maxBody, fleet: createFleet(db) };
  } catch (error) {
    store.close();
    throw error;
  }
  const authorized = apiKeyCheck(options.apiKey ?? null);
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  const server = createServer((request, response) => {
    if (closing) {
      // Asks keep-alive clients to reconnect (to the next instance) after this answer.
      response.setHeader("connection", "close");
    }
    const done = handleRequest(request, response, context, authorized, log).finally(() => {
      inFlight.delete(done);
    });
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
    store.close();
    throw error;
  }
  const address = boundAddress(server.address(), listen);
  // Past listen(), an 'error' without a listener would crash the process (e.g. EMFILE on accept).
  server.on("error", (error) => log.error(`server error: ${describeError(error)}`));

  let closed: Promise<void> | null = null;
  const close = async (): Promise<void> => {
    closing = true;
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
      await stopped;
      // A handler can outlive its connection (client gone mid-gunzip): wait for it before closing the DB.
      await Promise.allSettled([...inFlight]);
    } finally {
      clearTimeout(timer);
      clearInterval(sweeper);
      store.close();
    }
  };

  return {
    url: formatUrl(address),
    address,
    stats: () => store.stats(),
    close: () => {
      closed ??= close();
      return closed;
    },
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

async function handleRequest(
  request: IncomingMessage,
  response: ServerResponse,
  context: FleetContext,
  authorized: ReturnType<typeof apiKeyCheck>,
  log: Logger,
): Promise<void> {
  const started = performance.now();
  const method = request.method ?? "";
  const url = URL.canParse(request.url ?? "/", "http://localhost")
    ? new URL(request.url ?? "/", "http://localhost")
    : null;
  const path = url?.pathname ?? "(unparsable target)";
  let reply: Reply;
  try {
    if (url === null) {
      throw new HttpError(400, "INGEST_BAD_TARGET", "the request target is not a valid URL path");
    }
    const answered = serveStaticFile(request, url, context, response)
      ? null
      : await route(request, response, method, url, context, authorized);
    if (answered === null) {
      log.debug(
        `${method} ${path} ${response.statusCode} ${(performance.now() - started).toFixed(1)} ms`,
      );
      return;
    }
    reply = answered;
  } catch (error) {
    if (error instanceof ClientGoneError) {
      log.debug(`${method} ${path} client gone before the body was read`);
      response.destroy();
      return;
    }
    if (error instanceof HttpError) {
      reply = {
        status: error.status,
        body: JSON.stringify(error.body()),
        headers: { ...error.headers },
        note: error.message,
      };
    } else {
      log.error(`${method} ${path} failed: ${describeError(error)}`);
      reply = jsonReply(
        500,
        { error: "internal error", code: "INGEST_INTERNAL" },
        "internal error",
      );
    }
  }
  send(response, reply);
  const ms = (performance.now() - started).toFixed(1);
  const line = `${method} ${path} ${reply.status} ${ms} ms${reply.note ? `: ${reply.note}` : ""}`;
  if (reply.status >= 400) log.warn(line);
  else log.debug(line);
}

async function route(
  request: IncomingMessage,
  response: ServerResponse,
  method: string,
  url: URL,
  context: FleetContext,
  authorized: ReturnType<typeof apiKeyCheck>,
): Promise<Reply | null> {
  const found = ROUTES.get(url.pathname);
  if (found === undefined) {
    throw new HttpError(404, "INGEST_NOT_FOUND", `no such endpoint: ${url.pathname}`, {
      details: { endpoints: [...ROUTES.keys()] },
    });
  }
  if (method !== found.method) {
    throw new HttpError(405, "INGEST_METHOD", `${url.pathname} accepts ${found.method} only`, {
      headers: { allow: found.method },
    });
  }
  if (found.auth && !authorized(request.headers)) {
    throw new HttpError(401, "INGEST_UNAUTHORIZED", 'missing or wrong "x-api-key" header', {
      details: { header: "x-api-key" },
    });
  }
  return found.handle(request, url, context, response);
}
