import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type SqliteStore } from "../../daemon/store/store.js";
import { READINGS_OUTPUT } from "../../sync/output/names.js";
import { memoryLogger, readings, tempDir } from "./helpers.js";

describe("sync queue", () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  beforeEach(() => {
    tmp = tempDir();
    store = openStore({ path: tmp.file(), maxBytes: 64 * 1024 * 1024, log: memoryLogger() });
    store.commit(readings(0, 100), []);
  });
  afterEach(() => {
    store.close();
    tmp.cleanup();
  });

  const seqsOf = (items: Array<{ seq: number }>) => items.map((item) => item.seq);
  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, index) => from + index);

  it("hands out the oldest and the newest pending readings as batch readings", () => {
    const queue = store.syncQueue(READINGS_OUTPUT);
    expect(seqsOf(queue.oldestPending(0, 3))).toEqual([1, 2, 3]);
    expect(seqsOf(queue.oldestPending(98, 10))).toEqual([99, 100]);
    expect(seqsOf(queue.newestPending(3))).toEqual([98, 99, 100]);
    const [first] = queue.oldestPending(0, 1);
    expect(first?.reading.id).toBe(`${store.idPrefix}-r1`);
    expect(first?.reading).toMatchObject({ sensor: "gas0", flags: [] });
    expect(queue.stats()).toMatchObject({
      pending: 100,
      quarantinedBatches: 0,
      quarantinedReadings: 0,
    });
  });

  it("hands each reading's exact JSON and its UTF-8 size along, for any series text and flags", () => {
    store.commit(
      [
        ...readings(100, 3, {
          sensor: "gas1",
          gas: "no2",
          unit: "ppb",
          sensorId: 'sensor "0006"\n\u00e9',
          sensorType: "타입",
          flags: 0b11,
          value: -0.125,
        }),
        ...readings(103, 2, { sensor: "gas2", sensorType: "9", value: 1e21, tsMs: 2 ** 45 }),
      ],
      [],
    );
    const queued = store.syncQueue(READINGS_OUTPUT).oldestPending(0, 1000);
    expect(queued).toHaveLength(105);
    for (const item of queued) {
      expect(item.json).toBe(JSON.stringify(item.reading));
      expect(item.bytes).toBe(Buffer.byteLength(item.json));
      expect(item.id).toBe(item.reading.id);
    }
    expect(queued[101]?.reading).toMatchObject({
      sensorId: 'sensor "0006"\n\u00e9',
      sensorType: "타입",
      flags: ["warmup", "out_of_range"],
      value: -0.125,
    });
    expect(queued[104]?.reading).not.toHaveProperty("sensorId");
    expect(queued[104]?.reading.ts).toBe(new Date(2 ** 45).toISOString());
  });

  it("newest first, then the backlog: accepted ranges coalesce into the watermark", () => {
    const queue = store.syncQueue(READINGS_OUTPUT);
    queue.markUploaded(range(91, 100)); // live data first
    expect(seqsOf(queue.newestPending(5))).toEqual([86, 87, 88, 89, 90]);
    expect(queue.stats().pending).toBe(90);
    queue.markUploaded(range(1, 50));
    expect(seqsOf(queue.oldestPending(0, 2))).toEqual([51, 52]);
    queue.markUploaded(range(51, 90));
    expect(queue.stats()).toMatchObject({ pending: 0, oldestPendingTsMs: null });
    expect(queue.oldestPending(0, 10)).toEqual([]);
    // Everything folded into the watermark: no ranges left behind, retention sees it all as uploaded.
    const db = new Database(tmp.file(), { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM sync_ranges").get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT acked_seq FROM sync_cursor WHERE sink = 'http'").get()).toEqual({
      acked_seq: 100,
    });
    db.close();
  });

  it("keeps quarantined readings out of the queue, listed with the server's reason", () => {
    const queue = store.syncQueue(READINGS_OUTPUT);
    queue.quarantine(range(11, 20), {
      batchId: "b-11",
      status: 422,
      reason: "/readings/3/value: expected number",
    });
    expect(seqsOf(queue.oldestPending(0, 15))).toEqual([...range(1, 10), ...range(21, 25)]);
    expect(queue.quarantined()).toEqual([
      expect.objectContaining({
        batchId: "b-11",
        readings: 10,
        firstSeq: 11,
        lastSeq: 20,
        status: 422,
      }),
    ]);
    expect(queue.stats()).toMatchObject({
      pending: 90,
      quarantinedBatches: 1,
      quarantinedReadings: 10,
    });
    // Accepting around it never swallows it.
    queue.markUploaded([...range(1, 10), ...range(21, 100)]);
    expect(queue.stats()).toMatchObject({ pending: 0, quarantinedReadings: 10 });
    expect(queue.quarantined()).toHaveLength(1);
  });

  it("keeps its state across a reopen", () => {
    store.syncQueue(READINGS_OUTPUT).markUploaded(range(1, 40));
    store.close();
    store = openStore({ path: tmp.file(), maxBytes: 64 * 1024 * 1024, log: memoryLogger() });
    store.commit(readings(100, 5), []);
    expect(seqsOf(store.syncQueue(READINGS_OUTPUT).oldestPending(0, 2))).toEqual([41, 42]);
    expect(store.syncQueue(READINGS_OUTPUT).stats().pending).toBe(65);
  });
});
