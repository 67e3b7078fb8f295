import type { Gas, Unit } from "../../schemas/vocabulary.js";
import type { NewReading, ReadingStore } from "../store/types.js";
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

  /** `store`, noting each successful commit's readings. */
  watch(store: ReadingStore): ReadingStore {
    return {
      idPrefix: store.idPrefix,
      lastReadingSeq: () => store.lastReadingSeq(),
      lastAlertSeq: () => store.lastAlertSeq(),
      commit: (readings, alerts) => {
        const result = store.commit(readings, alerts);
        this.observe(readings);
        for (const alert of alerts) this.alerts[alert.kind]++;
        return result;
      },
      activeAlarms: () => store.activeAlarms(),
      droppedReadingsTotal: () => store.droppedReadingsTotal(),
      close: () => store.close(),
    };
  }
}
