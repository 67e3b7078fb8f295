import { request } from "node:http";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { get, makeBatch, post, readings, useIngestServer } from "./helpers.js";

// What any adapter must answer alike (batches, originals, refused bodies,
// routing) is one table, test/cloud/adapter-cases.ts, run through this
// server and the Lambda handler by test/aws/lambda-adapters.test.ts. What
// follows is the Node server's own: concurrency, the socket, the API key.

const start = useIngestServer();

describe("POST /ingest over Node's http", () => {
  it("processes concurrent requests with the same key once", async () => {
    const server = await start();
    const batch = makeBatch("b-1", readings(0, 200));
    const answers = await Promise.all(
      [1, 2, 3].map(() =>
        post(server.url, batch, { gzip: true, headers: { "idempotency-key": "same" } }),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ accepted: 200, duplicates: 0, batchId: "b-1" });
    }
    expect(await server.stats()).toEqual({
      readings: 200,
      duplicates: 0,
      batches: 1,
      scope: "database",
    });
  });

  it("answers 413 without a content-length too (chunked upload), stopping at the limit", async () => {
    const server = await start({ maxBody: 64 * 1024 });
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${server.url}/ingest`);
      const upload = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: { "content-type": "application/json" },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      upload.on("error", reject);
      // Chunked transfer: the server cannot know the size in advance.
      for (let i = 0; i < 20; i++) upload.write(Buffer.alloc(16 * 1024, 0x20));
      upload.end();
    });
    expect(status).toBe(413);
  });
});

describe("the socket", () => {
  it("answers 400 to a request target that is not a URL path, and keeps serving", async () => {
    const server = await start();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.address.port, "127.0.0.1");
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
      socket.write("GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('"code":"INGEST_BAD_TARGET"');
    expect((await get(server.url, "/healthz")).status).toBe(200);
  });

  it("survives a client that hangs up mid-body, storing nothing", async () => {
    const server = await start();
    await new Promise<void>((resolve) => {
      const socket = connect(server.address.port, "127.0.0.1", () => {
        socket.write(
          'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"schema":',
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    expect((await get(server.url, "/healthz")).json).toEqual({
      status: "ok",
      store: "sqlite",
      scope: "database",
      readings: 0,
      duplicates: 0,
      batches: 0,
      threshold_reports_malformed: 0,
    });
  });
});

describe("x-api-key", () => {
  it("answers 401 without or with a wrong key, 200 with the right one; /healthz stays open", async () => {
    const server = await start({ apiKey: "s3cret-key" });
    const batch = makeBatch("b-1", readings(0, 2));
    const without = await post(server.url, batch);
    expect(without.status).toBe(401);
    expect(without.json).toMatchObject({ code: "INGEST_UNAUTHORIZED", header: "x-api-key" });
    const wrong = await post(server.url, batch, { headers: { "x-api-key": "s3cret-kez" } });
    expect(wrong.status).toBe(401);
    expect((await get(server.url, "/readings")).status).toBe(401);
    expect(await server.stats()).toEqual({
      readings: 0,
      duplicates: 0,
      batches: 0,
      scope: "database",
    });
    const right = await post(server.url, batch, { headers: { "x-api-key": "s3cret-key" } });
    expect(right.status).toBe(200);
    expect((await get(server.url, "/readings", { "x-api-key": "s3cret-key" })).status).toBe(200);
    expect((await get(server.url, "/healthz")).status).toBe(200);
  });
});
