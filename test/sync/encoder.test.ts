import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import { openStore, type SqliteStore } from "../../daemon/store/store.js";
import { SqliteSyncQueue } from "../../daemon/store/sync-queue.js";
import type { Batch } from "../../schemas/batch.js";
import type { SyncConfig } from "../../schemas/config-types.js";
import { type BatchEncoder, encoderHeapLimits } from "../../sync/encoder.js";
import type { EncoderSettings } from "../../sync/encoder-protocol.js";
import { READINGS_OUTPUT } from "../../sync/output/names.js";
import { QueueEncoder } from "../../sync/queue-encoder.js";
import { SyncWorker } from "../../sync/worker.js";
import { readings } from "../store/helpers.js";
import {
  type RecordedRequest,
  type RecordingServer,
  startRecordingServer,
} from "../support/http/recording-server.js";
import { makeTempDir } from "../support/processes.js";
import { testSyncConfig } from "./config.js";

/**
 * The worker's encoder path: the QueueEncoder the encoder thread runs, here
 * on a read-only connection of its own to the same file (as the thread has),
 * behind the same asynchronous interface.
 */
function sameFileEncoder(file: string, idPrefix: string, opened: Database.Database[]) {
  return (settings: EncoderSettings): BatchEncoder => {
    const db = new Database(file, { readonly: true });
    opened.push(db);
    const encoder = new QueueEncoder(
      new SqliteSyncQueue(db, idPrefix, file, settings.sink),
      settings,
    );
    return {
      from: (afterSeq) => encoder.from(afterSeq),
      next: async () => encoder.next(),
      close: async () => {
        db.close();
      },
    };
  };
}

describe("SyncWorker with an encoder (the backlog read and encoded elsewhere)", () => {
  let dir: string;
  let cleanup: () => void;
  let store: SqliteStore;
  let server: RecordingServer;
  let worker: SyncWorker | null = null;
  const opened: Database.Database[] = [];
  const lines: string[] = [];
  const log = createLogger({ level: "debug", journald: true, write: (line) => lines.push(line) });

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

  function newWorker(overrides: Partial<SyncConfig> = {}): SyncWorker {
    worker = new SyncWorker({
      config: testSyncConfig(server.url, { batchMaxReadings: 500, ...overrides }),
      device: { id: "pi-enc", group: "2", gps: null, timezone: "UTC" },
      queue: store.syncQueue(READINGS_OUTPUT),
      log,
      apiKey: () => null,
      encoder: sameFileEncoder(store.file, store.idPrefix, opened),
    });
    return worker;
  }

  /** Drains the database `file` with no encoder (every batch built here); returns the requests. */
  async function drainInThread(file: string): Promise<RecordedRequest[]> {
    const copyStore = openStore({ path: file, maxBytes: 64 * 1024 * 1024, log });
    const receiver = await startRecordingServer();
    const inThread = new SyncWorker({
      config: testSyncConfig(receiver.url, { batchMaxReadings: 500 }),
      device: { id: "pi-enc", group: "2", gps: null, timezone: "UTC" },
      queue: copyStore.syncQueue(READINGS_OUTPUT),
      log,
      apiKey: () => null,
    });
    try {
      receiver.respond({ status: 200, body: "{}" });
      await inThread.trigger();
      expect(inThread.status()).toMatchObject({ uploadedTotal: 3200 });
      return receiver.requests;
    } finally {
      await inThread.stop();
      await receiver.close();
      copyStore.close();
    }
  }

  const sentIds = () =>
    server.requests.flatMap((request) =>
      (JSON.parse(request.decoded.toString()) as Batch).readings.map((reading) => reading.id),
    );

  it("drains a backlog through it: every reading once, the same bodies as built in-thread", async () => {
    store.commit(readings(0, 3200), []);
    // The same database (same id prefix, nothing uploaded yet), for the reference run below.
    const copy = join(dir, "reference.db");
    const reader = new Database(store.file, { readonly: true });
    reader.exec(`VACUUM INTO '${copy}'`);
    reader.close();
    server.respond({ status: 200, body: "{}" });
    const sync = newWorker();
    await sync.trigger();
    expect(sync.status()).toMatchObject({ state: "idle", uploadedTotal: 3200 });
    expect(sync.status().queue.pending).toBe(0);
    const ids = sentIds();
    expect(ids).toHaveLength(3200);
    expect(new Set(ids).size).toBe(3200);
    // The newest batch and the first backlog read in-thread, the other five reads by the encoder.
    expect(server.requests).toHaveLength(7);
    expect(lines.some((line) => line.includes("read and encoded on the encoder thread"))).toBe(
      true,
    );
    for (const request of server.requests) {
      expect(request.headers["content-encoding"]).toBe("gzip");
      const batch = JSON.parse(request.decoded.toString()) as Batch;
      expect(request.headers["idempotency-key"]).toBe(batch.batchId);
    }
    expect(opened.every((db) => !db.open)).toBe(true);

    // The reference: the copy drained by a worker without an encoder, so every
    // body is built and gzip'd on this thread. Same batches, byte for byte.
    const reference = await drainInThread(copy);
    const byKey = (requests: RecordedRequest[]) =>
      new Map(requests.map((request) => [String(request.headers["idempotency-key"]), request]));
    const encoded = byKey(server.requests);
    const built = byKey(reference);
    expect([...encoded.keys()].sort()).toEqual([...built.keys()].sort());
    for (const [key, request] of encoded) {
      const expected = built.get(key);
      expect(request.headers["content-type"]).toBe(expected?.headers["content-type"]);
      expect(request.headers["content-encoding"]).toBe(expected?.headers["content-encoding"]);
      expect(request.body.equals(expected?.body ?? Buffer.alloc(0)), `body of batch ${key}`).toBe(
        true,
      );
    }
  });

  it("splits an encoded batch the endpoint refuses as too large (413), reading it again here", async () => {
    store.commit(readings(0, 2000), []);
    server.respond((request) => {
      const batch = JSON.parse(request.decoded.toString()) as Batch;
      return batch.readings.length > 300
        ? { status: 413, body: "too large" }
        : { status: 200, body: "{}" };
    });
    const sync = newWorker();
    await sync.trigger();
    expect(sync.status()).toMatchObject({ uploadedTotal: 2000 });
    expect(sync.status().queue).toMatchObject({ pending: 0, quarantinedReadings: 0 });
    const accepted = server.requests
      .map((request) => JSON.parse(request.decoded.toString()) as Batch)
      .filter((batch) => batch.readings.length <= 300)
      .flatMap((batch) => batch.readings.map((reading) => reading.id));
    expect(accepted).toHaveLength(2000);
    expect(new Set(accepted).size).toBe(2000);
    expect(lines.filter((line) => line.includes("(413): splitting")).length).toBeGreaterThan(2);
  });
});

describe("encoderHeapLimits (the encoder thread's V8 heap)", () => {
  it("caps the old generation at 32 MiB for the default 1 MiB backlog batches", () => {
    expect(encoderHeapLimits(1024 * 1024)).toEqual({
      maxYoungGenerationSizeMb: 8,
      maxOldGenerationSizeMb: 32,
    });
  });

  it("leaves ~8 bytes per body byte plus 16 MiB for larger batches, so a cap never kills a drain", () => {
    expect(encoderHeapLimits(16 * 1024 * 1024).maxOldGenerationSizeMb).toBe(144);
    expect(encoderHeapLimits(3 * 1024 * 1024 + 1).maxOldGenerationSizeMb).toBe(41);
  });
});
