import fs from "node:fs";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { openStoreReader } from "../../daemon/store/reader.js";
import { openStore } from "../../daemon/store/store.js";
import {
  alert,
  emptyStoreBytes,
  memoryLogger,
  pageSizeOf,
  readings,
  tempDir,
  usedBytesOf,
} from "./helpers.js";

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
    const before = usedBytesOf(file);
    store.commit(readings(500, 1500), []);
    // What one 500-reading commit really adds to the file (~12 KiB at any page size).
    const commitBytes = Math.ceil(((usedBytesOf(file) - before) / 1500) * 500);
    // Two sinks; only what both acknowledged (the first commit's 500) counts as uploaded.
    const uploaded = 500;
    setAcked(file, "http", uploaded);
    setAcked(file, "mqtt", 4000);

    // A margin of one 500-reading commit plus a page: never more.
    const margin = commitBytes + pageSizeOf(file);
    let dropped = 0;
    let seq = 2000;
    while (seq < 20_000) {
      dropped += store.commit(readings(seq, 500), []).droppedReadings;
      seq += 500;
      expect(usedBytesOf(file)).toBeLessThanOrEqual(cap + margin);
    }
    expect(store.droppedReadingsTotal()).toBe(dropped);
    expect(dropped).toBeGreaterThan(10_000);

    const lines = pruneLines(log.lines);
    expect(lines.length).toBeGreaterThan(3);
    // A prune frees at least a tenth of the cap (26 KiB, ~1000 readings), so the
    // first one starts at seq 1, takes all uploaded readings and goes on past them.
    expect(lines[0]).toMatchObject({ cap, first: 1, uploaded });
    expect(lines[0]?.dropped).toBeGreaterThan(uploaded);
    // Oldest first, no gaps: each prune starts where the previous one stopped,
    // and counts as uploaded exactly its seqs at or below the watermark.
    for (const [i, line] of lines.entries()) {
      if (i > 0) expect(line.first).toBe((lines[i - 1]?.last ?? 0) + 1);
      const { first = 0, last = 0, dropped: count = 0, uploaded: fromUploaded = 0 } = line;
      expect(count).toBe(last - first + 1);
      expect(fromUploaded).toBe(Math.max(0, Math.min(last, uploaded) - first + 1));
      expect(line.notUploaded).toBe(count - fromUploaded);
    }
    expect(lines.reduce((sum, line) => sum + (line.uploaded ?? 0), 0)).toBe(uploaded);
    expect(lines.reduce((sum, line) => sum + (line.dropped ?? 0), 0)).toBe(dropped);
    expect(lines.at(-1)?.total).toBe(dropped);

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
    expect(fs.statSync(file).size).toBeLessThanOrEqual(cap + margin);
    const reopened = openStore({ path: file, maxBytes: cap, log: memoryLogger() });
    expect(reopened.droppedReadingsTotal()).toBe(dropped);
    reopened.close();
  });

  test("a lower cap at restart prunes readings at the first commit, alerts only when readings cannot make room", () => {
    const alerts = Array.from({ length: 200 }, (_, i) =>
      alert(i + 1, 2001 + i, { kind: i % 2 === 0 ? "raise" : "clear" }),
    );
    // What the schema alone, and the schema plus the 200 alerts, take at this page size.
    const scratch = tmp.file("alerts-only.db");
    const empty = emptyStoreBytes(scratch);
    const alertsOnly = openStore({ path: scratch, maxBytes: 1 << 30, log: memoryLogger() });
    alertsOnly.commit([], alerts);
    alertsOnly.close();
    const withAlerts = usedBytesOf(scratch);
    expect(withAlerts).toBeGreaterThan(empty);

    const file = tmp.file();
    const first = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    first.commit(readings(0, 2000), []);
    first.commit(readings(2000, 200), alerts);
    first.close();
    const full = usedBytesOf(file);

    // Readings alone can make room: halfway between the smallest cap whose prune
    // target holds the schema and every alert, and the current size.
    const roomy = Math.floor((withAlerts / 0.9 + full) / 2);
    expect(roomy).toBeLessThan(full);
    const log = memoryLogger();
    const smaller = openStore({ path: file, maxBytes: roomy, log });
    const { droppedReadings } = smaller.commit(readings(2200, 1), []);
    expect(droppedReadings).toBeGreaterThan(0);
    expect(droppedReadings).toBeLessThan(2201);
    expect(usedBytesOf(file)).toBeLessThanOrEqual(Math.floor(roomy * 0.9));
    expect(log.lines.filter((line) => line.level === "error")).toEqual([]);
    smaller.close();
    let reader = openStoreReader(file);
    expect(reader.alerts({ limit: 1000 })).toHaveLength(200);
    expect(reader.readings({ limit: 10_000 })).toHaveLength(2201 - droppedReadings);
    reader.close();

    // A cap that cannot hold the schema plus 200 alerts, though its prune target
    // holds the schema: all readings go, then the oldest alerts, not all of them.
    const tight = Math.floor((empty / 0.9 + withAlerts) / 2);
    expect(tight).toBeLessThan(withAlerts);
    const tinyLog = memoryLogger();
    const tiny = openStore({ path: file, maxBytes: tight, log: tinyLog });
    expect(tiny.commit(readings(2201, 1), []).droppedReadings).toBe(2202 - droppedReadings);
    expect(tiny.droppedReadingsTotal()).toBe(2202);
    expect(usedBytesOf(file)).toBeLessThanOrEqual(Math.floor(tight * 0.9));
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

    // Even with every alert gone (a cap below the empty schema), alert seqs are not reused.
    const none = openStore({ path: file, maxBytes: Math.floor(empty / 2), log: memoryLogger() });
    none.commit(readings(2202, 1), []);
    none.close();
    reader = openStoreReader(file);
    expect(reader.readings({})).toEqual([]);
    expect(reader.alerts({ limit: 1000 })).toEqual([]);
    reader.close();
    const after = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    expect(after.lastAlertSeq()).toBe(200);
    expect(after.lastReadingSeq()).toBe(2203);
    after.close();
  });
});
