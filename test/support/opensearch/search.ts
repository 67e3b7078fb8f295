import { docValue, type Index, type StoredDoc } from "./cluster.js";
import { badRequest, OpenSearchError } from "./errors.js";
import { asObject, compareValues, isObject, type JsonObject, only } from "./values.js";

/**
 * `_search`, `_count` and `_delete_by_query` evaluated over the stored
 * documents: bool/filter with term, terms and range; sort with
 * search_after; `_source` filtering; and the aggregations the store uses
 * (composite, date_histogram, terms, min, max, sum, avg, value_count,
 * top_hits). Shapes follow docs.opensearch.org/latest/api-reference/search-apis/search/
 * and docs.opensearch.org/latest/aggregations/ (each aggregation's page).
 */

/** index.max_result_window's default. */
const MAX_RESULT_WINDOW = 10_000;
/** search.max_buckets's default in OpenSearch 2.x. */
const MAX_BUCKETS = 65_535;
/** hits.total counts exactly up to this (track_total_hits default). */
const TRACK_TOTAL_HITS = 10_000;

export interface Hit {
  index: Index;
  doc: StoredDoc;
}

/** The visible documents of `indices` matching `query` (absent: all). */
export function matching(indices: Index[], query: unknown, nowMs: number): Hit[] {
  const out: Hit[] = [];
  for (const index of indices) {
    for (const doc of index.docs.values()) {
      if (doc.visibleAt > nowMs) continue;
      const hit = { index, doc };
      if (query === undefined || matches(hit, query)) out.push(hit);
    }
  }
  return out;
}

function matches(hit: Hit, query: unknown): boolean {
  const clause = only(query);
  if (clause === null)
    throw badRequest("[_na] query malformed, must start with start_object", "parsing_exception");
  const [kind, body] = clause;
  switch (kind) {
    case "match_all":
      return true;
    case "bool": {
      const bool = asObject(body);
      const list = (value: unknown): unknown[] =>
        value === undefined ? [] : Array.isArray(value) ? value : [value];
      const all = [...list(bool.filter), ...list(bool.must)];
      if (!all.every((q) => matches(hit, q))) return false;
      if (list(bool.must_not).some((q) => matches(hit, q))) return false;
      const should = list(bool.should);
      return should.length === 0 || all.length > 0 || should.some((q) => matches(hit, q));
    }
    case "term": {
      const [field, spec] = only(body) ?? ["", undefined];
      const wanted = isObject(spec) ? spec.value : spec;
      return equalsTerm(hit, field, wanted);
    }
    case "terms": {
      const [field, values] = only(body) ?? ["", []];
      return Array.isArray(values) && values.some((value) => equalsTerm(hit, field, value));
    }
    case "range": {
      const [field, spec] = only(body) ?? ["", {}];
      const value = docValue(hit.index, hit.doc, field);
      if (typeof value !== "number") return false;
      const bounds = asObject(spec);
      const bound = (name: string): number | undefined =>
        bounds[name] === undefined ? undefined : Number(bounds[name]);
      const gte = bound("gte");
      const gt = bound("gt");
      const lte = bound("lte");
      const lt = bound("lt");
      return (
        (gte === undefined || value >= gte) &&
        (gt === undefined || value > gt) &&
        (lte === undefined || value <= lte) &&
        (lt === undefined || value < lt)
      );
    }
    default:
      throw badRequest(`unknown query [${kind}]`, "parsing_exception");
  }
}

function equalsTerm(hit: Hit, field: string, wanted: unknown): boolean {
  const value = docValue(hit.index, hit.doc, field);
  if (value === undefined) return false;
  return typeof value === "number" ? value === Number(wanted) : value === String(wanted);
}

interface SortKey {
  field: string;
  descending: boolean;
}

function sortKeys(sort: unknown): SortKey[] {
  if (sort === undefined) return [];
  return (Array.isArray(sort) ? sort : [sort]).map((item) => {
    if (typeof item === "string") return { field: item, descending: false };
    const [field, spec] = only(item) ?? ["", "asc"];
    const order = isObject(spec) ? spec.order : spec;
    return { field, descending: order === "desc" };
  });
}

function sortValues(hit: Hit, keys: SortKey[]): Array<string | number | null> {
  return keys.map((key) => docValue(hit.index, hit.doc, key.field) ?? null);
}

