import { bucketStart } from "../../../core/buckets.js";
import { MAX_AHEAD_MS } from "../limits.js";
import {
  type AlertFilter,
  type CsvQuery,
  type CsvRow,
  type DeviceSummary,
  MAX_LINES,
  type ReadingFilter,
  type SeriesLine,
  type SeriesQuery,
  type SeriesSelector,
  type StoredAlert,
  TooManyLinesError,
  type WireReading,
} from "../types.js";
import {
  type AlertDocument,
  csvRow,
  READING_FIELDS,
  type ReadingSource,
  storedAlert,
  wireReading,
} from "./documents.js";
import type { SignedHttp } from "./http.js";
import type { IndexNames } from "./indices.js";

/** OpenSearch's index.max_result_window: no page of hits may reach past it. */
const MAX_PAGE = 10_000;
/** Below search.max_buckets (65,535 in OpenSearch 2.x): a series page's lines x buckets stay under it. */
const MAX_BUCKETS_PER_SEARCH = 60_000;
/** Composite pages when counting lines or walking devices. */
const COMPOSITE_PAGE = 1000;
const CSV_PAGE_ROWS = 2000;

/** A `_search` answer, the parts read here (docs.opensearch.org/latest/api-reference/search-apis/search/). */
interface SearchAnswer<S, A = undefined> {
  hits: { hits: Array<{ _source: S; sort?: unknown[] }> };
  aggregations?: A;
}

/** A composite aggregation's answer (docs.opensearch.org/latest/aggregations/bucket/composite/). */
interface Composite<K, B = object> {
  after_key?: K;
  buckets: Array<{ key: K; doc_count: number } & B>;
}

interface TextFilter {
  device?: string;
  group?: string;
  sensor?: string;
  gas?: string;
  fromMs?: number;
  toMs?: number;
  /** Inclusive upper bound (the devices' horizon). */
  atMostMs?: number;
}

/** A bool filter (no scoring) of exact terms and a ts range. */
function filterQuery(filter: TextFilter): Record<string, unknown> {
  const clauses: unknown[] = [];
  for (const field of ["device", "group", "sensor", "gas"] as const) {
    const value = filter[field];
    if (value !== undefined) clauses.push({ term: { [field]: value } });
  }
  const range: Record<string, number> = {};
  if (filter.fromMs !== undefined) range.gte = filter.fromMs;
  if (filter.toMs !== undefined) range.lt = filter.toMs;
  if (filter.atMostMs !== undefined) range.lte = filter.atMostMs;
  if (Object.keys(range).length > 0) clauses.push({ range: { ts: range } });
  return { bool: { filter: clauses } };
}

const OLDEST_FIRST = [{ ts: "asc" }, { id: "asc" }];

export class Queries {
  constructor(
    private readonly http: SignedHttp,
    private readonly names: IndexNames,
  ) {}

  private search<S, A = undefined>(
    index: string,
    body: Record<string, unknown>,
    action: string,
  ): Promise<SearchAnswer<S, A>> {
    return this.http
      .call<SearchAnswer<S, A>>({ method: "POST", path: `/${index}/_search`, body }, action)
      .then((answer) => answer.body);
  }

  /** Oldest first, paged with search_after past the result window when `limit` asks for more. */
  async readings(filter: ReadingFilter): Promise<WireReading[]> {
    const out: WireReading[] = [];
    for await (const page of this.walk(filter, filter.limit, MAX_PAGE, "reading readings")) {
      for (const source of page) out.push(wireReading(source));
    }
    return out;
  }

  csv(query: CsvQuery, isClosed: () => boolean): AsyncIterable<CsvRow[]> {
    const pages = this.walk(query, Number.POSITIVE_INFINITY, CSV_PAGE_ROWS, "exporting readings");
    return {
      async *[Symbol.asyncIterator]() {
        for await (const page of pages) {
          yield page.map(csvRow);
          // The consumer wrote the page; a store closed meanwhile ends the download here.
          if (isClosed()) return;
        }
      },
    };
  }

