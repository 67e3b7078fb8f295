import type { StatusReport } from "../control/status.js";

/**
 * Unhealthy means alarms may be missed: a sensor that is down, or a database
 * that refuses writes. An upload outage is not: readings are safe on the
 * device and go out when the network returns (it shows in /metrics instead).
 */
export function healthProblems(report: StatusReport, lastFlushError: string | null): string[] {
  const problems: string[] = [];
  for (const sensor of report.sensors) {
    if (sensor.state === "down" || sensor.state === "stopped") {
      problems.push(
        `sensor ${sensor.id} is ${sensor.state}${sensor.lastError === null ? "" : `: ${sensor.lastError}`}`,
      );
    }
  }
  if (lastFlushError !== null) problems.push(`database refuses writes: ${lastFlushError}`);
  return problems;
}
