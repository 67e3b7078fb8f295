import type Database from "better-sqlite3";
import type { Logger } from "../../core/logger.js";
import { getMetaInt, META, type MetaKey, setMetaInt } from "./meta.js";

/** Prune down to this share of the cap, so the next prune is a while away (hysteresis). */
export const PRUNE_TARGET = 0.9;
/**
 * Upper bounds of what one row adds to the file, used only to decide when to
 * measure again. Overestimating means measuring early, never overshooting:
 * a reading is ~30 bytes (rowid, series, ts, value, flags, cell pointer),
 * an alert ~150 plus its (rule, seq) index entry.
 */
const READING_BYTES_BOUND = 48;
const ALERT_BYTES_BOUND = 320;
/**
 * Rows per DELETE: enough to free whole pages (~40 readings fit a 1 KiB page),
 * few enough to measure progress often. Alerts are rarer and precious: finer steps.
 */
const MIN_READING_CHUNK = 256;
const MIN_ALERT_CHUNK = 8;
const MAX_CHUNK = 50_000;

export interface PruneResult {
  droppedReadings: number;
  /** Of `droppedReadings`, those every sink had already acknowledged (no data lost). */
  droppedUploaded: number;
  droppedAlerts: number;
  usedBytes: number;
}

export interface RetentionOptions {
  db: Database.Database;
  maxBytes: number;
  log: Logger;
}

/** Highest seqs committed so far; written to `meta` before deleting, so seqs never repeat. */
export interface SeqHighWater {
  reading: number;
  alert: number;
}

/** Bytes in pages that hold data: the file never shrinks (no VACUUM: wear), freed pages get reused. */
export function usedBytes(db: Database.Database): number {
  const pages = pragmaInt(db, "page_count") - pragmaInt(db, "freelist_count");
  return pages * pragmaInt(db, "page_size");
}

function pragmaInt(db: Database.Database, name: string): number {
  const value = db.pragma(name, { simple: true });
  return typeof value === "number" ? value : 0;
}

interface Bounds {
  lo: number | null;
  hi: number | null;
}

/**
 * Keeps the database under `maxBytes`. `afterCommit` is called after every
 * commit but only measures the file (three PRAGMAs) once the rows added since
 * the last measurement could, by upper estimate, have used half the headroom.
 */
export class Retention {
  private readonly db: Database.Database;
  private readonly maxBytes: number;
  private readonly log: Logger;
  private addedBound = 0;
  /** 0: measure at the first commit (the cap may have been lowered since the last run). */
  private measureAfter = 0;
  private readonly watermark: Database.Statement<[], { seq: number | null }>;
  private readonly readingBounds: Database.Statement<[], Bounds>;
  private readonly alertBounds: Database.Statement<[], Bounds>;
  private readonly deleteReadings: Database.Statement<[number, number]>;
  private readonly deleteAlerts: Database.Statement<[number]>;

  constructor(options: RetentionOptions) {
    this.db = options.db;
    this.maxBytes = options.maxBytes;
    this.log = options.log;
    const db = this.db;
    // No sync_cursor rows means no sink has acknowledged anything yet.
    this.watermark = db.prepare("SELECT MIN(acked_seq) AS seq FROM sync_cursor");
    this.readingBounds = db.prepare("SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM readings");
    this.alertBounds = db.prepare("SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM alerts");
    this.deleteReadings = db.prepare(
      "DELETE FROM readings WHERE seq IN (SELECT seq FROM readings WHERE seq <= ? ORDER BY seq LIMIT ?)",
    );
    this.deleteAlerts = db.prepare(
      "DELETE FROM alerts WHERE seq IN (SELECT seq FROM alerts ORDER BY seq LIMIT ?)",
    );
  }

  /** Returns null when no measurement was due. Must run outside the commit's transaction. */
  afterCommit(readings: number, alerts: number, highWater: SeqHighWater): PruneResult | null {
    this.addedBound += readings * READING_BYTES_BOUND + alerts * ALERT_BYTES_BOUND;
    if (this.addedBound < this.measureAfter) return null;
    const result = this.prune(highWater);
    this.addedBound = 0;
    const headroom = this.maxBytes - result.usedBytes;
    // Half the headroom, but not less than 1% of the cap, or a file sitting just
    // under the cap would be measured at every commit.
    this.measureAfter = Math.max(Math.floor(headroom / 2), Math.floor(this.maxBytes / 100), 4096);
    return result;
  }

