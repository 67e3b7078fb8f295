import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { DEFAULT_LIMIT, openStoreReader } from "../../daemon/store/reader.js";
import { openStore, type SqliteStore } from "../../daemon/store/store.js";
import { catchError, memoryLogger, reading, readings, T0, tempDir } from "./helpers.js";

describe("reader", () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  beforeEach(() => {
    tmp = tempDir();
    store = openStore({ path: tmp.file(), maxBytes: 16 << 20, log: memoryLogger() });
    // 300 samples of two sensors: gas0 reports co and no2, gas1 reports co.
    let seq = 0;
    for (let i = 0; i < 100; i++) {
      const tsMs = T0 + i * 60_000;
      store.commit(
        [
          reading(seq + 1, { tsMs, value: i, sensor: "gas0", gas: "co", unit: "ppm" }),
          reading(seq + 2, { tsMs, value: i + 0.5, sensor: "gas0", gas: "no2", unit: "ppb" }),
          reading(seq + 3, { tsMs, value: -i, sensor: "gas1", gas: "co", unit: "ppm", flags: 1 }),
        ],
        [],
      );
      seq += 3;
    }
  });
  afterEach(() => {
    store.close();
    tmp.cleanup();
  });

  test("defaults to the newest 100, oldest first", () => {
    const reader = openStoreReader(tmp.file());
    const rows = reader.readings({});
    expect(DEFAULT_LIMIT).toBe(100);
    expect(rows).toHaveLength(100);
    expect(rows[0]?.id).toBe(`${store.idPrefix}-r${(201).toString(36)}`);
    expect(rows[99]?.id).toBe(`${store.idPrefix}-r${(300).toString(36)}`);
    reader.close();
  });

  test("filters by gas, sensor and time, then takes the newest `limit`", () => {
    const reader = openStoreReader(tmp.file());
    const no2 = reader.readings({ gas: "no2", limit: 3 });
    expect(no2.map((r) => [r.sensor, r.gas, r.unit, r.value, r.ts])).toEqual([
      ["gas0", "no2", "ppb", 97.5, new Date(T0 + 97 * 60_000).toISOString()],
      ["gas0", "no2", "ppb", 98.5, new Date(T0 + 98 * 60_000).toISOString()],
      ["gas0", "no2", "ppb", 99.5, new Date(T0 + 99 * 60_000).toISOString()],
    ]);

    // Inclusive lower bound: minute 95 onwards is 5 samples.
    const since = reader.readings({ gas: "co", sinceMs: T0 + 95 * 60_000, limit: 1000 });
    expect(since).toHaveLength(10);
    expect(since.map((r) => r.value)).toEqual([95, -95, 96, -96, 97, -97, 98, -98, 99, -99]);

    const gas1 = reader.readings({ sensor: "gas1", gas: "co", sinceMs: T0 + 98 * 60_000 });
    expect(gas1.map((r) => [r.value, r.flags])).toEqual([
      [-98, ["warmup"]],
      [-99, ["warmup"]],
    ]);
    expect(reader.readings({ gas: "h2s" })).toEqual([]);
    expect(reader.readings({ sinceMs: T0 + 100 * 60_000 })).toEqual([]);
    expect(reader.readings({ limit: 0 })).toEqual([]);
    expect(reader.readings({ limit: 100_000 })).toHaveLength(300);
    expect(catchError(() => reader.readings({ limit: -1 }))).toMatchObject({
      code: "SENSORD_DB_QUERY",
    });
    reader.close();
  });

  test("sees new commits while the daemon keeps writing in WAL mode", () => {
    const reader = openStoreReader(tmp.file());
    expect(reader.readings({ limit: 1 })[0]?.id).toBe(`${store.idPrefix}-r${(300).toString(36)}`);
    store.commit(readings(300, 5, { sensor: "gas2", gas: "h2s" }), []);
    expect(reader.readings({ sensor: "gas2" }).map((r) => r.id)).toEqual(
      [301, 302, 303, 304, 305].map((seq) => `${store.idPrefix}-r${seq.toString(36)}`),
    );
    // The reader holds no lock between queries: the writer is never blocked by it.
    store.commit(readings(305, 1, { sensor: "gas2", gas: "h2s" }), []);
    expect(store.lastReadingSeq()).toBe(306);
    expect(reader.readings({ sensor: "gas2" })).toHaveLength(6);
    reader.close();
  });
});
