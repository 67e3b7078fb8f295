import type Database from "better-sqlite3";
import { type BucketPlan, bucketEnd, bucketStart, planBuckets } from "../../web/server/buckets.js";
import { type SeriesSelector, selectSeries } from "./select-series.js";

export interface SeriesQuery extends SeriesSelector {
  fromMs: number;
  toMs: number;
  width: number;
}

/** One chart line: a (device, sensor, gas, unit), only the buckets that hold readings. */
export interface SeriesLine {
  device: string;
  group: string;
  sensor: string;
  gas: string;
  unit: string;
  /** Bucket start times, epoch ms, ascending. */
  t: number[];
  min: number[];
  max: number[];
  avg: number[];
  count: number[];
}

export interface SeriesAnswer {
  from: string;
  to: string;
  bucketMs: number;
  buckets: number;
  lines: SeriesLine[];
}

/** More lines than a chart can show legibly; the caller is asked to filter instead. */
export const MAX_LINES = 400;

export class TooManyLinesError extends Error {
  constructor(readonly lines: number) {
    super(`${lines} lines match; narrow the filter (device, group or gas) to at most ${MAX_LINES}`);
  }
}

interface Aggregate {
  lo: number | null;
  hi: number | null;
  total: number | null;
  n: number;
}

/**
 * Downsampled readings per line: min/max/avg/count per time bucket. One
 * indexed range query per bucket on readings_series_ts (series, ts, value):
 * the index alone answers it, in time order, with no sort; a single GROUP BY
 * over the range was ~3x slower because SQLite sorts the groups in a temp
 * b-tree. Buckets before a line's first and after its last reading are skipped.
 */
export function seriesQuery(db: Database.Database): (query: SeriesQuery) => SeriesAnswer {
  const aggregates = new Map<number, Database.Statement<unknown[], Aggregate>>();
  const edges = new Map<string, Database.Statement<unknown[], { ts: number }>>();
  const aggregate = (ids: number): Database.Statement<unknown[], Aggregate> => {
    let statement = aggregates.get(ids);
    if (statement === undefined) {
      statement = db.prepare<unknown[], Aggregate>(
        `SELECT min(value) AS lo, max(value) AS hi, sum(value) AS total, count(*) AS n
         FROM readings WHERE series IN (${placeholders(ids)}) AND ts >= ? AND ts < ?`,
      );
      aggregates.set(ids, statement);
    }
    return statement;
  };
  const edge = (
    ids: number,
    order: "ASC" | "DESC",
  ): Database.Statement<unknown[], { ts: number }> => {
    const key = `${ids}${order}`;
    let statement = edges.get(key);
    if (statement === undefined) {
      statement = db.prepare<unknown[], { ts: number }>(
        `SELECT ts FROM readings WHERE series IN (${placeholders(ids)}) AND ts >= ? AND ts < ?
         ORDER BY ts ${order} LIMIT 1`,
      );
      edges.set(key, statement);
    }
    return statement;
  };

  return (query) => {
    const plan = planBuckets(query.fromMs, query.toMs, query.width);
    const groups = selectSeries(db, query);
    if (groups.length > MAX_LINES) throw new TooManyLinesError(groups.length);
    const lines: SeriesLine[] = [];
    for (const group of groups) {
      const ids = group.ids;
      const first = edge(ids.length, "ASC").get(...ids, plan.fromMs, plan.toMs);
      const last = edge(ids.length, "DESC").get(...ids, plan.fromMs, plan.toMs);
      if (first === undefined || last === undefined) continue;
      const line: SeriesLine = { ...group.key, t: [], min: [], max: [], avg: [], count: [] };
      fillLine(line, plan, aggregate(ids.length), ids, first.ts, last.ts);
      lines.push(line);
    }
    return {
      from: new Date(plan.fromMs).toISOString(),
      to: new Date(plan.toMs).toISOString(),
      bucketMs: plan.bucketMs,
      buckets: plan.count,
      lines,
    };
  };
}

function fillLine(
  line: SeriesLine,
  plan: BucketPlan,
  statement: Database.Statement<unknown[], Aggregate>,
  ids: number[],
  firstTs: number,
  lastTs: number,
): void {
  const firstBucket = Math.floor((firstTs - plan.fromMs) / plan.bucketMs);
  const lastBucket = Math.floor((lastTs - plan.fromMs) / plan.bucketMs);
  for (let index = firstBucket; index <= lastBucket; index++) {
    const row = statement.get(...ids, bucketStart(plan, index), bucketEnd(plan, index));
    if (row === undefined || row.n === 0 || row.lo === null || row.hi === null) continue;
    line.t.push(bucketStart(plan, index));
    line.min.push(row.lo);
    line.max.push(row.hi);
    line.avg.push((row.total ?? 0) / row.n);
    line.count.push(row.n);
  }
}

function placeholders(count: number): string {
  return Array(count).fill("?").join(", ");
}