  prune(highWater: SeqHighWater): PruneResult {
    const used = usedBytes(this.db);
    if (used <= this.maxBytes) {
      return { droppedReadings: 0, droppedUploaded: 0, droppedAlerts: 0, usedBytes: used };
    }
    const before = this.readingBounds.get() ?? { lo: null, hi: null };
    const result = this.db.transaction(() => this.pruneInTransaction(highWater)).immediate();
    this.report(used, before, result);
    return result;
  }

  private pruneInTransaction(highWater: SeqHighWater): PruneResult {
    const target = Math.floor(this.maxBytes * PRUNE_TARGET);
    setMetaInt(this.db, META.readingSeqHighWater, highWater.reading);
    const uploadedUpTo = this.watermark.get()?.seq ?? 0;
    let droppedReadings = 0;
    let droppedUploaded = 0;
    let used = usedBytes(this.db);
    // Uploaded readings are a seq prefix, so oldest-first drops them first; the
    // two passes only exist to count how many dropped readings were never uploaded.
    let bound = uploadedUpTo;
    while (used > target) {
      const { lo, hi } = this.readingBounds.get() ?? { lo: null, hi: null };
      if (lo === null || hi === null) break;
      const deleted = this.deleteReadings.run(
        bound,
        chunk(used - target, used, hi - lo + 1, MIN_READING_CHUNK),
      ).changes;
      if (bound === uploadedUpTo) droppedUploaded += deleted;
      droppedReadings += deleted;
      if (deleted === 0) bound = Number.MAX_SAFE_INTEGER;
      used = usedBytes(this.db);
    }
    let droppedAlerts = 0;
    // Alerts go only when the cap cannot be met with zero readings left.
    if (used > this.maxBytes && (this.readingBounds.get()?.lo ?? null) === null) {
      setMetaInt(this.db, META.alertSeqHighWater, highWater.alert);
      while (used > target) {
        const { lo, hi } = this.alertBounds.get() ?? { lo: null, hi: null };
        if (lo === null || hi === null) break;
        droppedAlerts += this.deleteAlerts.run(
          chunk(used - target, used, hi - lo + 1, MIN_ALERT_CHUNK),
        ).changes;
        used = usedBytes(this.db);
      }
    }
    addMetaInt(this.db, META.droppedReadingsTotal, droppedReadings);
    addMetaInt(this.db, META.droppedAlertsTotal, droppedAlerts);
    return { droppedReadings, droppedUploaded, droppedAlerts, usedBytes: used };
  }

  /** One line per prune (never per row): what went, and whether any of it was never uploaded. */
  private report(usedBefore: number, before: Bounds, result: PruneResult): void {
    const total = getMetaInt(this.db, META.droppedReadingsTotal);
    const after = this.readingBounds.get()?.lo ?? null;
    const lastDropped = after === null ? before.hi : after - 1;
    const range = result.droppedReadings > 0 ? ` (seq ${before.lo}..${lastDropped})` : "";
    this.log.warn(
      `storage over its ${this.maxBytes} byte cap (${usedBefore} bytes used): dropped the ` +
        `${result.droppedReadings} oldest readings${range}: ${result.droppedUploaded} already ` +
        `uploaded, ${result.droppedReadings - result.droppedUploaded} never uploaded; ` +
        `${total} dropped in total, ${result.usedBytes} bytes used now`,
    );
    if (result.droppedAlerts > 0) {
      this.log.error(
        `storage cap of ${this.maxBytes} bytes cannot be met even with no readings left: ` +
          `dropped the ${result.droppedAlerts} oldest alert events; raise storage.max_bytes`,
      );
    }
  }
}

/** Rows to delete for `excess` bytes, using the average row size (an overestimate: it loops). */
function chunk(excess: number, used: number, rows: number, min: number): number {
  const rowBytes = used / Math.max(1, rows);
  return Math.min(MAX_CHUNK, Math.max(min, Math.ceil(excess / rowBytes)));
}

function addMetaInt(db: Database.Database, key: MetaKey, n: number): void {
  if (n > 0) setMetaInt(db, key, getMetaInt(db, key) + n);
}
