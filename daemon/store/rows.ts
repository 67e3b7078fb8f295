import { ERROR_CODES, StoreError } from "../../core/errors.js";
import type { AlertEvent, AlertKind } from "../../schemas/alert.js";
import { alertId, readingId } from "../../schemas/ids.js";
import { GASES, OPS, READING_FLAGS, SEVERITIES, UNITS } from "../../schemas/names.js";
import type { Reading } from "../../schemas/reading.js";
import { FLAG_BITS, type NewAlert } from "../../schemas/records.js";

/** An `alerts` row as SQLite returns it (text columns not yet checked against the vocabulary). */
export interface AlertRow {
  seq: number;
  reading_seq: number;
  rule: string;
  sensor: string;
  gas: string;
  kind: string;
  value: number;
  unit: string;
  threshold: number;
  op: string;
  severity: string;
  ts: number;
}

export interface ReadingRow {
  seq: number;
  ts: number;
  value: number;
  flags: number;
  sensor: string;
  gas: string;
  unit: string;
}

export const ALERT_COLUMNS =
  "seq, reading_seq, rule, sensor, gas, kind, value, unit, threshold, op, severity, ts";

/**
 * The newest event of each (rule, sensor) when that event is a raise: one
 * rule (e.g. a preset) covers every sensor reporting its gas, and each sensor
 * raises and clears on its own.
 */
export const ACTIVE_ALERTS_WHERE =
  "kind = 'raise' AND seq IN (SELECT MAX(seq) FROM alerts GROUP BY rule, sensor)";

const KINDS: readonly AlertKind[] = ["raise", "clear"];

/** `value` as a member of `list`, typed, without a cast; a foreign value (newer writer?) is an error. */
function member<T extends string>(
  file: string,
  list: readonly T[],
  value: string,
  what: string,
): T {
  const found = list.find((item) => item === value);
  if (found === undefined) {
    throw new StoreError(
      ERROR_CODES.db.unknownValue,
      file,
      `unknown ${what} "${value}" in the database: was it written by a newer sensord?`,
    );
  }
  return found;
}

export function toNewAlert(file: string, row: AlertRow): NewAlert {
  return {
    seq: row.seq,
    readingSeq: row.reading_seq,
    rule: row.rule,
    sensor: row.sensor,
    gas: member(file, GASES, row.gas, "gas"),
    kind: member(file, KINDS, row.kind, "alert kind"),
    value: row.value,
    unit: member(file, UNITS, row.unit, "unit"),
    threshold: row.threshold,
    op: member(file, OPS, row.op, "comparison"),
    severity: member(file, SEVERITIES, row.severity, "severity"),
    tsMs: row.ts,
  };
}

export function toAlertEvent(file: string, prefix: string, row: AlertRow): AlertEvent {
  const alert = toNewAlert(file, row);
  return {
    id: alertId(prefix, alert.seq),
    readingId: readingId(prefix, alert.readingSeq),
    rule: alert.rule,
    sensor: alert.sensor,
    gas: alert.gas,
    kind: alert.kind,
    value: alert.value,
    unit: alert.unit,
    threshold: alert.threshold,
    op: alert.op,
    severity: alert.severity,
    ts: new Date(alert.tsMs).toISOString(),
  };
}

export function toReading(file: string, prefix: string, row: ReadingRow): Reading {
  return {
    id: readingId(prefix, row.seq),
    sensor: row.sensor,
    gas: member(file, GASES, row.gas, "gas"),
    value: row.value,
    unit: member(file, UNITS, row.unit, "unit"),
    ts: new Date(row.ts).toISOString(),
    flags: READING_FLAGS.filter((flag) => (row.flags & FLAG_BITS[flag]) !== 0),
  };
}
