/**
 * Index names and mappings. Readings go to one index per UTC month of the
 * reading's own ts (`<prefix>-readings-YYYY-MM`): a retry of the same
 * reading always lands in the same index, so `create` with `_id` = reading
 * id dedupes it (data streams or rollover would not), and retention drops
 * whole months. Every mapping is `dynamic: strict`: a document with a
 * field the mapping does not know is refused, never silently indexed.
 */

/** Lowercase, no characters OpenSearch forbids in index names, not starting with -, _ or +. */
const PREFIX_PATTERN = /^[a-z0-9][a-z0-9._-]{0,200}$/;

export function isValidPrefix(prefix: string): boolean {
  return PREFIX_PATTERN.test(prefix) && prefix !== "." && prefix !== "..";
}

export interface IndexNames {
  /** The index template's name (also its pattern's stem). */
  template: string;
  /** Every readings index: `<prefix>-readings-*`. */
  readingsPattern: string;
  alerts: string;
  requests: string;
  /** Every version of every desired threshold set (the fleet's, issue 16). */
  fleetThresholds: string;
  /** Each device's last threshold report. */
  thresholdReports: string;
  /** The readings index a reading with this ts (epoch ms) belongs to. */
  readingsOf(ts: number): string;
}

export function indexNames(prefix: string): IndexNames {
  return {
    template: `${prefix}-readings`,
    readingsPattern: `${prefix}-readings-*`,
    alerts: `${prefix}-alerts`,
    requests: `${prefix}-requests`,
    fleetThresholds: `${prefix}-fleet-thresholds`,
    thresholdReports: `${prefix}-threshold-reports`,
    readingsOf: (ts) => `${prefix}-readings-${monthName(ts)}`,
  };
}

/** "YYYY-MM" of an epoch ms, UTC. */
export function monthName(ts: number): string {
  return new Date(ts).toISOString().slice(0, 7);
}

/** The readings index's month ("YYYY-MM"), or null for an index not named by this store. */
export function monthOfIndex(names: IndexNames, index: string): string | null {
  const stem = names.readingsPattern.slice(0, -1);
  if (!index.startsWith(stem)) return null;
  const month = index.slice(stem.length);
  return /^\d{4}-\d{2}$/.test(month) ? month : null;
}

const KEYWORD = { type: "keyword" } as const;
/** Kept verbatim in _source for the answers, never searched. */
const STORED_TEXT = { type: "keyword", index: false, doc_values: false } as const;
const EPOCH_MS = { type: "date", format: "epoch_millis" } as const;
/**
 * double, not float: aggregations read doc values, and a float would turn
 * 412.3 into 412.29998779296875, so min/max would differ from what the
 * device sent (and from the SQLite and PostgreSQL stores).
 */
const NUMBER = { type: "double" } as const;

/** One reading: the wire reading plus who sent it and when it arrived. */
export const READING_MAPPINGS = {
  dynamic: "strict",
  properties: {
    id: KEYWORD,
    device: KEYWORD,
    group: KEYWORD,
    sensor: KEYWORD,
    gas: KEYWORD,
    unit: KEYWORD,
    value: NUMBER,
    ts: EPOCH_MS,
    /** Comma-joined flag names, as the other stores keep them. */
    flags: KEYWORD,
    sensorId: KEYWORD,
    sensorType: KEYWORD,
    /** The upload's "lat, lng" as sent (answers repeat it verbatim). */
    gpsText: STORED_TEXT,
    /** The same position for maps and geo queries; absent when the text is no valid position. */
    gps: { type: "geo_point" },
    receivedAt: EPOCH_MS,
    batchId: KEYWORD,
    indexName: KEYWORD,
  },
} as const;

export function readingsTemplate(names: IndexNames): Record<string, unknown> {
  return {
    index_patterns: [names.readingsPattern],
    template: {
      settings: { number_of_shards: 1 },
      mappings: READING_MAPPINGS,
    },
  };
}

export const ALERT_MAPPINGS = {
  dynamic: "strict",
  properties: {
    device: KEYWORD,
    group: KEYWORD,
    gpsText: STORED_TEXT,
    id: KEYWORD,
    readingId: KEYWORD,
    rule: KEYWORD,
    sensor: KEYWORD,
    gas: KEYWORD,
    kind: KEYWORD,
    value: NUMBER,
    unit: KEYWORD,
    threshold: NUMBER,
    op: KEYWORD,
    severity: KEYWORD,
    ts: EPOCH_MS,
    receivedAt: EPOCH_MS,
  },
} as const;

/** One processed ingest request under its idempotency key (the document's _id). */
export const REQUEST_MAPPINGS = {
  dynamic: "strict",
  properties: {
    status: { type: "integer" },
    /** The JSON answer, replayed verbatim. */
    body: STORED_TEXT,
    batchId: KEYWORD,
    format: KEYWORD,
    receivedAt: EPOCH_MS,
  },
} as const;

/** One version of a group's or device's desired thresholds; `_id` scope/name/version. */
export const FLEET_THRESHOLD_MAPPINGS = {
  dynamic: "strict",
  properties: {
    scope: KEYWORD,
    name: KEYWORD,
    version: { type: "integer" },
    /** The rules as the JSON text sent, answered back unchanged. */
    rules: STORED_TEXT,
    changedAt: EPOCH_MS,
    /** Absent when the PUT named nobody. */
    changedBy: STORED_TEXT,
  },
} as const;

/** A device's last `x-sensord-thresholds` report; `_id` the device id, replaced by each report. */
export const THRESHOLD_REPORT_MAPPINGS = {
  dynamic: "strict",
  properties: {
    device: KEYWORD,
    group: KEYWORD,
    state: KEYWORD,
    etag: KEYWORD,
    /** Absent when applied. */
    reason: STORED_TEXT,
    reportedAt: EPOCH_MS,
  },
} as const;