/** Missing values sort last in either direction (`missing: _last`). */
function compareTuples(
  a: Array<string | number | null>,
  b: readonly unknown[],
  keys: SortKey[],
): number {
  for (const [i, key] of keys.entries()) {
    const x = a[i] ?? null;
    const y = b[i];
    if (x === null || y === null || y === undefined) {
      if (x === null && (y === null || y === undefined)) continue;
      return x === null ? 1 : -1;
    }
    const order = compareValues(x, typeof y === "number" ? y : String(y));
    if (order !== 0) return key.descending ? -order : order;
  }
  return 0;
}

function sortHits(
  hits: Hit[],
  keys: SortKey[],
): Array<{ hit: Hit; values: Array<string | number | null> }> {
  const keyed = hits.map((hit) => ({ hit, values: sortValues(hit, keys) }));
  if (keys.length > 0) keyed.sort((a, b) => compareTuples(a.values, b.values, keys));
  return keyed;
}

function filterSource(source: JsonObject, spec: unknown): JsonObject | undefined {
  if (spec === false) return undefined;
  const includes = Array.isArray(spec)
    ? spec
    : isObject(spec) && Array.isArray(spec.includes)
      ? spec.includes
      : null;
  if (includes === null) return source;
  const out: JsonObject = {};
  for (const field of includes)
    if (typeof field === "string" && field in source) out[field] = source[field];
  return out;
}

function hitJson(
  entry: { hit: Hit; values: Array<string | number | null> },
  keys: SortKey[],
  sourceSpec: unknown,
): JsonObject {
  const source = filterSource(entry.hit.doc.source, sourceSpec);
  return {
    _index: entry.hit.index.name,
    _id: entry.hit.doc.id,
    _score: keys.length > 0 ? null : 0,
    ...(source === undefined ? {} : { _source: source }),
    ...(keys.length > 0 ? { sort: entry.values } : {}),
  };
}

export function search(indices: Index[], body: unknown, nowMs: number): JsonObject {
  const started = Date.now();
  const spec = asObject(body);
  const hits = matching(indices, spec.query, nowMs);
  const size = spec.size === undefined ? 10 : Number(spec.size);
  const from = spec.from === undefined ? 0 : Number(spec.from);
  if (from + size > MAX_RESULT_WINDOW) {
    throw new OpenSearchError(400, {
      type: "illegal_argument_exception",
      reason: `Result window is too large, from + size must be less than or equal to: [${MAX_RESULT_WINDOW}] but was [${from + size}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.`,
    });
  }
  const keys = sortKeys(spec.sort);
  let sorted = sortHits(hits, keys);
  if (spec.search_after !== undefined) {
    const after = spec.search_after;
    if (!Array.isArray(after) || after.length !== keys.length) {
      throw badRequest(
        `search_after has ${Array.isArray(after) ? after.length : 0} value(s) but sort has ${keys.length}.`,
      );
    }
    sorted = sorted.filter((entry) => compareTuples(entry.values, after, keys) > 0);
  }
  const page = sorted.slice(from, from + size);
  const counter = { buckets: 0 };
  const aggregations = spec.aggs ?? spec.aggregations;
  return {
    took: Date.now() - started,
    timed_out: false,
    _shards: { total: indices.length, successful: indices.length, skipped: 0, failed: 0 },
    hits: {
      total: {
        value: Math.min(hits.length, TRACK_TOTAL_HITS),
        relation: hits.length > TRACK_TOTAL_HITS ? "gte" : "eq",
      },
      max_score: keys.length > 0 || page.length === 0 ? null : 0,
      hits: page.map((entry) => hitJson(entry, keys, spec._source)),
    },
    ...(aggregations === undefined ? {} : { aggregations: aggregate(aggregations, hits, counter) }),
  };
}

function aggregate(specs: unknown, hits: Hit[], counter: { buckets: number }): JsonObject {
  const out: JsonObject = {};
  for (const [name, spec] of Object.entries(asObject(specs))) {
    const { aggs, aggregations, ...rest } = asObject(spec);
    const sub = aggs ?? aggregations;
    const [kind, body] = only(rest) ?? ["", {}];
    out[name] = aggregateOne(kind, asObject(body), sub, hits, counter);
  }
  return out;
}

