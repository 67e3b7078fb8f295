import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { StoreError } from "../../core/errors.js";
import { openStoreReader } from "../../daemon/store/reader.js";
import { openStore } from "../../daemon/store/store.js";
import type { NewReading } from "../../schemas/records.js";
import {
  alert,
  catchError,
  memoryLogger,
  reading,
  readings,
  T0,
  tempDir,
  walCommits,
} from "./helpers.js";

describe("commit", () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  test("a commit listener that throws is logged; the commit stands and the next listeners still hear of it", () => {
    const log = memoryLogger();
    const store = openStore({ path: tmp.file(), maxBytes: 64 << 20, log });
    const heard: number[] = [];
    store.onCommit(() => {
      throw new Error("listener bug");
    });
    store.onCommit((committed) => heard.push(committed.length));
    expect(store.commit(readings(0, 3), [])).toEqual({ droppedReadings: 0 });
    expect(store.commit(readings(3, 2), [])).toEqual({ droppedReadings: 0 });
    expect(heard).toEqual([3, 2]);
    expect(store.lastReadingSeq()).toBe(5);
    expect(
      log.lines.filter(
        (line) =>
          line.level === "error" && line.message === "a commit listener failed: listener bug",
      ),
    ).toHaveLength(2);
    store.close();
  });

  test("1000 readings and 2 alerts are one transaction and round-trip exactly", () => {
    const file = tmp.file();
    const store = openStore({ path: file, maxBytes: 64 << 20, log: memoryLogger() });
    const batch: NewReading[] = readings(0, 1000).map((r, i) => {
      // Four channels with different metadata, flags and awkward values.
      const channel = i % 4;
      if (channel === 1) return { ...r, gas: "no2", unit: "ppb", value: -0.125, flags: 1 };
      if (channel === 2) return { ...r, gas: "o2", unit: "%", value: 20.9, flags: 2 };
      if (channel === 3) {
        return {
          ...r,
          sensor: "ze03",
          gas: "h2s",
          value: 1e-9,
          flags: 3,
          sensorId: "0007",
          sensorType: "27",
        };
      }
      return r;
    });
    const alerts = [alert(1, 10), alert(2, 20, { kind: "clear", value: 12.25 })];

    const before = walCommits(file);
    expect(store.commit(batch, alerts)).toEqual({ droppedReadings: 0 });
    expect(walCommits(file)).toBe(before + 1);
    expect(store.lastReadingSeq()).toBe(1000);
    expect(store.lastAlertSeq()).toBe(2);

    const reader = openStoreReader(file);
    const stored = reader.readings({ limit: 5000 });
    expect(stored).toHaveLength(1000);
    const prefix = store.idPrefix;
    expect(stored.slice(0, 4)).toEqual([
      {
        id: `${prefix}-r1`,
        sensor: "gas0",
        gas: "co",
        value: 0.25,
        unit: "ppm",
        ts: "2026-11-26T10:40:37.123Z",
        flags: [],
      },
      {
        id: `${prefix}-r2`,
        sensor: "gas0",
        gas: "no2",
        value: -0.125,
        unit: "ppb",
        ts: "2026-11-26T10:40:38.123Z",
        flags: ["warmup"],
      },
      {
        id: `${prefix}-r3`,
        sensor: "gas0",
        gas: "o2",
        value: 20.9,
        unit: "%",
        ts: "2026-11-26T10:40:39.123Z",
        flags: ["out_of_range"],
      },
      {
        id: `${prefix}-r4`,
        sensor: "ze03",
        gas: "h2s",
        value: 1e-9,
        unit: "ppm",
        ts: "2026-11-26T10:40:40.123Z",
        flags: ["warmup", "out_of_range"],
      },
    ]);
    expect(stored.map((r) => r.id)).toEqual(
      Array.from({ length: 1000 }, (_, i) => `${prefix}-r${(i + 1).toString(36)}`),
    );
    expect(stored.map((r) => r.value)).toEqual(batch.map((r) => r.value));
    expect(stored[999]).toMatchObject({
      id: `${prefix}-rrs`,
      ts: new Date(T0 + 1000_000).toISOString(),
    });

    expect(reader.alerts({})).toEqual([
      {
        id: `${prefix}-a1`,
        readingId: `${prefix}-ra`,
        rule: "co>=35ppm:warning",
        sensor: "gas0",
        gas: "co",
        kind: "raise",
        value: 40.5,
        unit: "ppm",
        threshold: 35,
        op: ">=",
        severity: "warning",
        ts: "2026-11-26T10:40:46.123Z",
      },
      {
        id: `${prefix}-a2`,
        readingId: `${prefix}-rk`,
        rule: "co>=35ppm:warning",
        sensor: "gas0",
        gas: "co",
        kind: "clear",
        value: 12.25,
        unit: "ppm",
        threshold: 35,
        op: ">=",
        severity: "warning",
        ts: "2026-11-26T10:40:56.123Z",
      },
    ]);
    reader.close();

    // Only four distinct channels: four series rows, whatever the batch size.
    store.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT COUNT(*) AS n FROM series").get()).toEqual({ n: 4 });
    db.close();
  });

  test("a batch that fails part-way writes nothing, and later batches still work", () => {
    const file = tmp.file();
    const store = openStore({ path: file, maxBytes: 64 << 20, log: memoryLogger() });
    store.commit(readings(0, 10), []);
    // Another writer took seq 20 behind the store's back: the batch's last insert collides.
    const other = new Database(file);
    other.prepare("INSERT INTO readings (seq, series, ts, value) VALUES (20, 1, 0, 0)").run();
    other.close();

    const failing = readings(10, 10, { sensor: "gas9", gas: "nh3" });
    const error = catchError(() => store.commit(failing, [alert(1, 15)]));
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "SENSORD_DB_WRITE" });
    expect(String(error)).toContain(
      "commit of 10 readings and 1 alerts failed, nothing was written",
    );
    expect(store.lastReadingSeq()).toBe(10);
    expect(store.lastAlertSeq()).toBe(0);

    const reader = openStoreReader(file);
    expect(reader.readings({ sensor: "gas9" })).toEqual([]);
    expect(reader.alerts({})).toEqual([]);

    // The series row created inside the failed transaction is gone; it must be made again.
    store.commit(readings(20, 3, { sensor: "gas9", gas: "nh3" }), []);
    expect(reader.readings({ sensor: "gas9" }).map((r) => [r.id, r.gas, r.unit])).toEqual([
      [`${store.idPrefix}-rl`, "nh3", "ppm"],
      [`${store.idPrefix}-rm`, "nh3", "ppm"],
      [`${store.idPrefix}-rn`, "nh3", "ppm"],
    ]);
    reader.close();
    store.close();
  });

  test.each([
    ["a NaN value", [reading(1), reading(2, { value: Number.NaN })], /reading seq 2: value NaN/],
    ["an infinite value", [reading(1, { value: Number.POSITIVE_INFINITY })], /value Infinity/],
    ["a repeated seq", [reading(1), reading(1)], /seq 1 is not above 1/],
    ["a fractional seq", [reading(1.5)], /seq is not a whole number/],
    ["a fractional timestamp", [reading(1, { tsMs: T0 + 0.5 })], /not whole epoch milliseconds/],
    ["negative flags", [reading(1, { flags: -1 })], /flags -1 is not a bit set/],
  ])("refuses %s and writes nothing", (_, batch, message) => {
    const file = tmp.file();
    const store = openStore({ path: file, maxBytes: 64 << 20, log: memoryLogger() });
    const error = catchError(() => store.commit(batch, []));
    expect(error).toMatchObject({ code: "SENSORD_DB_INVALID" });
    expect(String(error)).toMatch(message);
    expect(store.lastReadingSeq()).toBe(0);
    store.commit([reading(1)], []);
    store.close();
    const reader = openStoreReader(file);
    expect(reader.readings({}).map((r) => r.value)).toEqual([0.25]);
    reader.close();
  });

  test("an alert with a non-finite threshold is refused", () => {
    const store = openStore({ path: tmp.file(), maxBytes: 64 << 20, log: memoryLogger() });
    const error = catchError(() =>
      store.commit([reading(1)], [alert(1, 1, { threshold: Number.NaN })]),
    );
    expect(String(error)).toContain("alert seq 1: threshold NaN is not a finite number");
    expect(store.lastReadingSeq()).toBe(0);
    store.close();
  });

  test("an empty commit writes nothing", () => {
    const file = tmp.file();
    const store = openStore({ path: file, maxBytes: 64 << 20, log: memoryLogger() });
    const before = walCommits(file);
    expect(store.commit([], [])).toEqual({ droppedReadings: 0 });
    expect(walCommits(file)).toBe(before);
    store.close();
  });
});
