import type Database from "better-sqlite3";
import { type BucketPlan, planBuckets } from "../../core/buckets.js";
import { BucketAccumulator, type SeriesLine } from "./downsample.js";
import { seqRanges, type TimeIndex } from "./time-index.js";

export interface SeriesQuery {
  fromMs: number;
  toMs: number;
  width: number;
  /** Only this gas; absent: every gas. */
  gas?: string;
}

export interface SeriesAnswer {
  from: string;
  to: string;
  bucketMs: number;
  buckets: number;
  /** The newest reading's seq when the query ran: live updates continue after it. */
  lastSeq: number;
  lines: SeriesLine[];
}

/** Seqs per SQL statement: a few ms of work, so the daemon's event loop is never held for long. */
const CHUNK_SEQS = 16_384;

interface Partial {
  sensor: string;
  gas: string;
  unit: string;
  bucket: number;
  lo: number;
  hi: number;
  total: number;
  n: number;
}

/**
 * Downsampled readings of the device database: min/max/avg/count per time
 * bucket and line. SQLite aggregates each seq chunk the time index says may
 * hold the range (GROUP BY over a few thousand rows is cheap); the chunks'
 * partial aggregates are merged in JS. Yields to the event loop between
 * chunks: the daemon samples and commits on this same thread.
 */
export function deviceSeries(
  db: Database.Database,
  index: TimeIndex,
  device: { id: string; group: string },
): (query: SeriesQuery) => Promise<SeriesAnswer> {
  const sql = (gasFilter: string) => `
    SELECT s.sensor, s.gas, s.unit, p.bucket, p.lo, p.hi, p.total, p.n FROM (
      SELECT series, (ts - CAST(? AS INTEGER)) / CAST(? AS INTEGER) AS bucket, min(value) AS lo, max(value) AS hi,
             sum(value) AS total, count(*) AS n
      FROM readings
      WHERE seq >= ? AND seq < ? AND ts >= ? AND ts < ? ${gasFilter}
      GROUP BY bucket, series
    ) p JOIN series s ON s.id = p.series`;
  const all = db.prepare<unknown[], Partial>(sql(""));
  const oneGas = db.prepare<unknown[], Partial>(
    sql("AND series IN (SELECT id FROM series WHERE gas = ?)"),
  );
  return async (query) => {
    const plan: BucketPlan = planBuckets(query.fromMs, query.toMs, query.width);
    const blocks = await index.refresh();
    const lastSeq = index.lastSeq;
    const accumulator = new BucketAccumulator(plan);
    let since = performance.now();
    for (const [lo, blockHi] of seqRanges(blocks, plan.fromMs, plan.toMs)) {
      // Readings committed after the refresh are left to the live feed (it starts after lastSeq).
      const hi = Math.min(blockHi, lastSeq + 1);
      for (let start = lo; start < hi; start += CHUNK_SEQS) {
        const end = Math.min(hi, start + CHUNK_SEQS);
        const params = [plan.fromMs, plan.bucketMs, start, end, plan.fromMs, plan.toMs];
        const rows =
          query.gas === undefined ? all.all(...params) : oneGas.all(...params, query.gas);
        for (const row of rows) {
          const key = { sensor: row.sensor, gas: row.gas, unit: row.unit };
          accumulator.add(key, row.bucket, row.lo, row.hi, row.total, row.n);
        }
        if (performance.now() - since > 20) {
          await new Promise((resolve) => setImmediate(resolve));
          since = performance.now();
        }
      }
    }
    return {
      from: new Date(plan.fromMs).toISOString(),
      to: new Date(plan.toMs).toISOString(),
      bucketMs: plan.bucketMs,
      buckets: plan.count,
      lastSeq,
      lines: accumulator.lines(device),
    };
  };
}