function countBuckets(counter: { buckets: number }, n: number): void {
  counter.buckets += n;
  if (counter.buckets > MAX_BUCKETS) {
    throw new OpenSearchError(400, {
      type: "too_many_buckets_exception",
      reason: `Trying to create too many buckets. Must be less than or equal to: [${MAX_BUCKETS}] but was [${counter.buckets}]. This limit can be set by changing the [search.max_buckets] cluster level setting.`,
    });
  }
}

function bucketWithSubs(hits: Hit[], sub: unknown, counter: { buckets: number }): JsonObject {
  return { doc_count: hits.length, ...(sub === undefined ? {} : aggregate(sub, hits, counter)) };
}

function numbers(hits: Hit[], field: string): number[] {
  const out: number[] = [];
  for (const hit of hits) {
    const value = docValue(hit.index, hit.doc, field);
    if (typeof value === "number") out.push(value);
  }
  return out;
}

/** Kahan-compensated, as OpenSearch's sum and avg aggregations add. */
function kahanSum(values: number[]): number {
  let sum = 0;
  let compensation = 0;
  for (const value of values) {
    const corrected = value - compensation;
    const next = sum + corrected;
    compensation = next - sum - corrected;
    sum = next;
  }
  return sum;
}

function aggregateOne(
  kind: string,
  body: JsonObject,
  sub: unknown,
  hits: Hit[],
  counter: { buckets: number },
): JsonObject {
  const field = typeof body.field === "string" ? body.field : "";
  switch (kind) {
    case "min":
    case "max": {
      const values = numbers(hits, field);
      if (values.length === 0) return { value: null };
      return { value: kind === "min" ? Math.min(...values) : Math.max(...values) };
    }
    case "sum":
      return { value: kahanSum(numbers(hits, field)) };
    case "avg": {
      const values = numbers(hits, field);
      return { value: values.length === 0 ? null : kahanSum(values) / values.length };
    }
    case "value_count":
      return {
        value: hits.filter((hit) => docValue(hit.index, hit.doc, field) !== undefined).length,
      };
    case "terms":
      return terms(body, field, sub, hits, counter);
    case "composite":
      return composite(body, sub, hits, counter);
    case "date_histogram":
      return dateHistogram(body, field, sub, hits, counter);
    case "top_hits": {
      const keys = sortKeys(body.sort);
      const size = body.size === undefined ? 3 : Number(body.size);
      const sorted = sortHits(hits, keys).slice(0, size);
      return {
        hits: {
          total: { value: hits.length, relation: "eq" },
          max_score: null,
          hits: sorted.map((entry) => hitJson(entry, keys, body._source)),
        },
      };
    }
    default:
      throw badRequest(`Unknown aggregation type [${kind}]`, "parsing_exception");
  }
}

function groupBy(
  hits: Hit[],
  keyOf: (hit: Hit) => string | number | undefined,
): Map<string | number, Hit[]> {
  const groups = new Map<string | number, Hit[]>();
  for (const hit of hits) {
    const key = keyOf(hit);
    if (key === undefined) continue;
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [hit]);
    else list.push(hit);
  }
  return groups;
}

function terms(
  body: JsonObject,
  field: string,
  sub: unknown,
  hits: Hit[],
  counter: { buckets: number },
): JsonObject {
  const size = body.size === undefined ? 10 : Number(body.size);
  const groups = [...groupBy(hits, (hit) => docValue(hit.index, hit.doc, field)).entries()];
  const [orderBy, direction] = only(body.order) ?? ["_count", "desc"];
  const sign = direction === "asc" ? 1 : -1;
  groups.sort(([ka, a], [kb, b]) =>
    orderBy === "_key"
      ? sign * compareValues(ka, kb)
      : sign * (a.length - b.length) || compareValues(ka, kb),
  );
  const kept = groups.slice(0, size);
  countBuckets(counter, kept.length);
  const other = groups.slice(size).reduce((sum, [, list]) => sum + list.length, 0);
  return {
    doc_count_error_upper_bound: 0,
    sum_other_doc_count: other,
    buckets: kept.map(([key, list]) => ({ key, ...bucketWithSubs(list, sub, counter) })),
  };
}

