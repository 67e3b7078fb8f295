import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { openStore } from "../../cloud/store/open.js";
import { openPostgresStore, type PostgresStore } from "../../cloud/store/postgres/index.js";
import type { CloudStore, CsvRow, IngestRow, IngestUnit } from "../../cloud/store/types.js";
import { TooManyLinesError } from "../../cloud/store/types.js";
import { planBuckets } from "../../core/buckets.js";
import { seededRandom } from "../../daemon/drivers/sim.js";
import type { AlertBatch } from "../../schemas/alert-batch.js";
import { freePort } from "../support/mosquitto.js";
import { type PgCluster, startPgCluster } from "../support/postgres.js";

let cluster: PgCluster;
const opened: PostgresStore[] = [];

beforeAll(async () => {
  cluster = await startPgCluster();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  await cluster?.stop();
});

/** A fresh database and a store on it (closed after the test). */
async function freshStore(options: { poolSize?: number } = {}) {
  const url = await cluster.createDatabase();
  const store = await open(url, options);
  return { url, store, database: databaseOf(url) };
}

async function open(url: string, options: { poolSize?: number } = {}): Promise<PostgresStore> {
  const store = await openPostgresStore({ url, password: cluster.password, ...options });
  opened.push(store);
  return store;
}

function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

const ms = (iso: string): number => Date.parse(iso);

function row(id: string, ts: string | number, value: number, extra: Partial<IngestRow> = {}) {
  return {
    id,
    sensor: "gas0",
    gas: "co",
    value,
    unit: "ppm",
    ts: typeof ts === "number" ? ts : ms(ts),
    flags: "",
    sensorId: "",
    sensorType: "",
    ...extra,
  } satisfies IngestRow;
}

function unit(batchId: string, rows: IngestRow[], extra: Partial<IngestUnit> = {}): IngestUnit {
  return {
    format: "batch",
    batchId,
    device: "pi-1",
    group: "lab",
    gps: "",
    indexName: null,
    rows,
    ...extra,
  };
}

