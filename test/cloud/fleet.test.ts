import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openIngestDatabase } from "../../cloud/store/sqlite/db.js";
import { seriesQuery } from "../../cloud/store/sqlite/series.js";
import { bucketOf, planBuckets } from "../../core/buckets.js";
import type { BatchReading } from "../../schemas/batch.js";
import { makeTempDir } from "../support/processes.js";
import {
  alertPair,
  deviceReadings,
  type FleetDevice,
  uploadAlerts,
  uploadReadings,
} from "./fleet-fixtures.js";
import { get, STORE_KINDS, useIngestServer } from "./helpers.js";

const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);

describe("bucket plan", () => {
  it("cuts a range into at most `width` whole-millisecond buckets covering it exactly once", () => {
    expect(planBuckets(0, 7 * 86_400_000, 1000)).toEqual({
      fromMs: 0,
      toMs: 604_800_000,
      bucketMs: 604_800,
      count: 1000,
    });
    // 10 ms over 3 buckets: 4 ms each, the last one short.
    const plan = planBuckets(100, 110, 3);
    expect(plan).toMatchObject({ bucketMs: 4, count: 3 });
    expect([100, 103, 104, 107, 108, 109, 110, 99].map((ts) => bucketOf(plan, ts))).toEqual([
      0, 0, 1, 1, 2, 2, -1, -1,
    ]);
    // Narrower range than width: 1 ms buckets, never 0.
    expect(planBuckets(0, 5, 1000)).toMatchObject({ bucketMs: 1, count: 5 });
    expect(() => planBuckets(10, 10, 5)).toThrow(RangeError);
    expect(() => planBuckets(0, 10, 0)).toThrow(RangeError);
  });
});

/** What the test sent, with who sent it: the expectations are computed from this, not from a database. */
interface Sent extends BatchReading {
  device: string;
  group: string;
}

async function upload(url: string, device: FleetDevice, readings: BatchReading[], sent: Sent[]) {
  await uploadReadings(url, device, readings);
  for (const reading of readings) sent.push({ ...reading, device: device.id, group: device.group });
}

/** A fleet of three devices over two groups; one device's name needs CSV quoting. */
async function fillFleet(url: string): Promise<Sent[]> {
  const sent: Sent[] = [];
  // Irregular steps (1.7 s, 1.3 s) so buckets hold different counts.
  await upload(
    url,
    { id: "pi-a", group: "1", gps: "37.5, 127.0" },
    deviceReadings("pi-a", ["co", "no2"], T0, 1700, 3000, 1),
    sent,
  );
  await upload(
    url,
    { id: "pi-b", group: "2" },
    deviceReadings("pi-b", ["co"], T0 + 999, 1300, 2500, 2),
    sent,
  );
  await upload(
    url,
    { id: 'pi,"c"', group: "2" },
    deviceReadings("pi-c", ["h2"], T0 - 120_000, 700, 400, 3),
    sent,
  );
  return sent;
}

interface SeriesJson {
  bucketMs: number;
  buckets: number;
  lines: Array<{
    device: string;
    group: string;
    sensor: string;
    gas: string;
    unit: string;
    t: number[];
    min: number[];
    max: number[];
    avg: number[];
    count: number[];
  }>;
}

