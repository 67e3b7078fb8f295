import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import { describeError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { Dashboard } from "./dashboard.js";

export interface HttpServer {
  /** The bound port (differs from the configured one when that was 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * GET /metrics (Prometheus text), GET /healthz (200 "ok", or 503 with one
 * reason per line), and the device dashboard (`/`, /static/, /api/) when given.
 */
export async function startHttpServer(options: {
  host: string;
  port: number;
  metrics: Registry;
  health: () => string[];
  dashboard?: Dashboard;
  log: Logger;
}): Promise<HttpServer> {
  const { metrics, health, dashboard, log } = options;
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://sensord");
    const path = url.pathname;
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, {
        "content-type": type,
        "content-length": Buffer.byteLength(body),
      });
      response.end(request.method === "HEAD" ? undefined : body);
    };
    if (request.method !== "GET" && request.method !== "HEAD") {
      send(405, "text/plain", "only GET\n");
    } else if (path === "/metrics") {
      metrics.metrics().then(
        // prom-client spells a not-yet-sampled gauge (event loop lag) "Nan"; the
        // exposition format says "NaN", and strict parsers refuse anything else.
        (text) => send(200, metrics.contentType, text.replace(/ Nan$/gm, " NaN")),
        (error: unknown) => {
          log.error(`metrics failed: ${describeError(error)}`);
          send(500, "text/plain", `${describeError(error)}\n`);
        },
      );
    } else if (path === "/healthz") {
      const problems = health();
      send(
        problems.length === 0 ? 200 : 503,
        "text/plain; charset=utf-8",
        problems.length === 0 ? "ok\n" : `${problems.join("\n")}\n`,
      );
    } else if (dashboard === undefined || !dashboard.handle(request, response, url)) {
      send(404, "text/plain", "not found: try /, /metrics or /healthz\n");
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : options.port,
    close: async () => {
      dashboard?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
