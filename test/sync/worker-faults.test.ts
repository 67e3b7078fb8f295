import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type IngestServer, startIngestServer } from "../../cloud/index.js";
import { createLogger } from "../../core/logger.js";
import { openStore, type SqliteStore } from "../../daemon/store/store.js";
import type { SyncConfig } from "../../schemas/config-types.js";
import type { NewReading } from "../../schemas/records.js";
import { READINGS_OUTPUT } from "../../sync/output/names.js";
import { SyncWorker } from "../../sync/worker.js";
import { type FaultProxy, startFaultProxy } from "../support/http/fault-proxy.js";
import { makeTempDir, waitUntil } from "../support/processes.js";
import { testSyncConfig } from "./config.js";

const T0 = Date.parse("2026-11-26T10:40:36.000Z");

function readings(count: number): NewReading[] {
  return Array.from({ length: count }, (_, index) => ({
    seq: index + 1,
    sensor: "gas0",
    gas: index % 2 === 0 ? "co" : "no2",
    value: 20 + index / 4,
    unit: index % 2 === 0 ? "ppm" : "ppb",
    tsMs: T0 + Math.floor(index / 2) * 1000,
    flags: 0,
    sensorId: index % 2 === 0 ? "0005" : "0006",
    sensorType: index % 2 === 0 ? "8" : "9",
  }));
}

/** The real worker, the real ingest service, and a fault-injecting proxy between them. */
describe("SyncWorker against sensord-ingest through faults", () => {
  let dir: string;
  let cleanup: () => void;
  let store: SqliteStore;
  let ingest: IngestServer;
  let proxy: FaultProxy;
  let worker: SyncWorker | null = null;
  const log = createLogger({ level: "error", journald: true, write: () => {} });

  beforeEach(async () => {
    ({ dir, cleanup } = makeTempDir());
    store = openStore({ path: join(dir, "s.db"), maxBytes: 64 * 1024 * 1024, log });
    ingest = await startIngestServer({ dbPath: join(dir, "ingest.db") });
    proxy = await startFaultProxy(`${ingest.url}/ingest`);
  });
  afterEach(async () => {
    await worker?.stop();
    worker = null;
    await proxy.close();
    await ingest.close();
    store.close();
    cleanup();
  });

  function newWorker(overrides: Partial<SyncConfig> = {}): SyncWorker {
    worker = new SyncWorker({
      config: testSyncConfig(proxy.url, { batchMaxReadings: 100, timeoutMs: 300, ...overrides }),
      device: { id: "pi-lab-3", group: "2", gps: null, timezone: "Asia/Seoul" },
      queue: store.syncQueue(READINGS_OUTPUT),
      log,
      apiKey: () => null,
      random: () => 0.5,
    });
    return worker;
  }

  it("a reset in the middle of the answer, after the server stored the batch: re-sent, stored once", async () => {
    store.commit(readings(300), []);
    proxy.next({ kind: "reset-mid-body", forward: true });
    const sync = newWorker();
    await sync.trigger();
    expect(sync.status()).toMatchObject({ state: "backoff", queue: { pending: 300 } });
    await waitUntil(() => sync.status().queue.pending === 0, 10_000, "the retry");
    // The re-sent batch carries the same idempotency key: the receiver replays its first answer.
    expect(proxy.requests).toHaveLength(4);
    expect(proxy.requests[0]?.headers["idempotency-key"]).toBe(
      proxy.requests[1]?.headers["idempotency-key"],
    );
    expect(await ingest.stats()).toMatchObject({ readings: 300, duplicates: 0, batches: 3 });
  });

  it("a server that accepts the request and never answers: timed out, retried, delivered", async () => {
    store.commit(readings(50), []);
    proxy.next({ kind: "hang" });
    const sync = newWorker();
    await sync.trigger();
    // The headers timeout (timeout_ms) fires before the overall deadline (three times it).
    expect(sync.status().lastError).toContain("timeout waiting for response headers (300 ms)");
    await waitUntil(() => sync.status().queue.pending === 0, 10_000, "the retry");
    expect(await ingest.stats()).toMatchObject({ readings: 50, duplicates: 0 });
    expect(proxy.counts).toMatchObject({ hang: 1 });
  });

  it("uploads the original format: one document per sampling cycle, stored as one reading per gas", async () => {
    store.commit(readings(6), []);
    const sync = newWorker({
      format: "original",
      endpoint: proxy.url.replace(/\/ingest$/, "/proxyLambda"),
    });
    await sync.trigger();
    expect(sync.status().queue.pending).toBe(0);
    expect(proxy.requests).toHaveLength(3);
    expect(proxy.requests[0]?.headers).toMatchObject({
      index: "gasdetect",
      "x-timezone": "Asia/Seoul",
    });
    const response = await fetch(`${ingest.url}/readings?device=pi-lab-3`);
    const body = (await response.json()) as {
      readings: Array<{ gas: string; value: number; ts: string }>;
    };
    expect(body.readings.map(({ gas, value, ts }) => [gas, value, ts])).toEqual([
      ["co", 20, "2026-11-26T10:40:36.000Z"],
      ["no2", 20.25, "2026-11-26T10:40:36.000Z"],
      ["co", 20.5, "2026-11-26T10:40:37.000Z"],
      ["no2", 20.75, "2026-11-26T10:40:37.000Z"],
      ["co", 21, "2026-11-26T10:40:38.000Z"],
      ["no2", 21.25, "2026-11-26T10:40:38.000Z"],
    ]);
  });
});
