import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../core/errors.js";
import { VERSION } from "../../core/version.js";
import type { BatchDevice, BatchReading } from "../../schemas/batch.js";
import { batchJson, encodeBody, uploadHeaders } from "../../sync/batch.js";
import { UploadError } from "../../sync/errors.js";
import {
  closeSharedAgents,
  createUploadAgent,
  type PostOptions,
  type PostResult,
  postBody,
} from "../../sync/http.js";
import { classifyFailure, classifyResponse } from "../../sync/policy.js";
import { type Blackhole, startBlackhole } from "../support/http/blackhole.js";
import { type FaultProxy, startFaultProxy } from "../support/http/fault-proxy.js";
import { type RecordingServer, startRecordingServer } from "../support/http/recording-server.js";

const device: BatchDevice = { id: "pi-lab-07", group: "2" };
const readings: BatchReading[] = Array.from({ length: 40 }, (_, i) => ({
  id: `k3jd7fq2ma-r${(i + 1).toString(36)}`,
  sensor: "gas0",
  gas: "co",
  value: 26.2 + i,
  unit: "ppm",
  ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  flags: [],
}));

// Timers fire late on a busy machine (the suite runs files in parallel on 2
// cores): a timeout is checked to fire within this slack, not to the millisecond.
const TIMER_SLACK_MS = 2000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function recordingServer(): Promise<RecordingServer> {
  const server = await startRecordingServer();
  cleanups.push(() => server.close());
  return server;
}

async function faultProxy(): Promise<{ proxy: FaultProxy; upstream: RecordingServer }> {
  const upstream = await recordingServer();
  const proxy = await startFaultProxy(upstream.url);
  cleanups.push(() => proxy.close());
  return { proxy, upstream };
}

function options(overrides: Partial<PostOptions> = {}): PostOptions {
  const timeouts = {
    connectTimeoutMs: 1000,
    headersTimeoutMs: 1000,
    bodyTimeoutMs: 1000,
    ...overrides,
  };
  const dispatcher = createUploadAgent(timeouts);
  cleanups.push(() => dispatcher.destroy());
  return { maxResponseBytes: 4096, dispatcher, ...timeouts };
}

async function batchRequest() {
  const built = batchJson(
    device,
    readings.map((reading) => ({ id: reading.id, json: JSON.stringify(reading) })),
  );
  const batch = { schema: "sensord.batch.v1", device, batchId: built.batchId, readings };
  const encoded = await encodeBody(built.json, true);
  const headers = uploadHeaders({
    idempotencyKey: batch.batchId,
    index: "gasdetect",
    apiKey: "s3cret",
    contentHeaders: encoded.headers,
  });
  return { batch, body: encoded.body, headers };
}

/** The UploadError a post fails with, and how long it took. */
async function failure(post: Promise<PostResult>): Promise<{ error: UploadError; ms: number }> {
  const started = performance.now();
  try {
    await post;
  } catch (error) {
    if (error instanceof UploadError) return { error, ms: performance.now() - started };
    throw error;
  }
  throw new Error("expected the post to fail");
}

