import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Registry } from "prom-client";
import { describeError } from "../../core/errors.js";
import { hostAllowed } from "../../core/host.js";
import { Router } from "../../core/http/router.js";
import type { Logger } from "../../core/logger.js";
import type { Dashboard } from "./dashboard.js";
import type { HttpRoute } from "./route.js";

export interface HttpServer {
  /** The bound port (differs from the configured one when that was 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Connections held open at once. A Pi's dashboard has a few viewers (a tab
 * holds its live feed plus a few keep-alive connections); each connection is
 * a file descriptor, and the daemon needs its descriptors for the database
 * and the control socket.
 */
export const MAX_CONNECTIONS = 64;
/** A connection that has not sent a whole request header by then (or nothing at all) is closed. */
export const HEADERS_TIMEOUT_MS = 10_000;

/**
 * GET /metrics (Prometheus text), GET /healthz (200 "ok", or 503 with one
 * reason per line), and the device dashboard (`/`, /static/, /api/) when given.
 */
export async function startHttpServer(options: {
  host: string;
  port: number;
  /** The registry, made at the first scrape: prom-client is ~10 MiB of RSS a Pi never scraped need not carry. */
  metrics: () => Promise<Registry>;
  health: () => string[];
  dashboard?: Dashboard;
  log: Logger;
}): Promise<HttpServer> {
  const { metrics, health, dashboard, log } = options;
  // Without a token, loopback is the only thing guarding the data, and DNS
  // rebinding gets a web page past it (see core/host.ts).
  const checkHost = dashboard?.guarded === true ? null : hostAllowed(options.host);
  const connections = new ConnectionCap(MAX_CONNECTIONS, HEADERS_TIMEOUT_MS);
  const router = new Router<HttpRoute>(
    [
      {
        method: "GET",
        path: "/metrics",
        handle: ({ request, response }) => {
          const send = sender(request, response);
          metrics()
            .then(async (registry) => ({
              text: await registry.metrics(),
              type: registry.contentType,
            }))
            .then(
              // prom-client spells a not-yet-sampled gauge (event loop lag) "Nan"; the
              // exposition format says "NaN", and strict parsers refuse anything else.
              ({ text, type }) => send(200, type, text.replace(/ Nan$/gm, " NaN")),
              (error: unknown) => {
                log.error(`metrics failed: ${describeError(error)}`);
                send(500, "text/plain", `${describeError(error)}\n`);
              },
            );
          return true;
        },
      },
      {
        method: "GET",
        path: "/healthz",
        handle: ({ request, response }) => {
          const problems = health();
          sender(request, response)(
            problems.length === 0 ? 200 : 503,
            "text/plain; charset=utf-8",
            problems.length === 0 ? "ok\n" : `${problems.join("\n")}\n`,
          );
          return true;
        },
      },
      ...(dashboard?.routes ?? []),
    ],
    { headFromGet: true },
  );
  let boundPort = options.port;
  const server: Server = createServer(
    // Node checks headersTimeout only this often (default 30 s).
    { connectionsCheckingInterval: 1000 },
    (request, response) => {
      connections.busy(request, response);
      const send = sender(request, response);
      const target = request.url ?? "/";
      // "//" reads as a URL with an empty host: new URL() throws, and a throw here ends the daemon.
      if (!URL.canParse(target, "http://sensord")) {
        send(400, "text/plain; charset=utf-8", "the request target is not a valid URL path\n");
        return;
      }
      const url = new URL(target, "http://sensord");
      const path = url.pathname;
      // /healthz stays open to any name: liveness probes, and it reveals nothing.
      if (checkHost !== null && path !== "/healthz" && !checkHost(request.headers.host)) {
        const message =
          `host "${request.headers.host ?? ""}" is not served without a dashboard token (a web page ` +
          `could be reaching this sensord through DNS rebinding); open it as http://127.0.0.1:${boundPort}/ ` +
          `or http://localhost:${boundPort}/, or set [http] token_file`;
        if (path.startsWith("/api/")) {
          send(
            421,
            "application/json; charset=utf-8",
            JSON.stringify({ error: message, header: "host" }),
          );
        } else send(421, "text/plain; charset=utf-8", `${message}\n`);
      } else {
        const exchange = { request, response, url };
        const match = router.match(request.method ?? "", path);
        if (match.kind === "found" && match.route.handle(exchange)) return;
        // Every route is GET (HEAD answered from it): any other method is refused
        // on any path, known or not.
        if (request.method !== "GET" && request.method !== "HEAD") {
          send(405, "text/plain", "only GET and HEAD\n", { allow: "GET, HEAD" });
        } else if (dashboard !== undefined && path.startsWith("/api/")) {
          dashboard.unknownApi(exchange);
        } else send(404, "text/plain", "not found: try /, /metrics or /healthz\n");
      }
    },
  );
  server.on("connection", (socket: Socket) => connections.add(socket));
  server.keepAliveTimeout = 5000;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = HEADERS_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  boundPort = typeof address === "object" && address !== null ? address.port : options.port;
  return {
    port: boundPort,
    close: async () => {
      dashboard?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes a whole text answer (headers only for HEAD). */
function sender(request: IncomingMessage, response: ServerResponse) {
  return (status: number, type: string, body: string, headers = {}): void => {
    response.writeHead(status, {
      "content-type": type,
      "content-length": Buffer.byteLength(body),
      ...headers,
    });
    response.end(request.method === "HEAD" ? undefined : body);
  };
}

/**
 * Keeps at most `max` connections. When a new one would pass the cap, the
 * connection idle the longest (no request in progress: keep-alive, or a
 * client that connected and sent nothing) is closed to make room; only when
 * every connection is serving a request (live feeds) is the new one refused.
 * A connection that sends no request within `silentMs` is closed (Node's
 * headersTimeout covers a header that starts and stalls, not silence). So
 * idle sockets, however many, never keep a request from being answered.
 */
class ConnectionCap {
  /** Open connections, least recently active first; true while a request is in progress. */
  private readonly open = new Map<Socket, boolean>();
  /** Connections that have not sent a request yet, and their deadline. */
  private readonly silent = new Map<Socket, NodeJS.Timeout>();

  constructor(
    private readonly max: number,
    private readonly silentMs: number,
  ) {}

  add(socket: Socket): void {
    if (this.open.size >= this.max) {
      const idle = [...this.open].find(([, busy]) => !busy)?.[0];
      if (idle === undefined) {
        socket.destroy();
        return;
      }
      this.forget(idle);
      idle.destroy();
    }
    this.open.set(socket, false);
    const timer = setTimeout(() => socket.destroy(), this.silentMs);
    timer.unref();
    this.silent.set(socket, timer);
    socket.once("close", () => this.forget(socket));
  }

  busy(request: IncomingMessage, response: ServerResponse): void {
    const socket = request.socket;
    if (!this.open.has(socket)) return;
    clearTimeout(this.silent.get(socket));
    this.silent.delete(socket);
    // Re-inserted: Map order is the eviction order.
    this.open.delete(socket);
    this.open.set(socket, true);
    response.once("close", () => {
      if (!this.open.has(socket)) return;
      this.open.delete(socket);
      this.open.set(socket, false);
    });
  }

  private forget(socket: Socket): void {
    clearTimeout(this.silent.get(socket));
    this.silent.delete(socket);
    this.open.delete(socket);
  }
}
