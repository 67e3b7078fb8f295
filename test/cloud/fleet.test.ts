import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openIngestDatabase } from "../../cloud/store/sqlite/db.js";
import { seriesQuery } from "../../cloud/store/sqlite/series.js";
import { bucketOf, planBuckets } from "../../web/server/buckets.js";
import { makeTempDir } from "../support/processes.js";
import { alertPair, deviceReadings, uploadAlerts, uploadReadings } from "./fleet-fixtures.js";
import { get, useIngestServer } from "./helpers.js";

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

describe("GET /readings/series", () => {
  const start = useIngestServer();

  it("downsampling returns the exact min and max of each bucket (brute force over the same database)", async () => {
    const server = await start();
    const a = { id: "pi-a", group: "1", gps: "37.5, 127.0" };
    const b = { id: "pi-b", group: "2" };
    // Irregular steps (1.7 s) so buckets hold different counts; two devices, two gases.
    await uploadReadings(server.url, a, deviceReadings("pi-a", ["co", "no2"], T0, 1700, 3000, 1));
    await uploadReadings(server.url, b, deviceReadings("pi-b", ["co"], T0 + 999, 1300, 2500, 2));

    const fromMs = T0 - 60_000;
    const toMs = T0 + 3000 * 1700 - 7;
    const width = 137;
    const answer = (await get(
      server.url,
      `/readings/series?from=${fromMs}&to=${toMs}&width=${width}`,
    )) as { status: number; json: SeriesJson };
    expect(answer.status).toBe(200);
    const plan = planBuckets(fromMs, toMs, width);
    expect(answer.json.bucketMs).toBe(plan.bucketMs);
    expect(answer.json.lines.map((line) => `${line.device}/${line.gas}/${line.unit}`)).toEqual([
      "pi-a/co/ppm",
      "pi-b/co/ppm",
      "pi-a/no2/ppb",
    ]);

    const db = new Database(server.dbPath, { readonly: true });
    try {
      const rows = db
        .prepare<[number, number], { device: string; gas: string; ts: number; value: number }>(
          `SELECT device, gas, ts, value FROM readings_wide WHERE ts >= ? AND ts < ?`,
        )
        .all(fromMs, toMs);
      let checked = 0;
      for (const line of answer.json.lines) {
        const expected = new Map<number, number[]>();
        for (const row of rows) {
          if (row.device !== line.device || row.gas !== line.gas) continue;
          const index = bucketOf(plan, row.ts);
          const values = expected.get(index) ?? [];
          values.push(row.value);
          expected.set(index, values);
        }
        const indexes = [...expected.keys()].sort((x, y) => x - y);
        expect(line.t).toEqual(indexes.map((index) => fromMs + index * plan.bucketMs));
        indexes.forEach((index, k) => {
          const values = expected.get(index) ?? [];
          expect(line.min[k]).toBe(Math.min(...values));
          expect(line.max[k]).toBe(Math.max(...values));
          expect(line.count[k]).toBe(values.length);
          expect(line.avg[k]).toBeCloseTo(values.reduce((s, v) => s + v, 0) / values.length, 9);
          checked++;
        });
      }
      expect(checked).toBeGreaterThan(300);
      expect(
        answer.json.lines.reduce((n, line) => n + line.count.reduce((s, c) => s + c, 0), 0),
      ).toBe(rows.length);
    } finally {
      db.close();
    }

    // Filters are applied server-side.
    const group2 = (await get(server.url, `/readings/series?from=${fromMs}&to=${toMs}&group=2`))
      .json as SeriesJson;
    expect(group2.lines.map((line) => line.device)).toEqual(["pi-b"]);
    const no2 = (await get(server.url, `/readings/series?from=${fromMs}&to=${toMs}&gas=no2`))
      .json as SeriesJson;
    expect(no2.lines.map((line) => `${line.device}/${line.gas}`)).toEqual(["pi-a/no2"]);
  });

  it("refuses unknown parameters, bad widths and backwards ranges with 400 naming the parameter", async () => {
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
});

describe("GET /devices, POST /ingest/alerts, GET /alerts", () => {
  const start = useIngestServer();

  it("lists each device's group, GPS and last-seen times, and stores alert events once", async () => {
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
      devices: Record<string, unknown>[];
    };
    expect(devices.devices).toHaveLength(2);
    expect(devices.devices[0]).toMatchObject({
      device: "pi-a",
      group: "1",
      gps: "37.6, 127.1",
      lastReadingAt: new Date(T0 + 109_000).toISOString(),
      gases: ["co", "no2"],
    });
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
    ).toMatchObject({ json: { accepted: 1, duplicates: 0 } });
    const listed = (await get(server.url, "/alerts?device=pi-a")).json as {
      alerts: { id: string; kind: string; ts: string }[];
    };
    expect(listed.alerts.map((alert) => `${alert.id} ${alert.kind} ${alert.ts}`)).toEqual([
      `e2-a raise ${new Date(T0 + 30_000).toISOString()}`,
      `e1-b clear ${new Date(T0 + 15_000).toISOString()}`,
      `e1-a raise ${new Date(T0 + 10_000).toISOString()}`,
    ]);
    expect(
      ((await get(server.url, "/alerts?limit=1")).json as { alerts: unknown[] }).alerts,
    ).toHaveLength(1);

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

describe("GET /readings.csv", () => {
  const start = useIngestServer();

  it("streams every matching reading, oldest first, exactly as stored (no row cap)", async () => {
    const server = await start();
    await uploadReadings(
      server.url,
      { id: "pi-a", group: "1" },
      deviceReadings("pi-a", ["co", "no2"], T0, 500, 3000, 7),
    );
    await uploadReadings(
      server.url,
      { id: 'pi,"b"', group: "2" },
      deviceReadings("pi-b", ["co"], T0, 700, 200, 8),
    );
    const response = await fetch(`${server.url}/readings.csv?from=${T0 + 1000}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const text = await response.text();
    const db = new Database(server.dbPath, { readonly: true });
    const rows = db
      .prepare<[number], Record<string, string | number>>(
        "SELECT id, device, group_id, sensor, gas, value, unit, ts, flags FROM readings_wide WHERE ts >= ? ORDER BY ts, id",
      )
      .all(T0 + 1000);
    db.close();
    const quote = (field: string): string =>
      /[",]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
    const expected = [
      "id,device,group,sensor,gas,value,unit,ts,flags",
      ...rows.map((row) =>
        [
          row.id,
          row.device,
          row.group_id,
          row.sensor,
          row.gas,
          String(row.value),
          row.unit,
          new Date(Number(row.ts)).toISOString(),
          String(row.flags).replaceAll(",", ";"),
        ]
          .map((field) => quote(String(field)))
          .join(","),
      ),
    ].join("\n");
    expect(rows.length).toBeGreaterThan(6000);
    expect(text).toBe(`${expected}\n`);
    const onlyB = await (await fetch(`${server.url}/readings.csv?group=2`)).text();
    expect(onlyB.trim().split("\n")).toHaveLength(201);
    expect(onlyB.split("\n")[1]).toMatch(/^pi-b-r0-co,"pi,""b""",2,gas0,co,/);
  });
});

describe("ingest database schema 2", () => {
  it("migrates a version 1 database in place, keeping its readings", () => {
    const temp = makeTempDir();
    try {
      const file = `${temp.dir}/ingest.db`;
      const db = openIngestDatabase(file);
      db.exec(`INSERT INTO series (id, device, group_id, sensor, gas, unit, sensor_id, sensor_type) VALUES (1, 'd', 'g', 's', 'co', 'ppm', '', '');
        INSERT INTO batches (seq, key, batch_id, format, gps, received_at, status, body, accepted, duplicates) VALUES (1, 'k', 'b', 'batch', '', 0, 200, '', 1, 0);
        INSERT INTO readings (id, series, ts, value, flags, batch) VALUES ('r1', 1, 5, 1.5, '', 1);
        DROP TABLE alerts; DROP INDEX readings_series_ts; PRAGMA user_version = 1;`);
      db.close();
      const reopened = openIngestDatabase(file);
      expect(reopened.pragma("user_version", { simple: true })).toBe(2);
      expect(
        reopened
          .prepare(
            "SELECT name FROM sqlite_schema WHERE name IN ('alerts', 'readings_series_ts') ORDER BY name",
          )
          .pluck()
          .all(),
      ).toEqual(["alerts", "readings_series_ts"]);
      const lines = seriesQuery(reopened)({ plan: planBuckets(0, 10, 2) });
      expect(lines).toMatchObject([{ device: "d", t: [5], min: [1.5], max: [1.5], count: [1] }]);
      reopened.close();
    } finally {
      temp.cleanup();
    }
  });
});

interface SeriesJson {
  bucketMs: number;
  lines: {
    device: string;
    gas: string;
    unit: string;
    t: number[];
    min: number[];
    max: number[];
    avg: number[];
    count: number[];
  }[];
}
