import { describe, expect, it } from "vitest";
import { BASE_MS, get, makeBatch, post, reading, readings, useIngestServer } from "./helpers.js";

const start = useIngestServer();

/** Two devices, 8 readings each (gases co, no2, c2h5oh, h2 in turn), one second apart from BASE_MS. */
async function seeded(): Promise<{ url: string }> {
  const server = await start();
  await post(server.url, makeBatch("b-1", readings(0, 8), { id: "pi-1", group: "g1" }));
  const other = Array.from({ length: 8 }, (_, i) =>
    reading(i, { id: `otherprefx-r${i}`, sensor: "gas1" }),
  );
  await post(server.url, makeBatch("b-2", other, { id: "pi-2", group: "g2" }));
  return server;
}

async function ids(url: string, query: string): Promise<string[]> {
  const result = await get(url, `/readings${query}`);
  expect(result.status).toBe(200);
  return (result.json as { readings: Array<{ id: string }> }).readings.map((one) => one.id);
}

describe("GET /readings", () => {
  it("returns every reading ordered by ts, then id", async () => {
    const { url } = await seeded();
    const all = await ids(url, "");
    expect(all).toHaveLength(16);
    // Same ts on both devices: "otherprefx-..." sorts before "testprefix-...".
    expect(all.slice(0, 4)).toEqual([
      "otherprefx-r0",
      "testprefix-r0",
      "otherprefx-r1",
      "testprefix-r1",
    ]);
  });

  it("filters by device, group, sensor and gas", async () => {
    const { url } = await seeded();
    expect(await ids(url, "?device=pi-1")).toEqual(readings(0, 8).map((one) => one.id));
    expect(await ids(url, "?group=g2")).toHaveLength(8);
    expect(await ids(url, "?sensor=gas1&gas=co")).toEqual(["otherprefx-r0", "otherprefx-r4"]);
    expect(await ids(url, "?device=pi-1&gas=no2")).toEqual(["testprefix-r1", "testprefix-r5"]);
    expect(await ids(url, "?device=pi-9")).toEqual([]);
  });

  it("filters by from (inclusive) and to (exclusive), as ISO times or epoch ms", async () => {
    const { url } = await seeded();
    const from = new Date(BASE_MS + 2000).toISOString();
    const to = new Date(BASE_MS + 4000).toISOString();
    expect(await ids(url, `?device=pi-1&from=${from}&to=${to}`)).toEqual([
      "testprefix-r2",
      "testprefix-r3",
    ]);
    expect(await ids(url, `?device=pi-1&from=${BASE_MS + 6000}`)).toEqual([
      "testprefix-r6",
      "testprefix-r7",
    ]);
    expect(await ids(url, `?device=pi-1&to=2026-11-26T10:00:01%2B00:00`)).toEqual([
      "testprefix-r0",
    ]);
  });

  it("returns at most limit readings, the oldest", async () => {
    const { url } = await seeded();
    expect(await ids(url, "?device=pi-2&limit=3")).toEqual([
      "otherprefx-r0",
      "otherprefx-r1",
      "otherprefx-r2",
    ]);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=100001", "limit"],
    ["limit=ten", "limit"],
    ["from=yesterday", "from"],
    ["to=2026-11-26T10:00:00", "to"],
    ["from=2026-11-26&to=2026-11-25", "to"],
    ["gas=co&gas=no2", "gas"],
    ["devcie=pi-1", "devcie"],
  ])("answers 400 naming the parameter for ?%s", async (query, param) => {
    const server = await start();
    const result = await get(server.url, `/readings?${query}`);
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({ code: "INGEST_BAD_PARAM", param });
    expect(String((result.json as { error: string }).error)).toContain(param);
  });
});

describe("GET /healthz", () => {
  it("counts stored readings, duplicates and processed batches", async () => {
    const server = await start();
    expect((await get(server.url, "/healthz")).json).toEqual({
      status: "ok",
      store: "sqlite",
      scope: "database",
      readings: 0,
      duplicates: 0,
      batches: 0,
      threshold_reports_malformed: 0,
    });
    await post(server.url, makeBatch("b-1", readings(0, 10)));
    await post(server.url, makeBatch("b-1", readings(0, 10))); // replay: not counted
    await post(server.url, makeBatch("b-2", readings(5, 10)));
    expect((await get(server.url, "/healthz")).json).toEqual({
      status: "ok",
      store: "sqlite",
      scope: "database",
      readings: 15,
      duplicates: 5,
      batches: 2,
      threshold_reports_malformed: 0,
    });
  });
});
