import type {
  AlertUploadReport,
  ClockReport,
  HttpReport,
  StatusReport,
} from "../../daemon/control/status.js";
import type { FleetReport } from "../../daemon/fleet/thresholds.js";
import { age, bytes, when } from "./human.js";

/** The one-screen summary of `sensorctl status`. */
export function renderStatus(report: StatusReport, nowMs: number): string {
  const lines: string[] = [];
  const { daemon } = report;
  if (daemon === null) {
    lines.push("sensord: NOT RUNNING (what the database knows is below)");
  } else {
    lines.push(
      `sensord ${daemon.version}: running, pid ${daemon.pid}, up ${age(daemon.uptimeMs)}, device ${daemon.device}`,
      `config:  ${daemon.config ?? "built-in defaults"}`,
    );
    const clock = clockLine(report.clock ?? null);
    if (clock !== null) lines.push(clock);
  }

  lines.push("", "SENSORS");
  if (report.sensors.length === 0) lines.push("  none");
  for (const sensor of report.sensors) {
    const warm =
      sensor.warmupLeftMs !== null && sensor.warmupLeftMs > 0
        ? `, warm-up ${age(sensor.warmupLeftMs)} left`
        : "";
    const errors =
      sensor.errorCount === 0
        ? "no errors"
        : `${sensor.errorCount} errors (${Object.entries(sensor.errors)
            .map(([code, count]) => `${code} ${count}`)
            .join(", ")})`;
    const head =
      sensor.driver === null
        ? `  ${sensor.id}`
        : `  ${sensor.id} (${sensor.driver}): ${sensor.state}${warm}, ${errors}`;
    lines.push(head);
    if (sensor.lastError !== null && sensor.state !== "ok")
      lines.push(`    last error: ${sensor.lastError}`);
    if (sensor.values.length > 0) {
      lines.push(
        `    ${sensor.values.map((value) => `${value.gas} ${value.value} ${value.unit} (${age(value.ageMs)} ago)`).join("   ")}`,
      );
    }
  }

  lines.push("", `ALARMS (${report.alarms.length} active)`);
  for (const alarm of report.alarms) {
    lines.push(
      `  ${alarm.severity.toUpperCase()}  ${alarm.sensor}  ${alarm.rule}  since ${alarm.since === null ? "?" : when(alarm.since, nowMs)}`,
    );
  }

  const { buffer } = report;
  lines.push("", "BUFFER");
  const pending =
    buffer.uploadPending === null
      ? "uploads off"
      : `${buffer.uploadPending} readings to upload${buffer.oldestPendingAgeMs === null ? "" : ` (oldest ${age(buffer.oldestPendingAgeMs)} old)`}`;
  const uncommitted =
    buffer.uncommitted === null ? "" : `, ${buffer.uncommitted} not yet committed`;
  lines.push(`  ${pending}${uncommitted}`);
  const share =
    buffer.maxBytes > 0 ? Math.round((buffer.databaseBytes / buffer.maxBytes) * 100) : 0;
  lines.push(
    `  database ${bytes(buffer.databaseBytes)} of ${bytes(buffer.maxBytes)} (${share}%), ${buffer.droppedReadings} readings dropped`,
  );

  const { sync } = report;
  lines.push("", "SYNC");
  if (sync === null) {
    lines.push("  off (no [sync] section)");
  } else {
    const state = sync.state === null ? "" : `${sync.state}, `;
    lines.push(`  ${state}${sync.endpoint}`);
    lines.push(`  last success ${when(sync.lastSuccessAt, nowMs)}`);
    if (sync.lastError !== null) {
      const retry =
        sync.nextAttemptAt === null
          ? ""
          : `, retry in ${age(Date.parse(sync.nextAttemptAt) - nowMs)}`;
      lines.push(
        `  last error: ${sync.lastError} (${sync.consecutiveFailures ?? 0} failures in a row${retry})`,
      );
    }
    if (sync.quarantined.length > 0) {
      lines.push(
        `  quarantined: ${sync.quarantined.length} batches, ${sync.quarantinedReadings} readings`,
      );
      for (const batch of sync.quarantined.slice(0, 3))
        lines.push(`    ${batch.batchId}: HTTP ${batch.status} ${batch.reason}`);
    }
    if (sync.alerts === null) lines.push("  alerts: not uploaded");
    else if (sync.alerts !== undefined) lines.push(...alertLines(sync.alerts));
  }
  if (report.fleet !== undefined && report.fleet !== null) {
    lines.push("", "FLEET THRESHOLDS", ...fleetLines(report.fleet, nowMs));
  }

  const { mqtt } = report;
  if (mqtt !== null) {
    lines.push("", "MQTT");
    lines.push(
      mqtt.connected
        ? `  connected to ${mqtt.broker}, alerts on ${mqtt.topic}`
        : `  ${mqtt.state}: not connected to ${mqtt.broker}`,
    );
    lines.push(
      `  ${mqtt.queued} alert event(s) waiting, ${mqtt.deliveredTotal} delivered since start (last ${when(mqtt.lastDeliveredAt, nowMs)})`,
    );
    if (mqtt.lastError !== null) {
      lines.push(`  last error: ${mqtt.lastError} (${when(mqtt.lastErrorAt, nowMs)})`);
    }
  }
  if (report.http !== null && report.http.listen !== null) {
    lines.push("", ...httpLines(report.http.listen, report.http));
  }
  return lines.join("\n");
}