describe("postBody against a recording server", () => {
  it("sends exactly the contract's headers and a gzip body that decodes to the batch", async () => {
    const server = await recordingServer();
    const { batch, body, headers } = await batchRequest();
    const result = await postBody(server.url, body, headers, options());
    expect(result).toMatchObject({ status: 200, body: '{"ok":true}', truncated: false });

    const [received] = server.requests;
    expect(received?.method).toBe("POST");
    expect(received?.path).toBe("/ingest");
    expect(received?.headers).toEqual({
      host: `127.0.0.1:${server.port}`,
      connection: "keep-alive",
      "content-type": "application/json",
      "content-encoding": "gzip",
      "content-length": String(body.length),
      "idempotency-key": batch.batchId,
      index: "gasdetect",
      "x-api-key": "s3cret",
      "user-agent": `sensord/${VERSION}`,
    });
    expect(JSON.parse(received?.decoded.toString() ?? "")).toEqual(batch);
  });

  it("reuses one keep-alive connection for back-to-back posts", async () => {
    const server = await recordingServer();
    const { body, headers } = await batchRequest();
    const opts = options();
    for (let i = 0; i < 25; i++) await postBody(server.url, body, headers, opts);
    expect(server.requests).toHaveLength(25);
    expect(server.connections()).toBe(1);
  });

  it("returns every status with its headers for the policy to classify", async () => {
    const server = await recordingServer();
    server.enqueue(
      { status: 422, body: '{"error":"unknown gas xyz"}' },
      { status: 429, headers: { "retry-after": "1" } },
      { status: 401, body: "bad key" },
      { status: 409 },
    );
    const opts = options();
    const outcomes = [];
    for (let i = 0; i < 4; i++) {
      const result = await postBody(server.url, Buffer.from("{}"), {}, opts);
      outcomes.push(classifyResponse(result.status, result.headers, result.body));
    }
    expect(outcomes).toEqual([
      { kind: "quarantine", reason: "HTTP 422: unknown gas xyz" },
      { kind: "retry", reason: "HTTP 429", retryAfterMs: 1000 },
      { kind: "auth", reason: "HTTP 401: bad key" },
      { kind: "accepted" },
    ]);
  });

  it("reads at most maxResponseBytes of a large answer, then still works", async () => {
    const server = await recordingServer();
    server.enqueue(
      { status: 500, body: "e".repeat(1_000_000) },
      { status: 200, body: "x".repeat(100) },
    );
    const opts = { ...options(), maxResponseBytes: 100 };
    const big = await postBody(server.url, Buffer.from("{}"), {}, opts);
    expect(big).toMatchObject({ status: 500, truncated: true });
    expect(big.body).toBe("e".repeat(100));
    // Exactly the limit is not truncated.
    const exact = await postBody(server.url, Buffer.from("{}"), {}, opts);
    expect(exact).toMatchObject({ status: 200, body: "x".repeat(100), truncated: false });
  });

  it("fails with an unreachable UploadError, retried as such, when the connection is refused", async () => {
    const server = await recordingServer();
    await server.close();
    const { error } = await failure(postBody(server.url, Buffer.from("{}"), {}, options()));
    expect(error.code).toBe(ERROR_CODES.upload.unreachable);
    expect(error.status).toBeUndefined();
    expect(error.message).toBe(`connect ECONNREFUSED 127.0.0.1:${server.port}`);
    expect(classifyFailure(error)).toEqual({
      kind: "retry",
      reason: error.message,
      retryAfterMs: null,
      unreachable: true,
    });
  });

  it("uses a shared keep-alive agent when no dispatcher is given", async () => {
    const server = await recordingServer();
    cleanups.push(closeSharedAgents);
    const timeouts = { connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000 };
    for (let i = 0; i < 3; i++) {
      await postBody(server.url, Buffer.from("{}"), {}, { ...timeouts, maxResponseBytes: 100 });
    }
    expect(server.connections()).toBe(1);
  });

  it("refuses a URL that is not http(s) before sending anything", async () => {
    const { error } = await failure(
      postBody("ftp://127.0.0.1:1/x", Buffer.from("{}"), {}, options()),
    );
    expect(error.code).toBe(ERROR_CODES.upload.network);
    expect(error.message).toBe("invalid request: unsupported protocol ftp: (http: or https: only)");
  });
});

