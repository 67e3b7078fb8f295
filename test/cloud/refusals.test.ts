import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { get, makeBatch, post, reading, readings, useIngestServer } from "./helpers.js";

// The refusals any adapter must give alike (content type, lengths, reading
// times) are in the shared table, test/cloud/adapter-cases.ts. What follows
// is the Node server's own: Host checks, a reopened database, in-flight bytes.

const start = useIngestServer();

/** A POST through node:http, which (unlike fetch) lets a test set Host. */
function rawPost(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown>; headers: Record<string, unknown> }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const upload = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: "POST",
        headers,
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            json: JSON.parse(text),
            headers: response.headers,
          }),
        );
      },
    );
    upload.on("error", reject);
    upload.end(body);
  });
}

function rawGet(url: string, headers: Record<string, string>): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, headers },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    )
      .on("error", reject)
      .end();
  });
}

describe("Host without an API key (DNS rebinding)", () => {
  const batch = (id: string) => JSON.stringify(makeBatch(id, readings(0, 2)));
  const json = { "content-type": "application/json" };

  it("serves loopback names and the listen address, refuses any other host with 421, and keeps /healthz open", async () => {
    const server = await start();
    const port = new URL(server.url).port;
    const refused = await rawPost(`${server.url}/ingest`, batch("x"), {
      ...json,
      host: `attacker.example:${port}`,
    });
    expect(refused.status).toBe(421);
    expect(refused.json).toMatchObject({ code: "INGEST_HOST_NOT_ALLOWED", header: "host" });
    expect(String(refused.json.error)).toContain("--allowed-host");
    expect(await rawGet(`${server.url}/readings.csv`, { host: "attacker.example" })).toBe(421);
    expect(await rawGet(`${server.url}/healthz`, { host: "attacker.example" })).toBe(200);
    expect(await server.stats()).toMatchObject({ readings: 0 });
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      "127.8.0.1",
      "[::1]:80",
      "LOCALHOST",
    ]) {
      expect([host, await rawGet(`${server.url}/devices`, { host })]).toEqual([host, 200]);
    }
  });

  it("serves the names given with allowedHosts (--allowed-host)", async () => {
    const server = await start({ allowedHosts: ["ingest.lab.example"] });
    const result = await rawPost(`${server.url}/ingest`, batch("y"), {
      ...json,
      host: "Ingest.Lab.Example:8787",
    });
    expect(result.status).toBe(200);
    expect(await rawGet(`${server.url}/devices`, { host: "other.lab.example" })).toBe(421);
  });

  it("serves any host once an API key is required", async () => {
    const server = await start({ apiKey: "k-123" });
    const result = await rawPost(`${server.url}/ingest`, batch("z"), {
      ...json,
      host: "ingest.example.org",
      "x-api-key": "k-123",
    });
    expect(result.status).toBe(200);
  });
});

describe("reading times across restarts", () => {
  const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

  it("never shows a reading more than a day ahead as a device's last reading", async () => {
    const server = await start({ now: () => NOW + 3 * 86_400_000 });
    // Accepted by a server whose clock was 3 days ahead, as old databases may hold such readings.
    await post(
      server.url,
      makeBatch("f", [
        reading(0, { ts: new Date(NOW + 2 * 86_400_000).toISOString() }),
        reading(1, { ts: new Date(NOW - 60_000).toISOString() }),
      ]),
    );
    const { dbPath } = server;
    await server.close();
    const later = await start({ now: () => NOW, reuseDbPath: dbPath });
    const devices = (await get(later.url, "/devices")).json as {
      devices: Array<{ lastReadingAt: string }>;
    };
    expect(devices.devices.map((device) => device.lastReadingAt)).toEqual([
      new Date(NOW - 60_000).toISOString(),
    ]);
  });
});

describe("request bodies held at once (--max-inflight-bytes)", () => {
  /** Starts an upload that sends its head and `sent` bytes of a `length`-byte body, then waits. */
  function slowUpload(url: string, body: Buffer, sent: number) {
    const target = new URL(`${url}/ingest`);
    let finish: () => void = () => {};
    const abort: () => void = () => {};
    const answer = new Promise<{
      status: number;
      json: Record<string, unknown>;
      retryAfter: string | undefined;
    }>((resolve, reject) => {
      const upload = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": body.length },
        },
        (response) => {
          let text = "";
          response.on("data", (chunk: Buffer) => {
            text += chunk.toString();
          });
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              json: JSON.parse(text),
              retryAfter: response.headers["retry-after"] as string | undefined,
            }),
          );
        },
      );
      upload.on("error", reject);
      upload.write(body.subarray(0, sent));
      finish = () => upload.end(body.subarray(sent));
    });
    return { answer, finish: () => finish(), abort: () => abort() };
  }

  it("answers 503 with Retry-After past the cap, before the body is sent, and serves the admitted uploads", async () => {
    const server = await start({ maxBody: 300_000, maxInflightBytes: 600_000 });
    const body = (id: string) => {
      const batch = makeBatch(id, readings(Number(id.slice(1)) * 1000, 1000));
      // Padding after the JSON: whitespace keeps it valid and makes each upload ~250 kB.
      return Buffer.from(JSON.stringify(batch).padEnd(250_000, " "));
    };
    const first = slowUpload(server.url, body("b1"), 1000);
    const second = slowUpload(server.url, body("b2"), 1000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const third = slowUpload(server.url, body("b3"), 1000);
    const refused = await third.answer;
    third.abort();
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe("2");
    expect(refused.json).toMatchObject({ code: "INGEST_BUSY", retryAfter: 2 });
    first.finish();
    second.finish();
    expect((await first.answer).json).toMatchObject({ accepted: 1000 });
    expect((await second.answer).json).toMatchObject({ accepted: 1000 });
    // Their bytes are given back: the same upload now fits.
    const again = slowUpload(server.url, body("b3"), 0);
    again.finish();
    expect((await again.answer).json).toMatchObject({ accepted: 1000 });
  });
});
