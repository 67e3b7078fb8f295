import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../core/errors.js";
import { UploadError } from "../../sync/errors.js";
import { createUploadAgent, type PostOptions, type PostResult, postBody } from "../../sync/http.js";
import { IDLE_SOCKET_TIMEOUT_MS } from "../../sync/upload-agent.js";
import { type Blackhole, startBlackhole } from "../support/http/blackhole.js";

// What the node:http client adds over undici: phase timeouts on plain timers
// (exact, where undici's ticked every ~0.5 s), sockets per origin under the
// worker's pipelining, the idle keep-alive timeout, stale sockets, TLS messages.

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface LoopbackServer {
  url: string;
  /** TCP connections accepted so far. */
  connections: number;
  /** Connections open now. */
  sockets: Set<Socket>;
  /** performance.now() at which each connection closed, in order. */
  closedAt: number[];
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function listen(
  handler: Handler,
  tls?: { key: Buffer; cert: Buffer },
): Promise<LoopbackServer> {
  const server = tls === undefined ? createHttpServer(handler) : createHttpsServer(tls, handler);
  const state: LoopbackServer = { url: "", connections: 0, sockets: new Set(), closedAt: [] };
  server.on(tls === undefined ? "connection" : "secureConnection", (socket: Socket) => {
    state.connections++;
    state.sockets.add(socket);
    socket.on("close", () => {
      state.sockets.delete(socket);
      state.closedAt.push(performance.now());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}/ingest`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of state.sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return state;
}

/** Reads the request, then answers `body` with `status`. */
function answer(status = 200, body = '{"ok":true}', headers: Record<string, string> = {}): Handler {
  return (req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(status, headers).end(body));
  };
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

/** The UploadError a post fails with, and how late it came against a timer of `ms` armed with it. */
async function timedFailure(
  post: () => Promise<PostResult>,
  ms: number,
): Promise<{ error: UploadError; lateMs: number; elapsedMs: number }> {
  const started = performance.now();
  let referenceAt = 0;
  const reference = new Promise<void>((resolve) =>
    setTimeout(() => {
      referenceAt = performance.now();
      resolve();
    }, ms),
  );
  try {
    await post();
  } catch (error) {
    const failedAt = performance.now();
    await reference;
    if (error instanceof UploadError) {
      return { error, lateMs: failedAt - referenceAt, elapsedMs: failedAt - started };
    }
    throw error;
  }
  throw new Error("expected the post to fail");
}

const body = Buffer.from('{"readings":[]}');

describe("postBody on node:http: connections", () => {
  it("sends 10 sequential uploads over one TCP connection", async () => {
    const server = await listen(answer());
    const opts = options();
    for (let i = 0; i < 10; i++) {
      expect((await postBody(server.url, body, {}, opts)).status).toBe(200);
    }
    expect(server.connections).toBe(1);
  });

  it("keeps the worker's 3 requests in flight on 3 connections, reused round after round", async () => {
    const server = await listen((req, res) => {
      req.resume();
      // Held a little so the three really overlap.
      req.on("end", () => setTimeout(() => res.end("{}"), 20));
    });
    const opts = options();
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all([1, 2, 3].map(() => postBody(server.url, body, {}, opts)));
      expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
    }
    expect(server.connections).toBe(3);
  });

  it(`closes an idle keep-alive socket after ${IDLE_SOCKET_TIMEOUT_MS} ms, before a 5 s server would`, async () => {
    const server = await listen(answer());
    await postBody(server.url, body, {}, options());
    const answeredAt = performance.now();
    while (server.closedAt.length === 0 && performance.now() - answeredAt < 6000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const idleMs = (server.closedAt[0] ?? Number.POSITIVE_INFINITY) - answeredAt;
    expect(idleMs).toBeGreaterThanOrEqual(IDLE_SOCKET_TIMEOUT_MS - 50);
    expect(idleMs).toBeLessThan(4900);
  });

  it("waits for an answer slower than the idle timeout on a reused socket", async () => {
    let requests = 0;
    const server = await listen((req, res) => {
      req.resume();
      const delay = requests++ === 0 ? 0 : IDLE_SOCKET_TIMEOUT_MS + 500;
      req.on("end", () => setTimeout(() => res.end(`answer ${requests}`), delay));
    });
    const opts = options({ headersTimeoutMs: IDLE_SOCKET_TIMEOUT_MS + 2000 });
    await postBody(server.url, body, {}, opts);
    const slow = await postBody(server.url, body, {}, opts);
    expect(slow).toMatchObject({ status: 200, body: "answer 2" });
    expect(server.connections).toBe(1);
  });

  it("sends again on a new connection when the server closed the idle one a moment ago", async () => {
    const server = await listen(answer());
    const opts = options();
    await postBody(server.url, body, {}, opts);
    // The server drops its idle connection; the client has not read the FIN yet.
    for (const socket of server.sockets) socket.destroy();
    const result = await postBody(server.url, body, {}, opts);
    expect(result).toMatchObject({ status: 200, body: '{"ok":true}' });
    expect(server.connections).toBe(2);
  });

  it("returns a redirect as it is, without following it", async () => {
    const server = await listen(answer(307, "", { location: "http://127.0.0.1:1/elsewhere" }));
    const result = await postBody(server.url, body, {}, options());
    expect(result).toMatchObject({ status: 307, body: "", truncated: false });
    expect(result.headers.location).toBe("http://127.0.0.1:1/elsewhere");
  });
});

describe("postBody on node:http: phase timeouts are exact", () => {
  it("connect: an endpoint that drops SYNs fails at connectTimeoutMs, not a tick later", async () => {
    const blackhole: Blackhole = await startBlackhole();
    cleanups.push(() => blackhole.close());
    const { error, lateMs, elapsedMs } = await timedFailure(
      () => postBody(blackhole.url, body, {}, options({ connectTimeoutMs: 150 })),
      150,
    );
    expect(error.code).toBe(ERROR_CODES.upload.unreachable);
    expect(error.message).toMatch(/^connect timeout after 150 ms to 127\.0\.0\.1:\d+$/);
    expect(elapsedMs).toBeGreaterThanOrEqual(149);
    expect(lateMs).toBeLessThan(100);
  });

  it("headers: a server that accepts and never answers fails at headersTimeoutMs", async () => {
    const server = await listen((req) => req.resume());
    const { error, lateMs, elapsedMs } = await timedFailure(
      () => postBody(server.url, body, {}, options({ headersTimeoutMs: 150 })),
      150,
    );
    expect(error.code).toBe(ERROR_CODES.upload.timeout);
    expect(error.message).toBe("timeout waiting for response headers (150 ms)");
    expect(error.status).toBeUndefined();
    expect(elapsedMs).toBeGreaterThanOrEqual(149);
    expect(lateMs).toBeLessThan(100);
  });

  it("body: a server that stalls mid-body fails bodyTimeoutMs after its last byte, with the status", async () => {
    const server = await listen((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-length": "1000" });
        res.write("x".repeat(10));
        // Another 10 bytes at 100 ms refresh the timer: the failure comes 150 ms after them.
        setTimeout(() => res.write("y".repeat(10)), 100);
      });
    });
    const { error, lateMs, elapsedMs } = await timedFailure(
      () => postBody(server.url, body, {}, options({ bodyTimeoutMs: 150 })),
      250,
    );
    expect(error.code).toBe(ERROR_CODES.upload.timeout);
    expect(error.message).toBe("timeout reading response body (no data for 150 ms)");
    expect(error.status).toBe(200);
    expect(elapsedMs).toBeGreaterThanOrEqual(249);
    expect(lateMs).toBeLessThan(100);
  });
});

describe("postBody on node:https", () => {
  it("names the fix when the endpoint's certificate is self-signed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sensord-tls-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    const server = await listen(answer(), { key: readFileSync(key), cert: readFileSync(cert) });
    let failure: unknown;
    await postBody(server.url, body, {}, options()).catch((error: unknown) => {
      failure = error;
    });
    expect(failure).toBeInstanceOf(UploadError);
    const error = failure as UploadError;
    expect(error.code).toBe(ERROR_CODES.upload.network);
    expect(error.message).toBe(
      `TLS to ${new URL(server.url).host} failed (self-signed certificate): the endpoint's certificate is self-signed: give sensord its CA with NODE_EXTRA_CA_CERTS=/path/ca.pem in the service's environment`,
    );
  });
});