async function partitions(database: string): Promise<string[]> {
  const rows = await cluster.query<{ name: string }>(
    database,
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'readings'::regclass ORDER BY 1`,
  );
  return rows.map((found) => found.name);
}

function monthName(epochMs: number): string {
  const date = new Date(epochMs);
  return `readings_y${date.getUTCFullYear()}m${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
}

async function allCsv(store: CloudStore, query = {}): Promise<CsvRow[][]> {
  const pages: CsvRow[][] = [];
  for await (const page of store.csv(query)) pages.push(page);
  return pages;
}

const RECEIVED = ms("2026-03-01T12:00:00.000Z");

describe("migrations", () => {
  it("run once when two stores open a fresh database at the same time", async () => {
    const url = await cluster.createDatabase();
    const [first, second] = await Promise.all([open(url), open(url)]);
    expect(first.kind).toBe("postgres");
    expect(second.kind).toBe("postgres");
    const versions = await cluster.query(
      databaseOf(url),
      "SELECT version FROM schema_migrations ORDER BY version",
    );
    expect(versions).toEqual([{ version: 1 }, { version: 2 }]);
    // Both work on the schema the one migration made.
    await first.ingest(unit("b1", [row("r1", "2026-02-01T00:00:00.000Z", 1)]), null, RECEIVED);
    expect(await second.readings({ limit: 10 })).toHaveLength(1);
  });

  it("refuses a schema newer than the code and a database of something else", async () => {
    const { url, store, database } = await freshStore();
    await store.close();
    await cluster.query(database, "INSERT INTO schema_migrations (version) VALUES (99)");
    await expect(openPostgresStore({ url, password: cluster.password })).rejects.toMatchObject({
      code: "INGEST_PG_TOO_NEW",
      message: expect.stringContaining("schema version 99 is newer than this sensord-ingest knows"),
    });

    const other = await cluster.createDatabase();
    await cluster.query(databaseOf(other), "CREATE TABLE readings (x int)");
    await expect(
      openPostgresStore({ url: other, password: cluster.password }),
    ).rejects.toMatchObject({ code: "INGEST_PG_FOREIGN" });
  });
});

describe("ingest", () => {
  it("counts accepted and duplicates exactly, also inside one batch and under a new key", async () => {
    const { store } = await freshStore();
    const rows = [
      row("a", "2026-02-01T10:00:00.000Z", 1.5),
      row("b", "2026-02-01T10:00:01.000Z", 2.5, { flags: "warmup" }),
      row("a", "2026-02-01T10:00:00.000Z", 9),
      row("c", "2026-02-01T10:00:02.000Z", -3.25, { sensorId: "s-1", sensorType: "mics" }),
    ];
    const first = await store.ingest(unit("batch-1", rows), "key-1", RECEIVED);
    expect(first).toEqual({
      status: 200,
      body: '{"accepted":3,"duplicates":1,"batchId":"batch-1"}',
      replayed: false,
      accepted: 3,
      duplicates: 1,
    });
    const again = await store.ingest(unit("batch-1", rows), "key-2", RECEIVED);
    expect(again.body).toBe('{"accepted":0,"duplicates":4,"batchId":"batch-1"}');
    expect([again.accepted, again.duplicates, again.replayed]).toEqual([0, 4, false]);
    // Without a key nothing is replayed: the readings are deduplicated instead.
    const keyless = await store.ingest(unit("batch-2", rows.slice(0, 2)), null, RECEIVED);
    expect([keyless.accepted, keyless.duplicates]).toEqual([0, 2]);
    expect(await store.stats()).toEqual({
      readings: 3,
      duplicates: 7,
      batches: 3,
      scope: "process",
    });
    expect(await store.readings({ limit: 10 })).toEqual([
      {
        id: "a",
        device: "pi-1",
        group: "lab",
        sensor: "gas0",
        gas: "co",
        value: 1.5,
        unit: "ppm",
        ts: "2026-02-01T10:00:00.000Z",
        flags: [],
      },
      {
        id: "b",
        device: "pi-1",
        group: "lab",
        sensor: "gas0",
        gas: "co",
        value: 2.5,
        unit: "ppm",
        ts: "2026-02-01T10:00:01.000Z",
        flags: ["warmup"],
      },
      {
        id: "c",
        device: "pi-1",
        group: "lab",
        sensor: "gas0",
        gas: "co",
        value: -3.25,
        unit: "ppm",
        ts: "2026-02-01T10:00:02.000Z",
        flags: [],
        sensorId: "s-1",
        sensorType: "mics",
      },
    ]);
  });

  it("replays the first answer byte for byte under a known key and stores nothing", async () => {
    const { store } = await freshStore();
    const first = await store.ingest(
      unit("first", [row("x1", "2026-02-03T00:00:00.000Z", 1)], { gps: "37.5, 127.0" }),
      "same-key",
      RECEIVED,
    );
    const second = await store.ingest(
      unit("second", [row("x2", "2026-02-03T00:00:01.000Z", 2)]),
      "same-key",
      RECEIVED,
    );
    expect(second).toEqual({ ...first, replayed: true, accepted: 0, duplicates: 0 });
    expect(second.body).toBe('{"accepted":1,"duplicates":0,"batchId":"first"}');
    expect(await store.replay("same-key")).toEqual({
      status: 200,
      body: first.body,
      replayed: true,
    });
    expect(await store.replay("other-key")).toBeNull();
    expect((await store.readings({ limit: 10 })).map((reading) => reading.id)).toEqual(["x1"]);
    expect((await store.readings({ limit: 10 }))[0]?.gps).toBe("37.5, 127.0");
    expect((await store.stats()).batches).toBe(1);
  });

  it("processes a key once when two processes race for it", async () => {
    const { url, store: first, database } = await freshStore();
    const second = await open(url);
    const keys = Array.from({ length: 20 }, (_, index) => `race-${index}`);
    const outcomes = await Promise.all(
      keys.map(async (key, index) => {
        const rows = Array.from({ length: 50 }, (_, n) =>
          row(`${key}-${n}`, ms("2026-02-05T00:00:00.000Z") + index * 1000 + n, n),
        );
        return Promise.all([
          first.ingest(unit(`batch-${key}`, rows), key, RECEIVED),
          second.ingest(unit(`batch-${key}`, rows), key, RECEIVED),
        ]);
      }),
    );
    for (const pair of outcomes) {
      expect(pair.map((outcome) => outcome.replayed).sort()).toEqual([false, true]);
      expect(pair[0]?.body).toBe(pair[1]?.body);
      expect(JSON.parse(pair[0]?.body ?? "")).toMatchObject({ accepted: 50, duplicates: 0 });
    }
    const [stored] = await cluster.query<{ readings: number; batches: number }>(
      database,
      "SELECT (SELECT count(*)::int FROM readings) AS readings, (SELECT count(*)::int FROM batches) AS batches",
    );
    expect(stored).toEqual({ readings: 1000, batches: 20 });
    const processed = (await first.stats()).batches + (await second.stats()).batches;
    expect(processed).toBe(20);
  });

  it("round-trips reading times to the millisecond", async () => {
    const { store } = await freshStore();
    const times = [
      "2025-12-31T23:59:59.999Z",
      "2026-01-01T00:00:00.001Z",
      "2026-01-01T00:00:00.000Z",
      "2026-02-28T12:34:56.789Z",
    ];
    await store.ingest(
      unit(
        "times",
        times.map((ts, index) => row(`t${index}`, ts, index)),
      ),
      null,
      RECEIVED,
    );
    const readings = await store.readings({ limit: 10 });
    expect(readings.map((reading) => reading.ts)).toEqual([...times].sort());
    const csv = (await allCsv(store)).flat();
    expect(csv.map((line) => line.ts)).toEqual([...times].sort().map(ms));
    // Bounds are exact too: from inclusive, to exclusive.
    const window = await store.readings({
      fromMs: ms("2025-12-31T23:59:59.999Z"),
      toMs: ms("2026-01-01T00:00:00.001Z"),
      limit: 10,
    });
    expect(window.map((reading) => reading.id)).toEqual(["t0", "t2"]);
  });
});

describe("partitions and retention", () => {
  it("creates one partition per month a batch touches, also two years back", async () => {
    const { store, database } = await freshStore();
    const now = Date.now();
    const twoYearsBack = now - 2 * 365 * 86_400_000;
    await store.ingest(
      unit("months", [
        row("m1", "2021-01-31T23:59:59.999Z", 1),
        row("m2", "2021-02-01T00:00:00.000Z", 2),
        row("m3", "2021-03-15T08:00:00.000Z", 3),
      ]),
      null,
      now,
    );
    await store.ingest(unit("old", [row("old", twoYearsBack, 4)]), null, now);
    const names = await partitions(database);
    for (const name of [
      "readings_y2021m01",
      "readings_y2021m02",
      "readings_y2021m03",
      monthName(twoYearsBack),
      monthName(now),
    ]) {
      expect(names).toContain(name);
    }
    const [counted] = await cluster.query<{ n: number }>(
      database,
      "SELECT (SELECT count(*) FROM readings_y2021m01) + (SELECT count(*) FROM readings_y2021m02) + (SELECT count(*) FROM readings_y2021m03) AS n",
    );
    expect(Number(counted?.n)).toBe(3);
    const old = await store.readings({ fromMs: twoYearsBack, toMs: twoYearsBack + 1, limit: 5 });
    expect(old.map((reading) => [reading.id, reading.ts])).toEqual([
      ["old", new Date(twoYearsBack).toISOString()],
    ]);
  });

  it("drops exactly the months before the cutoff and reports their rows", async () => {
    const { store, database } = await freshStore();
    const batch = (name: string, month: string, count: number, receivedAt: number) =>
      store.ingest(
        unit(
          name,
          Array.from({ length: count }, (_, n) =>
            row(`${name}-${n}`, ms(`${month}-10T00:00:00.000Z`) + n, n),
          ),
        ),
        null,
        receivedAt,
      );
    await batch("nov", "2020-11", 3, ms("2020-11-10T01:00:00.000Z"));
    await batch("dec", "2020-12", 5, ms("2020-12-10T01:00:00.000Z"));
    await batch("jan", "2021-01", 7, ms("2021-01-10T01:00:00.000Z"));
    await batch("feb", "2021-02", 2, ms("2021-02-10T01:00:00.000Z"));
    const alert = (id: string, ts: string) => alertEvent(id, ts);
    await store.addAlerts(
      {
        schema: "sensord.alerts.v1",
        device: { id: "pi-1", group: "lab" },
        alerts: [alert("e1", "2020-12-31T00:00:00.000Z"), alert("e2", "2021-01-15T00:00:00.000Z")],
      },
      RECEIVED,
    );
    const before = await partitions(database);

    const outcome = await store.prune(ms("2021-01-15T00:00:00.000Z"));
    // November and December end before the cutoff; January (ends Feb 1) stays whole.
    // Requests are kept while their month may hold readings (from Jan 1), less a day.
    expect(outcome).toEqual({ readings: 8, alerts: 1, batches: 2 });
    expect(await partitions(database)).toEqual(
      before.filter((name) => name !== "readings_y2020m11" && name !== "readings_y2020m12"),
    );
    const left = await store.readings({ limit: 100 });
    expect(left).toHaveLength(9);
    expect(left[0]?.id).toBe("jan-0");
    expect((await store.alerts({ limit: 10 })).map((event) => event.id)).toEqual(["e2"]);

    // A second pass finds nothing more; a reading for a dropped month is taken again.
    expect(await store.prune(ms("2021-01-15T00:00:00.000Z"))).toEqual({
      readings: 0,
      alerts: 0,
      batches: 0,
    });
    await batch("late", "2020-12", 1, RECEIVED);
    expect((await store.readings({ limit: 1 }))[0]?.id).toBe("late-0");
  });

  it("lets two processes create the same new month at once", async () => {
    const { url, store: first, database } = await freshStore();
    const second = await open(url);
    const months = ["2019-05", "2019-06", "2019-07"];
    const outcomes = await Promise.all(
      months.flatMap((month) =>
        [first, second].map((store, index) =>
          store.ingest(
            unit(`${month}-${index}`, [row(`${month}-${index}`, `${month}-02T00:00:00.000Z`, 1)]),
            null,
            RECEIVED,
          ),
        ),
      ),
    );
    expect(outcomes.map((outcome) => outcome.accepted)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await partitions(database)).toEqual(
      expect.arrayContaining(["readings_y2019m05", "readings_y2019m06", "readings_y2019m07"]),
    );
  });

  it("recreates a month another process dropped while this one had it cached", async () => {
    const { url, store: writer } = await freshStore();
    const pruner = await open(url);
    await writer.ingest(unit("a", [row("a", "2019-03-01T00:00:00.000Z", 1)]), null, RECEIVED);
    expect(await pruner.prune(ms("2019-04-01T00:00:00.000Z"))).toMatchObject({ readings: 1 });
    const again = await writer.ingest(
      unit("b", [row("b", "2019-03-02T00:00:00.000Z", 2)]),
      null,
      RECEIVED,
    );
    expect(again.accepted).toBe(1);
    expect((await writer.readings({ limit: 5 })).map((reading) => reading.id)).toEqual(["b"]);
  });

  it("drops a month an interrupted pass detached but did not drop", async () => {
    const { store, database } = await freshStore();
    await store.ingest(
      unit("d", [
        row("d1", "2019-01-05T00:00:00.000Z", 1),
        row("d2", "2019-01-06T00:00:00.000Z", 2),
      ]),
      null,
      RECEIVED,
    );
    await cluster.query(database, "ALTER TABLE readings DETACH PARTITION readings_y2019m01");
    const blocked = await store
      .ingest(unit("e", [row("e1", "2019-01-07T00:00:00.000Z", 3)]), null, RECEIVED)
      .catch((error: unknown) => error);
    expect(blocked).toMatchObject({ code: "INGEST_PG_LEFTOVER" });
    expect(await store.prune(ms("2019-02-01T00:00:00.000Z"))).toMatchObject({ readings: 2 });
    const [table] = await cluster.query<{ found: string | null }>(
      database,
      "SELECT to_regclass('readings_y2019m01')::text AS found",
    );
    expect(table?.found).toBeNull();
    const retried = await store.ingest(
      unit("e", [row("e1", "2019-01-07T00:00:00.000Z", 3)]),
      null,
      RECEIVED,
    );
    expect(retried.accepted).toBe(1);
  });

  it("lets two processes prune at once without failing", async () => {
    const { url, store: first } = await freshStore();
    const second = await open(url);
    for (const month of ["2020-01", "2020-02", "2020-03", "2020-04"]) {
      await first.ingest(
        unit(month, [row(`r-${month}`, `${month}-05T00:00:00.000Z`, 1)]),
        null,
        RECEIVED,
      );
    }
    const cutoff = ms("2020-04-01T00:00:00.000Z");
    const outcomes = await Promise.all([first.prune(cutoff), second.prune(cutoff)]);
    const readings = outcomes.map((outcome) => outcome.readings);
    // Whichever ran dropped the three months; the other skipped or found nothing left.
    expect(readings.reduce((sum, n) => sum + n, 0)).toBe(3);
    expect(await first.readings({ limit: 10 })).toHaveLength(1);
  });
});

describe("connection", () => {
  it("keeps the password out of location, also one written into the URL", async () => {
    const { url, store } = await freshStore();
    expect(store.location).toBe(url);
    expect(store.location).not.toContain(cluster.password);
    const withPassword = url.replace(
      "sensord@",
      `sensord:${encodeURIComponent(cluster.password)}@`,
    );
    const fromUrl = await open(withPassword);
    expect(fromUrl.location).toBe(url);
    // --db-password-file wins over a (wrong) password in the URL.
    const overridden = await open(url.replace("sensord@", "sensord:not-it@"));
    expect(overridden.location).toBe(url);
  });

  it("takes the password from PGPASSWORD when none is given", async () => {
    const url = await cluster.createDatabase();
    const saved = process.env.PGPASSWORD;
    process.env.PGPASSWORD = cluster.password;
    try {
      const store = await openPostgresStore({ url });
      opened.push(store);
      expect(store.location).toBe(url);
    } finally {
      if (saved === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = saved;
    }
  });

  it("says how to fix a wrong password, without the password", async () => {
    const url = await cluster.createDatabase();
    const wrong = "wrong-secret-4242";
    for (const options of [
      { url, password: wrong },
      { url: url.replace("sensord@", `sensord:${wrong}@`) },
    ]) {
      const failure = await openPostgresStore(options).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ name: "PostgresStoreError", code: "INGEST_PG_AUTH" });
      const message = failure instanceof Error ? failure.message : "";
      expect(message).toContain(`database ${url}: password authentication failed`);
      expect(message).toContain("--db-password-file");
      expect(message).toContain("PGPASSWORD");
      expect(message).toContain(".pgpass");
      expect(message).not.toContain(wrong);
      expect(JSON.stringify(failure)).not.toContain(wrong);
    }
  });

  it("says a password is needed when none was found", async () => {
    const url = await cluster.createDatabase();
    const saved = { password: process.env.PGPASSWORD, file: process.env.PGPASSFILE };
    delete process.env.PGPASSWORD;
    process.env.PGPASSFILE = "/nonexistent/pgpass";
    try {
      await expect(openPostgresStore({ url })).rejects.toMatchObject({
        code: "INGEST_PG_AUTH",
        message: expect.stringContaining(
          'asks user "sensord" for a password and none was given: give the password with --db-password-file FILE, PGPASSWORD or ~/.pgpass',
        ),
      });
    } finally {
      for (const [name, value] of [
        ["PGPASSWORD", saved.password],
        ["PGPASSFILE", saved.file],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("names the fix for a missing database and for nothing listening", async () => {
    const missing = `postgres://sensord@127.0.0.1:${cluster.port}/no_such_db`;
    await expect(
      openPostgresStore({ url: missing, password: cluster.password }),
    ).rejects.toMatchObject({
      code: "INGEST_PG_NO_DATABASE",
      message: expect.stringContaining("createdb -O sensord no_such_db"),
    });
    const closedPort = await freePort();
    await expect(
      openPostgresStore({
        url: `postgres://sensord@127.0.0.1:${closedPort}/x`,
        password: cluster.password,
      }),
    ).rejects.toMatchObject({
      code: "INGEST_PG_UNREACHABLE",
      message: expect.stringContaining(`127.0.0.1:${closedPort}`),
    });
  });

  it("survives the server dropping its connections, idle or mid-download", async () => {
    const { store, database } = await freshStore();
    const start = ms("2026-02-10T00:00:00.000Z");
    await store.ingest(
      unit(
        "many",
        Array.from({ length: 3000 }, (_, n) => row(`k${n}`, start + n, n)),
      ),
      null,
      RECEIVED,
    );
    const download = store.csv({})[Symbol.asyncIterator]();
    expect((await download.next()).value).toHaveLength(2000);
    await cluster.query(
      database,
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    await expect(download.next()).rejects.toThrow();
    // The pool drops the dead connections (idle ones as their error arrives) and opens new ones.
    await vi.waitFor(() => expect(store.connections().total).toBe(0));
    expect(await store.readings({ limit: 1 })).toHaveLength(1);
    expect(store.connections().waiting).toBe(0);
  });

  it("ends a download held between pages when it closes", async () => {
    const { store } = await freshStore();
    const start = ms("2026-02-10T00:00:00.000Z");
    await store.ingest(
      unit(
        "many",
        Array.from({ length: 2500 }, (_, n) => row(`k${n}`, start + n, n)),
      ),
      null,
      RECEIVED,
    );
    const download = store.csv({})[Symbol.asyncIterator]();
    expect((await download.next()).value).toHaveLength(2000);
    await store.close();
    await expect(download.next()).rejects.toMatchObject({ code: "INGEST_PG_CLOSED" });
  });

  it("closes idempotently after the work in flight, then refuses work", async () => {
    const { store } = await freshStore();
    const pending = store.ingest(
      unit("late", [row("z", "2026-02-01T00:00:00.000Z", 1)]),
      null,
      RECEIVED,
    );
    const closing = store.close();
    expect((await pending).accepted).toBe(1);
    await closing;
    await store.close();
    await expect(store.readings({ limit: 1 })).rejects.toMatchObject({
      code: "INGEST_PG_CLOSED",
    });
  });
});

describe("queries", () => {
  it("streams the CSV in pages and releases the client when the consumer stops early", async () => {
    const { store, database } = await freshStore({ poolSize: 2 });
    const start = ms("2026-02-10T00:00:00.000Z");
    const rows = Array.from({ length: 4500 }, (_, n) =>
      row(`r${String(n).padStart(5, "0")}`, start + Math.floor(n / 2), n),
    );
    await store.ingest(unit("csv", rows), null, RECEIVED);
    const pages = await allCsv(store);
    expect(pages.map((page) => page.length)).toEqual([2000, 2000, 500]);
    const flat = pages.flat();
    expect(flat[0]).toEqual({
      id: "r00000",
      device: "pi-1",
      group: "lab",
      sensor: "gas0",
      gas: "co",
      value: 0,
      unit: "ppm",
      ts: start,
      flags: "",
    });
    expect(flat.map((line) => line.id)).toEqual(rows.map((reading) => reading.id));

    const idleBefore = store.connections().idle;
    let seen = 0;
    for await (const page of store.csv({ fromMs: start + 10 })) {
      seen += page.length;
      // The cursor holds one client while the consumer works on a page.
      expect(store.connections().idle).toBe(store.connections().total - 1);
      break;
    }
    expect(seen).toBe(2000);
    expect(store.connections()).toMatchObject({ idle: idleBefore, waiting: 0 });
    expect(store.connections().idle).toBe(store.connections().total);
    // Nothing was left open on the server either.
    const [open] = await cluster.query<{ n: number }>(
      database,
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'",
    );
    expect(open?.n).toBe(0);
  });

  it("answers series with exact min/max/count per bucket, lines merged over sensor ids", async () => {
    const { store } = await freshStore();
    const from = ms("2026-02-01T00:00:00.000Z");
    await store.ingest(
      unit("s", [
        row("a1", from, 1),
        row("a2", from + 999, 5, { sensorId: "old-board" }),
        row("a3", from + 1000, -2),
        row("a4", from + 2500, 4),
        row("b1", from + 10, 7, { gas: "no2", unit: "ppb" }),
        row("out", from + 3000, 100),
      ]),
      null,
      RECEIVED,
    );
    const plan = planBuckets(from, from + 3000, 3);
    expect(await store.series({ plan })).toEqual([
      {
        device: "pi-1",
        group: "lab",
        sensor: "gas0",
        gas: "co",
        unit: "ppm",
        t: [from, from + 1000, from + 2000],
        min: [1, -2, 4],
        max: [5, -2, 4],
        avg: [3, -2, 4],
        count: [2, 1, 1],
      },
      {
        device: "pi-1",
        group: "lab",
        sensor: "gas0",
        gas: "no2",
        unit: "ppb",
        t: [from],
        min: [7],
        max: [7],
        avg: [7],
        count: [1],
      },
    ]);
    expect(await store.series({ plan, gas: "so2" })).toEqual([]);
  });

  it("refuses more than 400 lines, counting lines without readings in range", async () => {
    const { store } = await freshStore();
    const rows = Array.from({ length: 401 }, (_, n) =>
      row(`l${n}`, "2026-02-01T00:00:00.000Z", n, { sensor: `s${n}` }),
    );
    await store.ingest(unit("lines", rows), null, RECEIVED);
    const plan = planBuckets(ms("2030-01-01T00:00:00.000Z"), ms("2030-01-02T00:00:00.000Z"), 10);
    const failure = await store.series({ plan }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TooManyLinesError);
    expect(failure).toMatchObject({ lines: 401 });
  });

  it("summarises devices by their newest reading at most a day ahead", async () => {
    const { store } = await freshStore();
    const now = ms("2026-02-10T00:00:00.000Z");
    await store.ingest(
      unit("p1", [row("p1-a", "2026-02-09T00:00:00.000Z", 1)], { gps: "1, 2" }),
      null,
      ms("2026-02-09T00:00:05.000Z"),
    );
    await store.ingest(
      unit("p1b", [row("p1-b", "2026-02-09T12:00:00.000Z", 1, { gas: "no2", unit: "ppb" })], {
        group: "field",
      }),
      null,
      ms("2026-02-09T12:00:07.000Z"),
    );
    // A clock gone wrong: three days ahead, not this device's "last reading".
    await store.ingest(
      unit("p1c", [row("p1-c", "2026-02-13T00:00:00.000Z", 1)], { gps: "9, 9" }),
      null,
      now,
    );
    await store.ingest(
      unit("p2", [row("p2-a", "2026-02-08T00:00:00.000Z", 1)], { device: "Pi-2", gps: "3, 4" }),
      null,
      ms("2026-02-08T00:01:00.000Z"),
    );
    expect(await store.devices({}, now)).toEqual([
      {
        device: "pi-1",
        group: "field",
        lastReadingAt: "2026-02-09T12:00:00.000Z",
        lastSeenAt: "2026-02-09T12:00:07.000Z",
        gases: ["co", "no2"],
      },
      {
        device: "Pi-2",
        group: "lab",
        gps: "3, 4",
        lastReadingAt: "2026-02-08T00:00:00.000Z",
        lastSeenAt: "2026-02-08T00:01:00.000Z",
        gases: ["co"],
      },
    ]);
    expect((await store.devices({ gas: "no2" }, now)).map((device) => device.device)).toEqual([
      "pi-1",
    ]);
    expect((await store.devices({ group: "lab" }, now))[0]).toMatchObject({
      device: "pi-1",
      gps: "1, 2",
      lastReadingAt: "2026-02-09T00:00:00.000Z",
    });
  });

  it("stores alert events once per device and lists them newest first", async () => {
    const { store } = await freshStore();
    const batch: AlertBatch = {
      schema: "sensord.alerts.v1",
      device: { id: "pi-1", group: "lab", gps: "1, 2" },
      alerts: [
        alertEvent("e1", "2026-02-01T00:00:00.001Z"),
        alertEvent("e2", "2026-02-01T00:00:05.000Z"),
        alertEvent("e1", "2026-02-01T00:00:00.001Z"),
      ],
    };
    expect(await store.addAlerts(batch, RECEIVED)).toEqual({
      accepted: 2,
      duplicates: 1,
      storedIds: ["e1", "e2"],
    });
    expect(await store.addAlerts(batch, RECEIVED)).toEqual({
      accepted: 0,
      duplicates: 3,
      storedIds: [],
    });
    // The same event id from another device is another event.
    const other = { ...batch, device: { id: "pi-0", group: "lab" }, alerts: [batch.alerts[1]] };
    expect(await store.addAlerts(other as AlertBatch, RECEIVED)).toEqual({
      accepted: 1,
      duplicates: 0,
      storedIds: ["e2"],
    });
    const listed = await store.alerts({ limit: 10 });
    expect(listed.map((event) => [event.device, event.id])).toEqual([
      ["pi-1", "e2"],
      ["pi-0", "e2"],
      ["pi-1", "e1"],
    ]);
    expect(listed[2]).toEqual({
      ...alertEvent("e1", "2026-02-01T00:00:00.001Z"),
      device: "pi-1",
      group: "lab",
      gps: "1, 2",
    });
    expect(listed[1]).not.toHaveProperty("gps");
    expect(
      (
        await store.alerts({ fromMs: ms("2026-02-01T00:00:00.001Z"), toMs: RECEIVED, limit: 1 })
      ).map((event) => event.id),
    ).toEqual(["e2"]);
  });
});

describe("parity with the SQLite store", () => {
  it("gives the same answers for the same requests", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sensord-parity-"));
    try {
      const sqlite = await openStore({ db: join(dir, "ingest.db") });
      const { store: postgres } = await freshStore();
      const random = seededRandom(11);
      const start = ms("2026-01-31T20:00:00.000Z");
      // Mixed case and non-ASCII ids: both stores order bytes, not locale rules.
      const senders = [
        { device: "pi-a", group: "lab", gps: "37.5, 127.0" },
        { device: "Pi-b", group: "lab", gps: "" },
        { device: "pi-a", group: "field", gps: "" },
        { device: "ß-dev", group: 'g"x', gps: "1, 2" },
      ];
      const gases = ["co", "no2", "h2"];
      let next = 0;
      for (let b = 0; b < 24; b++) {
        const sender = senders[b % senders.length] ?? senders[0];
        const rows: IngestRow[] = [];
        for (let i = 0; i < 150; i++) {
          // Some readings sent again, as a retried upload would.
          const k = random() < 0.1 && next > 0 ? Math.floor(random() * next) : next++;
          rows.push(
            row(`${sender?.device}-${k}`, start + k * 997, Math.round(random() * 1e6) / 997, {
              sensor: k % 5 === 0 ? "gas1" : "gas0",
              gas: gases[k % 3],
              unit: k % 7 === 0 ? "" : "ppm",
              flags: k % 11 === 0 ? "warmup,degraded" : "",
              sensorId: k % 4 === 0 ? "sid-1" : "",
              sensorType: k % 6 === 0 ? "mics" : "",
            }),
          );
        }
        const request = unit(`batch-${b}`, rows, {
          ...sender,
          format: b % 5 === 0 ? "original" : "batch",
          indexName: b % 3 === 0 ? "idx" : null,
        });
        const key = b % 4 === 0 ? null : `key-${b % 10}`;
        const receivedAt = start + b * 60_000;
        expect(await postgres.ingest(request, key, receivedAt)).toEqual(
          await sqlite.ingest(request, key, receivedAt),
        );
      }
      const alerts: AlertBatch = {
        schema: "sensord.alerts.v1",
        device: { id: "pi-a", group: "lab", gps: "37.5, 127.0" },
        alerts: [
          alertEvent("e1", "2026-02-01T00:00:00.000Z"),
          alertEvent("e2", "2026-02-01T00:00:00.000Z"),
          alertEvent("e1", "2026-02-01T00:00:00.000Z"),
        ],
      };
      expect(await postgres.addAlerts(alerts, RECEIVED)).toEqual(
        await sqlite.addAlerts(alerts, RECEIVED),
      );
      // Both started empty, so this process's counts are the database's.
      expect({ ...(await postgres.stats()), scope: "database" }).toEqual(await sqlite.stats());
      const end = start + next * 997;
      for (const filter of [
        {},
        { device: "pi-a" },
        { group: "lab", gas: "no2" },
        { group: 'g"x' },
      ]) {
        for (const [fromMs, toMs] of [
          [undefined, undefined],
          [start + 99_999, end - 123_457],
        ]) {
          const query = { ...filter, fromMs, toMs };
          expect(await postgres.readings({ ...query, limit: 5000 })).toEqual(
            await sqlite.readings({ ...query, limit: 5000 }),
          );
          expect(await postgres.readings({ ...query, sensor: "gas1", limit: 7 })).toEqual(
            await sqlite.readings({ ...query, sensor: "gas1", limit: 7 }),
          );
          expect((await allCsv(postgres, query)).flat()).toEqual(
            (await allCsv(sqlite, query)).flat(),
          );
          expect(await postgres.alerts({ ...query, limit: 10 })).toEqual(
            await sqlite.alerts({ ...query, limit: 10 }),
          );
        }
        for (const plan of [planBuckets(start, end, 1), planBuckets(start + 12_345, end, 700)]) {
          const expected = await sqlite.series({ ...filter, plan });
          const lines = await postgres.series({ ...filter, plan });
          // Sums may be added up in another order: avg can differ in the last bits only.
          expect(lines.map((line) => ({ ...line, avg: [] }))).toEqual(
            expected.map((line) => ({ ...line, avg: [] })),
          );
          for (const [index, line] of lines.entries()) {
            for (const [bucket, avg] of line.avg.entries()) {
              expect(avg).toBeCloseTo(expected[index]?.avg[bucket] ?? Number.NaN, 9);
            }
          }
        }
        for (const nowMs of [start, end]) {
          expect(await postgres.devices(filter, nowMs)).toEqual(
            await sqlite.devices(filter, nowMs),
          );
        }
      }
      await sqlite.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function alertEvent(id: string, ts: string): AlertBatch["alerts"][number] {
  return {
    id,
    readingId: `reading-${id}`,
    rule: "co>=35ppm:warning",
    sensor: "gas0",
    gas: "co",
    kind: "raise",
    value: 40.5,
    unit: "ppm",
    threshold: 35,
    op: ">=",
    severity: "warning",
    ts,
  };
}
