import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { StoreError } from "../../core/errors.js";
import { openStoreReader } from "../../daemon/store/reader.js";
import { openStore } from "../../daemon/store/store.js";
import { catchError, memoryLogger, readings, tempDir } from "./helpers.js";

describe("corrupt or missing database", () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  function movedAside(): string[] {
    return fs.readdirSync(tmp.dir).filter((name) => name.startsWith("sensord.db.corrupt-"));
  }

  /** Opens over a damaged file and checks it was kept, reported and replaced by a working store. */
  function expectRecovered(file: string, original: Buffer, sideNote = ""): void {
    const log = memoryLogger();
    const store = openStore({ path: file, maxBytes: 1 << 20, log });
    const [moved, ...others] = movedAside().filter((name) => name.endsWith("Z"));
    expect(others).toEqual([]);
    expect(moved).toMatch(/^sensord\.db\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/);
    const movedPath = path.join(tmp.dir, moved ?? "");
    expect(fs.readFileSync(movedPath).equals(original)).toBe(true);

    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]?.level).toBe("error");
    expect(log.lines[0]?.message).toContain(`database ${file} is corrupt`);
    expect(log.lines[0]?.message).toContain(`moved it aside to ${movedPath}${sideNote}`);
    expect(log.lines[0]?.message).toContain(`created a fresh database at ${file}`);

    expect(store.lastReadingSeq()).toBe(0);
    store.commit(readings(0, 3), []);
    store.close();
    const reader = openStoreReader(file);
    expect(reader.readings({}).map((r) => r.id)).toEqual(
      ["r1", "r2", "r3"].map((suffix) => `${store.idPrefix}-${suffix}`),
    );
    reader.close();
  }

  test("a file of random bytes is moved aside and replaced", () => {
    const file = tmp.file();
    const garbage = randomBytes(64 * 1024);
    fs.writeFileSync(file, garbage);
    expectRecovered(file, garbage, " and created");
  });

  test("a database with garbage over pages in the middle is moved aside as found, with its WAL", () => {
    const live = tmp.file("live.db");
    const store = openStore({ path: live, maxBytes: 64 << 20, log: memoryLogger() });
    for (let seq = 0; seq < 20_000; seq += 1000) store.commit(readings(seq, 1000), []);
    store.close();
    const reopened = openStore({ path: live, maxBytes: 64 << 20, log: memoryLogger() });
    reopened.commit(readings(20_000, 100), []);
    // Copy while open: the state a killed daemon leaves, recent commits only in the -wal.
    const file = tmp.file();
    for (const suffix of ["", "-wal", "-shm"]) fs.copyFileSync(live + suffix, file + suffix);
    reopened.close();
    const bytes = fs.readFileSync(file);
    const wal = fs.readFileSync(`${file}-wal`);
    expect(bytes.length).toBeGreaterThan(100 * 4096);
    expect(wal.length).toBeGreaterThan(4096);
    // Pages 40..59 hold readings; the header and schema stay intact.
    randomBytes(20 * 4096).copy(bytes, 40 * 4096);
    fs.writeFileSync(file, bytes);

    expectRecovered(file, bytes, " (with its -wal, -shm files) ");
    const sideFiles = movedAside().filter((name) => name.endsWith("-wal") || name.endsWith("-shm"));
    expect(sideFiles.map((name) => name.slice(-4)).sort()).toEqual(["-shm", "-wal"]);
    const movedWal = sideFiles.find((name) => name.endsWith("-wal")) ?? "";
    expect(fs.readFileSync(path.join(tmp.dir, movedWal)).equals(wal)).toBe(true);
  });

  test("the reader reports a corrupt file without moving it", () => {
    const file = tmp.file();
    fs.writeFileSync(file, randomBytes(8192));
    const error = catchError(() => openStoreReader(file));
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "SENSORD_DB_CORRUPT", path: file });
    expect(String(error)).toContain("sensord moves it aside at its next start");
    expect(movedAside()).toEqual([]);
  });

  test("the reader on a missing file says what to check, and creates nothing", () => {
    const file = path.join(tmp.dir, "var", "sensord.db");
    const error = catchError(() => openStoreReader(file));
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "SENSORD_DB_MISSING", path: file });
    expect(String(error)).toContain(
      `database ${file}: no database at this path: has sensord run with this config?`,
    );
    expect(fs.readdirSync(tmp.dir)).toEqual([]);
  });

  test("the reader on an empty file says sensord has not set it up", () => {
    const file = tmp.file();
    fs.writeFileSync(file, "");
    expect(catchError(() => openStoreReader(file))).toMatchObject({ code: "SENSORD_DB_EMPTY" });
  });

  test("the writer creates missing parent directories", () => {
    const file = path.join(tmp.dir, "a", "b", "sensord.db");
    const store = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    store.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(10);
    db.close();
  });

  test("an unwritable location is a StoreError, not a move-aside", () => {
    const blocker = path.join(tmp.dir, "not-a-dir");
    fs.writeFileSync(blocker, "x");
    const error = catchError(() =>
      openStore({ path: path.join(blocker, "sensord.db"), maxBytes: 1 << 20, log: memoryLogger() }),
    );
    expect(error).toMatchObject({ code: "SENSORD_DB_OPEN" });
    expect(String(error)).toContain("cannot create its directory");
    expect(fs.readFileSync(blocker, "utf8")).toBe("x");
  });
});
