import { PassThrough } from "node:stream";
import type Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planBuckets } from "../../core/buckets.js";
import { DEVICE_CSV_HEADER, deviceCsv } from "../../daemon/dashboard/csv.js";
import { BucketAccumulator } from "../../daemon/dashboard/downsample.js";
import { deviceSeries } from "../../daemon/dashboard/series.js";
import { BLOCK_SEQS, seqRanges, TimeIndex } from "../../daemon/dashboard/time-index.js";
import { openDatabase } from "../../daemon/store/open.js";
import { openStore, type SqliteStore } from "../../daemon/store/store.js";
import { readingId } from "../../schemas/ids.js";
import type { NewReading } from "../../schemas/records.js";
import type { Gas, Unit } from "../../schemas/vocabulary.js";
import { memoryLogger, tempDir } from "../store/helpers.js";

/**
 * The device dashboard's range queries against brute force over every row of
 * a real SQLite file written by the store, with timestamps out of commit
 * order (late flushes, a clock stepping back) so the sparse time index is
 * exercised where an "ts grows with seq" shortcut would be wrong.
 */
const T0 = Date.UTC(2026, 10, 1);
const CHANNELS: Array<{ sensor: string; gas: Gas; unit: Unit }> = [
  { sensor: "gas0", gas: "co", unit: "ppm" },
  { sensor: "gas0", gas: "no2", unit: "ppb" },
  { sensor: "gas1", gas: "co", unit: "ppm" },
];
const temp = tempDir();
let store: SqliteStore;
let db: Database.Database;
let rows: Array<{
  seq: number;
  sensor: string;
  gas: string;
  unit: string;
  ts: number;
  value: number;
}>;

/** A deterministic pseudo-random stream (no flaky seeds). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

beforeAll(() => {
  store = openStore({
    path: temp.file("device.db"),
    maxBytes: 256 * 1024 ** 2,
    log: memoryLogger(),
  });
  const next = random(7);
  const readings: NewReading[] = [];
  let seq = 1;
  // ~10 blocks: 1 Hz for 3 channels, jittered; then a clock step back by 2 h
  // (readings dated before ones already committed), then normal again.
  for (let tick = 0; tick < 14_000; tick++) {
    const stepBack = tick >= 9000 && tick < 10_000 ? -2 * 3_600_000 : 0;
    for (const channel of CHANNELS) {
      readings.push({
        seq: seq++,
        ...channel,
        value: Math.round(next() * 10_000) / 100 - (channel.gas === "no2" ? 0 : 20),
        tsMs: T0 + tick * 1000 + stepBack + Math.floor(next() * 3000) - 1500,
        flags: 0,
        sensorId: null,
        sensorType: null,
      });
    }
  }
  store.commit(readings, []);
  db = openDatabase(temp.file("device.db"), { log: memoryLogger(), readonly: true });
  rows = db
    .prepare<
      [],
      { seq: number; sensor: string; gas: string; unit: string; ts: number; value: number }
    >(
      "SELECT r.seq, s.sensor, s.gas, s.unit, r.ts, r.value FROM readings r JOIN series s ON s.id = r.series",
    )
    .all();
});

afterAll(() => {
  db?.close();
  store?.close();
  temp.cleanup();
});

/**
 * The documented bucket width (cloud/README.md, `GET /readings/series`:
 * `ceil((to - from) / width)` ms, at least 1), computed here rather than by
 * core/buckets.ts: a brute force sharing the product's bucketing would
 * agree with its bugs.
 */
function expectedBucketMs(fromMs: number, toMs: number, width: number): number {
  return Math.max(1, Math.ceil((toMs - fromMs) / width));
}