describe("postBody timeouts", () => {
  it("gives up connecting to an endpoint that drops SYNs after connectTimeoutMs", async () => {
    // Linux drops SYNs on a full accept queue; startBlackhole fails loudly where it does not.
    const blackhole: Blackhole = await startBlackhole();
    cleanups.push(() => blackhole.close());
    const { error, ms } = await failure(
      postBody(blackhole.url, Buffer.from("{}"), {}, options({ connectTimeoutMs: 60 })),
    );
    expect(error.code).toBe(ERROR_CODES.upload.unreachable);
    expect(error.message).toMatch(/^connect timeout after 60 ms to 127\.0\.0\.1:\d+$/);
    expect(ms).toBeGreaterThanOrEqual(50);
    expect(ms).toBeLessThan(TIMER_SLACK_MS);
    expect(classifyFailure(error)).toMatchObject({ kind: "retry", unreachable: true });
  });

  it("gives up waiting for headers from a server that never answers", async () => {
    const { proxy } = await faultProxy();
    proxy.set({ kind: "hang" });
    const { error, ms } = await failure(
      postBody(proxy.url, Buffer.from("{}"), {}, options({ headersTimeoutMs: 50 })),
    );
    expect(error.code).toBe(ERROR_CODES.upload.timeout);
    expect(error.message).toBe("timeout waiting for response headers (50 ms)");
    expect(classifyFailure(error)).toEqual({
      kind: "retry",
      reason: error.message,
      retryAfterMs: null,
    });
    expect(ms).toBeLessThan(TIMER_SLACK_MS);
    expect(proxy.counts).toEqual({ hang: 1 });
  });

  it("gives up on a body that stalls after the headers", async () => {
    const { proxy } = await faultProxy();
    proxy.set({ kind: "stall-body", status: 200, declaredBytes: 1000, sentBytes: 10 });
    const { error, ms } = await failure(
      postBody(proxy.url, Buffer.from("{}"), {}, options({ bodyTimeoutMs: 50 })),
    );
    expect(error.code).toBe(ERROR_CODES.upload.timeout);
    expect(error.message).toBe("timeout reading response body (no data for 50 ms)");
    expect(error.status).toBe(200);
    expect(ms).toBeLessThan(TIMER_SLACK_MS);
  });

  it("enforces the overall deadline exactly, whatever the phase timeouts", async () => {
    const { proxy } = await faultProxy();
    proxy.set({ kind: "hang" });
    // Phase timeouts far beyond the deadline: only the deadline can end this.
    const long = options({
      connectTimeoutMs: 60_000,
      headersTimeoutMs: 60_000,
      bodyTimeoutMs: 60_000,
    });
    // A timer of the same length armed just before the post: on a busy machine
    // both are late together, so "exactly" is measured against it, not the wall
    // clock.
    const started = performance.now();
    let referenceAt = 0;
    const reference = new Promise<void>((resolve) =>
      setTimeout(() => {
        referenceAt = performance.now();
        resolve();
      }, 40),
    );
    const { error } = await failure(
      postBody(proxy.url, Buffer.from("{}"), {}, { ...long, deadlineMs: 40 }),
    );
    const failedAt = performance.now();
    await reference;
    expect(error.code).toBe(ERROR_CODES.upload.timeout);
    expect(error.message).toBe("no complete response within the 40 ms deadline");
    // Never early (libuv's millisecond clock may fire 1 ms short)...
    expect(failedAt - started).toBeGreaterThanOrEqual(39);
    // ...and at most a few event-loop turns after the reference timer fired.
    expect(failedAt - referenceAt).toBeGreaterThanOrEqual(0);
    expect(failedAt - referenceAt).toBeLessThan(100);
  });

  it("stops at once when the caller aborts (shutdown)", async () => {
    const { proxy } = await faultProxy();
    proxy.set({ kind: "hang" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const { error, ms } = await failure(
      postBody(proxy.url, Buffer.from("{}"), {}, { ...options(), signal: controller.signal }),
    );
    expect(error.code).toBe(ERROR_CODES.upload.aborted);
    expect(ms).toBeLessThan(500);
  });
});

describe("postBody and the caller's signal", () => {
  it("leaves no listener behind on a long-lived shutdown signal", async () => {
    const server = await recordingServer();
    const shutdown = new AbortController();
    const opts = { ...options(), signal: shutdown.signal };
    for (let i = 0; i < 20; i++) await postBody(server.url, Buffer.from("{}"), {}, opts);
    server.enqueue({ status: 503 });
    await postBody(server.url, Buffer.from("{}"), {}, opts);
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
  });

  it("does not start when the signal is already aborted", async () => {
    const server = await recordingServer();
    const { error } = await failure(
      postBody(server.url, Buffer.from("{}"), {}, { ...options(), signal: AbortSignal.abort() }),
    );
    expect(error.code).toBe(ERROR_CODES.upload.aborted);
    expect(server.requests).toHaveLength(0);
  });
});

describe("postBody through the fault proxy", () => {
  it("passes requests and answers through unchanged", async () => {
    const { proxy, upstream } = await faultProxy();
    const { batch, body, headers } = await batchRequest();
    const result = await postBody(proxy.url, body, headers, options());
    expect(result).toMatchObject({ status: 200, body: '{"ok":true}' });
    expect(upstream.requests[0]?.headers["idempotency-key"]).toBe(batch.batchId);
    expect(JSON.parse(upstream.requests[0]?.decoded.toString() ?? "")).toEqual(batch);
    expect(proxy.requests[0]).toMatchObject({
      method: "POST",
      path: "/ingest",
      bodyBytes: body.length,
    });
    expect(proxy.counts).toEqual({ pass: 1 });
  });

  it("answers programmed statuses (429 + Retry-After, 500, 413, 422, 401)", async () => {
    const { proxy, upstream } = await faultProxy();
    proxy.next(
      { kind: "respond", status: 429, headers: { "retry-after": "1" } },
      { kind: "respond", status: 500 },
      { kind: "respond", status: 413 },
      { kind: "respond", status: 422, body: "value out of range" },
      { kind: "respond", status: 401 },
    );
    const opts = options();
    const kinds = [];
    for (let i = 0; i < 6; i++) {
      const result = await postBody(proxy.url, Buffer.from("{}"), {}, opts);
      kinds.push(classifyResponse(result.status, result.headers, result.body));
    }
    expect(kinds).toEqual([
      { kind: "retry", reason: "HTTP 429", retryAfterMs: 1000 },
      { kind: "retry", reason: "HTTP 500", retryAfterMs: null },
      { kind: "split" },
      { kind: "quarantine", reason: "HTTP 422: value out of range" },
      { kind: "auth", reason: "HTTP 401" },
      { kind: "accepted" },
    ]);
    expect(upstream.requests).toHaveLength(1);
    expect(proxy.counts).toEqual({
      "respond:429": 1,
      "respond:500": 1,
      "respond:413": 1,
      "respond:422": 1,
      "respond:401": 1,
      pass: 1,
    });
  });

  it("turns a reset after the request into a reset error, retried", async () => {
    const { proxy, upstream } = await faultProxy();
    proxy.next({ kind: "reset" });
    const { error } = await failure(postBody(proxy.url, Buffer.from("{}"), {}, options()));
    expect(error.code).toBe(ERROR_CODES.upload.reset);
    expect(error.message).toMatch(/^connection reset before the response: /);
    expect(classifyFailure(error)).toEqual({
      kind: "retry",
      reason: error.message,
      retryAfterMs: null,
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it("turns a reset in the middle of the body into an error that keeps the status, and retries it", async () => {
    const { proxy, upstream } = await faultProxy();
    upstream.respond({ status: 200, body: JSON.stringify({ ok: true, note: "x".repeat(20_000) }) });
    proxy.next({ kind: "reset-mid-body", forward: true });
    const { body, headers } = await batchRequest();
    const opts = { ...options(), maxResponseBytes: 1_000_000 };
    const { error } = await failure(postBody(proxy.url, body, headers, opts));
    expect(error.code).toBe(ERROR_CODES.upload.reset);
    expect(error.status).toBe(200);
    expect(error.message).toMatch(/^connection reset in the middle of a 200 response: /);
    // The server has the batch; the answer was lost. The retry carries the same key.
    await postBody(proxy.url, body, headers, opts);
    expect(upstream.requests.map((request) => request.headers["idempotency-key"])).toEqual([
      headers["idempotency-key"],
      headers["idempotency-key"],
    ]);
  });

  it("is refused while the endpoint is down and works again once it is back on the same port", async () => {
    const { proxy } = await faultProxy();
    const opts = options();
    await postBody(proxy.url, Buffer.from("{}"), {}, opts);
    await proxy.refuse();
    const { error } = await failure(postBody(proxy.url, Buffer.from("{}"), {}, opts));
    expect(error.message).toBe(`connect ECONNREFUSED 127.0.0.1:${proxy.port}`);
    await proxy.reopen();
    expect((await postBody(proxy.url, Buffer.from("{}"), {}, opts)).status).toBe(200);
    expect(proxy.counts).toEqual({ pass: 2 });
  });
});
