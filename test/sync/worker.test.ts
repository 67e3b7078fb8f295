import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readApiKey } from "../../core/api-key.js";
import { createLogger } from "../../core/logger.js";
import { openStore, type SqliteStore } from "../../daemon/store/store.js";
import { Batch } from "../../schemas/batch.js";
import type { SyncConfig } from "../../schemas/config-types.js";
import type { NewReading } from "../../schemas/records.js";
import { READINGS_OUTPUT } from "../../sync/output/names.js";
import { SyncWorker } from "../../sync/worker.js";
import { type RecordingServer, startRecordingServer } from "../support/http/recording-server.js";
import { makeTempDir, waitUntil } from "../support/processes.js";
import { testSyncConfig } from "./config.js";

const T0 = Date.parse("2026-11-26T10:40:36.000Z");
const GASES = ["co", "no2", "c2h5oh", "h2"] as const;

function readings(from: number, count: number): NewReading[] {
  return Array.from({ length: count }, (_, index) => {
    const seq = from + index;
    const gas = GASES[seq % 4] ?? "co";
    return {
      seq,
      sensor: "gas0",
      gas,
      value: seq / 10,
      unit: gas === "no2" ? "ppb" : "ppm",
      tsMs: T0 + Math.floor(seq / 4) * 1000,
      flags: 0,
      sensorId: gas === "no2" ? "0006" : null,
      sensorType: gas === "no2" ? "9" : null,
    };
  });
}