function bruteForce(fromMs: number, toMs: number, width: number, gas?: string) {
  const bucketMs = expectedBucketMs(fromMs, toMs, width);
  const cells = new Map<string, { lo: number; hi: number; total: number; n: number }>();
  for (const row of rows) {
    if (row.ts < fromMs || row.ts >= toMs || (gas !== undefined && row.gas !== gas)) continue;
    const bucket = Math.floor((row.ts - fromMs) / bucketMs);
    const key = `${row.sensor}/${row.gas}/${row.unit}/${fromMs + bucket * bucketMs}`;
    const cell = cells.get(key);
    if (cell === undefined)
      cells.set(key, { lo: row.value, hi: row.value, total: row.value, n: 1 });
    else {
      cell.lo = Math.min(cell.lo, row.value);
      cell.hi = Math.max(cell.hi, row.value);
      cell.total += row.value;
      cell.n++;
    }
  }
  return cells;
}

describe("device series: downsampling against brute force", () => {
  const cases: Array<[string, number, number, number, string?]> = [
    ["the whole span, 1000 buckets", T0 - 3 * 3_600_000, T0 + 15_000_000, 1000],
    ["15 min with more buckets than readings", T0 + 600_000, T0 + 1_500_000, 3000],
    ["odd width, range cut mid-bucket", T0 + 1234, T0 + 7_777_777, 37],
    ["readings dated back by a clock step, 1000 blocks later", T0 + 1_400_000, T0 + 3_300_000, 200],
    ["one gas only", T0, T0 + 14_000_000, 500, "no2"],
    ["one bucket", T0 - 10_000_000, T0 + 20_000_000, 1],
  ];
  it.each(cases)(
    "%s: every bucket's min, max, count and avg are exact",
    async (_name, fromMs, toMs, width, gas) => {
      const index = new TimeIndex(db);
      const query = deviceSeries(db, index, { id: "pi-1", group: "7" });
      const answer = await query({ fromMs, toMs, width, ...(gas === undefined ? {} : { gas }) });
      const expected = bruteForce(fromMs, toMs, width, gas);
      let buckets = 0;
      for (const line of answer.lines) {
        expect(line.device).toBe("pi-1");
        expect(line.group).toBe("7");
        if (gas !== undefined) expect(line.gas).toBe(gas);
        line.t.forEach((t, at) => {
          const cell = expected.get(`${line.sensor}/${line.gas}/${line.unit}/${t}`);
          expect(cell, `${line.sensor} ${line.gas} bucket ${t}`).toBeDefined();
          expect(line.min[at]).toBe(cell?.lo);
          expect(line.max[at]).toBe(cell?.hi);
          expect(line.count[at]).toBe(cell?.n);
          expect(line.avg[at]).toBeCloseTo((cell?.total ?? 0) / (cell?.n ?? 1), 9);
          buckets++;
        });
      }
      // Nothing the brute force found is missing.
      expect(buckets).toBe(expected.size);
      expect(answer.lastSeq).toBe(rows.length);
      expect(answer.bucketMs).toBe(expectedBucketMs(fromMs, toMs, width));
    },
  );

  it("a range with no readings has no lines", async () => {
    const query = deviceSeries(db, new TimeIndex(db), { id: "pi-1", group: "7" });
    expect((await query({ fromMs: T0 - 9e7, toMs: T0 - 8e7, width: 100 })).lines).toEqual([]);
  });

  it("streams the CSV of a range: exactly the rows in it, in seq order", async () => {
    const index = new TimeIndex(db);
    const prefix = "abcdefghij";
    const csv = deviceCsv(db, index, () => prefix);
    const fromMs = T0 + 3_600_000;
    const toMs = T0 + 3 * 3_600_000;
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (chunk: Buffer) => chunks.push(chunk));
    const written = await csv({ fromMs, toMs, gas: "co" }, out);
    const text = Buffer.concat(chunks).toString("utf8");
    const expected = rows
      .filter((row) => row.ts >= fromMs && row.ts < toMs && row.gas === "co")
      .sort((a, b) => a.seq - b.seq)
      .map(
        (row) =>
          `${readingId(prefix, row.seq)},${row.sensor},co,${row.value},ppm,${new Date(row.ts).toISOString()},\n`,
      );
    expect(written).toBe(expected.length);
    expect(written).toBeGreaterThan(4000);
    expect(text).toBe(DEVICE_CSV_HEADER + expected.join(""));
  });
});

