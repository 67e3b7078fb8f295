import type Database from "better-sqlite3";
import type { MqttOutbox, QueuedAlert } from "../../sync/mqtt/outbox.js";
import { ALERT_COLUMNS, type AlertRow, toAlertEvent } from "./rows.js";

/**
 * The alerts table is the outbox (events are committed with their reading,
 * so nothing is written twice); `mqtt_cursor` holds what the broker acked.
 * Runs on the daemon's own connection: every query is a primary-key range.
 */
export class SqliteMqttOutbox implements MqttOutbox {
  private readonly insert: Database.Statement<[string, number]>;
  private readonly select: Database.Statement<[string], { seq: number }>;
  private readonly update: Database.Statement<[number, string]>;
  private readonly rows: Database.Statement<[number, number], AlertRow>;
  private readonly count: Database.Statement<[number], { n: number }>;

  constructor(
    db: Database.Database,
    private readonly idPrefix: string,
    private readonly file: string,
  ) {
    this.insert = db.prepare(
      "INSERT OR IGNORE INTO mqtt_cursor (topic, delivered_seq) VALUES (?, ?)",
    );
    this.select = db.prepare("SELECT delivered_seq AS seq FROM mqtt_cursor WHERE topic = ?");
    // MAX: a watermark never goes back, even if two relays raced on one topic.
    this.update = db.prepare(
      "UPDATE mqtt_cursor SET delivered_seq = MAX(delivered_seq, ?) WHERE topic = ?",
    );
    this.rows = db.prepare(
      `SELECT ${ALERT_COLUMNS} FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?`,
    );
    this.count = db.prepare("SELECT COUNT(*) AS n FROM alerts WHERE seq > ?");
  }

  watermark(topic: string, startSeq: number): number {
    this.insert.run(topic, startSeq);
    return this.select.get(topic)?.seq ?? startSeq;
  }

  after(after: number, limit: number): QueuedAlert[] {
    return this.rows
      .all(after, limit)
      .map((row) => ({ seq: row.seq, event: toAlertEvent(this.file, this.idPrefix, row) }));
  }

  countAfter(after: number): number {
    return this.count.get(after)?.n ?? 0;
  }

  setWatermark(topic: string, seq: number): void {
    this.update.run(seq, topic);
  }
}
