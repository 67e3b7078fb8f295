import { request } from "node:http";
import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  get,
  makeBatch,
  originalDocument,
  post,
  reading,
  readings,
  useIngestServer,
} from "./helpers.js";

const start = useIngestServer();

describe("POST /ingest: sensord.batch.v1", () => {
  it("stores a batch and answers with the counts", async () => {
    const server = await start();
    const result = await post(server.url, makeBatch("b-1", readings(0, 5)), {
      headers: { "idempotency-key": "b-1" },
    });
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ accepted: 5, duplicates: 0, batchId: "b-1" });
    expect(result.headers.get("idempotent-replayed")).toBeNull();
    expect(await server.stats()).toEqual({
      readings: 5,
      duplicates: 0,
      batches: 1,
      scope: "database",
    });
  });

  it("answers a repeated idempotency key with the first answer and processes nothing", async () => {
    const server = await start();
    const batch = makeBatch("b-1", readings(0, 5));
    const first = await post(server.url, batch, { headers: { "idempotency-key": "b-1" } });
    const again = await post(server.url, batch, { headers: { "idempotency-key": "b-1" } });
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await server.stats()).toEqual({
      readings: 5,
      duplicates: 0,
      batches: 1,
      scope: "database",
    });
  });

  it("uses the batchId as the idempotency key when the header is missing", async () => {
    const server = await start();
    const batch = makeBatch("b-1", readings(0, 3));
    await post(server.url, batch);
    const again = await post(server.url, batch);
    expect(again.json).toEqual({ accepted: 3, duplicates: 0, batchId: "b-1" });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await server.stats()).toEqual({
      readings: 3,
      duplicates: 0,
      batches: 1,
      scope: "database",
    });
  });

  it("counts readings already stored under another batch as duplicates and stores them once", async () => {
    const server = await start();
    await post(server.url, makeBatch("b-1", readings(0, 5)), {
      headers: { "idempotency-key": "b-1" },
    });
    const overlap = await post(server.url, makeBatch("b-2", readings(3, 5)), {
      headers: { "idempotency-key": "b-2" },
    });
    expect(overlap.status).toBe(200);
    expect(overlap.json).toEqual({ accepted: 3, duplicates: 2, batchId: "b-2" });
    expect(await server.stats()).toEqual({
      readings: 8,
      duplicates: 2,
      batches: 2,
      scope: "database",
    });
    const stored = await get(server.url, "/readings");
    expect(Array.isArray((stored.json as { readings?: unknown }).readings)).toBe(true);
    const ids = readingIds(stored.json);
    expect(ids).toHaveLength(8);
    expect(new Set(ids).size).toBe(8);
  });

  it("counts a reading repeated inside one batch as a duplicate", async () => {
    const server = await start();
    const result = await post(server.url, makeBatch("b-1", [reading(1), reading(1), reading(2)]));
    expect(result.json).toEqual({ accepted: 2, duplicates: 1, batchId: "b-1" });
  });

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

  it("accepts a gzip body", async () => {
    const server = await start();
    const result = await post(server.url, makeBatch("b-gz", readings(0, 1000)), { gzip: true });
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ accepted: 1000, duplicates: 0, batchId: "b-gz" });
  });

  it("stores every field of a reading and returns it in the wire shape", async () => {
    const server = await start();
    const sent = reading(7, {
      gas: "no2",
      unit: "ppb",
      value: 52.5,
      flags: ["warmup", "out_of_range"],
      sensorId: "0006",
      sensorType: "9",
    });
    await post(server.url, makeBatch("b-1", [sent], { id: "pi-9", group: "lab" }));
    const stored = await get(server.url, "/readings");
    expect(stored.json).toEqual({
      readings: [{ ...sent, device: "pi-9", group: "lab" }],
    });
  });
});

