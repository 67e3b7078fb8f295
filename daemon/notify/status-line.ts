import type { DaemonStatus } from "../daemon.js";
import type { SensorState } from "../sampler/running-sensor.js";
import type { HealthVerdict } from "./health.js";

export type StatusInput = Pick<DaemonStatus, "sensors" | "recorder" | "activeAlarms" | "sync">;

/** States in the order a person wants to read them: good news first, then trouble. */
const STATE_ORDER: readonly SensorState[] = [
  "ok",
  "warming",
  "starting",
  "degraded",
  "down",
  "finished",
  "stopped",
];

/**
 * The one line `systemctl status sensord` shows, e.g.
 * "4 sensors ok, 12,345 readings stored, 0 alarms, sync ok"; when the
 * watchdog is being withheld the reason comes first.
 */
export function statusLine(status: StatusInput, verdict: HealthVerdict): string {
  const parts = [
    sensorsPart(status.sensors),
    `${count(status.recorder.committed)} readings stored`,
    status.activeAlarms.length === 1 ? "1 alarm" : `${count(status.activeAlarms.length)} alarms`,
  ];
  if (status.sync !== null) parts.push(syncPart(status.sync));
  const line = parts.join(", ");
  return verdict.healthy ? line : `UNHEALTHY: ${verdict.reasons.join("; ")} | ${line}`;
}

function sensorsPart(sensors: StatusInput["sensors"]): string {
  if (sensors.length === 0) return "no sensors";
  const byState = new Map<SensorState, number>();
  for (const sensor of sensors) byState.set(sensor.state, (byState.get(sensor.state) ?? 0) + 1);
  const groups = STATE_ORDER.filter((state) => byState.has(state)).map(
    (state) => `${byState.get(state)} ${state}`,
  );
  const noun = sensors.length === 1 ? "sensor" : "sensors";
  // "4 sensors ok" when all agree; "3 sensors: 2 ok, 1 down" otherwise.
  return groups.length === 1
    ? `${sensors.length} ${noun} ${sensors[0]?.state}`
    : `${sensors.length} ${noun}: ${groups.join(", ")}`;
}

function syncPart(sync: NonNullable<StatusInput["sync"]>): string {
  switch (sync.state) {
    case "auth_failed":
      return "sync auth failed";
    case "backoff":
      return `sync failing (${sync.consecutiveFailures} in a row)`;
    case "stopped":
      return "sync stopped";
    default:
      return sync.lastSuccessAt === null ? "sync not run yet" : "sync ok";
  }
}

function count(value: number): string {
  return value.toLocaleString("en-US");
}
