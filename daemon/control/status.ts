import { statSync } from "node:fs";
import type { Gas, Severity, Unit } from "../../schemas/vocabulary.js";
import type { MqttStatus } from "../../sync/mqtt/relay.js";
import type { OutputStatus } from "../../sync/output/contract.js";
import type { QuarantinedBatch } from "../../sync/queue.js";
import type { SyncStatus } from "../../sync/worker.js";
import type { ClockStatus } from "../clock/clock-watch.js";
import type { FleetReport } from "../fleet/thresholds.js";
import type { SensorStatus } from "../sampler/running-sensor.js";

/**
 * The `sensorctl status --json` document (and GET /v1/status). Times are ISO
 * 8601 UTC, ages and durations milliseconds. `running: false` is the same
 * shape built from the database alone: what only the live daemon knows is null.
 */
export interface StatusReport {
  running: boolean;
  daemon: {
    pid: number;
    version: string;
    startedAt: string;
    uptimeMs: number;
    config: string | null;
    device: string;
  } | null;
  sensors: SensorReport[];
  alarms: AlarmReport[];
  buffer: {
    /** Readings sampled but not yet committed (null: daemon down). */
    uncommitted: number | null;
    /** Committed readings not yet uploaded (null: no [sync]). */
    uploadPending: number | null;
    oldestPendingAgeMs: number | null;
    databaseBytes: number;
    maxBytes: number;
    /** Readings lost: deleted by retention over the database's life, plus dropped in memory this run. */
    droppedReadings: number;
  };
  sync: SyncReport | null;
  /** null without an [mqtt] section (or with the daemon down). */
  mqtt: MqttReport | null;
  http: HttpReport | null;
  /**
   * Every output ([sync]'s readings and alert uploads, the [mqtt] relay) in
   * one shape, named as in the metrics' `output` label. Optional only for
   * reports built before it existed; absent when the daemon is down.
   */
  outputs?: OutputReport[];
  /** The system clock (null: daemon down). Optional only for reports built before it existed. */
  clock?: ClockReport | null;
  /**
   * The fleet's desired thresholds (null: not fetched, or the daemon down).
   * Optional only for reports built before it existed.
   */
  fleet?: FleetReport | null;
}

export interface HttpReport {
  listen: string | null;
  error: string | null;
  /** The device dashboard's data needs the token of http.token_file. Optional only for older reports. */
  tokenRequired?: boolean;
}

export interface ClockReport {
  /** null: sensord cannot tell (no systemd to ask); readings are then not flagged. */
  synchronized: boolean | null;
  /** How sensord knows, e.g. `timedatectl: NTPSynchronized=no`. */
  detail: string;
  checkedAt: string | null;
}

export function clockReport(status: ClockStatus): ClockReport {
  return {
    synchronized: status.state === "unknown" ? null : status.state === "synchronized",
    detail: status.detail,
    checkedAt: status.checkedAt === 0 ? null : new Date(status.checkedAt).toISOString(),
  };
}

export interface LastValue {
  gas: Gas;
  value: number;
  unit: Unit;
  ts: string;
  ageMs: number;
}

export interface SensorReport {
  id: string;
  /** null when the daemon is down (the database does not know it). */
  driver: string | null;
  state: SensorStatus["state"] | "unknown";
  warmupLeftMs: number | null;
  samples: number | null;
  errorCount: number;
  errors: Record<string, number>;
  lastError: string | null;
  values: LastValue[];
}

export interface AlarmReport {
  rule: string;
  sensor: string;
  gas: Gas;
  severity: Severity;
  since: string | null;
}

export interface SyncReport {
  /** null when the daemon is down. */
  state: SyncStatus["state"] | null;
  endpoint: string;
  lastSuccessAt: string | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  consecutiveFailures: number | null;
  uploadedTotal: number | null;
  requests: number | null;
  /** Request body bytes sent, every attempt counted. */
  bytesSent: number | null;
  failuresTotal: number | null;
  readingsPerSecond: number | null;
  pending: number;
  quarantinedReadings: number;
  quarantined: QuarantinedBatch[];
  /** Alert event uploads; null when off. Optional only for reports built before they existed. */
  alerts: AlertUploadReport | null;
}

export interface AlertUploadReport {
  endpoint: string;
  /** Events in the database the endpoint has not taken. */
  pending: number;
  /** Since start; null when the daemon is down. */
  uploadedTotal: number | null;
  /** Events the endpoint refused as invalid (400/422), kept in the database. */
  quarantined: number;
  lastError: string | null;
}

/** OutputStatus with its times as ISO strings, for JSON readers. */
export type OutputReport = Omit<OutputStatus, OutputTime> & Record<OutputTime, string | null>;

type OutputTime = "lastSuccessAt" | "lastErrorAt" | "nextAttemptAt";

export function outputReport(status: OutputStatus): OutputReport {
  return {
    ...status,
    lastSuccessAt: isoOrNull(status.lastSuccessAt),
    lastErrorAt: isoOrNull(status.lastErrorAt),
    nextAttemptAt: isoOrNull(status.nextAttemptAt),
  };
}

export interface MqttReport {
  state: MqttStatus["state"];
  connected: boolean;
  broker: string;
  topic: string;
  /** Alert events waiting in the database for the broker's acknowledgement. */
  queued: number;
  deliveredTotal: number;
  lastDeliveredAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
}

export function mqttReport(status: MqttStatus): MqttReport {
  return {
    state: status.state,
    connected: status.connected,
    broker: status.broker,
    topic: status.topic,
    queued: status.queued,
    deliveredTotal: status.deliveredTotal,
    lastDeliveredAt: isoOrNull(status.lastDeliveredAt),
    lastError: status.lastError,
    lastErrorAt: isoOrNull(status.lastErrorAt),
  };
}

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** The database file plus its WAL: what the SD card holds for it. */
export function databaseBytes(path: string): number {
  let total = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      total += statSync(file).size;
    } catch {
      // no WAL (checkpointed and truncated) or no database yet
    }
  }
  return total;
}

export function syncReport(status: SyncStatus): SyncReport {
  return {
    state: status.state,
    endpoint: status.endpoint,
    lastSuccessAt: isoOrNull(status.lastSuccessAt),
    lastError: status.lastError,
    nextAttemptAt: isoOrNull(status.nextAttemptAt),
    consecutiveFailures: status.consecutiveFailures,
    uploadedTotal: status.uploadedTotal,
    requests: status.requests,
    bytesSent: status.bytesSent,
    failuresTotal: status.failuresTotal,
    readingsPerSecond: status.readingsPerSecond,
    pending: status.queue.pending,
    quarantinedReadings: status.queue.quarantinedReadings,
    quarantined: status.quarantined,
    alerts: status.alerts,
  };
}

export function sensorReport(status: SensorStatus, values: LastValue[]): SensorReport {
  return {
    id: status.id,
    driver: status.driver,
    state: status.state,
    warmupLeftMs: status.warmupLeftMs,
    samples: status.samples,
    errorCount: Object.values(status.errors).reduce((sum, count) => sum + count, 0),
    errors: status.errors,
    lastError: status.lastError,
    values,
  };
}
