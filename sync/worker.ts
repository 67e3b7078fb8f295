import type { Logger } from "../core/logger.js";
import type { DeviceConfig, SyncConfig } from "../schemas/config-types.js";
import type { AlertUploadQueue, QueuedAlertUpload } from "./alerts-queue.js";
import type { BatchEncoder } from "./encoder.js";
import type { EncoderSettings } from "./encoder-protocol.js";
import { FleetFetch, type FleetThresholdsTarget } from "./fleet.js";
import { alertsUpload } from "./output/alerts.js";
import type { OutputState, OutputStatus } from "./output/contract.js";
import { batchDevice, readingsUpload } from "./output/readings.js";
import type { RunningOutput } from "./output/running-output.js";
import { OutputSchedule } from "./output/schedule.js";
import type { QuarantinedBatch, QueuedReading, QueueStats, SyncQueue } from "./queue.js";

export type SyncState = OutputState;

export interface SyncStatus {
  state: SyncState;
  endpoint: string;
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  /** When the next attempt after a failure is due (epoch ms), or null. */
  nextAttemptAt: number | null;
  consecutiveFailures: number;
  uploadedTotal: number;
  /** Requests of the readings and the alert uploads. */
  requests: number;
  /** Request body bytes sent (gzip'd when compressed), every attempt counted, readings and alerts. */
  bytesSent: number;
  /** Readings upload attempts that failed (each retry counts), since start. */
  failuresTotal: number;
  /** Readings per second over the last cycle that uploaded anything. */
  readingsPerSecond: number;
  queue: QueueStats;
  quarantined: QuarantinedBatch[];
  /** Alert event uploads (sync/output/alerts.ts); null when off. */
  alerts: {
    endpoint: string;
    pending: number;
    uploadedTotal: number;
    /** Events the endpoint refused as invalid, kept in the database. */
    quarantined: number;
    lastError: string | null;
  } | null;
  /** Each output of `[sync]` in the one shape every output reports. */
  outputs: OutputStatus[];
}

export interface SyncWorkerDeps {
  config: SyncConfig;
  device: DeviceConfig;
  queue: SyncQueue;
  log: Logger;
  /** Reads the API key, once per cycle (so a key file fixed after an auth failure is picked up); null: none. */
  apiKey: () => string | null;
  /** Alert events to upload; without it (or with alerts_endpoint = "") alerts stay on the device. */
  alertQueue?: AlertUploadQueue;
  /**
   * Starts a batch encoder for a long drain (sync/encoder.ts: a thread that
   * reads and gzips while this one posts); without it, batches are built here.
   */
  encoder?: (settings: EncoderSettings) => BatchEncoder;
  /** Where fetched fleet thresholds go (with config.fleetEndpoint set); without it none are fetched. */
  fleet?: FleetThresholdsTarget;
  random?: () => number;
}

/**
 * `[sync]`: the readings upload and the alert upload (sync/output/), on the
 * cron schedule (or continuously at `interval`). Each cycle runs the alerts
 * first: they are few (one small request) and urgent, and a readings backlog
 * can take minutes to drain. Each output keeps its own backoff, so trouble
 * with one never holds back the other.
 */
export class SyncWorker {
  private readonly readings: RunningOutput<QueuedReading>;
  private readonly alerts: { endpoint: string; running: RunningOutput<QueuedAlertUpload> } | null;
  private readonly schedule: OutputSchedule;
  private readonly fleet: FleetFetch | null;

  constructor(private readonly deps: SyncWorkerDeps) {
    const { config, device, log, apiKey } = deps;
    const random = deps.random === undefined ? {} : { random: deps.random };
    const target = config.fleetEndpoint === null ? undefined : deps.fleet;
    this.fleet =
      config.fleetEndpoint === null || target === undefined
        ? null
        : new FleetFetch({
            url: config.fleetEndpoint,
            device,
            timeoutMs: config.timeoutMs,
            apiKey,
            target,
          });
    const report = target === undefined ? {} : { report: () => target.report() };
    this.readings = readingsUpload({
      settings: config,
      device,
      queue: deps.queue,
      log,
      apiKey,
      ...report,
      ...(deps.encoder === undefined ? {} : { encoder: deps.encoder }),
      ...random,
    });
    const alertsUrl = config.alertsEndpoint;
    this.alerts =
      alertsUrl === null || deps.alertQueue === undefined
        ? null
        : {
            endpoint: alertsUrl,
            running: alertsUpload({
              endpoint: alertsUrl,
              device: batchDevice(device),
              queue: deps.alertQueue,
              settings: config,
              log,
              apiKey,
              ...report,
              ...random,
            }),
          };
    this.schedule = new OutputSchedule(
      { intervalMs: config.intervalMs, cron: config.schedule },
      () => void this.trigger(),
    );
  }

  start(): void {
    this.schedule.start();
    void this.trigger();
  }

  async stop(): Promise<void> {
    await this.schedule.stop();
    await Promise.all([this.alerts?.running.stop(), this.readings.stop(), this.fleet?.close()]);
  }

  /**
   * Runs the alerts then the readings now, each unless it is in a backoff;
   * `force` (sync now, tests) overrides the readings' backoff.
   */
  async trigger(options: { force?: boolean } = {}): Promise<void> {
    // Alongside the uploads, never before them: a fleet side that hangs must not delay readings.
    const fleet = this.fleet?.poll();
    await this.alerts?.running.trigger();
    await this.readings.trigger(options);
    await fleet;
  }

  /** How the schedule reads in a log line. */
  describeSchedule(): string {
    return this.schedule.describe();
  }

  status(): SyncStatus {
    const readings = this.readings.status();
    const alerts = this.alerts?.running.status() ?? null;
    return {
      state: readings.state,
      endpoint: this.deps.config.endpoint,
      lastSuccessAt: readings.lastSuccessAt,
      lastError: readings.lastError,
      lastErrorAt: readings.lastErrorAt,
      nextAttemptAt: readings.nextAttemptAt,
      consecutiveFailures: readings.consecutiveFailures,
      uploadedTotal: readings.deliveredTotal,
      requests: readings.requests + (alerts?.requests ?? 0),
      bytesSent: readings.bytesSent + (alerts?.bytesSent ?? 0),
      failuresTotal: readings.failuresTotal,
      readingsPerSecond: readings.itemsPerSecond,
      queue: this.deps.queue.stats(),
      quarantined: this.deps.queue.quarantined(),
      alerts: this.alertsStatus(alerts),
      outputs: alerts === null ? [readings] : [readings, alerts],
    };
  }

  private alertsStatus(status: OutputStatus | null): SyncStatus["alerts"] {
    if (this.alerts === null || status === null || this.deps.alertQueue === undefined) return null;
    const stats = this.deps.alertQueue.stats();
    return {
      endpoint: this.alerts.endpoint,
      pending: stats.pending,
      uploadedTotal: status.deliveredTotal,
      quarantined: stats.quarantinedAlerts,
      lastError: status.lastError,
    };
  }
}