describe("SyncWorker", () => {
  let dir: string;
  let cleanup: () => void;
  let store: SqliteStore;
  let server: RecordingServer;
  let worker: SyncWorker | null = null;
  const lines: string[] = [];
  const log = createLogger({
    level: "debug",
    journald: true,
    write: (line) => lines.push(line.trim()),
  });

  beforeEach(async () => {
    ({ dir, cleanup } = makeTempDir());
    store = openStore({ path: join(dir, "s.db"), maxBytes: 64 * 1024 * 1024, log });
    server = await startRecordingServer();
    lines.length = 0;
  });
  afterEach(async () => {
    await worker?.stop();
    worker = null;
    await server.close();
    store.close();
    cleanup();
  });

  function newWorker(
    overrides: Partial<SyncConfig> = {},
    apiKey: () => string | null = () => null,
  ): SyncWorker {
    const config = testSyncConfig(server.url, overrides);
    worker = new SyncWorker({
      config,
      device: { id: "pi-lab-3", group: "2", gps: "37.6100, 126.9963", timezone: "Asia/Seoul" },
      queue: store.syncQueue(READINGS_OUTPUT),
      log,
      apiKey,
      random: () => 0.5,
    });
    return worker;
  }

  const batches = () =>
    server.requests.map((request) => JSON.parse(request.decoded.toString()) as Batch);
  const seqRange = (batch: Batch) => {
    const seqs = batch.readings.map((reading) =>
      Number.parseInt(reading.id.split("-r")[1] ?? "", 36),
    );
    return [seqs[0], seqs.at(-1), seqs.length];
  };

  it("sends the newest batch first, then the backlog oldest first, each batch once, in the contract's format", async () => {
    store.commit(readings(1, 2500), []);
    const sync = newWorker();
    await sync.trigger();
    const [newest, ...backlog] = batches().map(seqRange);
    expect(newest).toEqual([1501, 2500, 1000]);
    // The backlog is cut from its oldest end ([1, 1000] then the rest, not
    // [501, 1500] then [1, 500]); its batches travel together (pipelined), so
    // the smaller one may land first: arrival order is not the contract.
    expect(backlog.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0))).toEqual([
      [1, 1000, 1000],
      [1001, 1500, 500],
    ]);
    const [first] = server.requests;
    expect(first?.method).toBe("POST");
    expect(first?.path).toBe("/ingest");
    expect(first?.headers).toMatchObject({
      "content-type": "application/json",
      "content-encoding": "gzip",
      index: "gasdetect",
      "user-agent": expect.stringMatching(/^sensord\/\d+\.\d+\.\d+$/),
    });
    expect(first?.headers["x-api-key"]).toBeUndefined();
    for (const batch of batches()) expect(Value.Check(Batch, batch)).toBe(true);
    const [batch] = batches();
    expect(first?.headers["idempotency-key"]).toBe(batch?.batchId);
    expect(batch?.device).toEqual({ id: "pi-lab-3", group: "2", gps: "37.6100, 126.9963" });
    const no2 = batch?.readings.find((reading) => reading.gas === "no2");
    expect(no2).toMatchObject({ unit: "ppb", sensorId: "0006", sensorType: "9", flags: [] });
    expect(sync.status()).toMatchObject({
      state: "idle",
      uploadedTotal: 2500,
      requests: 3,
      queue: { pending: 0 },
    });
    // Nothing pending: the next cycle sends nothing.
    await sync.trigger();
    expect(server.requests).toHaveLength(3);
  });

  it("keeps everything on 429 and 500, honours Retry-After, and drains when the endpoint recovers", async () => {
    store.commit(readings(1, 1500), []);
    server.enqueue({ status: 429, headers: { "retry-after": "1" } });
    const sync = newWorker();
    const before = Date.now();
    await sync.trigger();
    expect(sync.status()).toMatchObject({
      state: "backoff",
      consecutiveFailures: 1,
      queue: { pending: 1500 },
    });
    expect(sync.status().nextAttemptAt ?? 0).toBeGreaterThanOrEqual(before + 1000);
    expect(lines.filter((line) => line.includes("upload failed"))).toHaveLength(1);

    // The retry Retry-After asked for meets a 500: still everything kept, backoff again.
    server.enqueue({ status: 500, body: "internal error" });
    await waitUntil(
      () => server.requests.length >= 2 && sync.status().state !== "uploading",
      10_000,
      "the retry to meet the 500",
    );
    const failedAt = sync.status().lastErrorAt ?? 0;
    expect(sync.status()).toMatchObject({
      state: "backoff",
      consecutiveFailures: 2,
      uploadedTotal: 0,
      lastError: "HTTP 500: internal error",
      queue: { pending: 1500, quarantinedReadings: 0 },
    });
    expect(server.requests).toHaveLength(2);
    // Attempt 2 of the 1 s .. 5 min backoff with random() = 0.5: 2 s (two
    // Date.now() calls apart, so allow a few ms).
    const delay = (sync.status().nextAttemptAt ?? 0) - failedAt;
    expect(delay).toBeGreaterThanOrEqual(2000);
    expect(delay).toBeLessThan(2050);
    // Same kind of trouble: no second line.
    expect(lines.filter((line) => line.includes("upload failed"))).toHaveLength(1);

    await waitUntil(
      () => sync.status().queue.pending === 0,
      10_000,
      "the retry to drain the queue",
    );
    expect(sync.status()).toMatchObject({
      state: "idle",
      consecutiveFailures: 0,
      uploadedTotal: 1500,
    });
    expect(
      lines.some((line) => line.includes("uploads work again after 2 failed attempt(s)")),
    ).toBe(true);
  });

  it("counts pipelined requests failing in one cycle as one failed attempt, and logs again when the failure changes kind", async () => {
    store.commit(readings(1, 4000), []);
    server.enqueue({ status: 200, body: "{}" });
    server.respond({ status: 503, body: "busy" });
    const sync = newWorker();
    await sync.trigger();
    // The newest batch went through; the three backlog requests in flight got 503.
    expect(sync.status()).toMatchObject({
      state: "backoff",
      consecutiveFailures: 1,
      uploadedTotal: 1000,
    });
    expect(server.requests).toHaveLength(4);
    server.respond({ status: 401, body: "bad key" });
    await sync.trigger({ force: true });
    expect(sync.status()).toMatchObject({ state: "auth_failed", consecutiveFailures: 2 });
    expect(lines.filter((line) => line.includes("upload failed"))).toHaveLength(2);
    await sync.trigger({ force: true });
    expect(lines.filter((line) => line.includes("upload failed"))).toHaveLength(2);
  });

  it("splits on 413 and quarantines on 422 without blocking later readings", async () => {
    store.commit(readings(1, 1000), []);
    let requestNumber = 0;
    server.respond((request) => {
      requestNumber++;
      const batch = JSON.parse(request.decoded.toString()) as Batch;
      if (batch.readings.length > 250) return { status: 413, body: "too large" };
      if (batch.readings.some((reading) => reading.id.endsWith("-r1"))) {
        return { status: 422, body: JSON.stringify({ error: "/readings/0/value: out of range" }) };
      }
      return { status: 200, body: "{}" };
    });
    const sync = newWorker();
    await sync.trigger();
    expect(requestNumber).toBeGreaterThan(4);
    const status = sync.status();
    expect(status.queue).toMatchObject({
      pending: 0,
      quarantinedBatches: 1,
      quarantinedReadings: 250,
    });
    expect(status.quarantined[0]).toMatchObject({
      readings: 250,
      firstSeq: 1,
      lastSeq: 250,
      status: 422,
    });
    expect(status.quarantined[0]?.reason).toContain("out of range");
    expect(status.uploadedTotal).toBe(750);
  });

  it("stops on 401, says auth failed, and recovers by itself once the key file is fixed", async () => {
    store.commit(readings(1, 10), []);
    const keyFile = join(dir, "api-key");
    writeFileSync(keyFile, "wrong\n");
    chmodSync(keyFile, 0o600);
    server.respond((request) =>
      request.headers["x-api-key"] === "s3cret"
        ? { status: 200, body: "{}" }
        : { status: 401, body: "bad key" },
    );
    const sync = newWorker({}, () => readApiKey(keyFile).key);
    await sync.trigger();
    expect(sync.status()).toMatchObject({ state: "auth_failed", queue: { pending: 10 } });
    expect(sync.status().lastError).toMatch(/^auth failed/);
    // Retries are slow (minutes); the key is never logged.
    expect((sync.status().nextAttemptAt ?? 0) - Date.now()).toBeGreaterThan(60_000);
    writeFileSync(keyFile, "s3cret\n");
    await sync.trigger({ force: true });
    expect(sync.status()).toMatchObject({ state: "idle", queue: { pending: 0 } });
    expect(lines.join("\n")).not.toContain("s3cret");
    expect(lines.join("\n")).not.toContain("wrong");
  });

  it("paces a backfill at max_rate", async () => {
    store.commit(readings(1, 3000), []);
    const sync = newWorker({ maxRate: 4000, batchMaxReadings: 500 });
    const started = Date.now();
    await sync.trigger();
    // 3000 readings at <= 4000/s cannot finish in under ~0.5 s (the first batch goes at once).
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(sync.status().queue.pending).toBe(0);
  });

  it("runs on the cron schedule", async () => {
    store.commit(readings(1, 5), []);
    const sync = newWorker({ schedule: "* * * * * *" });
    sync.start();
    await waitUntil(() => sync.status().queue.pending === 0, 5000, "the first scheduled upload");
    store.commit(readings(6, 5), []);
    await waitUntil(
      () => sync.status().queue.pending === 0 && server.requests.length >= 2,
      5000,
      "a later tick",
    );
    expect(sync.status().uploadedTotal).toBe(10);
  });
});
