import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { dashboardFiles, PACKAGE_ROOT } from "../../web/server/assets.js";
import { StaticFiles, safeJoin } from "../../web/server/static.js";
import { makeTempDir } from "../support/processes.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(files: StaticFiles): Promise<string> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    if (!files.serve(path, request.method ?? "GET", request.headers, response)) {
      response.writeHead(404).end("nope");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
}

describe("static files", () => {
  it("serves known types with an ETag, 304 on revalidation, gzip when accepted", async () => {
    const temp = makeTempDir();
    cleanups.push(temp.cleanup);
    mkdirSync(join(temp.dir, "js"));
    const script = `export const x = "${"a".repeat(2000)}";\n`;
    writeFileSync(join(temp.dir, "js", "app.js"), script);
    writeFileSync(join(temp.dir, "page.html"), "<!doctype html><p>hi</p>");
    writeFileSync(join(temp.dir, "secret.db"), "data");
    const base = await serve(
      new StaticFiles([{ prefix: "/static/", dir: temp.dir }], {
        "/": join(temp.dir, "page.html"),
      }),
    );

    const plain = await fetch(`${base}/static/js/app.js`, {
      headers: { "accept-encoding": "identity" },
    });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(plain.headers.get("cache-control")).toBe("no-cache");
    expect(plain.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await plain.text()).toBe(script);
    const etag = plain.headers.get("etag") ?? "";
    expect(etag).toMatch(/^".+"$/);
    const again = await fetch(`${base}/static/js/app.js`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);

    // Raw bytes: undici's fetch would decompress transparently.
    const zipped = await new Promise<{ encoding: string | undefined; body: Buffer }>(
      (resolve, reject) => {
        import("node:http").then(({ get }) =>
          get(
            `${base}/static/js/app.js`,
            { headers: { "accept-encoding": "gzip" } },
            (response) => {
              const chunks: Buffer[] = [];
              response.on("data", (chunk: Buffer) => chunks.push(chunk));
              response.on("end", () =>
                resolve({
                  encoding: response.headers["content-encoding"],
                  body: Buffer.concat(chunks),
                }),
              );
            },
          ).on("error", reject),
        );
      },
    );
    expect(zipped.encoding).toBe("gzip");
    expect(zipped.body.length).toBeLessThan(200);
    expect(gunzipSync(zipped.body).toString()).toBe(script);

    expect((await fetch(`${base}/`)).headers.get("content-type")).toBe("text/html; charset=utf-8");
    // Unknown types and paths outside the folder are not served.
    expect((await fetch(`${base}/static/secret.db`)).status).toBe(404);
    expect((await fetch(`${base}/static/js/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
    expect((await fetch(`${base}/static/..%2fpage.html`)).status).toBe(404);
  });

  it("refuses every way out of the folder", () => {
    const dir = "/srv/web";
    expect(safeJoin(dir, "js/app.js")).toBe("/srv/web/js/app.js");
    for (const bad of [
      "../etc/passwd",
      "js/../../x.js",
      "%2e%2e/x.js",
      "..%2fx.js",
      "/etc/passwd",
      "js\\..\\x.js",
      "a%00.js",
      ".env",
      "js//x.js",
      "",
      "%E0%A4%A",
    ]) {
      expect(safeJoin(dir, bad), bad).toBeNull();
    }
  });

  it("names its URLs as router patterns: each file, then one segment under each folder", () => {
    const files = new StaticFiles(
      [
        { prefix: "/static/js/", dir: "/srv/js" },
        { prefix: "/static/", dir: "/srv/assets" },
      ],
      { "/": "/srv/assets/page.html", "/static/js/lib.js": "/srv/lib/lib.js" },
    );
    expect(files.paths).toEqual(["/", "/static/js/lib.js", "/static/js/:file", "/static/:file"]);
  });

  it("the dashboards' folders hold no subfolder, which their one-segment routes would not reach", () => {
    expect(dashboardFiles({}).paths).toContain("/static/js/:file");
    for (const dir of ["dist/web/src", "web/assets"]) {
      const folders = readdirSync(resolve(PACKAGE_ROOT, dir), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name);
      expect(folders, dir).toEqual([]);
    }
  });
});
