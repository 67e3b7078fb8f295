import fs from "node:fs";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { openStoreReader } from "../../daemon/store/reader.js";
import { openStore } from "../../daemon/store/store.js";
import { alert, memoryLogger, readings, tempDir, usedBytesOf } from "./helpers.js";

const KIB = 1024;

function setAcked(file: string, sink: string, seq: number): void {
  const db = new Database(file);
  db.prepare("INSERT OR REPLACE INTO sync_cursor (sink, acked_seq) VALUES (?, ?)").run(sink, seq);
  db.close();
}

/** The numbers in every retention warning. */
function pruneLines(lines: { level: string; message: string }[]) {
  const pattern =
    /^storage over its (\d+) byte cap \(\d+ bytes used\): dropped the (\d+) oldest readings \(seq (\d+)\.\.(\d+)\): (\d+) already uploaded, (\d+) never uploaded; (\d+) dropped in total/;
  return lines
    .filter((line) => line.level === "warn")
    .map((line) => {
      const match = pattern.exec(line.message);
      if (!match) throw new Error(`unexpected warning: ${line.message}`);
      const [, cap, dropped, first, last, uploaded, notUploaded, total] = match.map(Number);
      return { cap, dropped, first, last, uploaded, notUploaded, total };
    });
}

describe("retention", () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  test("keeps a 256 KiB file under its cap, dropping uploaded readings first, keeping alerts", () => {
    const cap = 256 * KIB;
    const file = tmp.file();
    const log = memoryLogger();
    const store = openStore({ path: file, maxBytes: cap, log });
    store.commit(readings(0, 500), [alert(1, 5), alert(2, 6, { kind: "clear" })]);
    store.commit(readings(500, 1500), []);
    // Two sinks; only what both acknowledged (seq <= 1500) counts as uploaded.
    setAcked(file, "http", 1500);
    setAcked(file, "mqtt", 4000);

    let dropped = 0;
    let seq = 2000;
    while (seq < 20_000) {
      dropped += store.commit(readings(seq, 500), []).droppedReadings;
      seq += 500;
      // A margin of one 500-reading commit (~12 KiB) plus a page: never more.
      expect(usedBytesOf(file)).toBeLessThanOrEqual(cap + 16 * KIB);
    }
    expect(store.droppedReadingsTotal()).toBe(dropped);
    expect(dropped).toBeGreaterThan(10_000);

    const lines = pruneLines(log.lines);
    expect(lines.length).toBeGreaterThan(3);
    // The first prune starts at seq 1 and takes all 1500 uploaded readings before any other.
    expect(lines[0]).toMatchObject({ cap, first: 1, uploaded: 1500 });
    expect(lines[0]?.dropped).toBeGreaterThan(1500);
    expect(lines.reduce((sum, line) => sum + (line.uploaded ?? 0), 0)).toBe(1500);
    expect(lines.reduce((sum, line) => sum + (line.dropped ?? 0), 0)).toBe(dropped);
    expect(lines.at(-1)?.total).toBe(dropped);
    // Oldest first, no gaps: each prune starts where the previous one stopped.
    for (let i = 1; i < lines.length; i++) {
      expect(lines[i]?.first).toBe((lines[i - 1]?.last ?? 0) + 1);
    }

    const reader = openStoreReader(file);
    const kept = reader.readings({ limit: 100_000 });
    expect(kept).toHaveLength(20_000 - dropped);
    expect(kept[0]?.id).toBe(`${store.idPrefix}-r${(dropped + 1).toString(36)}`);
    expect(kept.at(-1)?.id).toBe(`${store.idPrefix}-r${(20_000).toString(36)}`);
    expect(reader.alerts({}).map((a) => [a.id, a.readingId])).toEqual([
      [`${store.idPrefix}-a1`, `${store.idPrefix}-r5`],
      [`${store.idPrefix}-a2`, `${store.idPrefix}-r6`],
    ]);
    reader.close();
    store.close();

    // The file itself (WAL checkpointed in on close) stays within the same margin.
    expect(fs.statSync(file).size).toBeLessThanOrEqual(cap + 16 * KIB);
    const reopened = openStore({ path: file, maxBytes: cap, log: memoryLogger() });
    expect(reopened.droppedReadingsTotal()).toBe(dropped);
    reopened.close();
  });

  test("a lower cap at restart prunes readings at the first commit, alerts only when readings cannot make room", () => {
    const file = tmp.file();
    const first = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    first.commit(readings(0, 2000), []);
    const alerts = Array.from({ length: 200 }, (_, i) =>
      alert(i + 1, 2001 + i, { kind: i % 2 === 0 ? "raise" : "clear" }),
    );
    first.commit(readings(2000, 200), alerts);
    first.close();
    expect(usedBytesOf(file)).toBeGreaterThan(100 * KIB);

    // Readings alone can make room: every alert stays.
    const log = memoryLogger();
    const smaller = openStore({ path: file, maxBytes: 100 * KIB, log });
    const { droppedReadings } = smaller.commit(readings(2200, 1), []);
    expect(droppedReadings).toBeGreaterThan(0);
    expect(droppedReadings).toBeLessThan(2201);
    expect(usedBytesOf(file)).toBeLessThanOrEqual(90 * KIB);
    expect(log.lines.filter((line) => line.level === "error")).toEqual([]);
    smaller.close();
    let reader = openStoreReader(file);
    expect(reader.alerts({ limit: 1000 })).toHaveLength(200);
    expect(reader.readings({ limit: 10_000 })).toHaveLength(2201 - droppedReadings);
    reader.close();

    // 48 KiB cannot hold the schema (32 KiB) plus 200 alerts: all readings go, then the oldest alerts.
    const tinyLog = memoryLogger();
    const tiny = openStore({ path: file, maxBytes: 48 * KIB, log: tinyLog });
    expect(tiny.commit(readings(2201, 1), []).droppedReadings).toBe(2202 - droppedReadings);
    expect(tiny.droppedReadingsTotal()).toBe(2202);
    expect(usedBytesOf(file)).toBeLessThanOrEqual(Math.floor(48 * KIB * 0.9));
    const errors = tinyLog.lines.filter((line) => line.level === "error");
    expect(errors).toHaveLength(1);
    const droppedAlerts = Number(
      /dropped the (\d+) oldest alert events/.exec(errors[0]?.message ?? "")?.[1],
    );
    expect(droppedAlerts).toBeGreaterThan(0);
    expect(droppedAlerts).toBeLessThan(200);
    tiny.close();
    reader = openStoreReader(file);
    expect(reader.readings({})).toEqual([]);
    // The survivors are exactly the newest alerts.
    expect(reader.alerts({ limit: 1000 }).map((a) => a.id)).toEqual(
      Array.from(
        { length: 200 - droppedAlerts },
        (_, i) => `${tiny.idPrefix}-a${(droppedAlerts + i + 1).toString(36)}`,
      ),
    );
    reader.close();

    // Even with every alert gone, alert seqs are not reused.
    const none = openStore({ path: file, maxBytes: 16 * KIB, log: memoryLogger() });
    none.commit(readings(2202, 1), []);
    none.close();
    const after = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    expect(after.lastAlertSeq()).toBe(200);
    expect(after.lastReadingSeq()).toBe(2203);
    after.close();
  });
});
