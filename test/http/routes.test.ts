import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../daemon/config/load.js";
import { createDashboard } from "../../daemon/http/dashboard.js";
import { type HttpServer, startHttpServer } from "../../daemon/http/server.js";
import { MACHINE } from "../config/helpers.js";
import { memoryLogger } from "../store/helpers.js";
import { send } from "../support/http/client.js";
import { makeTempDir } from "../support/processes.js";

/**
 * The device HTTP server's answers to paths and methods its route table does
 * not have: 404 and 405 as text outside /api/, as JSON under it (behind the
 * token), and never a route answered for a method it was not declared for.
 */
const temp = makeTempDir("sensord-http-routes-");
let server: HttpServer;

beforeAll(async () => {
  const config = parseConfig(
    '[[sensors]]\nid = "gas0"\ndriver = "sim"\n[http]\nlisten = "127.0.0.1:0"\n',
    join(temp.dir, "sensord.toml"),
    { machine: MACHINE },
  );
  const unused = (): never => {
    throw new Error("no answer here reads the daemon's state");
  };
  const log = memoryLogger();
  server = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    metrics: unused,
    health: () => [],
    dashboard: createDashboard({ config, control: { status: unused, overrides: unused }, log }),
    log,
  });
});

afterAll(async () => {
  await server?.close();
  temp.cleanup();
});

const API_LIST =
  "/api/status, /api/series, /api/alerts, /api/thresholds, /api/extent, /api/readings.csv, /api/events";

describe("the device HTTP server's route table", () => {
  it("answers an unknown path outside /api/ with a text 404 naming the known ones", async () => {
    for (const path of [
      "/nope",
      "/healthz/",
      "/metrics/x",
      "/static/",
      "/static/nope.css",
      "/API/status",
    ]) {
      const answer = await send(server.port, "GET", path);
      expect(answer.status, path).toBe(404);
      expect(answer.headers["content-type"]).toBe("text/plain");
      expect(answer.body).toBe("not found: try /, /metrics or /healthz\n");
    }
  });

  it("refuses every method but GET and HEAD with 405 and Allow, on known and unknown paths alike", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      for (const path of [
        "/",
        "/metrics",
        "/healthz",
        "/static/dashboard.css",
        "/api/status",
        "/nope",
      ]) {
        const answer = await send(server.port, method, path);
        expect(answer.status, `${method} ${path}`).toBe(405);
        expect(answer.headers.allow).toBe("GET, HEAD");
        expect(answer.body).toBe("only GET and HEAD\n");
      }
    }
  });

  it("answers HEAD from the GET route outside /api/: the same headers, no body", async () => {
    const get = await send(server.port, "GET", "/");
    const head = await send(server.port, "HEAD", "/");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    expect(head.headers["content-length"]).toBe(get.headers["content-length"]);
    expect(head.headers.etag).toBe(get.headers.etag);
    expect((await send(server.port, "HEAD", "/healthz")).headers["content-length"]).toBe("3");
  });

  it("under /api/: HEAD is 405 with Allow: GET, an unknown endpoint a JSON 404 listing them all", async () => {
    for (const path of ["/api/status", "/api/nope"]) {
      const head = await send(server.port, "HEAD", path);
      expect(head.status, path).toBe(405);
      expect(head.headers.allow).toBe("GET");
      expect(head.headers["content-type"]).toBe("application/json; charset=utf-8");
    }
    for (const path of ["/api/nope", "/api/", "/api/status/x"]) {
      const answer = await send(server.port, "GET", path);
      expect(answer.status, path).toBe(404);
      expect(answer.headers["cache-control"]).toBe("no-store");
      expect(JSON.parse(answer.body)).toEqual({
        error: `${path}: no such endpoint; try ${API_LIST}`,
      });
    }
  });

  it("answers a request target that is no URL path with 400, and goes on serving", async () => {
    const answer = await send(server.port, "GET", "//");
    expect(answer.status).toBe(400);
    expect(answer.body).toBe("the request target is not a valid URL path\n");
    expect((await send(server.port, "GET", "/healthz")).body).toBe("ok\n");
  });
});
