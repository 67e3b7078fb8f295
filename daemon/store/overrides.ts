import type Database from "better-sqlite3";
import { ERROR_CODES, StoreError } from "../../core/errors.js";
import type { ThresholdRule } from "../../schemas/config-types.js";
import { GASES, OPS, SEVERITIES, type Severity, UNITS } from "../../schemas/names.js";

/** Where a rule sits: a [[thresholds]] rule replaces a preset rule of the same slot, and an override replaces both. */
export interface RuleSlot {
  gas: ThresholdRule["gas"];
  severity: Severity;
  /** null: every sensor. */
  sensor: string | null;
}

/** A rule set with `sensorctl threshold set`, or (rule null) the slot's rules removed with `threshold rm`. */
export interface ThresholdOverride {
  slot: RuleSlot;
  rule: ThresholdRule | null;
  updatedAtMs: number;
}

interface OverrideRow {
  gas: string;
  severity: string;
  sensor: string;
  removed: number;
  op: string | null;
  value: number | null;
  unit: string | null;
  clear: number | null;
  for_ms: number | null;
  updated_at: number;
}

const COLUMNS = "gas, severity, sensor, removed, op, value, unit, clear, for_ms, updated_at";

/**
 * The `threshold_overrides` table (migration 6) over an open connection: the
 * daemon's own while it runs, sensorctl's when it is down. Writes are single
 * statements, so each is atomic on its own.
 */
export class ThresholdOverrideTable {
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
  ) {}

  list(): ThresholdOverride[] {
    return this.db
      .prepare<[], OverrideRow>(
        `SELECT ${COLUMNS} FROM threshold_overrides ORDER BY updated_at, gas, severity, sensor`,
      )
      .all()
      .map((row) => this.toOverride(row));
  }

  put(override: ThresholdOverride): void {
    const { slot, rule } = override;
    this.db
      .prepare(
        `INSERT OR REPLACE INTO threshold_overrides (${COLUMNS}) VALUES ` +
          "(@gas, @severity, @sensor, @removed, @op, @value, @unit, @clear, @for_ms, @updated_at)",
      )
      .run({
        gas: slot.gas,
        severity: slot.severity,
        sensor: slot.sensor ?? "",
        removed: rule === null ? 1 : 0,
        op: rule?.op ?? null,
        value: rule?.value ?? null,
        unit: rule?.unit ?? null,
        clear: rule?.clear ?? null,
        for_ms: rule?.forMs ?? null,
        updated_at: override.updatedAtMs,
      });
  }

  /** True when there was an override for `slot`. */
  delete(slot: RuleSlot): boolean {
    const result = this.db
      .prepare("DELETE FROM threshold_overrides WHERE gas = ? AND severity = ? AND sensor = ?")
      .run(slot.gas, slot.severity, slot.sensor ?? "");
    return result.changes > 0;
  }

  private toOverride(row: OverrideRow): ThresholdOverride {
    const gas = GASES.find((known) => known === row.gas);
    const severity = SEVERITIES.find((known) => known === row.severity);
    if (gas === undefined || severity === undefined) throw this.corrupt(row);
    const slot: RuleSlot = { gas, severity, sensor: row.sensor === "" ? null : row.sensor };
    if (row.removed === 1) return { slot, rule: null, updatedAtMs: row.updated_at };
    const op = OPS.find((known) => known === row.op);
    const unit = row.unit === null ? null : UNITS.find((known) => known === row.unit);
    if (op === undefined || unit === undefined || row.value === null) throw this.corrupt(row);
    return {
      slot,
      rule: {
        ...slot,
        op,
        value: row.value,
        unit,
        clear: row.clear,
        forMs: row.for_ms ?? 0,
      },
      updatedAtMs: row.updated_at,
    };
  }

  private corrupt(row: OverrideRow): StoreError {
    return new StoreError(
      ERROR_CODES.db.corrupt,
      this.file,
      `threshold override ${row.gas}:${row.severity} holds values this sensord does not know; ` +
        `remove it with \`sensorctl threshold reset ${row.gas} --severity ${row.severity}\``,
    );
  }
}
