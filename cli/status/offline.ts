import type {
  AlarmReport,
  AlertUploadReport,
  LastValue,
  SensorReport,
  StatusReport,
} from "../../daemon/control/status.js";
import { databaseBytes } from "../../daemon/control/status.js";
import { fleetReport } from "../../daemon/fleet/thresholds.js";
import type { SqliteStoreReader } from "../../daemon/store/reader.js";
import type { SensordConfig } from "../../schemas/config-types.js";
import { ALERTS_OUTPUT, READINGS_OUTPUT } from "../../sync/output/names.js";

/** How far back `status` looks for each channel's last value when sensord is down. */
const RECENT_READINGS = 500;

/** What the database alone tells about a stopped sensord: same shape, live-only fields null. */
export function offlineStatus(
  config: SensordConfig,
  reader: SqliteStoreReader | null,
  nowMs: number,
): StatusReport {
  const sensors = new Map<string, LastValue[]>();
  for (const sensor of config.sensors) sensors.set(sensor.id, []);
  const alarms: AlarmReport[] = [];
  let queue: ReturnType<SqliteStoreReader["uploadQueue"]> | null = null;
  let alertUploads: ReturnType<SqliteStoreReader["alertUploads"]> | null = null;
  let dropped = 0;
  const fleetEndpoint = config.sync?.fleetEndpoint ?? null;
  if (reader !== null) {
    // Newest first, so the first value seen per (sensor, gas) is its last.
    for (const reading of reader.readings({ limit: RECENT_READINGS }).reverse()) {
      const values = sensors.get(reading.sensor) ?? [];
      sensors.set(reading.sensor, values);
      if (values.some((value) => value.gas === reading.gas)) continue;
      values.push({
        gas: reading.gas,
        value: reading.value,
        unit: reading.unit,
        ts: reading.ts,
        ageMs: Math.max(0, nowMs - Date.parse(reading.ts)),
      });
    }
    for (const alert of reader.alerts({ active: true, limit: 1000 })) {
      alarms.push({
        rule: alert.rule,
        sensor: alert.sensor,
        gas: alert.gas,
        severity: alert.severity,
        since: alert.ts,
      });
    }
    if (config.sync !== null) queue = reader.uploadQueue(READINGS_OUTPUT);
    if (config.sync !== null && config.sync.alertsEndpoint !== null) {
      alertUploads = reader.alertUploads(ALERTS_OUTPUT);
    }
    dropped = reader.droppedReadingsTotal();
  }
  const sensorReports: SensorReport[] = [...sensors].map(([id, values]) => ({
    id,
    driver: null,
    state: "unknown",
    warmupLeftMs: null,
    samples: null,
    errorCount: 0,
    errors: {},
    lastError: null,
    values: values.sort((a, b) => a.gas.localeCompare(b.gas)),
  }));
  const oldest = queue?.stats.oldestPendingTsMs ?? null;
  return {
    running: false,
    daemon: null,
    sensors: sensorReports,
    alarms,
    buffer: {
      uncommitted: null,
      uploadPending: queue?.stats.pending ?? null,
      oldestPendingAgeMs: oldest === null ? null : Math.max(0, nowMs - oldest),
      databaseBytes: databaseBytes(config.storage.path),
      maxBytes: config.storage.maxBytes,
      droppedReadings: dropped,
    },
    sync:
      config.sync === null
        ? null
        : {
            state: null,
            endpoint: config.sync.endpoint,
            lastSuccessAt: null,
            lastError: null,
            nextAttemptAt: null,
            consecutiveFailures: null,
            uploadedTotal: null,
            requests: null,
            bytesSent: null,
            failuresTotal: null,
            readingsPerSecond: null,
            pending: queue?.stats.pending ?? 0,
            quarantinedReadings: queue?.stats.quarantinedReadings ?? 0,
            quarantined: queue?.quarantined ?? [],
            alerts: offlineAlerts(config.sync.alertsEndpoint, alertUploads),
          },
    mqtt: null,
    http: null,
    fleet:
      fleetEndpoint === null || reader === null
        ? null
        : fleetReport(reader.fleetThresholds(), fleetEndpoint),
  };
}

function offlineAlerts(
  endpoint: string | null,
  uploads: ReturnType<SqliteStoreReader["alertUploads"]> | null,
): AlertUploadReport | null {
  if (endpoint === null) return null;
  return {
    endpoint,
    pending: uploads?.pending ?? 0,
    uploadedTotal: null,
    quarantined: uploads?.quarantinedAlerts ?? 0,
    lastError: null,
  };
}

/** Enough of a StatusReport's shape to render it; sensord and sensorctl ship together. */
export function isStatusReport(value: unknown): value is StatusReport {
  if (typeof value !== "object" || value === null) return false;
  const record = Object.fromEntries(Object.entries(value));
  return (
    typeof record.running === "boolean" &&
    Array.isArray(record.sensors) &&
    Array.isArray(record.alarms) &&
    typeof record.buffer === "object" &&
    record.buffer !== null
  );
}