/** Where the device dashboard and /metrics are (one server serves both). */
function fleetLines(fleet: FleetReport, nowMs: number): string[] {
  const { applied, refused } = fleet;
  const lines = [
    applied === null
      ? "  applied: none yet (the config's rules apply)"
      : `  applied: ${applied.etag} (${applied.source === "none" ? "no fleet rules" : `${applied.source} set v${applied.version}, ${applied.rules} rule(s)`}) ${when(applied.appliedAt, nowMs)}`,
  ];
  if (refused !== null) {
    lines.push(`  REFUSED: ${refused.etag} ${when(refused.refusedAt, nowMs)}: ${refused.reason}`);
  }
  lines.push(
    `  last fetch ${when(fleet.lastFetchAt, nowMs)} from ${fleet.endpoint ?? "(not fetched)"}`,
  );
  if (fleet.lastError !== null) {
    lines.push(`  last error: ${fleet.lastError} (${when(fleet.lastErrorAt, nowMs)})`);
  }
  return lines;
}

function httpLines(listen: string, http: HttpReport): string[] {
  if (http.error !== null) return [`DASHBOARD and METRICS unavailable on ${listen}: ${http.error}`];
  // A wildcard address is where sensord listens, not where a browser can go.
  const host = /^(0\.0\.0\.0|\[::\]):/.test(listen)
    ? listen.replace(/^(0\.0\.0\.0|\[::\])/, "<this Pi's address>")
    : listen;
  const base = `http://${host}/`;
  const token =
    http.tokenRequired === true
      ? ` (open it once as ${base}?token=<the token in http.token_file>)`
      : "";
  return [`DASHBOARD ${base}${token}`, `METRICS   ${base}metrics`];
}

function clockLine(clock: ClockReport | null): string | null {
  if (clock === null) return null;
  if (clock.synchronized === true) return `clock:   synchronized (${clock.detail})`;
  if (clock.synchronized === false) {
    return `clock:   NOT SYNCHRONIZED (${clock.detail}): new readings are flagged clock_unsynced, their times may be wrong`;
  }
  return `clock:   cannot tell whether it is synchronized (${clock.detail}); readings are not flagged`;
}

/** "alerts: N pending, M uploaded" (no count while sensord is down), then what went wrong. */
function alertLines(alerts: AlertUploadReport): string[] {
  const uploaded = alerts.uploadedTotal === null ? "" : `, ${alerts.uploadedTotal} uploaded`;
  const refused = alerts.quarantined > 0 ? `, ${alerts.quarantined} quarantined` : "";
  const lines = [`  alerts: ${alerts.pending} pending${uploaded}${refused} (${alerts.endpoint})`];
  if (alerts.lastError !== null) lines.push(`    last error: ${alerts.lastError}`);
  return lines;
}