describe("POST /ingest: refused bodies", () => {
  it("answers 400 to a body that is not JSON", async () => {
    const server = await start();
    const result = await post(server.url, '{"schema": "sensord.batch.v1",');
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({ code: "INGEST_BAD_JSON" });
    expect(await server.stats()).toEqual({
      readings: 0,
      duplicates: 0,
      batches: 0,
      scope: "database",
    });
  });

  it("answers 400 to an empty body and to gzip that is not gzip", async () => {
    const server = await start();
    expect((await post(server.url, "")).status).toBe(400);
    const notGzip = await post(server.url, "plain text", {
      headers: { "content-encoding": "gzip" },
    });
    expect(notGzip.status).toBe(400);
    expect(notGzip.json).toMatchObject({ code: "INGEST_BAD_GZIP", header: "content-encoding" });
  });

  it("answers 415 to an unsupported content-encoding", async () => {
    const server = await start();
    const result = await post(server.url, makeBatch("b", readings(0, 1)), {
      headers: { "content-encoding": "br" },
    });
    expect(result.status).toBe(415);
    expect(result.json).toMatchObject({ header: "content-encoding" });
  });

  it("answers 422 naming the field of a reading with a string value, and stores nothing", async () => {
    const server = await start();
    // Built as plain JSON: the wire type rightly cannot hold a string value.
    const batch = makeBatch("b-1", readings(0, 5));
    const bad = {
      ...batch,
      readings: batch.readings.map((one, index) => (index === 3 ? { ...one, value: "3.5" } : one)),
    };
    const result = await post(server.url, bad);
    expect(result.status).toBe(422);
    expect(result.json).toEqual({
      error: "/readings/3/value: Expected number",
      code: "INGEST_SCHEMA",
      field: "/readings/3/value",
      errors: [{ field: "/readings/3/value", message: "Expected number" }],
      truncated: false,
    });
    expect(await server.stats()).toEqual({
      readings: 0,
      duplicates: 0,
      batches: 0,
      scope: "database",
    });
  });

  it("lists every error, the first one as `field`", async () => {
    const server = await start();
    const bad = readings(0, 3).map((one) => ({ ...one, gas: "xenon" as "co" }));
    const result = await post(server.url, {
      ...makeBatch("b-1", bad),
      device: { id: "", group: "2" },
    });
    expect(result.status).toBe(422);
    const body = result.json as { field: string; errors: Array<{ field: string }> };
    expect(body.field).toBe("/device/id");
    expect(body.errors.map((error) => error.field)).toEqual(
      expect.arrayContaining([
        "/device/id",
        "/readings/0/gas",
        "/readings/1/gas",
        "/readings/2/gas",
      ]),
    );
  });

  it("caps the error list at 100 entries and says so", async () => {
    const server = await start();
    const batch = makeBatch("b-1", readings(0, 300));
    const bad = { ...batch, readings: batch.readings.map((one) => ({ ...one, value: "x" })) };
    const result = await post(server.url, bad, { gzip: true });
    expect(result.status).toBe(422);
    expect(result.json).toMatchObject({ field: "/readings/0/value", truncated: true });
    expect((result.json as { errors: unknown[] }).errors).toHaveLength(100);
  });

  it("answers 422 to a body that is neither format, naming /schema", async () => {
    const server = await start();
    const result = await post(server.url, { hello: "world" });
    expect(result.status).toBe(422);
    expect(result.json).toMatchObject({ field: "/schema" });
    const wrongVersion = await post(server.url, {
      ...makeBatch("b", readings(0, 1)),
      schema: "sensord.batch.v2",
    });
    expect(wrongVersion.json).toMatchObject({ field: "/schema" });
    expect((await post(server.url, [1, 2])).json).toMatchObject({ field: "" });
  });

  it("answers 413 to a body over the limit", async () => {
    const server = await start({ maxBody: 64 * 1024 });
    const result = await post(server.url, makeBatch("b-big", readings(0, 1000)));
    expect(result.status).toBe(413);
    expect(result.json).toMatchObject({ code: "INGEST_TOO_LARGE", limit: 65536 });
    expect(await server.stats()).toEqual({
      readings: 0,
      duplicates: 0,
      batches: 0,
      scope: "database",
    });
    // The connection stays usable: the server read (and dropped) the rest of the body.
    expect((await get(server.url, "/healthz")).status).toBe(200);
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

  it("answers 413 to a gzip bomb: small on the wire, past the limit inflated", async () => {
    const server = await start({ maxBody: 1024 * 1024 });
    // 64 MiB of spaces (valid JSON whitespace) deflates to ~64 KiB.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const result = await post(server.url, bomb, { headers: { "content-encoding": "gzip" } });
    expect(result.status).toBe(413);
    expect(result.json).toMatchObject({ code: "INGEST_TOO_LARGE" });
  });

  it("answers a body exactly at the limit", async () => {
    const body = JSON.stringify(makeBatch("b", readings(0, 1)));
    const server = await start({ maxBody: Buffer.byteLength(body) });
    expect((await post(server.url, body)).status).toBe(200);
    expect((await post(server.url, `${body} `)).status).toBe(413);
  });
});

describe("POST /ingest and /proxyLambda: original documents", () => {
  it("stores one reading per gas with the index header", async () => {
    const server = await start();
    const result = await post(server.url, originalDocument("doc-1"), {
      headers: { index: "gasdetect" },
    });
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ accepted: 4, duplicates: 0, batchId: "doc-1" });
    const stored = await get(server.url, "/readings?gas=co");
    expect(stored.json).toEqual({
      readings: [
        {
          id: "doc-1:co",
          device: "",
          group: "2",
          gps: "37.61002501514269, 126.99636868892937",
          sensor: "0005",
          gas: "co",
          value: 26.2,
          unit: "",
          // No x-timezone header: createdtime is UTC.
          ts: "2021-09-03T18:14:49.000Z",
          flags: [],
          sensorId: "0005",
          sensorType: "8",
        },
      ],
    });
    expect(readingIds((await get(server.url, "/readings")).json).sort()).toEqual([
      "doc-1:c2h5oh",
      "doc-1:co",
      "doc-1:h2",
      "doc-1:no2",
    ]);
  });

  it("reads createdtime in the x-timezone zone and takes the device from x-device-id", async () => {
    const server = await start();
    await post(server.url, originalDocument("doc-1"), {
      headers: { index: "gasdetect", "x-timezone": "Asia/Seoul", "x-device-id": "pi-7" },
    });
    const stored = await get(server.url, "/readings?gas=no2");
    expect(stored.json).toMatchObject({
      readings: [{ id: "doc-1:no2", device: "pi-7", ts: "2021-09-03T09:14:49.000Z", value: 52 }],
    });
  });

  it("answers 400 naming the header when index is missing, and for an unknown zone", async () => {
    const server = await start();
    const missing = await post(server.url, originalDocument());
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ code: "INGEST_MISSING_HEADER", header: "index" });
    expect(String((missing.json as { error: string }).error)).toContain('"index"');
    const badZone = await post(server.url, originalDocument(), {
      headers: { index: "gasdetect", "x-timezone": "Mars/Olympus" },
    });
    expect(badZone.status).toBe(400);
    expect(badZone.json).toMatchObject({ header: "x-timezone" });
    expect(await server.stats()).toEqual({
      readings: 0,
      duplicates: 0,
      batches: 0,
      scope: "database",
    });
  });

  it("accepts the same document on /proxyLambda (the original gateway path)", async () => {
    const server = await start();
    const result = await post(server.url, originalDocument("doc-2"), {
      path: "/proxyLambda",
      headers: { index: "gasdetect" },
      gzip: true,
    });
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ accepted: 4, duplicates: 0, batchId: "doc-2" });
  });

  it("counts a re-sent document (no idempotency key) as duplicates", async () => {
    const server = await start();
    await post(server.url, originalDocument("doc-1"), { headers: { index: "gasdetect" } });
    const again = await post(server.url, originalDocument("doc-1"), {
      headers: { index: "gasdetect" },
    });
    expect(again.json).toEqual({ accepted: 0, duplicates: 4, batchId: "doc-1" });
    expect(await server.stats()).toEqual({
      readings: 4,
      duplicates: 4,
      batches: 2,
      scope: "database",
    });
  });

  it("answers 422 naming the field for a bad gas entry or an impossible createdtime", async () => {
    const server = await start();
    const numeric = originalDocument("doc-1", { co: { value: 26.2 } });
    const result = await post(server.url, numeric, { headers: { index: "gasdetect" } });
    expect(result.status).toBe(422);
    expect(result.json).toMatchObject({ field: "/co/value" });
    const feb30 = originalDocument("doc-1", { h2: { createdtime: "2021-02-30 10:00:00" } });
    const impossible = await post(server.url, feb30, { headers: { index: "gasdetect" } });
    expect(impossible.status).toBe(422);
    expect(impossible.json).toMatchObject({ field: "/h2/createdtime" });
  });

  it('accepts the reference sample\'s "400" (no decimals) and refuses a value that is not a number', async () => {
    const server = await start();
    const plain = await post(server.url, originalDocument("doc-1", { h2: { value: "400" } }), {
      headers: { index: "gasdetect" },
    });
    expect(plain.status).toBe(200);
    const words = await post(server.url, originalDocument("doc-2", { h2: { value: "high" } }), {
      headers: { index: "gasdetect" },
    });
    expect(words.status).toBe(422);
    expect(words.json).toMatchObject({ field: "/h2/value" });
  });
});

describe("routing", () => {
  it("answers 404 to an unknown path and 405 to a wrong method", async () => {
    const server = await start();
    const missing = await get(server.url, "/nope");
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ code: "INGEST_NOT_FOUND" });
    const wrongMethod = await get(server.url, "/ingest");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    const postToReadings = await post(server.url, {}, { path: "/readings" });
    expect(postToReadings.status).toBe(405);
    expect(postToReadings.headers.get("allow")).toBe("GET");
  });

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

function readingIds(json: unknown): string[] {
  const body = json as { readings: Array<{ id: string }> };
  return body.readings.map((one) => one.id);
}
