import type { BucketPlan } from "../../core/buckets.js";
import type { AlertEvent } from "../../schemas/alert.js";
import type { AlertBatch } from "../../schemas/alert-batch.js";
import type { ThresholdReportState } from "../../schemas/fleet-report.js";
import type { FleetRule } from "../../schemas/fleet-thresholds.js";

/**
 * The contract between the ingest core (cloud/core/) and a database. The
 * core validates, converts and answers; a store only keeps and finds. Every
 * method is async so a network database fits behind it as well as SQLite.
 * Adding a store is one folder under cloud/store/ plus one line in open.ts.
 */

/** One reading as stored: the wire reading with ts as epoch ms and flags comma-joined. */
export interface IngestRow {
  id: string;
  sensor: string;
  gas: string;
  value: number;
  /** "" when the sender does not know it (original documents). */
  unit: string;
  /** Epoch ms. */
  ts: number;
  /** Comma-joined flag names, "" for none. */
  flags: string;
  /** "" when absent. */
  sensorId: string;
  /** "" when absent. */
  sensorType: string;
}

/** Everything one accepted request stores: the readings and what they share. */
export interface IngestUnit {
  format: "batch" | "original";
  /** The batch's `batchId`, or the original document's `id`. */
  batchId: string;
  device: string;
  group: string;
  /** "" when absent. */
  gps: string;
  /** The `index` header (the original gateway's index name), null when absent. */
  indexName: string | null;
  rows: IngestRow[];
}

/** The answer given to an ingest request, kept for replays under its idempotency key. */
export interface IngestAnswer {
  status: number;
  /** JSON text, sent verbatim. */
  body: string;
  /** True when the answer was stored earlier and nothing was processed now. */
  replayed: boolean;
}

export interface IngestOutcome extends IngestAnswer {
  accepted: number;
  duplicates: number;
}

export interface IngestStats {
  /** Readings stored. */
  readings: number;
  /** Readings received again (same id and ts) and not stored a second time. */
  duplicates: number;
  /** Ingest requests processed (idempotent replays excluded). */
  batches: number;
  /**
   * "database": totals of everything stored (SQLite: one process owns the file).
   * "process": what this process stored since it started (PostgreSQL: several
   * processes share the database and a shared counter row would serialize them).
   */
  scope: "database" | "process";
}

/** Text filters shared by the fleet endpoints; absent fields do not filter. */
export interface SeriesSelector {
  device?: string;
  group?: string;
  gas?: string;
}

/** `GET /readings` filters; absent fields do not filter. */
export interface ReadingFilter extends SeriesSelector {
  sensor?: string;
  /** Inclusive, epoch ms. */
  fromMs?: number;
  /** Exclusive, epoch ms. */
  toMs?: number;
  limit: number;
}

/** The `Reading` wire shape plus who sent it. Optional fields are omitted when unknown. */
export interface WireReading {
  id: string;
  device: string;
  group: string;
  gps?: string;
  sensor: string;
  gas: string;
  value: number;
  unit: string;
  ts: string;
  flags: string[];
  sensorId?: string;
  sensorType?: string;
}

/** A chart query: the selector and the buckets to fill. */
export interface SeriesQuery extends SeriesSelector {
  plan: BucketPlan;
}

/** One chart line: a (device, group, sensor, gas, unit), only the buckets that hold readings. */
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

/** More lines than a chart can show legibly; the caller is asked to filter instead. */
export const MAX_LINES = 400;

/** Thrown by `series` when more than MAX_LINES lines match (counting lines with no reading in range). */
export class TooManyLinesError extends Error {
  constructor(readonly lines: number) {
    super(`${lines} lines match; narrow the filter (device, group or gas) to at most ${MAX_LINES}`);
  }
}

/**
 * The store cannot take the request now (a network store throttling or
 * overloaded) and nothing was reported stored: the core answers 503 with
 * `Retry-After`, and the sender keeps its data and retries.
 */
export class StoreBusyError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/**
 * The store refused one item of a request as malformed for it (e.g. a
 * mapping conflict): retrying cannot help, so the core answers 422 naming
 * the item and the sender sets the request aside.
 */
export class StoreRejectedError extends Error {
  constructor(
    readonly item: "reading" | "alert",
    readonly itemId: string,
    readonly reason: string,
  ) {
    super(`the store refused ${item} "${itemId}": ${reason}`);
  }
}

export interface CsvQuery extends SeriesSelector {
  fromMs?: number;
  toMs?: number;
}

/** One CSV line's values; the core formats it. */
export interface CsvRow {
  id: string;
  device: string;
  group: string;
  sensor: string;
  gas: string;
  value: number;
  unit: string;
  /** Epoch ms. */
  ts: number;
  /** Comma-joined, "" for none. */
  flags: string;
}

/** `GET /devices`: one entry per device that sent readings, with what its newest reading says. */
export interface DeviceSummary {
  device: string;
  /** The group of its newest reading (a device moved to another group shows there). */
  group: string;
  /** "lat, lng" as sent with its newest reading; absent when it sent none. */
  gps?: string;
  /** Newest reading's time. */
  lastReadingAt: string;
  /** When the ingest received the upload holding that reading. */
  lastSeenAt: string;
  gases: string[];
}

