import { describe, expect, it } from "vitest";
import type { StatusReport } from "../../daemon/control/status.js";
import { createMetrics, type MetricsSource } from "../../daemon/http/metrics.js";

function report(overrides: Partial<StatusReport> = {}): StatusReport {
  return {
    running: true,
    daemon: null,
    sensors: [],
    alarms: [],
    buffer: {
      uncommitted: 3,
      uploadPending: 120,
      oldestPendingAgeMs: 5000,
      databaseBytes: 65_536,
      maxBytes: 1_048_576,
      droppedReadings: 0,
    },
    sync: {
      state: "backoff",
      endpoint: "http://127.0.0.1:9/ingest",
      lastSuccessAt: null,
      lastError: "HTTP 503",
      nextAttemptAt: null,
      consecutiveFailures: 2,
      uploadedTotal: 4000,
      requests: 7,
      bytesSent: 43_210,
      failuresTotal: 3,
      readingsPerSecond: 0,
      pending: 120,
      quarantinedReadings: 10,
      quarantined: [],
      alerts: null,
    },
    mqtt: {
      state: "connected",
      connected: true,
      broker: "mqtt://127.0.0.1:1883",
      topic: "pi/1",
      queued: 2,
      deliveredTotal: 9,
      lastDeliveredAt: null,
      lastError: null,
      lastErrorAt: null,
    },
    http: null,
    ...overrides,
  };
}

function source(status: StatusReport, has: MetricsSource["has"]): MetricsSource {
  return {
    report: () => status,
    readingsCommitted: () => 4120,
    alerts: () => ({ raise: 1, clear: 0 }),
    has,
  };
}

/** `name value` for every unlabelled sample of the given names. */
async function values(metrics: ReturnType<typeof createMetrics>): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const line of (await metrics.metrics()).split("\n")) {
    const match = /^(sensord_(?:upload|mqtt)_[a-z_]+) (\S+)$/.exec(line);
    if (match?.[1] !== undefined) found.set(match[1], Number(match[2]));
  }
  return found;
}

describe("upload and MQTT metrics", () => {
  it("mirror the sync and MQTT status: queue, requests, bytes, failures, broker link", async () => {
    const metrics = createMetrics(source(report(), { uploads: true, mqtt: true }));
    expect(Object.fromEntries(await values(metrics))).toEqual({
      sensord_upload_pending_readings: 120,
      sensord_upload_readings_total: 4000,
      sensord_upload_requests_total: 7,
      sensord_upload_bytes_total: 43_210,
      sensord_upload_failures_total: 3,
      sensord_upload_consecutive_failures: 2,
      sensord_upload_quarantined_readings: 10,
      sensord_mqtt_connected: 1,
      sensord_mqtt_queued_alerts: 2,
      sensord_mqtt_delivered_alerts_total: 9,
    });
  });

  it("are absent, not zero, when [sync] and [mqtt] are not configured", async () => {
    const metrics = createMetrics(
      source(report({ sync: null, mqtt: null }), { uploads: false, mqtt: false }),
    );
    expect(await values(metrics)).toEqual(new Map());
  });

  it("label every output's series with output=...: one line per output, in one shape", async () => {
    const output = {
      state: "idle",
      lastSuccessAt: null,
      lastError: null,
      lastErrorAt: null,
      nextAttemptAt: null,
      consecutiveFailures: 0,
      deliveredTotal: 0,
      requests: 0,
      bytesSent: 0,
      failuresTotal: 0,
      itemsPerSecond: 0,
    } as const;
    const metrics = createMetrics(
      source(
        report({
          outputs: [
            { ...output, name: "http", deliveredTotal: 4000, requests: 7, bytesSent: 43_210 },
            {
              ...output,
              name: "alerts",
              state: "backoff",
              consecutiveFailures: 2,
              failuresTotal: 3,
              requests: 3,
            },
            { ...output, name: "mqtt", deliveredTotal: 9 },
          ],
        }),
        { uploads: true, mqtt: true },
      ),
    );
    const lines = (await metrics.metrics())
      .split("\n")
      .filter((line) => line.startsWith("sensord_output_"));
    expect(lines).toEqual([
      'sensord_output_up{output="http"} 1',
      'sensord_output_up{output="alerts"} 0',
      'sensord_output_up{output="mqtt"} 1',
      'sensord_output_delivered_total{output="http"} 4000',
      'sensord_output_delivered_total{output="alerts"} 0',
      'sensord_output_delivered_total{output="mqtt"} 9',
      'sensord_output_requests_total{output="http"} 7',
      'sensord_output_requests_total{output="alerts"} 3',
      'sensord_output_requests_total{output="mqtt"} 0',
      'sensord_output_bytes_total{output="http"} 43210',
      'sensord_output_bytes_total{output="alerts"} 0',
      'sensord_output_bytes_total{output="mqtt"} 0',
      'sensord_output_failures_total{output="http"} 0',
      'sensord_output_failures_total{output="alerts"} 3',
      'sensord_output_failures_total{output="mqtt"} 0',
      'sensord_output_consecutive_failures{output="http"} 0',
      'sensord_output_consecutive_failures{output="alerts"} 2',
      'sensord_output_consecutive_failures{output="mqtt"} 0',
    ]);
  });
});
