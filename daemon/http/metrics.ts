import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { OutputReport, StatusReport } from "../control/status.js";
import type { FleetReport } from "../fleet/thresholds.js";

const REPORT_REUSE_MS = 250;

/** What a scrape reads; counted since this sensord started unless the name says otherwise. */
export interface MetricsSource {
  report(): StatusReport;
  readingsCommitted(): number;
  alerts(): { raise: number; clear: number };
  /** Which optional parts run: their metrics exist only then (an absent series, not a misleading 0). */
  has: { uploads: boolean; mqtt: boolean };
}

/**
 * Prometheus metrics, computed at scrape time from the daemon's status (one
 * source of truth with `sensorctl status`). Counters mirror counts the daemon
 * keeps anyway, so they are reset and set on each collect.
 */
export function createMetrics(source: MetricsSource): Registry {
  const register = new Registry();
  collectDefaultMetrics({ register, prefix: "sensord_" });
  // One report per scrape: the collects below run within milliseconds of each other,
  // and building a report counts the upload queue in the database.
  let cached: { report: StatusReport; atMs: number } | null = null;
  const current = (): StatusReport => {
    const now = Date.now();
    if (cached === null || now - cached.atMs > REPORT_REUSE_MS)
      cached = { report: source.report(), atMs: now };
    return cached.report;
  };
  const mirror = <T extends string>(
    name: string,
    help: string,
    labelNames: readonly T[],
    values: () => Array<{ labels: Partial<Record<T, string>>; value: number }>,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [register],
      collect() {
        this.reset();
        for (const { labels, value } of values()) this.inc(labels, value);
      },
    });
  const gauge = <T extends string>(
    name: string,
    help: string,
    labelNames: readonly T[],
    values: () => Array<{ labels: Partial<Record<T, string>>; value: number }>,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [register],
      collect() {
        this.reset();
        for (const { labels, value } of values()) this.set(labels, value);
      },
    });

  mirror("sensord_readings_total", "Readings committed to the database", [], () => [
    { labels: {}, value: source.readingsCommitted() },
  ]);
  mirror("sensord_alerts_total", "Alert events committed, by kind", ["kind"], () => {
    const alerts = source.alerts();
    return [
      { labels: { kind: "raise" }, value: alerts.raise },
      { labels: { kind: "clear" }, value: alerts.clear },
    ];
  });
  gauge("sensord_active_alarms", "Alarms raised now", ["severity"], () => {
    const alarms = current().alarms;
    return (["warning", "critical"] as const).map((severity) => ({
      labels: { severity },
      value: alarms.filter((alarm) => alarm.severity === severity).length,
    }));
  });
  mirror(
    "sensord_readings_dropped_total",
    "Readings lost: deleted by retention (over the database's life) or dropped from memory",
    [],
    () => [{ labels: {}, value: current().buffer.droppedReadings }],
  );
  mirror("sensord_sensor_samples_total", "Successful reads per sensor", ["sensor"], () =>
    current().sensors.map((sensor) => ({
      labels: { sensor: sensor.id },
      value: sensor.samples ?? 0,
    })),
  );
  mirror(
    "sensord_sensor_errors_total",
    "Failed reads and opens per sensor, by error code",
    ["sensor", "code"],
    () =>
      current().sensors.flatMap((sensor) =>
        Object.entries(sensor.errors).map(([code, count]) => ({
          labels: { sensor: sensor.id, code },
          value: count,
        })),
      ),
  );
  gauge("sensord_sensor_up", "1 when the sensor is warming or ok, else 0", ["sensor"], () =>
    current().sensors.map((sensor) => ({
      labels: { sensor: sensor.id },
      value: sensor.state === "ok" || sensor.state === "warming" ? 1 : 0,
    })),
  );
  gauge("sensord_buffer_uncommitted_readings", "Readings sampled, not yet committed", [], () => [
    { labels: {}, value: current().buffer.uncommitted ?? 0 },
  ]);
  gauge("sensord_database_bytes", "Database file plus WAL", [], () => [
    { labels: {}, value: current().buffer.databaseBytes },
  ]);
  gauge("sensord_database_max_bytes", "storage.max_bytes", [], () => [
    { labels: {}, value: current().buffer.maxBytes },
  ]);
  if (source.has.uploads) uploadMetrics(() => current().sync, gauge, mirror);
  if (source.has.mqtt) mqttMetrics(() => current().mqtt, gauge, mirror);
  fleetMetrics(() => current().fleet ?? null, gauge, mirror);
  if (source.has.uploads || source.has.mqtt)
    outputMetrics(() => current().outputs ?? [], gauge, mirror);
  return register;
}

type Register = <T extends string>(
  name: string,
  help: string,
  labelNames: readonly T[],
  values: () => Array<{ labels: Partial<Record<T, string>>; value: number }>,
) => unknown;

