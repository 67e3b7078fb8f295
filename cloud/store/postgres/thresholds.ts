import {
  type ThresholdReportRow,
  type ThresholdRow,
  toThresholdReport,
  toThresholdVersion,
} from "../rows.js";
import type {
  PutThresholdsOutcome,
  ThresholdReport,
  ThresholdStore,
  ThresholdVersion,
} from "../types.js";
import type { Database } from "./database.js";
import { errorCode } from "./errors.js";
import { msToTs, prepared, tsToMs } from "./sql.js";

/**
 * The next version in one statement. Two PUTs at once under READ COMMITTED
 * both read the same latest version; the primary key (scope, name, version)
 * lets one insert and fails the other with 23505, which then runs the
 * statement again and gets the version after (or, with `ifVersion`, a
 * conflict: the set it meant to replace is gone).
 */
const PUT = `WITH latest AS (
    SELECT coalesce(max(version), 0) AS version FROM fleet_thresholds WHERE scope = $1 AND name = $2
  ), inserted AS (
    INSERT INTO fleet_thresholds (scope, name, version, rules, changed_at, changed_by)
    SELECT $1, $2, version + 1, $3, ${msToTs("$4")}, $5 FROM latest
    WHERE $6::integer IS NULL OR version = $6::integer
    RETURNING version
  )
  SELECT (SELECT version FROM latest) AS current, (SELECT version FROM inserted) AS stored`;

/** Far more than concurrent edits of one group's thresholds by people. */
const PUT_ATTEMPTS = 20;

const COLUMNS = `name, version, rules, ${tsToMs("changed_at")} AS changed_at, changed_by`;

export function postgresThresholds(db: Database): ThresholdStore {
  return {
    putThresholds: (target, change, ifVersion) =>
      db.use(async (client) => {
        for (let attempt = 1; ; attempt++) {
          try {
            const result = await client.query<{ current: number; stored: number | null }>(
              prepared(PUT, [
                target.scope,
                target.name,
                JSON.stringify(change.thresholds),
                change.changedAt,
                change.changedBy,
                ifVersion,
              ]),
            );
            const row = result.rows[0];
            const current = row?.current ?? 0;
            return row?.stored == null
              ? ({ kind: "conflict", current } satisfies PutThresholdsOutcome)
              : ({ kind: "stored", version: row.stored } satisfies PutThresholdsOutcome);
          } catch (error) {
            if (errorCode(error) !== "23505" || attempt >= PUT_ATTEMPTS) throw error;
          }
        }
      }),
    latestThresholds: (scope, names) =>
      db.use(async (client) => {
        const result = await client.query<ThresholdRow>(
          prepared(
            `SELECT DISTINCT ON (name) ${COLUMNS} FROM fleet_thresholds
             WHERE scope = $1 AND name = ANY($2::text[]) ORDER BY name, version DESC`,
            [scope, [...new Set(names)]],
          ),
        );
        return new Map<string, ThresholdVersion>(
          result.rows.map((row) => [row.name, toThresholdVersion(row)]),
        );
      }),
    thresholdHistory: (target) =>
      db.use(async (client) => {
        const result = await client.query<ThresholdRow>(
          prepared(
            `SELECT ${COLUMNS} FROM fleet_thresholds WHERE scope = $1 AND name = $2
             ORDER BY version DESC`,
            [target.scope, target.name],
          ),
        );
        return result.rows.map(toThresholdVersion);
      }),
    reportThresholds: (report) =>
      db.use(async (client) => {
        await client.query(
          prepared(
            `INSERT INTO threshold_reports (device, group_id, state, etag, reason, reported_at)
             VALUES ($1, $2, $3, $4, $5, ${msToTs("$6")})
             ON CONFLICT (device) DO UPDATE SET group_id = excluded.group_id, state = excluded.state,
               etag = excluded.etag, reason = excluded.reason, reported_at = excluded.reported_at`,
            [
              report.device,
              report.group,
              report.state,
              report.etag,
              report.reason,
              report.reportedAt,
            ],
          ),
        );
      }),
    thresholdReports: (devices) =>
      db.use(async (client) => {
        const result = await client.query<ThresholdReportRow>(
          prepared(
            `SELECT device, group_id, state, etag, reason, ${tsToMs("reported_at")} AS reported_at
             FROM threshold_reports WHERE device = ANY($1::text[])`,
            [[...new Set(devices)]],
          ),
        );
        return new Map<string, ThresholdReport>(
          result.rows.map((row) => [row.device, toThresholdReport(row)]),
        );
      }),
  };
}