/** Sources' keys in order; documents missing any source field are left out (missing_bucket false). */
function composite(
  body: JsonObject,
  sub: unknown,
  hits: Hit[],
  counter: { buckets: number },
): JsonObject {
  const sources = (Array.isArray(body.sources) ? body.sources : []).map((source) => {
    const [name, spec] = only(source) ?? ["", {}];
    const [kind, options] = only(spec) ?? ["", {}];
    if (kind !== "terms")
      throw badRequest(`composite source [${kind}] is not supported by the stand-in`);
    const terms = asObject(options);
    return { name, field: String(terms.field), descending: terms.order === "desc" };
  });
  const size = body.size === undefined ? 10 : Number(body.size);
  const groups = new Map<string, { key: Array<string | number>; hits: Hit[] }>();
  for (const hit of hits) {
    const key: Array<string | number> = [];
    for (const source of sources) {
      const value = docValue(hit.index, hit.doc, source.field);
      if (value === undefined) break;
      key.push(value);
    }
    if (key.length !== sources.length) continue;
    const name = JSON.stringify(key);
    const group = groups.get(name);
    if (group === undefined) groups.set(name, { key, hits: [hit] });
    else group.hits.push(hit);
  }
  const compare = (a: readonly unknown[], b: readonly unknown[]): number => {
    for (const [i, source] of sources.entries()) {
      const order = compareValues(a[i] as string | number, b[i] as string | number);
      if (order !== 0) return source.descending ? -order : order;
    }
    return 0;
  };
  let ordered = [...groups.values()].sort((a, b) => compare(a.key, b.key));
  if (body.after !== undefined) {
    const after = asObject(body.after);
    const afterKey = sources.map((source) => after[source.name]);
    ordered = ordered.filter((group) => compare(group.key, afterKey) > 0);
  }
  const page = ordered.slice(0, size);
  countBuckets(counter, page.length);
  const keyObject = (key: Array<string | number>): JsonObject =>
    Object.fromEntries(sources.map((source, i) => [source.name, key[i]]));
  const last = page[page.length - 1];
  return {
    ...(last === undefined ? {} : { after_key: keyObject(last.key) }),
    buckets: page.map((group) => ({
      key: keyObject(group.key),
      ...bucketWithSubs(group.hits, sub, counter),
    })),
  };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function duration(text: unknown, what: string): number {
  const match = typeof text === "string" ? /^([+-]?)(\d+)(ms|s|m|h|d)$/.exec(text) : null;
  if (match === null)
    throw badRequest(
      `failed to parse setting [${what}] with value [${String(text)}] as a time value`,
    );
  return (match[1] === "-" ? -1 : 1) * Number(match[2]) * (UNIT_MS[match[3] ?? "ms"] ?? 1);
}

/**
 * Fixed intervals only: key = floor((ts - offset) / interval) x interval
 * + offset, buckets ascending; min_doc_count 0 (the default) fills the
 * gaps between the first and last key.
 */
function dateHistogram(
  body: JsonObject,
  field: string,
  sub: unknown,
  hits: Hit[],
  counter: { buckets: number },
): JsonObject {
  if (body.calendar_interval !== undefined)
    throw badRequest("calendar_interval is not supported by the stand-in");
  const interval = duration(body.fixed_interval, "fixed_interval");
  if (interval <= 0) throw badRequest("Zero or negative time interval not supported");
  const offset = body.offset === undefined ? 0 : duration(body.offset, "offset");
  const minDocCount = body.min_doc_count === undefined ? 0 : Number(body.min_doc_count);
  const groups = groupBy(hits, (hit) => {
    const value = docValue(hit.index, hit.doc, field);
    return typeof value === "number"
      ? Math.floor((value - offset) / interval) * interval + offset
      : undefined;
  });
  const keys = [...groups.keys()].map(Number).sort((a, b) => a - b);
  const all: number[] = [];
  if (minDocCount === 0 && keys.length > 0) {
    for (let key = keys[0] as number; key <= (keys[keys.length - 1] as number); key += interval)
      all.push(key);
  } else {
    all.push(...keys.filter((key) => (groups.get(key)?.length ?? 0) >= minDocCount));
  }
  countBuckets(counter, all.length);
  return {
    buckets: all.map((key) => ({
      key_as_string: String(key),
      key,
      ...bucketWithSubs(groups.get(key) ?? [], sub, counter),
    })),
  };
}
