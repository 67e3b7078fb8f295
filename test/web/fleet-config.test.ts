import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stageDashboard } from "../../cloud/aws/stack/dashboard-files.js";
import { makeTempDir, ROOT } from "../support/processes.js";
import { collectErrors, launchChromium } from "./browser.js";

/**
 * The fleet page hosted apart from its API, as on CloudFront + API Gateway:
 * the files the stack uploads (stageDashboard) from one loopback server,
 * the API from another that answers CORS as the Lambda does. config.json
 * beside the page says where the API is.
 */
const KEY = "fleet-config-test-key";
const temp = makeTempDir("sensord-fleet-config-");
const staged = stageDashboard(ROOT, join(temp.dir, "site"));
let browser: BrowserContext;
let closeBrowser: () => Promise<void>;
const servers: Server[] = [];

interface Seen {
  method: string;
  path: string;
  query: string;
  key: string | undefined;
  origin: string | undefined;
  ifMatch: string | undefined;
}

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
};

/** The fleet dashboard's queries, answered for one device without readings. */
function answer(path: string): unknown {
  if (path.endsWith("/devices")) {
    return {
      devices: [
        {
          device: "pi-cfg",
          group: "7",
          gps: null,
          lastReadingAt: null,
          lastSeenAt: null,
          gases: [],
        },
      ],
    };
  }
  if (path.endsWith("/readings")) return { readings: [] };
  if (path.endsWith("/readings/series")) {
    return { from: 0, to: 1, bucketMs: 1, buckets: 1, lines: [] };
  }
  if (path.endsWith("/alerts")) return { alerts: [] };
  if (path.endsWith("/fleet/thresholds/status")) {
    return {
      group: "7",
      devices: [
        {
          device: "pi-cfg",
          group: "7",
          desired_etag: "g1-test",
          reported_etag: "g1-test",
          state: "in_sync",
          reason: null,
          reported_at: null,
        },
      ],
    };
  }
  if (path.endsWith("/fleet/thresholds/history")) {
    return {
      scope: "group",
      name: "7",
      versions: [
        {
          version: 1,
          etag: "g1-test",
          thresholds: [{ gas: "no2", value: 100 }],
          changed_at: "2026-12-01T00:00:00.000Z",
          changed_by: null,
        },
      ],
    };
  }
  // The PUT: the next version, as the ingest answers it.
  if (path.endsWith("/fleet/thresholds")) {
    return { scope: "group", name: "7", version: 2, etag: "g2-test" };
  }
  return null;
}

/**
 * One loopback server: `config` as config.json (404 when null), the staged
 * files, and under `apiPrefix` the API, with CORS for `allowOrigin`.
 */
async function serve(options: {
  config: object | null;
  apiPrefix: string | null;
  allowOrigin?: () => string;
}): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const [path = "/", query = ""] = (request.url ?? "/").split("?");
    if (path === "/config.json") {
      if (options.config === null) return void response.writeHead(404).end();
      return void response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify(options.config));
    }
    const file = normalize(join(staged, path === "/" ? "index.html" : path));
    if (file.startsWith(staged) && existsSync(file) && statSync(file).isFile()) {
      response.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      });
      return void response.end(readFileSync(file));
    }
    if (options.apiPrefix === null || !path.startsWith(options.apiPrefix)) {
      return void response.writeHead(404).end();
    }
    seen.push({
      method: request.method ?? "",
      path,
      query,
      key: request.headers["x-api-key"] as string | undefined,
      origin: request.headers.origin,
      ifMatch: request.headers["if-match"],
    });
    if (options.allowOrigin !== undefined) {
      response.setHeader("access-control-allow-origin", options.allowOrigin());
      // As the stack's API Gateway answers a preflight (cloud/aws/stack/api.ts).
      response.setHeader("access-control-allow-headers", "x-api-key,content-type,if-match");
      response.setHeader("access-control-allow-methods", "GET,POST,PUT,OPTIONS");
    }
    if (request.method === "OPTIONS") return void response.writeHead(204).end();
    const body = answer(path);
    if (body === null) return void response.writeHead(404).end("{}");
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

beforeAll(async () => {
  ({ context: browser, close: closeBrowser } = await launchChromium());
}, 60_000);