describe.each(STORE_KINDS)("fleet queries on %s", (kind) => {
  const start = useIngestServer(kind);

  it("GET /readings/series: exact min, max and count and the average of every bucket, checked against what was sent", async () => {
    const server = await start();
    const sent = await fillFleet(server.url);
    const fromMs = T0 - 60_000;
    const toMs = T0 + 3000 * 1700 - 7;
    const width = 137;
    const answer = (await get(
      server.url,
      `/readings/series?from=${fromMs}&to=${toMs}&width=${width}`,
    )) as { status: number; json: SeriesJson };
    expect(answer.status).toBe(200);
    // The documented rule, computed here rather than with the product's own planBuckets.
    const bucketMs = Math.ceil((toMs - fromMs) / width);
    expect(answer.json).toMatchObject({ bucketMs, buckets: Math.ceil((toMs - fromMs) / bucketMs) });
    const expected = new Map<string, Map<number, number[]>>();
    for (const reading of sent) {
      const ts = Date.parse(reading.ts);
      if (ts < fromMs || ts >= toMs) continue;
      const key = `${reading.device}|${reading.group}|${reading.sensor}|${reading.gas}|${reading.unit}`;
      const buckets = expected.get(key) ?? new Map<number, number[]>();
      const start = fromMs + Math.floor((ts - fromMs) / bucketMs) * bucketMs;
      buckets.set(start, [...(buckets.get(start) ?? []), reading.value]);
      expected.set(key, buckets);
    }
    // Lines ordered by gas, device, sensor, unit, group.
    expect(
      answer.json.lines.map(
        (line) => `${line.device}|${line.group}|${line.sensor}|${line.gas}|${line.unit}`,
      ),
    ).toEqual([
      "pi-a|1|gas0|co|ppm",
      "pi-b|2|gas0|co|ppm",
      'pi,"c"|2|gas0|h2|ppm',
      "pi-a|1|gas0|no2|ppb",
    ]);
    let buckets = 0;
    for (const line of answer.json.lines) {
      const want =
        expected.get(`${line.device}|${line.group}|${line.sensor}|${line.gas}|${line.unit}`) ??
        new Map();
      const starts = [...want.keys()].sort((x, y) => x - y);
      expect(line.t).toEqual(starts);
      expect(line.min).toEqual(starts.map((t) => Math.min(...(want.get(t) ?? []))));
      expect(line.max).toEqual(starts.map((t) => Math.max(...(want.get(t) ?? []))));
      expect(line.count).toEqual(starts.map((t) => (want.get(t) ?? []).length));
      starts.forEach((t, k) => {
        const values = want.get(t) ?? [];
        expect(line.avg[k]).toBeCloseTo(
          values.reduce((sum: number, value: number) => sum + value, 0) / values.length,
          9,
        );
      });
      buckets += starts.length;
    }
    expect(buckets).toBeGreaterThan(300);

    // Filters are applied server-side.
    const group2 = (await get(server.url, `/readings/series?from=${fromMs}&to=${toMs}&group=2`))
      .json as SeriesJson;
    expect(group2.lines.map((line) => line.device)).toEqual(["pi-b", 'pi,"c"']);
    const no2 = (await get(server.url, `/readings/series?from=${fromMs}&to=${toMs}&gas=no2`))
      .json as SeriesJson;
    expect(no2.lines.map((line) => `${line.device}/${line.gas}`)).toEqual(["pi-a/no2"]);
    const none = (await get(server.url, `/readings/series?from=${toMs + 1}&to=${toMs + 1000}`))
      .json as SeriesJson;
    expect(none.lines).toEqual([]);
  });

  it("GET /readings/series refuses unknown parameters, bad widths and backwards ranges with 400 naming the parameter", async () => {
    const server = await start();
    for (const [query, param] of [
      ["widht=5", "widht"],
      ["width=0", "width"],
      ["width=99999", "width"],
      ["from=2026-11-26T10:00:00Z&to=2026-11-26T09:00:00Z", "to"],
      ["from=yesterday", "from"],
    ] as const) {
      const answer = await get(server.url, `/readings/series?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.json).toMatchObject({ code: "INGEST_BAD_PARAM", param });
    }
  });

  it("GET /readings.csv streams exactly the readings of [from, to), oldest first, every column, with no row cap", async () => {
    const server = await start();
    const sent = await fillFleet(server.url);
    // Data lies on both sides of the range, so a CSV ignoring from/to cannot pass.
    const fromMs = T0 + 1000;
    const toMs = T0 + 2000 * 1700;
    expect(sent.some((reading) => Date.parse(reading.ts) < fromMs)).toBe(true);
    expect(sent.some((reading) => Date.parse(reading.ts) >= toMs)).toBe(true);
    const response = await fetch(`${server.url}/readings.csv?from=${fromMs}&to=${toMs}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const quote = (field: string): string =>
      /[",]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
    const rows = sent
      .filter((reading) => Date.parse(reading.ts) >= fromMs && Date.parse(reading.ts) < toMs)
      .sort(
        (x, y) => Date.parse(x.ts) - Date.parse(y.ts) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0),
      );
    expect(rows.length).toBeGreaterThan(5000);
    const expected = [
      "id,device,group,sensor,gas,value,unit,ts,flags",
      ...rows.map((row) =>
        [
          row.id,
          row.device,
          row.group,
          row.sensor,
          row.gas,
          String(row.value),
          row.unit,
          row.ts,
          row.flags.join(";"),
        ]
          .map(quote)
          .join(","),
      ),
    ].join("\n");
    expect(await response.text()).toBe(`${expected}\n`);
    const onlyGroup2 = await (await fetch(`${server.url}/readings.csv?group=2&gas=h2`)).text();
    expect(onlyGroup2.trim().split("\n")).toHaveLength(401);
    expect(onlyGroup2.split("\n")[1]).toMatch(/^pi-c-r0-h2,"pi,""c""",2,gas0,h2,/);
  });

  it("GET /readings returns the wire shape, oldest first, filtered and limited", async () => {
    const server = await start();
    const sent = await fillFleet(server.url);
    const answer = (
      await get(server.url, `/readings?device=pi-a&gas=no2&from=${T0 + 1700}&limit=3`)
    ).json as { readings: unknown[] };
    const want = sent
      .filter((r) => r.device === "pi-a" && r.gas === "no2" && Date.parse(r.ts) >= T0 + 1700)
      .slice(0, 3);
    expect(answer.readings).toEqual(
      want.map((r) => ({
        id: r.id,
        device: "pi-a",
        group: "1",
        gps: "37.5, 127.0",
        sensor: r.sensor,
        gas: r.gas,
        value: r.value,
        unit: r.unit,
        ts: r.ts,
        flags: r.flags,
      })),
    );
  });

  it("GET /devices: each device's group, GPS and times from its newest reading; alert events stored once", async () => {
    const server = await start();
    await uploadReadings(
      server.url,
      { id: "pi-a", group: "1", gps: "37.5, 127.0" },
      deviceReadings("pi-a", ["co", "no2"], T0, 1000, 50, 3),
    );
    // A later upload from a new position: the newest reading's GPS wins.
    await uploadReadings(
      server.url,
      { id: "pi-a", group: "1", gps: "37.6, 127.1" },
      deviceReadings("pi-a", ["co"], T0 + 100_000, 1000, 10, 4).map((r) => ({
        ...r,
        id: `x${r.id}`,
      })),
    );
    await uploadReadings(
      server.url,
      { id: "pi-b", group: "2" },
      deviceReadings("pi-b", ["h2"], T0, 1000, 5, 5),
    );
    const devices = (await get(server.url, "/devices")).json as {
      devices: Array<Record<string, unknown>>;
    };
    expect(devices.devices).toHaveLength(2);
    expect(devices.devices[0]).toMatchObject({
      device: "pi-a",
      group: "1",
      gps: "37.6, 127.1",
      lastReadingAt: new Date(T0 + 109_000).toISOString(),
      gases: ["co", "no2"],
    });
    expect(Date.parse(String(devices.devices[0]?.lastSeenAt))).toBeGreaterThan(Date.now() - 60_000);
    expect(devices.devices[1]).toMatchObject({
      device: "pi-b",
      group: "2",
      lastReadingAt: new Date(T0 + 4000).toISOString(),
      gases: ["h2"],
    });
    expect(devices.devices[1]).not.toHaveProperty("gps");
    expect((await get(server.url, "/devices?group=2")).json).toMatchObject({
      devices: [{ device: "pi-b" }],
    });
    expect(
      (
        (await get(server.url, "/devices?gas=no2")).json as { devices: Array<{ device: string }> }
      ).devices.map((d) => d.device),
    ).toEqual(["pi-a"]);

    const batch = {
      schema: "sensord.alerts.v1" as const,
      device: { id: "pi-a", group: "1" },
      alerts: [
        ...alertPair("e1", "co", T0 + 10_000, 5000),
        ...alertPair("e2", "co", T0 + 30_000, null),
      ],
    };
    expect(await uploadAlerts(server.url, batch)).toEqual({
      status: 200,
      json: { accepted: 3, duplicates: 0 },
    });
    expect(await uploadAlerts(server.url, batch)).toEqual({
      status: 200,
      json: { accepted: 0, duplicates: 3 },
    });
    // The same event id from another device is another event.
    expect(
      await uploadAlerts(server.url, {
        ...batch,
        device: { id: "pi-b", group: "2" },
        alerts: alertPair("e1", "co", T0, null),
      }),
    ).toMatchObject({
      json: { accepted: 1, duplicates: 0 },
    });
    const listed = (await get(server.url, "/alerts?device=pi-a")).json as {
      alerts: Array<{ id: string; kind: string; ts: string }>;
    };
    expect(listed.alerts.map((alert) => `${alert.id} ${alert.kind} ${alert.ts}`)).toEqual([
      `e2-a raise ${new Date(T0 + 30_000).toISOString()}`,
      `e1-b clear ${new Date(T0 + 15_000).toISOString()}`,
      `e1-a raise ${new Date(T0 + 10_000).toISOString()}`,
    ]);
    expect((await get(server.url, "/alerts?limit=1")).json).toMatchObject({
      alerts: [{ id: "e2-a", device: "pi-a" }],
    });
    expect(
      (
        (await get(server.url, `/alerts?from=${T0 + 1}&to=${T0 + 15_000}`)).json as {
          alerts: Array<{ id: string }>;
        }
      ).alerts.map((a) => a.id),
    ).toEqual(["e1-a"]);
    const bad = await uploadAlerts(server.url, {
      ...batch,
      alerts: [{ ...batch.alerts[0], kind: "maybe" }],
    } as never);
    expect(bad).toMatchObject({
      status: 422,
      json: { code: "INGEST_SCHEMA", field: "/alerts/0/kind" },
    });
  });
});

describe("the same data gives the same answers on every store", () => {
  const sqlite = useIngestServer("sqlite");
  const postgres = useIngestServer("postgres");
  const opensearch = useIngestServer("opensearch");

  it("series, CSV, readings, devices and alerts are equal (averages to 1e-9)", async () => {
    const servers = [await sqlite(), await postgres(), await opensearch()];
    for (const server of servers) {
      await fillFleet(server.url);
      await uploadAlerts(server.url, {
        schema: "sensord.alerts.v1",
        device: { id: "pi-a", group: "1" },
        alerts: [
          ...alertPair("e1", "no2", T0 + 5000, 7000),
          ...alertPair("e2", "co", T0 + 9000, null),
        ],
      });
    }
    const paths = [
      `/readings/series?from=${T0 - 700_000}&to=${T0 + 6_000_000}&width=333`,
      `/readings/series?from=${T0}&to=${T0 + 100_000}&width=1000&gas=co`,
      `/readings.csv?from=${T0 - 1}&to=${T0 + 500_000}`,
      `/readings.csv?device=pi-b`,
      `/readings?limit=5000&from=${T0 + 10_000}`,
      "/devices",
      "/alerts",
    ];
    for (const path of paths) {
      const [a, ...others] = await Promise.all(
        servers.map(async (server) => (await fetch(`${server.url}${path}`)).text()),
      );
      for (const b of others) sameAnswer(path, a, b);
    }
  });
});

/** `b` (PostgreSQL, OpenSearch) answers `path` as `a` (SQLite) does. */
function sameAnswer(path: string, a: string | undefined, b: string | undefined): void {
  if (path.startsWith("/readings/series")) {
    const [x, y] = [JSON.parse(a ?? "") as SeriesJson, JSON.parse(b ?? "") as SeriesJson];
    const withoutAvg = (answer: SeriesJson) => ({
      ...answer,
      lines: answer.lines.map(({ avg: _avg, ...line }) => line),
    });
    expect(withoutAvg(y), path).toEqual(withoutAvg(x));
    for (const [i, line] of x.lines.entries()) {
      for (const [k, avg] of line.avg.entries()) expect(y.lines[i]?.avg[k]).toBeCloseTo(avg, 9);
    }
    expect(x.lines.length, path).toBeGreaterThan(0);
  } else if (path === "/devices") {
    // lastSeenAt is when each server received the upload.
    const strip = (text: string) =>
      (JSON.parse(text) as { devices: Array<Record<string, unknown>> }).devices.map(
        ({ lastSeenAt: _seen, ...device }) => device,
      );
    expect(strip(b ?? ""), path).toEqual(strip(a ?? ""));
  } else {
    expect(b, path).toBe(a);
    expect((a ?? "").length, path).toBeGreaterThan(100);
  }
}

describe("ingest database migrations (SQLite)", () => {
  it("migrates a version 1 database in place to version 4, keeping its readings, now keyed by (ts, id)", () => {
    const temp = makeTempDir();
    try {
      const file = `${temp.dir}/ingest.db`;
      // Version 1 as sensord-ingest created it: readings keyed by id alone, no alerts table.
      const v1 = new Database(file);
      v1.exec(`CREATE TABLE series (id INTEGER PRIMARY KEY, device TEXT NOT NULL, group_id TEXT NOT NULL, sensor TEXT NOT NULL, gas TEXT NOT NULL, unit TEXT NOT NULL, sensor_id TEXT NOT NULL, sensor_type TEXT NOT NULL, UNIQUE (device, group_id, sensor, gas, unit, sensor_id, sensor_type));
        CREATE TABLE batches (seq INTEGER PRIMARY KEY, key TEXT UNIQUE, batch_id TEXT NOT NULL, format TEXT NOT NULL, index_name TEXT, gps TEXT NOT NULL, received_at INTEGER NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, accepted INTEGER NOT NULL, duplicates INTEGER NOT NULL);
        CREATE TABLE readings (id TEXT PRIMARY KEY, series INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, flags TEXT NOT NULL, batch INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX readings_ts ON readings (ts);
        CREATE VIEW readings_wide AS SELECT r.id, s.device, s.group_id, b.gps, s.sensor, s.gas, r.value, s.unit, r.ts, r.flags, s.sensor_id, s.sensor_type, b.received_at, b.batch_id, b.index_name FROM readings r JOIN series s ON s.id = r.series JOIN batches b ON b.seq = r.batch;
        INSERT INTO series VALUES (1, 'd', 'g', 's', 'co', 'ppm', '', '');
        INSERT INTO batches VALUES (1, 'k', 'b', 'batch', NULL, '', 0, 200, '', 2, 0);
        INSERT INTO readings VALUES ('r1', 1, 5, 1.5, '', 1), ('r2', 1, 7, 2.5, 'warmup', 1);
        PRAGMA application_id = ${0x73646967}; PRAGMA user_version = 1;`);
      v1.close();
      const db = openIngestDatabase(file);
      expect(db.pragma("user_version", { simple: true })).toBe(4);
      expect(
        db
          .prepare(
            "SELECT name FROM sqlite_schema WHERE name IN ('fleet_thresholds', 'threshold_reports') ORDER BY name",
          )
          .pluck()
          .all(),
      ).toEqual(["fleet_thresholds", "threshold_reports"]);
      expect(
        db
          .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'readings' AND sql IS NOT NULL ORDER BY name",
          )
          .pluck()
          .all(),
      ).toEqual(["readings_series_ts"]);
      expect(
        db.prepare("SELECT id, ts, value, flags FROM readings_wide ORDER BY ts").all(),
      ).toEqual([
        { id: "r1", ts: 5, value: 1.5, flags: "" },
        { id: "r2", ts: 7, value: 2.5, flags: "warmup" },
      ]);
      // The key is (ts, id): the same reading twice is refused, the same id at another time is another row.
      const insert = db.prepare(
        "INSERT INTO readings (ts, id, series, value, flags, batch) VALUES (?, ?, 1, 0, '', 1) ON CONFLICT DO NOTHING",
      );
      expect(insert.run(5, "r1").changes).toBe(0);
      expect(insert.run(6, "r1").changes).toBe(1);
      const lines = seriesQuery(db)({ plan: planBuckets(0, 10, 2) });
      expect(lines).toMatchObject([{ device: "d", t: [5], min: [0], max: [2.5], count: [3] }]);
      db.close();
    } finally {
      temp.cleanup();
    }
  });
});
