import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { openStoreReader } from "../../daemon/store/reader.js";
import { openStore } from "../../daemon/store/store.js";
import { alertId, newIdPrefix, parseId, readingId } from "../../schemas/ids.js";
import {
  alert,
  emptyStoreBytes,
  memoryLogger,
  readings,
  removeDatabase,
  tempDir,
} from "./helpers.js";

describe("id helpers", () => {
  test("a prefix is 10 lowercase base32 characters and differs between calls", () => {
    const prefixes = new Set(Array.from({ length: 200 }, () => newIdPrefix()));
    expect(prefixes.size).toBe(200);
    for (const prefix of prefixes) expect(prefix).toMatch(/^[a-z2-7]{10}$/);
  });

  test("ids encode the seq in base 36 and parse back", () => {
    expect(readingId("abcdefgh23", 1)).toBe("abcdefgh23-r1");
    expect(readingId("abcdefgh23", 36)).toBe("abcdefgh23-r10");
    expect(alertId("abcdefgh23", 1295)).toBe("abcdefgh23-azz");
    expect(parseId("abcdefgh23-r10")).toEqual({ prefix: "abcdefgh23", kind: "reading", seq: 36 });
    expect(parseId("abcdefgh23-azz")).toEqual({ prefix: "abcdefgh23", kind: "alert", seq: 1295 });
    const big = Number.MAX_SAFE_INTEGER;
    expect(parseId(readingId("abcdefgh23", big))).toEqual({
      prefix: "abcdefgh23",
      kind: "reading",
      seq: big,
    });
  });

  test.each([
    "",
    "abcdefgh23",
    "abcdefgh23-r",
    "abcdefgh23-x1",
    "abcdefgh23-r0",
    "abcdefgh23-r01",
    "abcdefgh23-R1",
    "ABCDEFGH23-r1",
    "abcdefgh1-r1",
    "abcdefgh231-r1",
    "abcdefgh23-r1-",
    "abcdefgh23-r1zzzzzzzzzzzz",
  ])("parseId(%j) is null", (id) => {
    expect(parseId(id)).toBeNull();
  });
});

describe("ids of a store", () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  test("the prefix survives reopening and changes when the file is recreated", () => {
    const file = tmp.file();
    const first = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    const prefix = first.idPrefix;
    expect(prefix).toMatch(/^[a-z2-7]{10}$/);
    first.close();

    const again = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    expect(again.idPrefix).toBe(prefix);
    again.close();

    removeDatabase(file);
    const recreated = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    expect(recreated.idPrefix).toMatch(/^[a-z2-7]{10}$/);
    expect(recreated.idPrefix).not.toBe(prefix);
    recreated.close();
  });

  test("seqs continue after reopening", () => {
    const file = tmp.file();
    const store = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    expect(store.lastReadingSeq()).toBe(0);
    expect(store.lastAlertSeq()).toBe(0);
    store.commit(readings(0, 500), [alert(1, 10), alert(2, 20, { kind: "clear" })]);
    store.close();

    const reopened = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    expect(reopened.lastReadingSeq()).toBe(500);
    expect(reopened.lastAlertSeq()).toBe(2);
    reopened.commit(readings(500, 1), [alert(3, 501)]);
    reopened.close();

    const reader = openStoreReader(file);
    const [last] = reader.readings({ limit: 1 });
    expect(last?.id).toBe(readingId(reopened.idPrefix, 501));
    expect(reader.alerts({}).map((a) => a.id)).toEqual(
      [1, 2, 3].map((seq) => alertId(reopened.idPrefix, seq)),
    );
    reader.close();
  });

  test("seqs continue after retention deleted every reading, and old seqs are refused", () => {
    const file = tmp.file();
    // A cap below the size of the empty schema (whatever the page size): every
    // prune removes all readings.
    const empty = emptyStoreBytes(file);
    const tiny = openStore({ path: file, maxBytes: Math.floor(empty / 2), log: memoryLogger() });
    expect(tiny.commit(readings(0, 300), []).droppedReadings).toBe(300);
    expect(tiny.lastReadingSeq()).toBe(300);
    tiny.close();

    const reader = openStoreReader(file);
    expect(reader.readings({})).toEqual([]);
    reader.close();

    const store = openStore({ path: file, maxBytes: 1 << 20, log: memoryLogger() });
    expect(store.lastReadingSeq()).toBe(300);
    expect(() => store.commit(readings(299, 1), [])).toThrow(/seq 300 is not above 300/);
    store.commit(readings(300, 2), []);
    expect(store.lastReadingSeq()).toBe(302);
    store.close();

    const after = openStoreReader(file);
    expect(after.readings({}).map((r) => r.id)).toEqual([
      `${store.idPrefix}-r8d`,
      `${store.idPrefix}-r8e`,
    ]);
    after.close();
  });
});