describe("time index", () => {
  it("covers every reading: blocks of BLOCK_SEQS seqs with their true min and max ts", async () => {
    const blocks = await new TimeIndex(db).refresh();
    expect(blocks.length).toBe(Math.ceil((rows.length + 1) / BLOCK_SEQS));
    for (const block of blocks) {
      const inside = rows.filter((row) => row.seq >= block.loSeq && row.seq < block.hiSeq);
      expect(block.minTs).toBe(Math.min(...inside.map((row) => row.ts)));
      expect(block.maxTs).toBe(Math.max(...inside.map((row) => row.ts)));
    }
  });

  it("seqRanges keeps only overlapping blocks and merges neighbours", () => {
    const blocks = [
      { loSeq: 0, hiSeq: 10, minTs: 0, maxTs: 99 },
      { loSeq: 10, hiSeq: 20, minTs: 100, maxTs: 199 },
      { loSeq: 20, hiSeq: 30, minTs: 200, maxTs: 299 },
      // A clock stepped back: this block's readings are dated within the first one's span.
      { loSeq: 30, hiSeq: 40, minTs: 50, maxTs: 60 },
    ];
    expect(seqRanges(blocks, 100, 300)).toEqual([[10, 30]]);
    expect(seqRanges(blocks, 55, 150)).toEqual([
      [0, 20],
      [30, 40],
    ]);
    // [from, to): a block starting at `to` is out, one ending at `from` is in.
    expect(seqRanges(blocks, 199, 200)).toEqual([[10, 20]]);
    expect(seqRanges(blocks, 400, 500)).toEqual([]);
  });

  it("picks up readings committed after it was built", async () => {
    const index = new TimeIndex(db);
    const before = (await index.refresh()).length;
    const writer = openStore({
      path: temp.file("grow.db"),
      maxBytes: 64 * 1024 ** 2,
      log: memoryLogger(),
    });
    const reader = openDatabase(temp.file("grow.db"), { log: memoryLogger(), readonly: true });
    try {
      const grown = new TimeIndex(reader);
      expect(await grown.refresh()).toEqual([]);
      const add = (seq: number, tsMs: number) =>
        writer.commit(
          [
            {
              seq,
              sensor: "gas0",
              gas: "co",
              unit: "ppm",
              value: 1,
              tsMs,
              flags: 0,
              sensorId: null,
              sensorType: null,
            },
          ],
          [],
        );
      add(1, 5000);
      expect(await grown.refresh()).toEqual([
        { loSeq: 0, hiSeq: BLOCK_SEQS, minTs: 5000, maxTs: 5000 },
      ]);
      add(2, 1000);
      add(BLOCK_SEQS + 3, 9000);
      expect(await grown.refresh()).toEqual([
        { loSeq: 0, hiSeq: BLOCK_SEQS, minTs: 1000, maxTs: 5000 },
        { loSeq: BLOCK_SEQS, hiSeq: 2 * BLOCK_SEQS, minTs: 9000, maxTs: 9000 },
      ]);
      expect(grown.lastSeq).toBe(BLOCK_SEQS + 3);
    } finally {
      reader.close();
      writer.close();
    }
    expect((await index.refresh()).length).toBe(before);
  });
});

describe("bucket accumulator", () => {
  it("merges partial aggregates of one bucket and of several series rows into one line", () => {
    const accumulator = new BucketAccumulator(planBuckets(0, 100, 10));
    const key = { sensor: "gas0", gas: "co", unit: "ppm" };
    accumulator.add(key, 3, 5, 9, 14, 2);
    accumulator.add({ ...key }, 3, 1, 6, 7, 2);
    accumulator.add(key, 0, 2, 2, 2, 1);
    // Outside the plan or empty: ignored.
    accumulator.add(key, 10, 0, 0, 0, 1);
    accumulator.add(key, 4, 0, 0, 0, 0);
    expect(accumulator.lines({ id: "pi", group: "1" })).toEqual([
      {
        device: "pi",
        group: "1",
        ...key,
        t: [0, 30],
        min: [2, 1],
        max: [2, 9],
        avg: [2, 21 / 4],
        count: [1, 4],
      },
    ]);
  });
});
