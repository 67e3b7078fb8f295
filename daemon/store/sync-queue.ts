import type Database from "better-sqlite3";
import { ERROR_CODES, StoreError } from "../../core/errors.js";
import type { BatchReading } from "../../schemas/batch.js";
import { readingId } from "../../schemas/ids.js";
import { READING_FLAGS, type ReadingFlag } from "../../schemas/names.js";
import { FLAG_BITS } from "../../schemas/records.js";
import type { QuarantinedBatch, QueuedReading, QueueStats, SyncQueue } from "../../sync/queue.js";
import { isoTime } from "./iso-time.js";
import { toReading } from "./rows.js";

interface RangeRow {
  lo: number;
  hi: number;
  state: "uploaded" | "quarantined";
  batch_id: string | null;
  status: number | null;
  reason: string | null;
  readings: number;
  at: number;
}

/** seq, series, ts, value, flags: read as arrays, a drain reads a million of them. */
type QueueRow = [seq: number, series: number, ts: number, value: number, flags: number];

interface SeriesRow {
  id: number;
  sensor: string;
  gas: string;
  unit: string;
  sensor_id: string;
  sensor_type: string;
}

interface CachedSeries {
  /** A reading of this series with gas and unit checked; its sensor, gas and unit are reused. */
  reading: BatchReading;
  sensorId: string | undefined;
  sensorType: string | undefined;
  /** `","sensor":…,"gas":…,"value":` of the reading's JSON. */
  jsonBeforeValue: string;
  /** `,"unit":…,"ts":"` */
  jsonBeforeTs: string;
  /** `,"sensorId":…,"sensorType":…}` (each only when set), after the flags. */
  jsonEnd: string;
  /** UTF-8 bytes of every fixed piece of the JSON; the variable pieces are ASCII. */
  jsonFixedBytes: number;
}

function flagNames(bits: number): ReadingFlag[] {
  return READING_FLAGS.filter((flag) => (bits & FLAG_BITS[flag]) !== 0);
}

/** The `flags` array's JSON per bit pattern: a handful of patterns ever occur. */
const FLAGS_JSON = new Map<number, string>();
function flagsJson(bits: number): string {
  let json = FLAGS_JSON.get(bits);
  if (json === undefined) {
    json = JSON.stringify(flagNames(bits));
    FLAGS_JSON.set(bits, json);
  }
  return json;
}

/** A queued reading whose object form is only built when something reads it. */
class StoredReading implements QueuedReading {
  private built: BatchReading | null = null;

  constructor(
    readonly seq: number,
    readonly id: string,
    readonly json: string,
    readonly bytes: number,
    private readonly series: CachedSeries,
    private readonly ts: string,
    private readonly value: number,
    private readonly flags: number,
  ) {}

  get reading(): BatchReading {
    if (this.built === null) {
      const { series } = this;
      this.built = {
        id: this.id,
        sensor: series.reading.sensor,
        gas: series.reading.gas,
        value: this.value,
        unit: series.reading.unit,
        ts: this.ts,
        flags: this.flags === 0 ? [] : flagNames(this.flags),
      };
      if (series.sensorId !== undefined) this.built.sensorId = series.sensorId;
      if (series.sensorType !== undefined) this.built.sensorType = series.sensorType;
    }
    return this.built;
  }
}

/** Readings only: the few series rows are cached, a join per reading would cost more than the read. */
const READING_SELECT = "SELECT seq, series, ts, value, flags FROM readings";

/**
 * What is pending = readings above the watermark (sync_cursor) minus the
 * seq ranges in sync_ranges. Pending readings are read gap by gap between
 * ranges, each with an index range scan on the readings' primary key.
 */
export class SqliteSyncQueue implements SyncQueue {
  private readonly selectAscending: Database.Statement<[number, number, number], QueueRow>;
  private readonly selectDescending: Database.Statement<[number, number, number], QueueRow>;
  private readonly selectRanges: Database.Statement<[string], RangeRow>;
  private readonly selectSeries: Database.Statement<[], SeriesRow>;
  private readonly series = new Map<number, CachedSeries>();
  private readonly selectWatermark: Database.Statement<[string], { acked_seq: number }>;
  private readonly anyReadingBetween: Database.Statement<[number, number], { seq: number }>;
  private readonly countBetween: Database.Statement<[number, number], { n: number }>;
  private readonly markTransaction: (seqs: readonly number[]) => void;
  private readonly quarantineTransaction: (
    seqs: readonly number[],
    info: { batchId: string; status: number; reason: string },
  ) => void;

