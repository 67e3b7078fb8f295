import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreError } from "../../core/errors.js";
import { createLogger } from "../../core/logger.js";
import { Recorder } from "../../daemon/pipeline/recorder.js";
import { openStoreReader } from "../../daemon/store/reader.js";
import { openStore } from "../../daemon/store/store.js";
import type { ReadingStore } from "../../daemon/store/types.js";
import { ThresholdEngine } from "../../daemon/thresholds/engine.js";
import type { SensorConfig, ThresholdRule } from "../../schemas/config-types.js";
import { makeTempDir } from "../support/processes.js";

const NO2_RULE: ThresholdRule = {
  gas: "no2",
  op: ">=",
  value: 88,
  unit: "ppb",
  clear: 80,
  forMs: 0,
  severity: "warning",
  sensor: null,
};

function sensor(channels: SensorConfig["channels"] = {}): SensorConfig {
  return { id: "gas0", driver: "test", intervalMs: 1000, warmupMs: 0, channels, options: {} };
}

describe("Recorder", () => {
  let dir: string;
  let cleanup: () => void;
  let store: ReadingStore;
  const lines: string[] = [];
  const log = createLogger({
    level: "debug",
    journald: true,
    write: (line) => lines.push(line.trim()),
  });
  const path = () => join(dir, "r.db");
  const stored = () => {
    const reader = openStoreReader(path());
    try {
      return { readings: reader.readings({ limit: 1000 }), alerts: reader.alerts({ limit: 1000 }) };
    } finally {
      reader.close();
    }
  };

  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    store = openStore({ path: path(), maxBytes: 64 * 1024 * 1024, log });
    lines.length = 0;
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  it("converts to the channel unit, applies calibration, flags warm-up and out-of-range", () => {
    const recorder = new Recorder({
      store,
      engine: new ThresholdEngine([]),
      log,
      flushIntervalMs: 60_000,
    });
    const calibrated = sensor({
      co: {
        unit: "ppm",
        calibration: { slope: 0.5, offset: -10 },
        sensorId: null,
        sensorType: null,
      },
    });
    recorder.record(
      calibrated,
      { values: [{ gas: "no2", value: 0.199, unit: "ppm" }] },
      1000,
      false,
    );
    recorder.record(calibrated, { values: [{ gas: "co", value: 700, unit: "raw" }] }, 2000, true);
    recorder.record(calibrated, { values: [{ gas: "voc", value: 512, unit: "raw" }] }, 3000, false);
    recorder.record(
      calibrated,
      { values: [{ gas: "h2", value: 900, outOfRange: true }] },
      4000,
      false,
    );
    expect(stored().readings).toHaveLength(0);
    expect(recorder.flush()).toBe(true);
    expect(
      stored().readings.map(({ gas, value, unit, flags }) => [gas, value, unit, flags]),
    ).toEqual([
      ["no2", 199, "ppb", []],
      ["co", 340, "ppm", ["warmup"]],
      ["voc", 512, "raw", []],
      ["h2", 900, "ppm", ["out_of_range"]],
    ]);
  });

  it("skips non-finite values instead of poisoning the batch", () => {
    const recorder = new Recorder({
      store,
      engine: new ThresholdEngine([]),
      log,
      flushIntervalMs: 60_000,
    });
    recorder.record(
      sensor(),
      {
        values: [
          { gas: "co", value: Number.NaN },
          { gas: "no2", value: 5 },
        ],
      },
      1,
      false,
    );
    recorder.record(
      sensor(),
      { values: [{ gas: "co", value: Number.POSITIVE_INFINITY }] },
      2,
      false,
    );
    expect(recorder.flush()).toBe(true);
    expect(stored().readings.map((reading) => reading.gas)).toEqual(["no2"]);
    expect(recorder.status().rejectedValues).toBe(2);
  });

  it("commits an alarm at once, with the reading that caused it, without waiting for the flush interval", () => {
    const recorder = new Recorder({
      store,
      engine: new ThresholdEngine([NO2_RULE]),
      log,
      flushIntervalMs: 60_000,
    });
    recorder.record(sensor(), { values: [{ gas: "no2", value: 50 }] }, 1000, false);
    expect(stored().readings).toHaveLength(0);
    recorder.record(sensor(), { values: [{ gas: "no2", value: 91.2 }] }, 2000, false);
    const { readings, alerts } = stored();
    expect(readings.map((reading) => reading.value)).toEqual([50, 91.2]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: "raise",
      value: 91.2,
      threshold: 88,
      readingId: readings[1]?.id,
    });
    expect(lines).toContain("<4>ALARM no2>=88ppb:warning on gas0: no2 91.2 ppb (threshold >= 88)");
  });

  it("flushes early when the buffer is full", () => {
    const recorder = new Recorder({
      store,
      engine: new ThresholdEngine([]),
      log,
      flushIntervalMs: 60_000,
      maxPending: 10,
    });
    for (let tick = 0; tick < 25; tick++)
      recorder.record(sensor(), { values: [{ gas: "co", value: tick }] }, tick, false);
    expect(stored().readings).toHaveLength(20);
    expect(recorder.status().pending).toBe(5);
  });

  it("holds readings while the database refuses writes, logs once, and commits them when it recovers", () => {
    // The real store behind a switch: as root, file modes cannot make SQLite refuse a write.
    let refusing = true;
    const flaky: ReadingStore = {
      idPrefix: store.idPrefix,
      lastReadingSeq: () => store.lastReadingSeq(),
      lastAlertSeq: () => store.lastAlertSeq(),
      commit: (readings, alerts) => {
        if (refusing) throw new StoreError("SENSORD_DB_WRITE", path(), "disk I/O error");
        return store.commit(readings, alerts);
      },
      activeAlarms: () => store.activeAlarms(),
      droppedReadingsTotal: () => store.droppedReadingsTotal(),
      close: () => store.close(),
    };
    const recorder = new Recorder({
      store: flaky,
      engine: new ThresholdEngine([]),
      log,
      flushIntervalMs: 60_000,
      maxHeld: 30,
    });
    for (let tick = 0; tick < 40; tick++) {
      recorder.record(sensor(), { values: [{ gas: "co", value: tick }] }, tick, false);
      expect(recorder.flush()).toBe(false);
    }
    expect(lines.filter((line) => line.includes("commit failed"))).toEqual([
      `<3>commit failed, holding 1 readings in memory: database ${path()}: disk I/O error`,
    ]);
    expect(recorder.status()).toMatchObject({ pending: 30, droppedInMemory: 10 });
    expect(stored().readings).toHaveLength(0);

    refusing = false;
    expect(recorder.flush()).toBe(true);
    // The 30 newest were kept; the 10 oldest were dropped (and counted) at the memory cap.
    expect(stored().readings.map((reading) => reading.value)).toEqual(
      Array.from({ length: 30 }, (_, index) => index + 10),
    );
    expect(lines.at(-1)).toBe("<6>database accepts writes again; held readings committed");
  });
});