/** One unlabelled sample read from a part's report; no sample while the part reports nothing. */
function single<R>(
  report: () => R | null,
  pick: (value: R) => number | null,
): () => Array<{ labels: Record<never, string>; value: number }> {
  return () => {
    const value = report();
    return value === null ? [] : [{ labels: {}, value: pick(value) ?? 0 }];
  };
}

/** Only while the fleet's thresholds are fetched (the report's `fleet` is null otherwise): no series then. */
function fleetMetrics(fleet: () => FleetReport | null, gauge: Register, mirror: Register): void {
  mirror(
    "sensord_fleet_thresholds_refused_total",
    "Desired fleet threshold sets refused as unusable on this device",
    [],
    single(fleet, (status) => status.refusedTotal),
  );
  gauge(
    "sensord_fleet_thresholds_state",
    "1 for the state of the fleet's thresholds on this device: applied, refused (the last desired set), or none (none fetched yet)",
    ["state"],
    () => {
      const status = fleet();
      if (status === null) return [];
      const state =
        status.refused !== null ? "refused" : status.applied !== null ? "applied" : "none";
      return ["applied", "refused", "none"].map((name) => ({
        labels: { state: name },
        value: name === state ? 1 : 0,
      }));
    },
  );
}

function uploadMetrics(sync: () => StatusReport["sync"], gauge: Register, mirror: Register): void {
  gauge(
    "sensord_upload_pending_readings",
    "Committed readings not yet uploaded",
    [],
    single(sync, (status) => status.pending),
  );
  mirror(
    "sensord_upload_readings_total",
    "Readings the endpoint accepted",
    [],
    single(sync, (status) => status.uploadedTotal),
  );
  mirror(
    "sensord_upload_requests_total",
    "Upload requests sent, retries included",
    [],
    single(sync, (status) => status.requests),
  );
  mirror(
    "sensord_upload_bytes_total",
    "Request body bytes sent (compressed when gzip is on), retries included",
    [],
    single(sync, (status) => status.bytesSent),
  );
  mirror(
    "sensord_upload_failures_total",
    "Upload attempts that failed",
    [],
    single(sync, (status) => status.failuresTotal),
  );
  gauge(
    "sensord_upload_consecutive_failures",
    "Failed upload attempts in a row (0: uploads work)",
    [],
    single(sync, (status) => status.consecutiveFailures),
  );
  gauge(
    "sensord_upload_quarantined_readings",
    "Readings the endpoint refused as invalid",
    [],
    single(sync, (status) => status.quarantinedReadings),
  );
  const alerts = () => sync()?.alerts ?? null;
  // Alert uploads are on or off for the daemon's life (sync starts before the
  // HTTP server): without them, no series rather than a misleading 0.
  if (alerts() === null) return;
  gauge(
    "sensord_upload_alerts_pending",
    "Alert events not uploaded yet",
    [],
    single(alerts, (status) => status.pending),
  );
  mirror(
    "sensord_upload_alerts_total",
    "Alert events the alerts endpoint accepted",
    [],
    single(alerts, (status) => status.uploadedTotal),
  );
}

function mqttMetrics(mqtt: () => StatusReport["mqtt"], gauge: Register, mirror: Register): void {
  gauge(
    "sensord_mqtt_connected",
    "1 while the MQTT relay is connected",
    [],
    single(mqtt, (status) => (status.connected ? 1 : 0)),
  );
  gauge(
    "sensord_mqtt_queued_alerts",
    "Alerts waiting to be published over MQTT",
    [],
    single(mqtt, (status) => status.queued),
  );
  mirror(
    "sensord_mqtt_delivered_alerts_total",
    "Alert events the broker acknowledged",
    [],
    single(mqtt, (status) => status.deliveredTotal),
  );
}

/** Every output's status, one series per output labelled `output="..."` (http, alerts, mqtt). */
function outputMetrics(outputs: () => OutputReport[], gauge: Register, mirror: Register): void {
  const each = (pick: (output: OutputReport) => number) => () =>
    outputs().map((output) => ({ labels: { output: output.name }, value: pick(output) }));
  gauge(
    "sensord_output_up",
    "1 while the output delivers or waits for more, 0 in a backoff, an auth pause or stopped",
    ["output"],
    each((output) => (output.state === "idle" || output.state === "uploading" ? 1 : 0)),
  );
  mirror(
    "sensord_output_delivered_total",
    "Items (readings, alert events) the output's destination accepted",
    ["output"],
    each((output) => output.deliveredTotal),
  );
  mirror(
    "sensord_output_requests_total",
    "Requests the output sent, retries included",
    ["output"],
    each((output) => output.requests),
  );
  mirror(
    "sensord_output_bytes_total",
    "Request body bytes the output sent (compressed when gzip is on), retries included",
    ["output"],
    each((output) => output.bytesSent),
  );
  mirror(
    "sensord_output_failures_total",
    "Attempts of the output that failed",
    ["output"],
    each((output) => output.failuresTotal),
  );
  gauge(
    "sensord_output_consecutive_failures",
    "Failed attempts of the output in a row (0: it works)",
    ["output"],
    each((output) => output.consecutiveFailures),
  );
}
