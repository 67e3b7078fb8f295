import type Database from "better-sqlite3";

/** Keys of the `meta` table. Values are TEXT; numbers are stored in decimal. */
export const META = {
  idPrefix: "id_prefix",
  /** Highest reading seq ever committed; written only when retention deletes readings. */
  readingSeqHighWater: "reading_seq_hwm",
  /** Highest alert seq ever committed; written only when retention deletes alerts. */
  alertSeqHighWater: "alert_seq_hwm",
  droppedReadingsTotal: "dropped_readings_total",
  droppedAlertsTotal: "dropped_alerts_total",
} as const;

export type MetaKey = (typeof META)[keyof typeof META];

export function getMeta(db: Database.Database, key: MetaKey): string | null {
  const row = db
    .prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?")
    .get(key);
  return row?.value ?? null;
}

export function setMeta(db: Database.Database, key: MetaKey, value: string): void {
  db.prepare<[string, string]>(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(key, value);
}

/** A counter or seq from `meta`; 0 when absent or unparsable (a damaged counter must not block startup). */
export function getMetaInt(db: Database.Database, key: MetaKey): number {
  const value = Number(getMeta(db, key) ?? "0");
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

export function setMetaInt(db: Database.Database, key: MetaKey, value: number): void {
  setMeta(db, key, String(value));
}
