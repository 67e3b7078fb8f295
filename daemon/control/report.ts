import { VERSION } from "../../core/version.js";
import type { SensordConfig } from "../../schemas/config-types.js";
import type { DaemonStatus } from "../daemon.js";
import type { LastValues } from "./last-values.js";
import {
  clockReport,
  databaseBytes,
  isoOrNull,
  mqttReport,
  outputReport,
  type StatusReport,
  sensorReport,
  syncReport,
} from "./status.js";

export interface LiveStatusInput {
  config: SensordConfig;
  status: DaemonStatus;
  lastValues: LastValues;
  startedAtMs: number;
  droppedByRetentionTotal: number;
  http: StatusReport["http"];
  nowMs: number;
}

/** The running daemon's StatusReport. */
export function liveStatus(input: LiveStatusInput): StatusReport {
  const { config, status, nowMs } = input;
  const queue = status.sync?.queue ?? null;
  return {
    running: true,
    daemon: {
      pid: process.pid,
      version: VERSION,
      startedAt: new Date(input.startedAtMs).toISOString(),
      uptimeMs: nowMs - input.startedAtMs,
      config: config.source,
      device: config.device.id,
    },
    sensors: status.sensors.map((sensor) =>
      sensorReport(sensor, input.lastValues.of(sensor.id, nowMs)),
    ),
    alarms: status.activeAlarms.map((alarm) => ({
      rule: alarm.rule,
      sensor: alarm.sensor,
      gas: alarm.gas,
      severity: alarm.severity,
      since: isoOrNull(alarm.sinceMs),
    })),
    buffer: {
      uncommitted: status.recorder.pending,
      uploadPending: queue?.pending ?? null,
      oldestPendingAgeMs:
        queue?.oldestPendingTsMs === null || queue === null
          ? null
          : Math.max(0, nowMs - queue.oldestPendingTsMs),
      databaseBytes: databaseBytes(config.storage.path),
      maxBytes: config.storage.maxBytes,
      droppedReadings: input.droppedByRetentionTotal + status.recorder.droppedInMemory,
    },
    sync: status.sync === null ? null : syncReport(status.sync),
    mqtt: status.mqtt === null ? null : mqttReport(status.mqtt),
    http: input.http,
    outputs: status.outputs.map(outputReport),
    clock: clockReport(status.clock),
    fleet: status.fleet,
  };
}