  constructor(
    db: Database.Database,
    private readonly idPrefix: string,
    private readonly file: string,
    /** Whose watermark and ranges these are (the output's name): each output keeps its own. */
    private readonly sink: string,
  ) {
    this.selectAscending = db
      .prepare<[number, number, number], QueueRow>(
        `${READING_SELECT} WHERE seq BETWEEN ? AND ? ORDER BY seq LIMIT ?`,
      )
      .raw(true);
    this.selectDescending = db
      .prepare<[number, number, number], QueueRow>(
        `${READING_SELECT} WHERE seq BETWEEN ? AND ? ORDER BY seq DESC LIMIT ?`,
      )
      .raw(true);
    this.selectRanges = db.prepare("SELECT * FROM sync_ranges WHERE sink = ? ORDER BY lo");
    this.selectSeries = db.prepare(
      "SELECT id, sensor, gas, unit, sensor_id, sensor_type FROM series",
    );
    this.selectWatermark = db.prepare("SELECT acked_seq FROM sync_cursor WHERE sink = ?");
    this.anyReadingBetween = db.prepare(
      "SELECT seq FROM readings WHERE seq > ? AND seq < ? LIMIT 1",
    );
    this.countBetween = db.prepare("SELECT count(*) AS n FROM readings WHERE seq BETWEEN ? AND ?");
    const insertRange = db.prepare<
      [string, number, number, string, string | null, number | null, string | null, number, number]
    >(
      "INSERT INTO sync_ranges (sink, lo, hi, state, batch_id, status, reason, readings, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const deleteRange = db.prepare<[string, number]>(
      "DELETE FROM sync_ranges WHERE sink = ? AND lo = ?",
    );
    const setHi = db.prepare<[number, number, string, number]>(
      "UPDATE sync_ranges SET hi = ?, readings = readings + ? WHERE sink = ? AND lo = ?",
    );
    const setWatermark = db.prepare<[string, number]>(
      "INSERT INTO sync_cursor (sink, acked_seq) VALUES (?, ?) " +
        "ON CONFLICT (sink) DO UPDATE SET acked_seq = excluded.acked_seq",
    );
    this.markTransaction = db.transaction((seqs: readonly number[]) => {
      const now = Date.now();
      for (const run of this.runs(seqs)) {
        insertRange.run(sink, run.lo, run.hi, "uploaded", null, null, null, run.count, now);
      }
      // Coalesce neighbouring accepted ranges with no pending reading between them.
      const ranges = this.selectRanges.all(sink);
      for (let index = 1; index < ranges.length; index++) {
        const before = ranges[index - 1];
        const after = ranges[index];
        if (before === undefined || after === undefined) continue;
        if (before.state !== "uploaded" || after.state !== "uploaded") continue;
        if (this.anyReadingBetween.get(before.hi, after.lo) !== undefined) continue;
        setHi.run(after.hi, after.readings, sink, before.lo);
        deleteRange.run(sink, after.lo);
        ranges[index] = { ...before, hi: after.hi, readings: before.readings + after.readings };
        ranges.splice(index - 1, 1);
        index--;
      }
      // Fold accepted ranges that now touch the watermark into it.
      let watermark = this.watermark();
      for (const range of ranges) {
        if (range.state !== "uploaded") break;
        if (this.anyReadingBetween.get(watermark, range.lo) !== undefined) break;
        watermark = Math.max(watermark, range.hi);
        deleteRange.run(sink, range.lo);
      }
      setWatermark.run(sink, watermark);
    });
    this.quarantineTransaction = db.transaction(
      (seqs: readonly number[], info: { batchId: string; status: number; reason: string }) => {
        const now = Date.now();
        for (const run of this.runs(seqs)) {
          insertRange.run(
            sink,
            run.lo,
            run.hi,
            "quarantined",
            info.batchId,
            info.status,
            info.reason,
            run.count,
            now,
          );
        }
      },
    );
  }

  oldestPending(afterSeq: number, limit: number): QueuedReading[] {
    const found: QueuedReading[] = [];
    for (const [lo, hi] of this.gaps(Math.max(afterSeq, this.watermark()))) {
      if (found.length >= limit) break;
      for (const row of this.selectAscending.all(lo, hi, limit - found.length))
        found.push(this.queued(row));
    }
    return found;
  }

  newestPending(limit: number): QueuedReading[] {
    const found: QueuedReading[] = [];
    for (const [lo, hi] of this.gaps(this.watermark()).reverse()) {
      if (found.length >= limit) break;
      for (const row of this.selectDescending.all(lo, hi, limit - found.length))
        found.push(this.queued(row));
    }
    return found.reverse();
  }

  markUploaded(seqs: readonly number[]): void {
    if (seqs.length > 0) this.markTransaction(seqs);
  }

  quarantine(
    seqs: readonly number[],
    info: { batchId: string; status: number; reason: string },
  ): void {
    if (seqs.length > 0) this.quarantineTransaction(seqs, info);
  }

  quarantined(): QuarantinedBatch[] {
    return this.selectRanges
      .all(this.sink)
      .filter((range) => range.state === "quarantined")
      .map((range) => ({
        batchId: range.batch_id ?? "",
        readings: range.readings,
        firstSeq: range.lo,
        lastSeq: range.hi,
        status: range.status ?? 0,
        reason: range.reason ?? "",
        atMs: range.at,
      }));
  }