  /**
   * Pages of readings in (ts, id) order, each search starting after the
   * last hit of the one before: consistent with the SQL stores' ORDER BY
   * ts, id, and no deep `from` offsets.
   */
  private async *walk(
    filter: TextFilter,
    limit: number,
    pageSize: number,
    action: string,
  ): AsyncGenerator<ReadingSource[]> {
    let after: unknown[] | undefined;
    let left = limit;
    while (left > 0) {
      const size = Math.min(left, pageSize);
      const answer = await this.search<ReadingSource>(
        this.names.readingsPattern,
        {
          size,
          query: filterQuery(filter),
          sort: OLDEST_FIRST,
          _source: READING_FIELDS,
          ...(after === undefined ? {} : { search_after: after }),
        },
        action,
      );
      const hits = answer.hits.hits;
      if (hits.length > 0) yield hits.map((hit) => hit._source);
      if (hits.length < size) return;
      after = hits[hits.length - 1]?.sort;
      left -= hits.length;
    }
  }

  /**
   * One line per (gas, device, sensor, unit, group), in that order (a
   * composite aggregation sorts its keys as the SQL stores' ORDER BY does).
   * Each line's buckets come from a date_histogram with the plan's width as
   * `fixed_interval` and `offset` = fromMs modulo it: bucket keys are then
   * exactly fromMs + k x bucketMs, as in the SQL stores. avg is sum / count
   * like theirs.
   */
  async series(query: SeriesQuery): Promise<SeriesLine[]> {
    const { plan } = query;
    const lines = await this.countLines(query);
    if (lines > MAX_LINES) throw new TooManyLinesError(lines);
    if (lines === 0) return [];
    const offset = ((plan.fromMs % plan.bucketMs) + plan.bucketMs) % plan.bucketMs;
    const linesPerSearch = Math.max(1, Math.floor(MAX_BUCKETS_PER_SEARCH / plan.count));
    const out: SeriesLine[] = [];
    let after: LineKey | undefined;
    for (;;) {
      const answer = await this.search<never, { lines: Composite<LineKey, HistogramOf> }>(
        this.names.readingsPattern,
        {
          size: 0,
          query: filterQuery({ ...query, fromMs: plan.fromMs, toMs: plan.toMs }),
          aggs: {
            lines: {
              composite: {
                size: linesPerSearch,
                sources: LINE_SOURCES,
                ...(after === undefined ? {} : { after }),
              },
              aggs: {
                buckets: {
                  date_histogram: {
                    field: "ts",
                    fixed_interval: `${plan.bucketMs}ms`,
                    offset: `+${offset}ms`,
                    min_doc_count: 1,
                  },
                  aggs: {
                    lo: { min: { field: "value" } },
                    hi: { max: { field: "value" } },
                    total: { sum: { field: "value" } },
                  },
                },
              },
            },
          },
        },
        "charting readings",
      );
      const composite = answer.aggregations?.lines;
      for (const bucket of composite?.buckets ?? []) {
        const line: SeriesLine = { ...bucket.key, t: [], min: [], max: [], avg: [], count: [] };
        for (const slot of bucket.buckets.buckets) {
          const index = Math.round((slot.key - plan.fromMs) / plan.bucketMs);
          line.t.push(bucketStart(plan, index));
          line.min.push(slot.lo.value);
          line.max.push(slot.hi.value);
          line.avg.push(slot.total.value / slot.doc_count);
          line.count.push(slot.doc_count);
        }
        if (line.t.length > 0) out.push(line);
      }
      if (composite?.after_key === undefined || (composite.buckets.length ?? 0) < linesPerSearch)
        break;
      after = composite.after_key;
    }
    return out;
  }

  /** Lines matching the selector at any time (a chart's legend holds them all), counted exactly. */
  private async countLines(selector: SeriesSelector): Promise<number> {
    let count = 0;
    let after: LineKey | undefined;
    for (;;) {
      const answer = await this.search<never, { lines: Composite<LineKey> }>(
        this.names.readingsPattern,
        {
          size: 0,
          query: filterQuery(selector),
          aggs: {
            lines: {
              composite: {
                size: COMPOSITE_PAGE,
                sources: LINE_SOURCES,
                ...(after === undefined ? {} : { after }),
              },
            },
          },
        },
        "counting chart lines",
      );
      const composite = answer.aggregations?.lines;
      count += composite?.buckets.length ?? 0;
      if (composite?.after_key === undefined || composite.buckets.length < COMPOSITE_PAGE)
        return count;
      after = composite.after_key;
    }
  }

