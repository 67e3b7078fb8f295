import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describeError, ERROR_CODES, StoreError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { assertNotTooNew, LATEST_VERSION, migrate } from "./migrations.js";

export interface OpenOptions {
  log: Logger;
  /** sensorctl: never creates, migrates or moves anything; fails with an actionable StoreError. */
  readonly?: boolean;
}

/** Long enough to ride out a checkpoint or a sensorctl query, short enough to surface a stuck lock. */
export const BUSY_TIMEOUT_MS = 5000;
/**
 * Checkpoint every 4 MiB of WAL (4096 pages of PAGE_SIZE_BYTES): pages
 * rewritten between checkpoints reach the database file once, not per commit.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 4096;
/** Truncate the WAL back to this after a checkpoint, so a long-lived reader cannot leave it huge. */
export const JOURNAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;
/** See openChecked: bytes written per commit, not lookup speed, is what wears an SD card. */
export const PAGE_SIZE_BYTES = 1024;

/** Files SQLite keeps next to a database; all belong to the same state and move together. */
const SIDE_FILES = ["-wal", "-shm", "-journal"] as const;

export function openDatabase(file: string, options: OpenOptions): Database.Database {
  return options.readonly ? openReadonly(file) : openWritable(file, options.log);
}

function openWritable(file: string, log: Logger): Database.Database {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  } catch (error) {
    throw new StoreError(
      ERROR_CODES.db.open,
      file,
      `cannot create its directory: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  try {
    return openChecked(file);
  } catch (error) {
    const reason = corruptionReason(error);
    if (reason === null) throw asStoreError(file, error);
    // A corrupt file must not stop sampling (or crash-loop the service): keep
    // it for forensics under a new name and start over with an empty one.
    const moved = moveAside(file);
    const side =
      moved.sideFiles.length > 0 ? ` (with its ${moved.sideFiles.join(", ")} files)` : "";
    log.error(
      `database ${file} is corrupt (${reason}); moved it aside to ${moved.target}${side} ` +
        `and created a fresh database at ${file}`,
    );
    try {
      return openChecked(file);
    } catch (retryError) {
      throw asStoreError(file, retryError);
    }
  }
}

/**
 * better-sqlite3 sets a 16 MiB page cache per connection. sensord appends at
 * the end of the readings and reads the upload queue in order, so a small
 * cache holds the pages it touches again; the rest is the OS's page cache.
 */
const CACHE_KIB = 2048;

/** Verifies, opens and migrates; closes the handle again on any failure. */
function openChecked(file: string): Database.Database {
  if (fs.existsSync(file)) probe(file);
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Takes effect only while the file is still empty (a new database): every
    // commit appends at least one whole page to the WAL, so at 4 readings per
    // 1 s flush a 1 KiB page writes a quarter of what the 4 KiB default does.
    db.pragma(`page_size = ${PAGE_SIZE_BYTES}`);
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") {
      throw new StoreError(
        ERROR_CODES.db.open,
        file,
        `cannot use WAL mode (got ${String(mode)}): is it on a network or read-only filesystem?`,
      );
    }
    // WAL + NORMAL: no fsync per commit (SD-card wear); a power cut can lose the
    // last commits but never corrupts the file.
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = OFF");
    // Zeroing deleted rows would double the writes retention causes.
    db.pragma("secure_delete = OFF");
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    db.pragma(`cache_size = -${CACHE_KIB}`);
    migrate(db);
    return db;
  } catch (error) {
    closeQuietly(db);
    throw error;
  }
}

/**
 * Integrity and version check of an existing file, before anything writes to
 * it. Catching corruption here, not in the middle of a commit, is what lets us
 * move the file aside and carry on. The connection is read-only because a
 * read-only close never checkpoints or deletes the -wal: a corrupt file and
 * its side files are moved aside exactly as the crash left them.
 */
function probe(file: string): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") {
      throw new StoreError(ERROR_CODES.db.corrupt, file, `quick_check: ${String(check)}`);
    }
    // A newer sensord's file is refused before any write, even of the journal mode.
    assertNotTooNew(db);
  } finally {
    closeQuietly(db);
  }
}

function openReadonly(file: string): Database.Database {
  if (!fs.existsSync(file)) {
    throw new StoreError(
      ERROR_CODES.db.missing,
      file,
      "no database at this path: has sensord run with this config? (sensorctl reads storage.path from it)",
    );
  }
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const version = assertNotTooNew(db, "sensorctl");
    if (version === 0) {
      throw new StoreError(
        ERROR_CODES.db.empty,
        file,
        "has no tables yet: has sensord run with this config?",
      );
    }
    if (version < LATEST_VERSION) {
      throw new StoreError(
        ERROR_CODES.db.old,
        file,
        `schema version ${version} is older than this sensorctl reads (${LATEST_VERSION}): ` +
          "start the new sensord once, it upgrades the file",
      );
    }
    return db;
  } catch (error) {
    if (db !== null) closeQuietly(db);
    const reason = corruptionReason(error);
    if (reason !== null && !(error instanceof StoreError)) {
      throw new StoreError(
        ERROR_CODES.db.corrupt,
        file,
        `is not a readable SQLite database (${reason}); sensord moves it aside at its next start`,
        { cause: error },
      );
    }
    throw asStoreError(file, error);
  }
}

/** Why `error` means the file itself is damaged, or null for any other failure (permissions, disk full, ...). */
export function corruptionReason(error: unknown): string | null {
  if (error instanceof StoreError)
    return error.code === ERROR_CODES.db.corrupt ? error.message : null;
  if (error instanceof Database.SqliteError) {
    // SQLITE_CORRUPT has extended variants (SQLITE_CORRUPT_INDEX, ...); NOTADB is "file is not a database".
    if (error.code.startsWith("SQLITE_CORRUPT") || error.code === "SQLITE_NOTADB") {
      return `${error.code}: ${error.message}`;
    }
  }
  return null;
}

function asStoreError(file: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError(ERROR_CODES.db.open, file, `cannot open: ${describeError(error)}`, {
    cause: error,
  });
}

/** Renames `file` (and its side files) to `<file>.corrupt-<time>`; returns the new path. */
function moveAside(file: string): { target: string; sideFiles: string[] } {
  const sideFiles: string[] = [];
  const stamp = new Date().toISOString().replaceAll(":", "-");
  let target = `${file}.corrupt-${stamp}`;
  // Two corruptions within one millisecond must not overwrite the first copy.
  for (let n = 1; fs.existsSync(target); n++) target = `${file}.corrupt-${stamp}-${n}`;
  try {
    fs.renameSync(file, target);
    // A leftover -journal or -wal next to the fresh file would be replayed into it.
    for (const suffix of SIDE_FILES) {
      if (!fs.existsSync(file + suffix)) continue;
      fs.renameSync(file + suffix, target + suffix);
      sideFiles.push(suffix);
    }
  } catch (error) {
    throw new StoreError(
      ERROR_CODES.db.corrupt,
      file,
      `is corrupt and could not be moved aside to ${target}: ${describeError(error)}; ` +
        "move or delete it by hand",
      { cause: error },
    );
  }
  return { target, sideFiles };
}

function closeQuietly(db: Database.Database): void {
  try {
    db.close();
  } catch {
    // Already failing; the original error is the one worth reporting.
  }
}