export interface AlertFilter extends SeriesSelector {
  fromMs?: number;
  toMs?: number;
  limit: number;
}

/** An AlertEvent plus the device that sent it. */
export interface StoredAlert extends AlertEvent {
  device: string;
  group: string;
  gps?: string;
}

export interface AlertOutcome {
  accepted: number;
  duplicates: number;
  /**
   * The ids of the events this call stored, in the batch's order: what a
   * publisher may announce without repeating an event a retry sent again.
   */
  storedIds: string[];
}

/** What one retention pass removed. */
export interface RetentionOutcome {
  /** Readings deleted (PostgreSQL: the row count of the partitions dropped). */
  readings: number;
  alerts: number;
  /** Idempotency records (processed requests) deleted. */
  batches: number;
}

/** Whose desired thresholds: a group's (every device in it) or one device's (beats its group's). */
export type ThresholdScope = "group" | "device";

export interface ThresholdTarget {
  scope: ThresholdScope;
  /** The group or device id. */
  name: string;
}

/** One PUT of a desired set. */
export interface ThresholdChange {
  /** As sent (the JSON form of `[[thresholds]]` rules), validated; [] is a set too. */
  thresholds: FleetRule[];
  changedBy: string | null;
  /** Epoch ms. */
  changedAt: number;
}

/** A stored set: versions count 1, 2, ... per target, and every one is kept. */
export interface ThresholdVersion extends ThresholdChange {
  version: number;
}

/** `stored`: the new version. `conflict`: `ifVersion` was not the latest (`current`, 0 when never set). */
export type PutThresholdsOutcome =
  | { kind: "stored"; version: number }
  | { kind: "conflict"; current: number };

/** What a device last said (the `x-sensord-thresholds` header of an accepted upload). */
export interface ThresholdReport {
  device: string;
  /** The group the upload named. */
  group: string;
  state: ThresholdReportState;
  etag: string;
  /** Why it was refused; null when applied. */
  reason: string | null;
  /** Epoch ms. */
  reportedAt: number;
}

/** The fleet's desired thresholds and what devices reported of them (cloud/core/thresholds.ts). */
export interface ThresholdStore {
  /**
   * Stores `change` as the target's next version, atomically: two PUTs at
   * once (also from two processes) get two versions, never one twice. With
   * `ifVersion`, only when that is the latest version (0: never set).
   */
  putThresholds(
    target: ThresholdTarget,
    change: ThresholdChange,
    ifVersion: number | null,
  ): Promise<PutThresholdsOutcome>;
  /** The latest version of each of `names` (in `scope`) that has one, by name. */
  latestThresholds(
    scope: ThresholdScope,
    names: readonly string[],
  ): Promise<Map<string, ThresholdVersion>>;
  /** Every version of the target, newest first; [] when never set. */
  thresholdHistory(target: ThresholdTarget): Promise<ThresholdVersion[]>;
  /** Replaces the device's last report. */
  reportThresholds(report: ThresholdReport): Promise<void>;
  /** The last report of each of `devices` that sent one, by device. */
  thresholdReports(devices: readonly string[]): Promise<Map<string, ThresholdReport>>;
}

export interface CloudStore extends ThresholdStore {
  /** "sqlite", "postgres" or "opensearch", for logs and /healthz. */
  readonly kind: string;
  /** Where the data lives, safe to log (never a password). */
  readonly location: string;

  /** The stored answer for an idempotency key, or null when the key is new. */
  replay(key: string): Promise<IngestAnswer | null>;
  /**
   * Stores a request's readings atomically, skipping (id, ts) pairs already
   * stored. With a `key` seen before (also one committed by another process
   * meanwhile), returns that request's answer instead and stores nothing.
   */
  ingest(unit: IngestUnit, key: string | null, receivedAt: number): Promise<IngestOutcome>;
  /** Stores the alert events not stored yet (same device and event id), atomically. */
  addAlerts(batch: AlertBatch, receivedAt: number): Promise<AlertOutcome>;
  stats(): Promise<IngestStats>;

  /** Oldest first (ts, then id). */
  readings(filter: ReadingFilter): Promise<WireReading[]>;
  /**
   * Min/max/sum-based avg/count per bucket of `query.plan` for each line
   * (device, group, sensor, gas, unit), lines ordered by gas, device, sensor,
   * unit, group; readings with the same line but another sensor id or type
   * fall in the same line. Lines with no reading in range are left out.
   */
  series(query: SeriesQuery): Promise<SeriesLine[]>;
  /**
   * Every matching reading, oldest first (ts, then id), in pages; the
   * consumer pulls the next page only when it has written the last one.
   * Breaking out of the loop releases what the store held for it.
   */
  csv(query: CsvQuery): AsyncIterable<CsvRow[]>;
  /** Sorted by device id; a device's summary is its newest reading at most a day ahead of `nowMs`. */
  devices(selector: SeriesSelector, nowMs: number): Promise<DeviceSummary[]>;
  /** Newest first (ts, device, id descending). */
  alerts(filter: AlertFilter): Promise<StoredAlert[]>;

  /** Deletes readings and alerts with ts before `cutoffMs`, and requests received before it. */
  prune(cutoffMs: number): Promise<RetentionOutcome>;
  /** Waits for work in progress, then releases the database. Idempotent. */
  close(): Promise<void>;
}