  /**
   * Per device its newest reading at most a day ahead of now (ties: the
   * first line in chart order, as the SQL stores resolve them) and every
   * gas it sent, walking devices with a composite aggregation.
   */
  async devices(selector: SeriesSelector, nowMs: number): Promise<DeviceSummary[]> {
    const out: DeviceSummary[] = [];
    let after: { device: string } | undefined;
    for (;;) {
      const answer = await this.search<
        never,
        { devices: Composite<{ device: string }, DeviceAggs> }
      >(
        this.names.readingsPattern,
        {
          size: 0,
          query: filterQuery({
            device: selector.device,
            group: selector.group,
            atMostMs: nowMs + MAX_AHEAD_MS,
          }),
          aggs: {
            devices: {
              composite: {
                size: COMPOSITE_PAGE,
                sources: [{ device: { terms: { field: "device" } } }],
                ...(after === undefined ? {} : { after }),
              },
              aggs: {
                newest: {
                  top_hits: {
                    size: 1,
                    sort: [
                      { ts: "desc" },
                      { gas: "asc" },
                      { sensor: "asc" },
                      { unit: "asc" },
                      { group: "asc" },
                    ],
                    _source: ["group", "gpsText", "ts", "receivedAt"],
                  },
                },
                gases: { terms: { field: "gas", size: 1000, order: { _key: "asc" } } },
              },
            },
          },
        },
        "listing devices",
      );
      const composite = answer.aggregations?.devices;
      for (const bucket of composite?.buckets ?? []) {
        const newest = bucket.newest.hits.hits[0]?._source;
        if (newest === undefined) continue;
        out.push({
          device: bucket.key.device,
          group: newest.group,
          ...(newest.gpsText === "" ? {} : { gps: newest.gpsText }),
          lastReadingAt: new Date(newest.ts).toISOString(),
          lastSeenAt: new Date(newest.receivedAt).toISOString(),
          gases: bucket.gases.buckets.map((gas) => gas.key).sort(),
        });
      }
      if (composite?.after_key === undefined || composite.buckets.length < COMPOSITE_PAGE) break;
      after = composite.after_key;
    }
    return out
      .filter((summary) => selector.gas === undefined || summary.gases.includes(selector.gas))
      .sort((a, b) => a.device.localeCompare(b.device));
  }

  /** Newest first (ts, device, id descending). */
  async alerts(filter: AlertFilter): Promise<StoredAlert[]> {
    const answer = await this.search<AlertDocument>(
      this.names.alerts,
      {
        size: Math.min(filter.limit, MAX_PAGE),
        query: filterQuery(filter),
        sort: [{ ts: "desc" }, { device: "desc" }, { id: "desc" }],
      },
      "reading alerts",
    );
    return answer.hits.hits.map((hit) => storedAlert(hit._source));
  }
}

interface LineKey {
  gas: string;
  device: string;
  sensor: string;
  unit: string;
  group: string;
}

/** The SQL stores' line order: gas, device, sensor, unit, group. */
const LINE_SOURCES = (["gas", "device", "sensor", "unit", "group"] as const).map((field) => ({
  [field]: { terms: { field } },
}));

/** A date_histogram answer (docs.opensearch.org/latest/aggregations/bucket/date-histogram/) with the metrics asked for. */
interface HistogramOf {
  buckets: {
    buckets: Array<{
      key: number;
      doc_count: number;
      lo: { value: number };
      hi: { value: number };
      total: { value: number };
    }>;
  };
}

/** top_hits (docs.opensearch.org/latest/aggregations/metric/top-hits/) and terms answers. */
interface DeviceAggs {
  newest: {
    hits: {
      hits: Array<{ _source: { group: string; gpsText: string; ts: number; receivedAt: number } }>;
    };
  };
  gases: { buckets: Array<{ key: string; doc_count: number }> };
}
