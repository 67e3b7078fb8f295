import type Database from "better-sqlite3";
import {
  type ThresholdReportRow,
  type ThresholdRow,
  toThresholdReport,
  toThresholdVersion,
} from "../rows.js";
import type {
  PutThresholdsOutcome,
  ThresholdChange,
  ThresholdReport,
  ThresholdStore,
  ThresholdTarget,
  ThresholdVersion,
} from "../types.js";

/**
 * The fleet's desired thresholds in the ingest's SQLite file. Each call is
 * synchronous and so atomic: no other write runs between reading the latest
 * version and inserting the next.
 */
export function sqliteThresholds(db: Database.Database): ThresholdStore {
  const latestVersion = db.prepare<[string, string], { version: number }>(
    "SELECT coalesce(max(version), 0) AS version FROM fleet_thresholds WHERE scope = ? AND name = ?",
  );
  const insert = db.prepare<[string, string, number, string, number, string | null]>(
    `INSERT INTO fleet_thresholds (scope, name, version, rules, changed_at, changed_by)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const history = db.prepare<[string, string], ThresholdRow>(
    `SELECT name, version, rules, changed_at, changed_by FROM fleet_thresholds
     WHERE scope = ? AND name = ? ORDER BY version DESC`,
  );
  const latest = db.prepare<[string, string], ThresholdRow>(
    `SELECT name, version, rules, changed_at, changed_by FROM fleet_thresholds
     WHERE scope = ? AND name = ? ORDER BY version DESC LIMIT 1`,
  );
  const report = db.prepare<[string, string, string, string, string | null, number]>(
    `INSERT INTO threshold_reports (device, group_id, state, etag, reason, reported_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (device) DO UPDATE SET group_id = excluded.group_id, state = excluded.state,
       etag = excluded.etag, reason = excluded.reason, reported_at = excluded.reported_at`,
  );
  const reportOf = db.prepare<[string], ThresholdReportRow>(
    "SELECT * FROM threshold_reports WHERE device = ?",
  );
  const put = db.transaction(
    (target: ThresholdTarget, change: ThresholdChange, ifVersion: number | null) => {
      const current = latestVersion.get(target.scope, target.name)?.version ?? 0;
      if (ifVersion !== null && ifVersion !== current) {
        return { kind: "conflict", current } satisfies PutThresholdsOutcome;
      }
      insert.run(
        target.scope,
        target.name,
        current + 1,
        JSON.stringify(change.thresholds),
        change.changedAt,
        change.changedBy,
      );
      return { kind: "stored", version: current + 1 } satisfies PutThresholdsOutcome;
    },
  );
  return {
    putThresholds: async (target, change, ifVersion) => put(target, change, ifVersion),
    async latestThresholds(scope, names) {
      const found = new Map<string, ThresholdVersion>();
      for (const name of new Set(names)) {
        const row = latest.get(scope, name);
        if (row !== undefined) found.set(name, toThresholdVersion(row));
      }
      return found;
    },
    thresholdHistory: async (target) =>
      history.all(target.scope, target.name).map(toThresholdVersion),
    async reportThresholds(entry) {
      report.run(
        entry.device,
        entry.group,
        entry.state,
        entry.etag,
        entry.reason,
        entry.reportedAt,
      );
    },
    async thresholdReports(devices) {
      const found = new Map<string, ThresholdReport>();
      for (const device of new Set(devices)) {
        const row = reportOf.get(device);
        if (row !== undefined) found.set(device, toThresholdReport(row));
      }
      return found;
    },
  };
}
