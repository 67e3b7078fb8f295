import { describeError } from "../../core/errors.js";
import { parseThresholdReport, THRESHOLD_REPORT_HEADER } from "../../schemas/fleet-report.js";
import type { CoreHeaders } from "./exchange.js";
import type { RouteContext } from "./route.js";

/**
 * Keeps the `x-sensord-thresholds` report of an upload the ingest accepted
 * as the device's last one. Never a reason to refuse the readings: a
 * malformed header is counted (/healthz `threshold_reports_malformed`) and
 * a store that fails to keep the report fails only that (the readings are
 * stored already; the device reports again with its next upload). Returns
 * what the request's log note should add, or "" when there was no header.
 */
export async function recordThresholdReport(
  headers: CoreHeaders,
  device: { id: string; group: string },
  context: RouteContext,
): Promise<string> {
  const value = headers[THRESHOLD_REPORT_HEADER];
  if (value === undefined) return "";
  const report = parseThresholdReport(value);
  if (report === null) {
    context.counters.thresholdReportsMalformed++;
    return `; ${THRESHOLD_REPORT_HEADER} malformed, ignored`;
  }
  try {
    await context.store.reportThresholds({
      device: device.id,
      group: device.group,
      ...report,
      reportedAt: context.now(),
    });
    return `; thresholds ${report.state} ${report.etag}`;
  } catch (error) {
    return `; thresholds report not stored: ${describeError(error)}`;
  }
}
