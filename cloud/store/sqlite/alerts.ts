import type Database from "better-sqlite3";
import type { AlertBatch } from "../../../schemas/alert-batch.js";
import { type AlertRow, toStoredAlert } from "../rows.js";
import type { AlertFilter, AlertOutcome, StoredAlert } from "../types.js";

export interface SqliteAlerts {
  add(batch: AlertBatch, receivedAt: number): AlertOutcome;
  list(filter: AlertFilter): StoredAlert[];
}

export function sqliteAlerts(db: Database.Database): SqliteAlerts {
  const insert = db.prepare<unknown[]>(
    `INSERT INTO alerts (id, device, group_id, gps, reading_id, rule, sensor, gas, kind, value, unit,
       threshold, op, severity, ts, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const add = db.transaction((batch: AlertBatch, receivedAt: number) => {
    const storedIds: string[] = [];
    for (const alert of batch.alerts) {
      const { changes } = insert.run(
        alert.id,
        batch.device.id,
        batch.device.group,
        batch.device.gps ?? "",
        alert.readingId,
        alert.rule,
        alert.sensor,
        alert.gas,
        alert.kind,
        alert.value,
        alert.unit,
        alert.threshold,
        alert.op,
        alert.severity,
        Date.parse(alert.ts),
        receivedAt,
      );
      if (changes > 0) storedIds.push(alert.id);
    }
    const accepted = storedIds.length;
    return { accepted, duplicates: batch.alerts.length - accepted, storedIds };
  });
  return {
    add: (batch, receivedAt) => add(batch, receivedAt),
    list(filter) {
      const where: string[] = [];
      const params: unknown[] = [];
      for (const [name, column] of [
        ["device", "device"],
        ["group", "group_id"],
        ["gas", "gas"],
      ] as const) {
        const value = filter[name];
        if (value === undefined) continue;
        where.push(`${column} = ?`);
        params.push(value);
      }
      if (filter.fromMs !== undefined) {
        where.push("ts >= ?");
        params.push(filter.fromMs);
      }
      if (filter.toMs !== undefined) {
        where.push("ts < ?");
        params.push(filter.toMs);
      }
      params.push(filter.limit);
      return db
        .prepare<unknown[], AlertRow>(
          `SELECT * FROM alerts ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
           ORDER BY ts DESC, device DESC, id DESC LIMIT ?`,
        )
        .all(...params)
        .map(toStoredAlert);
    },
  };
}
