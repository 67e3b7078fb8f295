import type pg from "pg";
import { bucketStart } from "../../../core/buckets.js";
import { MAX_AHEAD_MS } from "../limits.js";
import {
  groupSeries,
  type ReadingRow,
  type SeriesGroup,
  type SeriesRow,
  toWireReading,
} from "../rows.js";
import {
  type DeviceSummary,
  MAX_LINES,
  type ReadingFilter,
  type SeriesLine,
  type SeriesQuery,
  type SeriesSelector,
  TooManyLinesError,
  type WireReading,
} from "../types.js";
import { equalityTerms, msToTs, prepared, tsToMs, whereClause } from "./sql.js";

/** Which readings a filter keeps, as WHERE terms over `readings r`; values go to `params`. */
export interface ReadingsWhereFilter {
  device?: string;
  group?: string;
  sensor?: string;
  gas?: string;
  fromMs?: number;
  toMs?: number;
}

/**
 * Series filters become a sub-select of series ids, so the readings are
 * still walked in (ts, id) order on the primary key and stop at LIMIT.
 */
export function readingsWhere(filter: ReadingsWhereFilter, params: unknown[]): string[] {
  const where: string[] = [];
  const seriesTerms = equalityTerms(
    [
      ["device", filter.device],
      ["group_id", filter.group],
      ["sensor", filter.sensor],
      ["gas", filter.gas],
    ],
    params,
  );
  if (seriesTerms.length > 0) {
    where.push(`r.series IN (SELECT id FROM series WHERE ${seriesTerms.join(" AND ")})`);
  }
  if (filter.fromMs !== undefined) {
    params.push(filter.fromMs);
    where.push(`r.ts >= ${msToTs(`$${params.length}`)}`);
  }
  if (filter.toMs !== undefined) {
    params.push(filter.toMs);
    where.push(`r.ts < ${msToTs(`$${params.length}`)}`);
  }
  return where;
}

/** `GET /readings`: oldest first, ties broken by id. */
export async function selectReadings(
  client: pg.ClientBase,
  filter: ReadingFilter,
): Promise<WireReading[]> {
  const params: unknown[] = [];
  const where = readingsWhere(filter, params);
  params.push(filter.limit);
  const text = `SELECT r.id, ${tsToMs("r.ts")} AS ts, r.value, r.flags, s.device, s.group_id,
      s.sensor, s.gas, s.unit, s.sensor_id, s.sensor_type, b.gps
    FROM readings r JOIN series s ON s.id = r.series JOIN batches b ON b.seq = r.batch
    ${whereClause(where)} ORDER BY r.ts, r.id LIMIT $${params.length}`;
  const result = await client.query<ReadingRow>(prepared(text, params));
  return result.rows.map(toWireReading);
}

/** The series matching a selector, one group per chart line, ordered as the lines are. */
async function selectSeriesGroups(
  client: pg.ClientBase,
  selector: SeriesSelector,
): Promise<SeriesGroup[]> {
  const params: unknown[] = [];
  const where = equalityTerms(
    [
      ["device", selector.device],
      ["group_id", selector.group],
      ["gas", selector.gas],
    ],
    params,
  );
  const result = await client.query<SeriesRow>(
    prepared(
      `SELECT id, device, group_id, sensor, gas, unit FROM series ${whereClause(where)}
       ORDER BY gas, device, sensor, unit, group_id, id`,
      params,
    ),
  );
  return groupSeries(result.rows);
}

/**
 * Every bucket of every matching series in one GROUP BY: over the network
 * a query per bucket would cost a round trip each. date_bin() is
 * floor((ts - from) / bucket) in integer microseconds, so each reading
 * lands in the same bucket as in the SQLite store; it reads only the
 * (series, ts) INCLUDE (value) index.
 */
const BUCKETS = `SELECT g.series, ${tsToMs("g.bucket")} AS bucket, g.lo, g.hi, g.total, g.n FROM (
    SELECT r.series, date_bin($2::float8 * interval '1 millisecond', r.ts, ${msToTs("$3")}) AS bucket,
      min(r.value) AS lo, max(r.value) AS hi, sum(r.value) AS total, count(*)::float8 AS n
    FROM readings r
    WHERE r.series = ANY($1::int4[]) AND r.ts >= ${msToTs("$3")} AND r.ts < ${msToTs("$4")}
    GROUP BY r.series, bucket
  ) g`;

interface BucketRow {
  series: number;
  bucket: number;
  lo: number;
  hi: number;
  total: number;
  n: number;
}

interface Aggregate {
  lo: number;
  hi: number;
  total: number;
  n: number;
}

