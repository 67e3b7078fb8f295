import type { NewAlert, NewReading } from "../../schemas/records.js";
import type { Gas, Unit } from "../../schemas/vocabulary.js";
import type { LastValue } from "./status.js";

/**
 * The newest committed value per (sensor, gas), for `sensorctl status`,
 * kept by watching commits: asking the database would scan the readings
 * table, which has no index but its rowid (SD-card wear, store/migrations.ts).
 */
export class LastValues {
  /** Alert events committed during this run, by kind (for /metrics). */
  readonly alerts = { raise: 0, clear: 0 };
  private readonly latest = new Map<
    string,
    Map<Gas, { value: number; unit: Unit; tsMs: number }>
  >();

  observe(readings: readonly NewReading[]): void {
    for (const reading of readings) {
      let bySensor = this.latest.get(reading.sensor);
      if (bySensor === undefined) {
        bySensor = new Map();
        this.latest.set(reading.sensor, bySensor);
      }
      bySensor.set(reading.gas, { value: reading.value, unit: reading.unit, tsMs: reading.tsMs });
    }
  }

  of(sensor: string, nowMs: number): LastValue[] {
    return [...(this.latest.get(sensor) ?? new Map()).entries()].map(([gas, last]) => ({
      gas,
      value: last.value,
      unit: last.unit,
      ts: new Date(last.tsMs).toISOString(),
      ageMs: Math.max(0, nowMs - last.tsMs),
    }));
  }

  /** A successful commit's readings and alerts (a CommitListener, see SqliteStore.onCommit). */
  record(readings: readonly NewReading[], alerts: readonly NewAlert[]): void {
    this.observe(readings);
    for (const alert of alerts) this.alerts[alert.kind]++;
  }
}