afterAll(async () => {
  await closeBrowser?.();
  for (const server of servers) server.close();
  temp.cleanup();
});

async function openPage(url: string): Promise<{ status: string; errors: string[] }> {
  const page = await browser.newPage();
  const errors = collectErrors(page);
  await page.addInitScript(`sessionStorage.setItem("sensord-api-key", ${JSON.stringify(KEY)})`);
  await page.goto(`${url}/`);
  await page.waitForFunction("window.sensordReady !== undefined");
  // A failed load rejects after writing the status line, which is what the tests read.
  await page.evaluate("window.sensordReady.catch(() => null)");
  const status = (await page.textContent("#status")) ?? "";
  await page.close();
  return { status, errors };
}

const QUERIES = ["/devices", "/readings", "/readings/series", "/alerts"];

describe("the fleet page's config.json", () => {
  it("sends every query, with the key, to apiBase (stage path kept) and none to the page's server", async () => {
    const api = await serve({ config: null, apiPrefix: "/v1/", allowOrigin: () => site.url });
    const site = await serve({ config: { apiBase: `${api.url}/v1/` }, apiPrefix: "/v1/" });
    const { errors } = await openPage(site.url);
    expect(errors).toEqual([]);
    const gets = api.seen.filter((request) => request.method === "GET");
    expect([...new Set(gets.map((request) => request.path))].sort()).toEqual(
      QUERIES.map((query) => `/v1${query}`).sort(),
    );
    for (const request of gets) {
      expect(request.key).toBe(KEY);
      expect(request.origin).toBe(site.url);
    }
    // x-api-key is not a simple header: the browser asked first, as it will ask API Gateway.
    expect(api.seen.some((request) => request.method === "OPTIONS")).toBe(true);
    expect(site.seen).toEqual([]);
  });

  it("the Thresholds panel reads and saves through apiBase too, the key in a header, never in a URL", async () => {
    const api = await serve({ config: null, apiPrefix: "/v1/", allowOrigin: () => site.url });
    const site = await serve({ config: { apiBase: `${api.url}/v1/` }, apiPrefix: "/v1/" });
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.addInitScript(`sessionStorage.setItem("sensord-api-key", ${JSON.stringify(KEY)})`);
    await page.goto(`${site.url}/?group=7`);
    await page.waitForFunction("window.sensordReady !== undefined");
    await page.evaluate("window.sensordReady");
    expect(await page.textContent("#threshold-status tr td:nth-child(2)")).toBe("in sync");
    await page.fill("#threshold-rules tr.rule input[name=value]", "50");
    await page.click('#threshold-form button[type="submit"]');
    await expect
      .poll(() => page.textContent("#threshold-message"))
      .toBe("Saved as version 2. The group's devices apply it on their next sync.");
    await page.close();
    expect(api.seen.filter((request) => request.method === "PUT")).toEqual([
      {
        method: "PUT",
        path: "/v1/fleet/thresholds",
        query: "group=7",
        key: KEY,
        origin: site.url,
        ifMatch: '"g1-test"',
      },
    ]);
    const reads = api.seen.filter(
      (request) => request.method === "GET" && request.path.startsWith("/v1/fleet/"),
    );
    expect([...new Set(reads.map((request) => request.path))].sort()).toEqual([
      "/v1/fleet/thresholds/history",
      "/v1/fleet/thresholds/status",
    ]);
    for (const request of reads) expect(request.key).toBe(KEY);
    for (const request of api.seen) expect(request.query).not.toContain(KEY);
    expect(site.seen).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("queries the page's own server when config.json is absent (404)", async () => {
    const site = await serve({ config: null, apiPrefix: "/" });
    const { status } = await openPage(site.url);
    const gets = site.seen.filter((request) => request.method === "GET");
    expect([...new Set(gets.map((request) => request.path))].sort()).toEqual([...QUERIES].sort());
    expect(status).not.toMatch(/config\.json/);
  });

  it("says what is wrong with a config.json whose apiBase is no URL, and queries nothing", async () => {
    const site = await serve({ config: { apiBase: "api.example" }, apiPrefix: "/v1/" });
    const { status } = await openPage(site.url);
    expect(status).toContain(
      '"apiBase" must be the API\'s http(s) URL or "" (this server), got "api.example"',
    );
    expect(site.seen).toEqual([]);
  });
});