/** Chart lines: per line, min/max/sum/count per bucket, series of one line merged here. */
export async function selectSeriesLines(
  client: pg.ClientBase,
  query: SeriesQuery,
): Promise<SeriesLine[]> {
  const { plan } = query;
  const groups = await selectSeriesGroups(client, query);
  if (groups.length > MAX_LINES) throw new TooManyLinesError(groups.length);
  if (groups.length === 0) return [];
  const lineOf = new Map<number, number>();
  for (const [index, group] of groups.entries()) {
    for (const id of group.ids) lineOf.set(id, index);
  }
  const result = await client.query<BucketRow>(
    prepared(BUCKETS, [[...lineOf.keys()], plan.bucketMs, plan.fromMs, plan.toMs]),
  );
  const buckets = groups.map(() => new Map<number, Aggregate>());
  for (const row of result.rows) {
    const line = buckets[lineOf.get(row.series) ?? -1];
    if (line === undefined) continue;
    const index = Math.round((row.bucket - plan.fromMs) / plan.bucketMs);
    const seen = line.get(index);
    if (seen === undefined) {
      line.set(index, { lo: row.lo, hi: row.hi, total: row.total, n: row.n });
    } else {
      seen.lo = Math.min(seen.lo, row.lo);
      seen.hi = Math.max(seen.hi, row.hi);
      seen.total += row.total;
      seen.n += row.n;
    }
  }
  const lines: SeriesLine[] = [];
  for (const [index, group] of groups.entries()) {
    const line = buckets[index];
    if (line === undefined || line.size === 0) continue;
    const out: SeriesLine = { ...group.key, t: [], min: [], max: [], avg: [], count: [] };
    for (const [bucket, aggregate] of [...line.entries()].sort(([a], [b]) => a - b)) {
      out.t.push(bucketStart(plan, bucket));
      out.min.push(aggregate.lo);
      out.max.push(aggregate.hi);
      out.avg.push(aggregate.total / aggregate.n);
      out.count.push(aggregate.n);
    }
    lines.push(out);
  }
  return lines;
}

interface NewestRow {
  device: string;
  group_id: string;
  gas: string;
  ts: number;
  gps: string;
  received_at: number;
}

/**
 * Per series its newest reading within the horizon: one backward step on
 * (series, ts) per partition, newest partition first. Rows come in the
 * SQLite store's series order, so ties between series resolve the same way.
 */
const NEWEST = (
  where: string,
  horizon: string,
) => `SELECT s.device, s.group_id, s.gas, n.ts, n.gps, n.received_at
  FROM series s CROSS JOIN LATERAL (
    SELECT ${tsToMs("r.ts")} AS ts, b.gps, ${tsToMs("b.received_at")} AS received_at
    FROM readings r JOIN batches b ON b.seq = r.batch
    WHERE r.series = s.id AND r.ts <= ${msToTs(horizon)}
    ORDER BY r.ts DESC LIMIT 1
  ) n
  ${where}
  ORDER BY s.gas, s.device, s.sensor, s.unit, s.group_id, s.id`;

/** `GET /devices`: sorted by device id; what each device's newest reading says. */
export async function selectDevices(
  client: pg.ClientBase,
  selector: SeriesSelector,
  nowMs: number,
): Promise<DeviceSummary[]> {
  const params: unknown[] = [];
  const where = equalityTerms(
    [
      ["s.device", selector.device],
      ["s.group_id", selector.group],
    ],
    params,
  );
  // A reading past the ingest's one-day horizon (a clock gone wrong) is not "last".
  params.push(nowMs + MAX_AHEAD_MS);
  const result = await client.query<NewestRow>(
    prepared(NEWEST(whereClause(where), `$${params.length}`), params),
  );
  const devices = new Map<string, { summary: DeviceSummary; ts: number; gases: Set<string> }>();
  for (const row of result.rows) {
    const entry = devices.get(row.device);
    if (entry !== undefined) entry.gases.add(row.gas);
    if (entry !== undefined && entry.ts >= row.ts) continue;
    const summary: DeviceSummary = {
      device: row.device,
      group: row.group_id,
      ...(row.gps === "" ? {} : { gps: row.gps }),
      lastReadingAt: new Date(row.ts).toISOString(),
      lastSeenAt: new Date(row.received_at).toISOString(),
      gases: [],
    };
    devices.set(row.device, { summary, ts: row.ts, gases: entry?.gases ?? new Set([row.gas]) });
  }
  return [...devices.values()]
    .map(({ summary, gases }) => ({ ...summary, gases: [...gases].sort() }))
    .filter((summary) => selector.gas === undefined || summary.gases.includes(selector.gas))
    .sort((a, b) => a.device.localeCompare(b.device));
}
