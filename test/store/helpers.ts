import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import type { Logger, LogLevel } from "../../core/logger.js";
import { usedBytes } from "../../daemon/store/retention.js";
import { openStore } from "../../daemon/store/store.js";
import type { NewAlert, NewReading } from "../../schemas/records.js";

export interface LogLine {
  level: LogLevel;
  message: string;
}

/** A Logger that keeps every line, so tests can assert what an operator would read. */
export function memoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const push = (level: LogLevel) => (message: string) => {
    lines.push({ level, message });
  };
  const logger: Logger & { lines: LogLine[] } = {
    lines,
    error: push("error"),
    warn: push("warn"),
    info: push("info"),
    debug: push("debug"),
    child: () => logger,
    setLevel: () => {},
  };
  return logger;
}

/** A fresh temp directory per test; `cleanup()` removes it. */
export function tempDir(): { dir: string; file: (name?: string) => string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sensord-store-"));
  return {
    dir,
    file: (name = "sensord.db") => path.join(dir, name),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export const T0 = Date.UTC(2026, 10, 26, 10, 40, 36, 123);

export function reading(seq: number, overrides: Partial<NewReading> = {}): NewReading {
  return {
    seq,
    sensor: "gas0",
    gas: "co",
    value: seq / 4,
    unit: "ppm",
    tsMs: T0 + seq * 1000,
    flags: 0,
    sensorId: null,
    sensorType: null,
    ...overrides,
  };
}

/** `count` readings with seqs after `after`. */
export function readings(after: number, count: number, overrides: Partial<NewReading> = {}) {
  return Array.from({ length: count }, (_, i) => reading(after + i + 1, overrides));
}

export function alert(
  seq: number,
  readingSeq: number,
  overrides: Partial<NewAlert> = {},
): NewAlert {
  return {
    seq,
    readingSeq,
    rule: "co>=35ppm:warning",
    sensor: "gas0",
    gas: "co",
    kind: "raise",
    value: 40.5,
    unit: "ppm",
    threshold: 35,
    op: ">=",
    severity: "warning",
    tsMs: T0 + readingSeq * 1000,
    ...overrides,
  };
}

/**
 * Commit frames in the current WAL generation (see sqlite.org/fileformat2.html#walformat):
 * a frame header's second word is non-zero only on the last frame of a transaction.
 */
export function walCommits(dbFile: string): number {
  const wal = `${dbFile}-wal`;
  if (!fs.existsSync(wal)) return 0;
  const buf = fs.readFileSync(wal);
  if (buf.length < 32) return 0;
  const pageSize = buf.readUInt32BE(8);
  const salt1 = buf.readUInt32BE(16);
  const salt2 = buf.readUInt32BE(20);
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= buf.length; at += 24 + pageSize) {
    // Frames left over from an earlier generation carry other salts: the log ends there.
    if (buf.readUInt32BE(at + 8) !== salt1 || buf.readUInt32BE(at + 12) !== salt2) break;
    if (buf.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}

/** Removes a database and its side files, as a user deleting it would. */
export function removeDatabase(file: string): void {
  for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(file + suffix, { force: true });
}

/** What `fn` threw; fails the test when it returns normally. */
export function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

/** Bytes in live pages, measured from a separate connection (sees only committed state). */
export function usedBytesOf(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return usedBytes(db);
  } finally {
    db.close();
  }
}

/** Page size of the database at `file`: the granularity of every size the store measures. */
export function pageSizeOf(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return Number(db.pragma("page_size", { simple: true }));
  } finally {
    db.close();
  }
}

/**
 * Live bytes of a store freshly created at `file` (schema and meta, no rows), so
 * caps can be set relative to what this build's page size really needs.
 */
export function emptyStoreBytes(file: string): number {
  openStore({ path: file, maxBytes: 1 << 30, log: memoryLogger() }).close();
  return usedBytesOf(file);
}
