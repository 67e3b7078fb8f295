import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { openStoreReader } from "../../daemon/store/reader.js";
import { openStore } from "../../daemon/store/store.js";
import { alert, memoryLogger, readings, tempDir } from "./helpers.js";

const CO = "co>=35ppm:warning";
const NO2 = "no2>=88ppb:warning";

describe("active alarms", () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  test("the newest event per rule and sensor decides, across a restart", () => {
    const file = tmp.file();
    const store = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    expect(store.activeAlarms()).toEqual([]);
    store.commit(readings(0, 10), [
      alert(1, 1, { rule: CO, sensor: "gas0" }),
      alert(2, 2, { rule: CO, sensor: "gas1" }),
      alert(3, 3, { rule: NO2, sensor: "gas0", gas: "no2", unit: "ppb", threshold: 88, value: 90 }),
    ]);
    store.commit(readings(10, 10), [
      alert(4, 11, { rule: CO, sensor: "gas0", kind: "clear", value: 20 }),
      alert(5, 12, {
        rule: NO2,
        sensor: "gas0",
        gas: "no2",
        unit: "ppb",
        kind: "clear",
        value: 70,
      }),
      alert(6, 13, {
        rule: NO2,
        sensor: "gas0",
        gas: "no2",
        unit: "ppb",
        threshold: 88,
        value: 95.5,
        severity: "critical",
      }),
    ]);
    expect(store.activeAlarms().map((a) => [a.seq, a.rule, a.sensor, a.kind])).toEqual([
      [2, CO, "gas1", "raise"],
      [6, NO2, "gas0", "raise"],
    ]);
    store.close();

    const reopened = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    expect(reopened.activeAlarms()).toEqual([
      alert(2, 2, { rule: CO, sensor: "gas1" }),
      alert(6, 13, {
        rule: NO2,
        sensor: "gas0",
        gas: "no2",
        unit: "ppb",
        threshold: 88,
        value: 95.5,
        severity: "critical",
      }),
    ]);
    // Clearing the last one after the restart leaves only gas1's CO alarm.
    reopened.commit(readings(20, 1), [
      alert(7, 21, {
        rule: NO2,
        sensor: "gas0",
        gas: "no2",
        unit: "ppb",
        kind: "clear",
        value: 50,
      }),
    ]);
    expect(reopened.activeAlarms().map((a) => a.seq)).toEqual([2]);
    reopened.close();

    const reader = openStoreReader(file);
    const prefix = reopened.idPrefix;
    expect(reader.alerts({ active: true })).toEqual([
      {
        id: `${prefix}-a2`,
        readingId: `${prefix}-r2`,
        rule: CO,
        sensor: "gas1",
        gas: "co",
        kind: "raise",
        value: 40.5,
        unit: "ppm",
        threshold: 35,
        op: ">=",
        severity: "warning",
        ts: "2026-11-26T10:40:38.123Z",
      },
    ]);
    expect(reader.alerts({}).map((a) => a.id)).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((seq) => `${prefix}-a${seq}`),
    );
    // The newest `limit`, oldest first.
    expect(reader.alerts({ limit: 2 }).map((a) => [a.id, a.kind])).toEqual([
      [`${prefix}-a6`, "raise"],
      [`${prefix}-a7`, "clear"],
    ]);
    reader.close();
  });
});
