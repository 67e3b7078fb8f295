import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import { openStore, type SqliteStore } from "../../daemon/store/store.js";
import type { Batch } from "../../schemas/batch.js";
import type { SyncConfig } from "../../schemas/config-types.js";
import type { NewReading } from "../../schemas/records.js";
import { READINGS_OUTPUT } from "../../sync/output/names.js";
import { SyncWorker } from "../../sync/worker.js";
import { makeTempDir, waitUntil } from "../support/processes.js";
import { testSyncConfig } from "./config.js";

const T0 = Date.parse("2026-11-26T10:40:36.000Z");

function backlog(from: number, count: number): NewReading[] {
  return Array.from({ length: count }, (_, index) => ({
    seq: from + index,
    sensor: "gas0",
    gas: "co",
    value: (from + index) / 10,
    unit: "ppm",
    tsMs: T0 + (from + index) * 1000,
    flags: 0,
    sensorId: null,
    sensorType: null,
  }));
}

/**
 * An endpoint on a fixed loopback port that can be stopped and started again
 * on the same port (an outage); it records each request's readings and arrival.
 */
class Endpoint {
  /** The accepted requests (status 200). */
  readonly received: Array<{ at: number; batch: Batch }> = [];
  /** Every request, whatever it was answered. */
  requests = 0;
  status = 200;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async start(port = this.port): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        this.requests++;
        const body = Buffer.concat(chunks);
        const json = request.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body;
        if (this.status === 200) {
          this.received.push({ at: Date.now(), batch: JSON.parse(json.toString()) as Batch });
        }
        response.writeHead(this.status, { "content-type": "application/json" });
        response.end("{}");
      });
    });
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolveListen) => server.listen(port, "127.0.0.1", resolveListen));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Down: the port refuses connections (kept-alive sockets are cut too). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolveClose) => server.close(resolveClose));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/ingest`;
  }

  readingsPerRequest(): number[] {
    return this.received.map(({ batch }) => batch.readings.length);
  }
}

describe("SyncWorker draining a backlog", () => {
  let cleanup: () => void;
  let store: SqliteStore;
  let endpoint: Endpoint;
  let worker: SyncWorker | null = null;
  const lines: string[] = [];
  const log = createLogger({
    level: "debug",
    journald: true,
    write: (line) => lines.push(line.trim()),
  });

  beforeEach(async () => {
    let dir: string;
    ({ dir, cleanup } = makeTempDir());
    store = openStore({ path: join(dir, "s.db"), maxBytes: 64 * 1024 * 1024, log });
    endpoint = new Endpoint();
    await endpoint.start(0);
    lines.length = 0;
  });
  afterEach(async () => {
    await worker?.stop();
    worker = null;
    await endpoint.stop();
    store.close();
    cleanup();
  });

  function newWorker(overrides: Partial<SyncConfig>, random = () => 0.5): SyncWorker {
    worker = new SyncWorker({
      config: testSyncConfig(endpoint.url, overrides),
      device: { id: "pi-lab-3", group: "2", gps: null, timezone: "Asia/Seoul" },
      queue: store.syncQueue(READINGS_OUTPUT),
      log,
      apiKey: () => null,
      random,
    });
    return worker;
  }

  it("sends the backlog in bigger requests than live data, each within its own limits", async () => {
    store.commit(backlog(1, 2500), []);
    const sync = newWorker({
      batchMaxReadings: 500,
      backlogBatchMaxReadings: 2000,
      backlogBatchMaxBytes: 1024 * 1024,
    });
    await sync.trigger();
    // The newest 500 as a live batch; the 2000 before them as one backlog request.
    expect(endpoint.readingsPerRequest().sort((a, b) => a - b)).toEqual([500, 2000]);
    expect(sync.status()).toMatchObject({ uploadedTotal: 2500, queue: { pending: 0 } });
  });

  it("reconnects within a probe interval when the endpoint comes back on the same port, well before the next retry", async () => {
    store.commit(backlog(1, 100), []);
    // random 0.99: retries of an unreachable endpoint after ~2 s, then ~4 s.
    const sync = newWorker({}, () => 0.99);
    await sync.trigger();
    expect(endpoint.received).toHaveLength(1);

    await endpoint.stop();
    store.commit(backlog(101, 3000), []);
    await sync.trigger();
    expect(sync.status()).toMatchObject({ state: "backoff", consecutiveFailures: 1 });
    // Past the first retry (~2 s, refused again): the next is ~4 s after it.
    await new Promise((resolveWait) => setTimeout(resolveWait, 2500));
    expect(sync.status().consecutiveFailures).toBe(2);
    const nextRetryAt = sync.status().nextAttemptAt ?? 0;

    await endpoint.start();
    const returnedAt = Date.now();
    await waitUntil(() => sync.status().queue.pending === 0, 5000, "the drain after the return");
    const lastAt = Math.max(...endpoint.received.map((request) => request.at));
    // Probes every 200-400 ms (0.99: ~400 ms), then the drain itself.
    expect(lastAt - returnedAt).toBeLessThan(1000);
    expect(nextRetryAt - returnedAt).toBeGreaterThan(2000);
    expect(sync.status()).toMatchObject({ state: "idle", uploadedTotal: 3100 });
    expect(
      lines.some((line) => line.includes("uploads work again after 2 failed attempt(s)")),
    ).toBe(true);
  });

  it("does not probe an endpoint that answers: a 503 waits out its backoff", async () => {
    store.commit(backlog(1, 10), []);
    endpoint.status = 503;
    const sync = newWorker({}, () => 0.99);
    await sync.trigger();
    expect(sync.status()).toMatchObject({ state: "backoff", consecutiveFailures: 1 });
    // The first retry of an answering endpoint is ~2 s away (1 s .. 5 min, random 0.99).
    await new Promise((resolveWait) => setTimeout(resolveWait, 1500));
    expect(endpoint.requests).toBe(1);
  });

  it("sends live readings within two sync intervals while a paced backlog drains", async () => {
    const intervalMs = 400;
    store.commit(backlog(1, 8000), []);
    const sync = newWorker({
      intervalMs,
      maxRate: 5000,
      batchMaxReadings: 100,
      backlogBatchMaxReadings: 5000,
      backlogBatchMaxBytes: 2 * 1024 * 1024,
    });
    let seq = 8000;
    const committed = new Map<string, number>();
    const live = setInterval(() => {
      seq++;
      const tsMs = Date.now();
      store.commit(
        [
          {
            seq,
            sensor: "live0",
            gas: "co",
            value: 1,
            unit: "ppm",
            tsMs,
            flags: 0,
            sensorId: null,
            sensorType: null,
          },
        ],
        [],
      );
      committed.set(new Date(tsMs).toISOString(), tsMs);
    }, 100);
    try {
      sync.start();
      // 8000 readings at max_rate 5000/s: ~1.6 s of drain.
      await waitUntil(
        () => endpoint.received.reduce((sum, { batch }) => sum + batch.readings.length, 0) >= 8000,
        10_000,
        "the backlog",
      );
    } finally {
      clearInterval(live);
    }
    const drainedAt = Date.now();
    await waitUntil(() => sync.status().queue.pending === 0, 5000, "the last live readings");
    const lateness: number[] = [];
    for (const { at, batch } of endpoint.received) {
      for (const reading of batch.readings) {
        const tsMs = committed.get(reading.ts);
        if (reading.sensor === "live0" && tsMs !== undefined && tsMs <= drainedAt) {
          lateness.push(at - tsMs);
        }
      }
    }
    expect(lateness.length).toBeGreaterThanOrEqual(10);
    expect(Math.max(...lateness)).toBeLessThanOrEqual(2 * intervalMs);
  });
});
