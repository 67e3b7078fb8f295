import type Database from "better-sqlite3";
import type { AlertEvent } from "../../schemas/alert.js";
import { ALERT_COLUMNS, type AlertRow, toAlertEvent } from "../store/rows.js";

export interface AlertsAnswer {
  /** Events in [from, to), newest first, at most `limit`. */
  alerts: AlertEvent[];
  /** Raises from before `from` still in force at `from`: the chart shades their alarm from the range's start. */
  openAtStart: AlertEvent[];
}

/**
 * Alert events in a time range. The alerts table is small (an event per
 * threshold crossing, not per reading), so a scan is fine.
 */
export function deviceAlerts(
  db: Database.Database,
  file: string,
  prefix: () => string,
): (query: { fromMs: number; toMs: number; limit: number }) => AlertsAnswer {
  const inRange = db.prepare<[number, number, number], AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM alerts WHERE ts >= ? AND ts < ? ORDER BY ts DESC, seq DESC LIMIT ?`,
  );
  const openAt = db.prepare<[number], AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM alerts WHERE kind = 'raise' AND seq IN
       (SELECT max(seq) FROM alerts WHERE ts < ? GROUP BY rule, sensor) ORDER BY seq`,
  );
  return (query) => {
    const id = prefix();
    return {
      alerts: inRange
        .all(query.fromMs, query.toMs, query.limit)
        .map((row) => toAlertEvent(file, id, row)),
      openAtStart: openAt.all(query.fromMs).map((row) => toAlertEvent(file, id, row)),
    };
  };
}
