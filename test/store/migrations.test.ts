import fs from "node:fs";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { StoreError } from "../../core/errors.js";
import { LATEST_VERSION, MIGRATIONS, migrate } from "../../daemon/store/migrations.js";
import { openStoreReader } from "../../daemon/store/reader.js";
import { openStore } from "../../daemon/store/store.js";
import { ALERTS_OUTPUT, READINGS_OUTPUT } from "../../sync/output/names.js";
import { alert, catchError, memoryLogger, reading, readings, T0, tempDir } from "./helpers.js";

function tables(file: string): string[] {
  const db = new Database(file, { readonly: true });
  const names = db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
    )
    .all()
    .map((row) => row.name);
  db.close();
  return names;
}

function userVersion(file: string): unknown {
  const db = new Database(file, { readonly: true });
  const version = db.pragma("user_version", { simple: true });
  db.close();
  return version;
}

describe("migrations", () => {
  let tmp: ReturnType<typeof tempDir>;
  /** A database file built by the migrations up to `version`, holding the rows `sql` inserts. */
  const fileAtVersion = (version: number, sql: string): string => {
    const file = tmp.file();
    const old = new Database(file);
    migrate(old, version);
    old.exec(sql);
    old.close();
    return file;
  };
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  test("versions are 1..latest without gaps", () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(LATEST_VERSION).toBe(10);
  });

  test("migrate stops at the target and resumes from there", () => {
    const file = tmp.file();
    const db = new Database(file);
    expect(migrate(db, 2)).toBe(2);
    db.close();
    expect(userVersion(file)).toBe(2);
    expect(tables(file)).toEqual(["alerts", "meta", "readings", "series"]);

    const again = new Database(file);
    expect(migrate(again)).toBe(10);
    // Already current: nothing to do, and no downgrade when asked for less.
    expect(migrate(again)).toBe(10);
    expect(migrate(again, 1)).toBe(10);
    again.close();
    expect(tables(file)).toEqual([
      "alert_quarantine",
      "alert_upload",
      "alerts",
      "fleet_thresholds",
      "meta",
      "mqtt_cursor",
      "readings",
      "series",
      "sync_cursor",
      "sync_ranges",
      "threshold_overrides",
    ]);
  });

  test("a v1 file with data is upgraded and its readings keep their ids", () => {
    const file = tmp.file();
    const old = new Database(file);
    migrate(old, 1);
    old.exec(`
      INSERT INTO meta (key, value) VALUES ('id_prefix', 'oldfile234');
      INSERT INTO series (id, sensor, gas, unit, sensor_id, sensor_type)
        VALUES (1, 'gas0', 'co', 'ppm', '0005', '8'), (2, 'gas0', 'no2', 'ppb', '0006', '9');
      INSERT INTO readings (seq, series, ts, value, flags) VALUES
        (1, 1, ${T0}, 26.2, 0),
        (2, 2, ${T0}, 52, 1),
        (3, 1, ${T0 + 1000}, 26.5, 3);
    `);
    old.close();
    expect(userVersion(file)).toBe(1);

    const store = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    expect(userVersion(file)).toBe(LATEST_VERSION);
    expect(store.idPrefix).toBe("oldfile234");
    expect(store.lastReadingSeq()).toBe(3);
    expect(store.activeAlarms()).toEqual([]);
    // Same channel metadata as series 1: must reuse that row, not add one.
    store.commit([reading(4, { value: 27, sensorId: "0005", sensorType: "8" })], []);
    store.close();

    const check = new Database(file, { readonly: true });
    expect(check.prepare("SELECT COUNT(*) AS n FROM series").get()).toEqual({ n: 2 });
    check.close();

    const reader = openStoreReader(file);
    expect(reader.readings({})).toEqual([
      {
        id: "oldfile234-r1",
        sensor: "gas0",
        gas: "co",
        value: 26.2,
        unit: "ppm",
        ts: "2026-11-26T10:40:36.123Z",
        flags: [],
      },
      {
        id: "oldfile234-r2",
        sensor: "gas0",
        gas: "no2",
        value: 52,
        unit: "ppb",
        ts: "2026-11-26T10:40:36.123Z",
        flags: ["warmup"],
      },
      {
        id: "oldfile234-r3",
        sensor: "gas0",
        gas: "co",
        value: 26.5,
        unit: "ppm",
        ts: "2026-11-26T10:40:37.123Z",
        flags: ["warmup", "out_of_range"],
      },
      {
        id: "oldfile234-r4",
        sensor: "gas0",
        gas: "co",
        value: 27,
        unit: "ppm",
        ts: "2026-11-26T10:40:40.123Z",
        flags: [],
      },
    ]);
    reader.close();
  });

  test("a file from a newer sensord is refused and left untouched", () => {
    const file = tmp.file();
    const newer = new Database(file);
    newer.pragma("user_version = 99");
    newer.exec("CREATE TABLE future (x)");
    newer.close();
    const bytes = fs.readFileSync(file);

    const log = memoryLogger();
    const error = catchError(() => openStore({ path: file, maxBytes: 1 << 20, log }));
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "SENSORD_DB_TOO_NEW", path: file });
    expect(String(error)).toContain(
      "schema version 99 is newer than this sensord understands (10)",
    );
    expect(String(error)).toContain("upgrade sensord");

    const readError = catchError(() => openStoreReader(file));
    expect(readError).toMatchObject({ code: "SENSORD_DB_TOO_NEW" });
    expect(String(readError)).toContain("upgrade sensorctl");

    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(fs.readdirSync(tmp.dir).filter((name) => name.includes(".corrupt-"))).toEqual([]);
    expect(log.lines).toEqual([]);
  });

  test("a v7 file upgrades in place: its readings watermark and ranges stay with the http sink", () => {
    const file = fileAtVersion(
      7,
      `
      INSERT INTO sync_cursor (sink, acked_seq) VALUES ('http', 3);
      INSERT INTO sync_ranges (lo, hi, state, batch_id, status, reason, readings, at)
        VALUES (6, 6, 'quarantined', 'b-bad', 422, 'HTTP 422: bad', 1, 1000),
               (8, 9, 'uploaded', NULL, NULL, NULL, 2, 1000);`,
    );
    const store = openStore({ path: file, maxBytes: 1 << 30, log: memoryLogger() });
    store.commit(readings(0, 10), []);
    expect(userVersion(file)).toBe(LATEST_VERSION);
    const queue = store.syncQueue(READINGS_OUTPUT);
    // 1-3 under the old watermark, 6 quarantined, 8-9 uploaded: 4, 5, 7 and 10 wait.
    expect(queue.oldestPending(0, 100).map((item) => item.seq)).toEqual([4, 5, 7, 10]);
    expect(queue.quarantined()).toEqual([
      {
        batchId: "b-bad",
        readings: 1,
        firstSeq: 6,
        lastSeq: 6,
        status: 422,
        reason: "HTTP 422: bad",
        atMs: 1000,
      },
    ]);
    queue.markUploaded([4, 5, 7]);
    store.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT sink, acked_seq FROM sync_cursor").all()).toEqual([
      { sink: "http", acked_seq: 5 },
    ]);
    expect(db.prepare("SELECT sink, lo, hi, state FROM sync_ranges ORDER BY lo").all()).toEqual([
      { sink: "http", lo: 6, hi: 6, state: "quarantined" },
      { sink: "http", lo: 7, hi: 9, state: "uploaded" },
    ]);
    db.close();
  });

  test("a v8 file upgrades in place: its alert watermark and quarantine go to the alerts sink", () => {
    const file = fileAtVersion(
      8,
      `
      INSERT INTO sync_cursor (sink, acked_seq) VALUES ('http', 2);
      INSERT INTO alert_upload (sink, acked_seq) VALUES ('http', 5);
      INSERT INTO alert_quarantine (lo, hi, alerts, batch_id, status, reason, at)
        VALUES (2, 3, 2, 'a-bad', 422, 'HTTP 422: bad', 1000),
               (5, 5, 1, 'a-worse', 400, 'HTTP 400: worse', 2000);`,
    );
    const store = openStore({ path: file, maxBytes: 1 << 30, log: memoryLogger() });
    expect(userVersion(file)).toBe(LATEST_VERSION);
    store.commit(
      readings(0, 3),
      Array.from({ length: 7 }, (_, i) => alert(i + 1, 3)),
    );
    const queue = store.alertUploadQueue(ALERTS_OUTPUT);
    expect(queue.watermark()).toBe(5);
    expect(queue.pending(100).map((item) => item.seq)).toEqual([6, 7]);
    expect(queue.quarantined()).toEqual([
      {
        batchId: "a-worse",
        alerts: 1,
        firstSeq: 5,
        lastSeq: 5,
        status: 400,
        reason: "HTTP 400: worse",
        atMs: 2000,
      },
      {
        batchId: "a-bad",
        alerts: 2,
        firstSeq: 2,
        lastSeq: 3,
        status: 422,
        reason: "HTTP 422: bad",
        atMs: 1000,
      },
    ]);
    expect(queue.stats()).toEqual({ pending: 2, quarantinedBatches: 2, quarantinedAlerts: 3 });
    // Another output's quarantine is its own: it sees none of these.
    expect(store.alertUploadQueue("other").stats()).toEqual({
      pending: 7,
      quarantinedBatches: 0,
      quarantinedAlerts: 0,
    });
    queue.quarantine(
      { firstSeq: 6, lastSeq: 6, alerts: 1 },
      { batchId: "a-new", status: 422, reason: "HTTP 422: new" },
    );
    store.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT sink, acked_seq FROM alert_upload").all()).toEqual([
      { sink: "alerts", acked_seq: 6 },
    ]);
    expect(
      db.prepare("SELECT sink, lo, hi, batch_id FROM alert_quarantine ORDER BY lo").all(),
    ).toEqual([
      { sink: "alerts", lo: 2, hi: 3, batch_id: "a-bad" },
      { sink: "alerts", lo: 5, hi: 5, batch_id: "a-worse" },
      { sink: "alerts", lo: 6, hi: 6, batch_id: "a-new" },
    ]);
    // The readings' watermark is not the alerts' business.
    expect(db.prepare("SELECT sink, acked_seq FROM sync_cursor").all()).toEqual([
      { sink: "http", acked_seq: 2 },
    ]);
    db.close();
  });
  test("a v9 file upgrades in place: no fleet set yet, then one is kept across a reopen", () => {
    const file = fileAtVersion(9, "INSERT INTO sync_cursor (sink, acked_seq) VALUES ('http', 2);");
    const store = openStore({ path: file, maxBytes: 1 << 30, log: memoryLogger() });
    expect(userVersion(file)).toBe(10);
    const table = store.fleetThresholds();
    expect(table.read()).toEqual({ applied: null, refused: null });
    const rules = [{ gas: "no2", value: 80, unit: "ppb" }];
    table.applied({ etag: "g2-abcd1234", source: "group", version: 2, rules, appliedAtMs: 1000 });
    table.refused({ etag: "d1-00ff00ff", reason: "thresholds[0].unit: no", refusedAtMs: 2000 });
    store.close();
    const reader = openStoreReader(file);
    expect(reader.fleetThresholds()).toEqual({
      applied: { etag: "g2-abcd1234", source: "group", version: 2, rules, appliedAtMs: 1000 },
      refused: { etag: "d1-00ff00ff", reason: "thresholds[0].unit: no", refusedAtMs: 2000 },
    });
    reader.close();
    // A set applied later clears the refusal.
    const again = openStore({ path: file, maxBytes: 1 << 30, log: memoryLogger() });
    again
      .fleetThresholds()
      .applied({ etag: "none", source: "none", version: 0, rules: [], appliedAtMs: 3000 });
    expect(again.fleetThresholds().read()).toEqual({
      applied: { etag: "none", source: "none", version: 0, rules: [], appliedAtMs: 3000 },
      refused: null,
    });
    again.close();
  });
});
