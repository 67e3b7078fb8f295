import type Database from "better-sqlite3";
import type {
  AlertUploadQueue,
  AlertUploadStats,
  QuarantinedAlerts,
  QueuedAlertUpload,
} from "../../sync/alerts-queue.js";
import { ALERT_COLUMNS, type AlertRow, toAlertEvent } from "./rows.js";

/** Quarantined batches listed in status, newest first; the rest are still counted. */
const LISTED_QUARANTINE = 20;

interface QuarantineRow {
  lo: number;
  hi: number;
  alerts: number;
  batch_id: string;
  status: number;
  reason: string;
  at: number;
}

/**
 * AlertUploadQueue over sensord's database (migrations 7 and 9), on the
 * daemon's own connection or a read-only one (sensorctl status while sensord
 * is down). Every query is a primary-key range.
 */
export class SqliteAlertUploadQueue implements AlertUploadQueue {
  private readonly selectWatermark: Database.Statement<[string], { seq: number }>;
  private readonly upsertWatermark: Database.Statement<[string, number]>;
  private readonly rows: Database.Statement<[string, number], AlertRow>;
  private readonly count: Database.Statement<[string], { n: number }>;

  constructor(
    private readonly db: Database.Database,
    private readonly idPrefix: string,
    private readonly file: string,
    /** Whose watermark and quarantine these are (the output's name): each output keeps its own. */
    private readonly sink: string,
  ) {
    const watermark = "COALESCE((SELECT acked_seq FROM alert_upload WHERE sink = ?), 0)";
    this.selectWatermark = db.prepare("SELECT acked_seq AS seq FROM alert_upload WHERE sink = ?");
    // MAX: the watermark never goes back.
    this.upsertWatermark = db.prepare(
      "INSERT INTO alert_upload (sink, acked_seq) VALUES (?, ?) " +
        "ON CONFLICT (sink) DO UPDATE SET acked_seq = MAX(acked_seq, excluded.acked_seq)",
    );
    this.rows = db.prepare(
      `SELECT ${ALERT_COLUMNS} FROM alerts WHERE seq > ${watermark} ORDER BY seq LIMIT ?`,
    );
    this.count = db.prepare(`SELECT COUNT(*) AS n FROM alerts WHERE seq > ${watermark}`);
  }

  pending(limit: number): QueuedAlertUpload[] {
    return this.rows.all(this.sink, limit).map((row) => {
      const event = toAlertEvent(this.file, this.idPrefix, row);
      const json = JSON.stringify(event);
      return { seq: row.seq, id: event.id, json, bytes: Buffer.byteLength(json) };
    });
  }

  /** The watermark: events with seq at or below it were taken or quarantined. */
  watermark(): number {
    return this.selectWatermark.get(this.sink)?.seq ?? 0;
  }

  markUploaded(lastSeq: number): void {
    this.upsertWatermark.run(this.sink, lastSeq);
  }

  quarantine(
    batch: { firstSeq: number; lastSeq: number; alerts: number },
    info: { batchId: string; status: number; reason: string },
  ): void {
    this.db
      .transaction(() => {
        this.db
          .prepare(
            "INSERT OR REPLACE INTO alert_quarantine (sink, lo, hi, alerts, batch_id, status, reason, at) " +
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          )
          .run(
            this.sink,
            batch.firstSeq,
            batch.lastSeq,
            batch.alerts,
            info.batchId,
            info.status,
            info.reason,
            Date.now(),
          );
        this.upsertWatermark.run(this.sink, batch.lastSeq);
      })
      .immediate();
  }

  quarantined(): QuarantinedAlerts[] {
    return this.db
      .prepare<[string, number], QuarantineRow>(
        "SELECT lo, hi, alerts, batch_id, status, reason, at FROM alert_quarantine WHERE sink = ? ORDER BY lo DESC LIMIT ?",
      )
      .all(this.sink, LISTED_QUARANTINE)
      .map((row) => ({
        batchId: row.batch_id,
        alerts: row.alerts,
        firstSeq: row.lo,
        lastSeq: row.hi,
        status: row.status,
        reason: row.reason,
        atMs: row.at,
      }));
  }

  stats(): AlertUploadStats {
    const quarantine = this.db
      .prepare<[string], { batches: number; alerts: number | null }>(
        "SELECT COUNT(*) AS batches, SUM(alerts) AS alerts FROM alert_quarantine WHERE sink = ?",
      )
      .get(this.sink);
    return {
      pending: this.count.get(this.sink)?.n ?? 0,
      quarantinedBatches: quarantine?.batches ?? 0,
      quarantinedAlerts: quarantine?.alerts ?? 0,
    };
  }
}
