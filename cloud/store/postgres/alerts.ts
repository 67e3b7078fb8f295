import type pg from "pg";
import type { AlertEvent } from "../../../schemas/alert.js";
import type { AlertBatch } from "../../../schemas/alert-batch.js";
import { type AlertRow, toStoredAlert } from "../rows.js";
import type { AlertFilter, AlertOutcome, StoredAlert } from "../types.js";
import { equalityTerms, msToTs, prepared, tsToMs, whereClause } from "./sql.js";

/**
 * One statement per batch (atomic on its own); ON CONFLICT DO NOTHING skips
 * (device, id) pairs stored before or earlier in the batch, so rowCount is
 * exactly what was new.
 */
const INSERT_ALERTS = `INSERT INTO alerts (device, id, group_id, gps, reading_id, rule, sensor, gas, kind, value,
    unit, threshold, op, severity, ts, received_at)
  SELECT $1, t.id, $2, $3, t.reading_id, t.rule, t.sensor, t.gas, t.kind, t.value,
    t.unit, t.threshold, t.op, t.severity, ${msToTs("t.ms")}, ${msToTs("$4")}
  FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::float8[],
    $12::text[], $13::float8[], $14::text[], $15::text[], $16::float8[])
    AS t(id, reading_id, rule, sensor, gas, kind, value, unit, threshold, op, severity, ms)
  ON CONFLICT DO NOTHING
  RETURNING id`;

export async function insertAlerts(
  client: pg.ClientBase,
  batch: AlertBatch,
  receivedAt: number,
): Promise<AlertOutcome> {
  // Sorted by id: two batches sharing events lock them in the same order (no deadlock).
  const alerts = [...batch.alerts].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const column = <T>(pick: (alert: AlertEvent) => T): T[] => alerts.map(pick);
  const result = await client.query<{ id: string }>(
    prepared(INSERT_ALERTS, [
      batch.device.id,
      batch.device.group,
      batch.device.gps ?? "",
      receivedAt,
      column((alert) => alert.id),
      column((alert) => alert.readingId),
      column((alert) => alert.rule),
      column((alert) => alert.sensor),
      column((alert) => alert.gas),
      column((alert) => alert.kind),
      column((alert) => alert.value),
      column((alert) => alert.unit),
      column((alert) => alert.threshold),
      column((alert) => alert.op),
      column((alert) => alert.severity),
      column((alert) => Date.parse(alert.ts)),
    ]),
  );
  const stored = new Set(result.rows.map((row) => row.id));
  // In the batch's order, each id once (a batch may repeat an event).
  const storedIds = [...new Set(batch.alerts.map((alert) => alert.id))].filter((id) =>
    stored.has(id),
  );
  const accepted = storedIds.length;
  return { accepted, duplicates: batch.alerts.length - accepted, storedIds };
}

/** Newest first (ts, device, id descending): one backward walk of alerts_ts. */
export async function selectAlerts(
  client: pg.ClientBase,
  filter: AlertFilter,
): Promise<StoredAlert[]> {
  const params: unknown[] = [];
  const where = equalityTerms(
    [
      ["device", filter.device],
      ["group_id", filter.group],
      ["gas", filter.gas],
    ],
    params,
  );
  if (filter.fromMs !== undefined) {
    params.push(filter.fromMs);
    where.push(`ts >= ${msToTs(`$${params.length}`)}`);
  }
  if (filter.toMs !== undefined) {
    params.push(filter.toMs);
    where.push(`ts < ${msToTs(`$${params.length}`)}`);
  }
  params.push(filter.limit);
  const result = await client.query<AlertRow>(
    prepared(
      `SELECT id, device, group_id, gps, reading_id, rule, sensor, gas, kind, value, unit, threshold,
         op, severity, ${tsToMs("ts")} AS ts
       FROM alerts ${whereClause(where)}
       ORDER BY alerts.ts DESC, device DESC, id DESC LIMIT $${params.length}`,
      params,
    ),
  );
  return result.rows.map(toStoredAlert);
}