  stats(): QueueStats {
    const watermark = this.watermark();
    const ranges = this.selectRanges.all(this.sink);
    let pending = this.countBetween.get(watermark + 1, Number.MAX_SAFE_INTEGER)?.n ?? 0;
    let quarantinedReadings = 0;
    for (const range of ranges) {
      const inRange = this.countBetween.get(range.lo, range.hi)?.n ?? 0;
      pending -= inRange;
      if (range.state === "quarantined") quarantinedReadings += inRange;
    }
    const [oldest] = this.oldestPending(0, 1);
    return {
      pending,
      oldestPendingTsMs: oldest === undefined ? null : Date.parse(oldest.reading.ts),
      quarantinedBatches: new Set(
        ranges.filter((range) => range.state === "quarantined").map((range) => range.batch_id),
      ).size,
      quarantinedReadings,
    };
  }

  private watermark(): number {
    return this.selectWatermark.get(this.sink)?.acked_seq ?? 0;
  }

  /** Seq intervals above `floor` not covered by any range: where pending readings live. */
  private gaps(floor: number): Array<[number, number]> {
    const gaps: Array<[number, number]> = [];
    let next = floor + 1;
    for (const range of this.selectRanges.all(this.sink)) {
      if (range.hi < next) continue;
      if (range.lo > next) gaps.push([next, range.lo - 1]);
      next = range.hi + 1;
    }
    gaps.push([next, Number.MAX_SAFE_INTEGER]);
    return gaps;
  }

  /** Sorted seqs cut wherever an existing range starts between two of them (ranges never overlap). */
  private runs(seqs: readonly number[]): Array<{ lo: number; hi: number; count: number }> {
    const sorted = [...seqs].sort((a, b) => a - b);
    const starts = this.selectRanges.all(this.sink).map((range) => range.lo);
    const runs: Array<{ lo: number; hi: number; count: number }> = [];
    for (const seq of sorted) {
      const last = runs.at(-1);
      if (last !== undefined && !starts.some((lo) => lo > last.hi && lo < seq)) {
        last.hi = seq;
        last.count++;
      } else {
        runs.push({ lo: seq, hi: seq, count: 1 });
      }
    }
    return runs;
  }

  /**
   * The reading's JSON is built from cached pieces rather than by
   * JSON.stringify: this runs for every reading of a backfill (a million in a
   * drain), and the series part was checked and encoded once, when cached.
   * The object form is built only when asked for (original format, status).
   */
  private queued(row: QueueRow): QueuedReading {
    const [seq, seriesId, tsMs, value, flags] = row;
    const series = this.seriesRow(seriesId);
    const id = readingId(this.idPrefix, seq);
    const ts = isoTime(tsMs);
    const valueJson = Number.isFinite(value) ? String(value) : "null";
    const flagsText = flagsJson(flags);
    const json = `{"id":"${id}${series.jsonBeforeValue}${valueJson}${series.jsonBeforeTs}${ts}","flags":${flagsText}${series.jsonEnd}`;
    const bytes =
      series.jsonFixedBytes + id.length + valueJson.length + ts.length + flagsText.length;
    return new StoredReading(seq, id, json, bytes, series, ts, value, flags);
  }

  /** Series rows never change once written; a new one (a new channel) is loaded on first sight. */
  private seriesRow(id: number): CachedSeries {
    let series = this.series.get(id);
    if (series === undefined) {
      for (const row of this.selectSeries.all()) {
        // toReading validates gas and unit against the vocabulary, once per series.
        const checked = toReading(this.file, this.idPrefix, {
          seq: 0,
          ts: 0,
          value: 0,
          flags: 0,
          ...row,
        });
        const sensorId = row.sensor_id === "" ? undefined : row.sensor_id;
        const sensorType = row.sensor_type === "" ? undefined : row.sensor_type;
        const jsonBeforeValue = `","sensor":${JSON.stringify(checked.sensor)},"gas":${JSON.stringify(checked.gas)},"value":`;
        const jsonBeforeTs = `,"unit":${JSON.stringify(checked.unit)},"ts":"`;
        const jsonEnd =
          (sensorId === undefined ? "" : `,"sensorId":${JSON.stringify(sensorId)}`) +
          (sensorType === undefined ? "" : `,"sensorType":${JSON.stringify(sensorType)}`) +
          "}";
        this.series.set(row.id, {
          reading: checked,
          sensorId,
          sensorType,
          jsonBeforeValue,
          jsonBeforeTs,
          jsonEnd,
          jsonFixedBytes: Buffer.byteLength(
            `{"id":"${jsonBeforeValue}${jsonBeforeTs}","flags":${jsonEnd}`,
          ),
        });
      }
      series = this.series.get(id);
    }
    if (series === undefined) {
      throw new StoreError(
        ERROR_CODES.db.corrupt,
        this.file,
        `reading refers to series ${id}, which does not exist`,
      );
    }
    return series;
  }
}
