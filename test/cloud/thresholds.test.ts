import { createHash } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { openPostgresStore } from "../../cloud/store/postgres/index.js";
import type { FleetRule } from "../../schemas/fleet-thresholds.js";
import { createTestDatabase } from "../support/postgres-db.js";
import { alertPair } from "./fleet-fixtures.js";
import {
  BASE_MS,
  get,
  type HttpResult,
  makeBatch,
  originalDocument,
  post,
  reading,
  STORE_KINDS,
  useIngestServer,
} from "./helpers.js";

const NOW = BASE_MS + 3_600_000;
const KEY = "fleet-test-key";
const AUTH = { "x-api-key": KEY };

/** The documented etag, computed here rather than with the product's own function. */
function etag(scope: "group" | "device", name: string, version: number): string {
  const hex = createHash("sha256").update(`${scope}\n${name}`).digest("hex").slice(0, 8);
  return `${scope === "group" ? "g" : "d"}${version}-${hex}`;
}

async function put(
  url: string,
  query: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const response = await fetch(`${url}/fleet/thresholds?${query}`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...AUTH, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

const NO2_WARNING: FleetRule = { gas: "no2", op: ">=", value: 100, unit: "ppb", clear: 80 };
const NO2_CRITICAL: FleetRule = { gas: "no2", value: 200, unit: "ppb", severity: "critical" };
const CO_WARNING: FleetRule = { gas: "co", value: 35, for: "30s", sensor: "gas0" };

describe.each(STORE_KINDS)("fleet thresholds on %s", (kind) => {
  const start = useIngestServer(kind);
  const server = () => start({ apiKey: KEY, now: () => NOW });

  it("PUT then GET: each PUT is the next version, every version kept with who changed it", async () => {
    const { url } = await server();
    const first = await put(url, "group=school-1", {
      thresholds: [NO2_WARNING],
      changed_by: "ops@lab",
    });
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      scope: "group",
      name: "school-1",
      version: 1,
      etag: etag("group", "school-1", 1),
    });
    const second = await put(url, "group=school-1", { thresholds: [NO2_WARNING, NO2_CRITICAL] });
    expect(second.json).toEqual({
      scope: "group",
      name: "school-1",
      version: 2,
      etag: etag("group", "school-1", 2),
    });
    const third = await put(url, "group=school-1", { thresholds: [], changed_by: "kim" });
    expect(third.json).toMatchObject({ version: 3 });
    // Another target counts its own versions.
    expect((await put(url, "device=pi-7", { thresholds: [CO_WARNING] })).json).toEqual({
      scope: "device",
      name: "pi-7",
      version: 1,
      etag: etag("device", "pi-7", 1),
    });

    const changedAt = new Date(NOW).toISOString();
    const latest = await get(url, "/fleet/thresholds?group=school-1", AUTH);
    expect(latest.status).toBe(200);
    expect(latest.headers.get("etag")).toBe(`"${etag("group", "school-1", 3)}"`);
    expect(latest.json).toEqual({
      scope: "group",
      name: "school-1",
      version: 3,
      etag: etag("group", "school-1", 3),
      thresholds: [],
      changed_at: changedAt,
      changed_by: "kim",
    });
    expect((await get(url, "/fleet/thresholds?device=pi-7", AUTH)).json).toEqual({
      scope: "device",
      name: "pi-7",
      version: 1,
      etag: etag("device", "pi-7", 1),
      thresholds: [CO_WARNING],
      changed_at: changedAt,
      changed_by: null,
    });
    const history = await get(url, "/fleet/thresholds/history?group=school-1", AUTH);
    expect(history.json).toEqual({
      scope: "group",
      name: "school-1",
      versions: [
        {
          version: 3,
          etag: etag("group", "school-1", 3),
          thresholds: [],
          changed_at: changedAt,
          changed_by: "kim",
        },
        {
          version: 2,
          etag: etag("group", "school-1", 2),
          thresholds: [NO2_WARNING, NO2_CRITICAL],
          changed_at: changedAt,
          changed_by: null,
        },
        {
          version: 1,
          etag: etag("group", "school-1", 1),
          thresholds: [NO2_WARNING],
          changed_at: changedAt,
          changed_by: "ops@lab",
        },
      ],
    });

    const never = await get(url, "/fleet/thresholds?group=nobody", AUTH);
    expect(never.status).toBe(404);
    expect(never.json).toEqual({
      error:
        'no thresholds were ever set for group "nobody"; PUT /fleet/thresholds?group=... sets them',
      code: "INGEST_THRESHOLDS_NOT_SET",
      scope: "group",
      name: "nobody",
    });
    expect((await get(url, "/fleet/thresholds/history?group=nobody", AUTH)).json).toEqual({
      scope: "group",
      name: "nobody",
      versions: [],
    });
  });

  it("refuses a bad set whole with 422 naming the rule index and key, and stores nothing", async () => {
    const { url } = await server();
    await put(url, "group=g", { thresholds: [NO2_WARNING] });
    const cases: Array<[string, FleetRule[] | unknown[], string, string]> = [
      [
        "unknown gas",
        [NO2_WARNING, { gas: "xenon", value: 5 }],
        "thresholds[1].gas",
        'Expected one of "co", "no2", "c2h5oh", "h2", "nh3", "ch4", "c3h8", "c4h10", "voc", "h2s", "o2", "no"; got "xenon"',
      ],
      [
        "wrong unit",
        [NO2_WARNING, NO2_CRITICAL, { gas: "co", value: 5, unit: "mg/m3" }],
        "thresholds[2].unit",
        'Expected one of "ppm", "ppb", "%", "V", "mV", "raw"; got "mg/m3"',
      ],
      [
        "critical below warning",
        [NO2_WARNING, { gas: "no2", value: 90, unit: "ppb", severity: "critical" }],
        "thresholds[1].value",
        "the critical level 90 is below the warning level 100 of thresholds[0]: the critical alarm would come first; move it above the warning level",
      ],
      [
        "duplicate slot",
        [CO_WARNING, { gas: "co", value: 50, sensor: "gas0", severity: "warning" }],
        "thresholds[1]",
        "same slot (gas co, severity warning, sensor gas0) as thresholds[0]: a device keeps one rule per slot; remove one",
      ],
      [
        "bad clear",
        [{ gas: "o2", op: "<", value: 19.5, clear: 18 }],
        "thresholds[0].clear",
        'clear level 18 must be at or above the threshold 19.5 for "<": it is the level the value has to return past before the alarm clears',
      ],
    ];
    for (const [what, thresholds, key, message] of cases) {
      const answer = await put(url, "group=g", { thresholds });
      expect(answer.status, what).toBe(422);
      expect(answer.json, what).toEqual({
        error: `${key}: ${message} (the whole set is refused; nothing was stored)`,
        code: "INGEST_THRESHOLDS_INVALID",
        key,
        problems: [{ index: Number(/\[(\d+)\]/.exec(key)?.[1]), key, message }],
      });
    }
    const changedBy = await put(url, "group=g", { thresholds: [], changed_by: "x\ny" });
    expect(changedBy.json).toMatchObject({
      code: "INGEST_THRESHOLDS_INVALID",
      key: "changed_by",
      problems: [{ index: null, key: "changed_by" }],
    });
    expect((await get(url, "/fleet/thresholds?group=g", AUTH)).json).toMatchObject({
      version: 1,
      thresholds: [NO2_WARNING],
    });
  });

  it("If-None-Match: * creates a first set only, else 412 naming the set that exists", async () => {
    const { url } = await server();
    const created = await put(
      url,
      "group=g",
      { thresholds: [NO2_WARNING] },
      { "if-none-match": "*" },
    );
    expect(created.json).toMatchObject({ version: 1 });
    const again = await put(url, "group=g", { thresholds: [CO_WARNING] }, { "if-none-match": "*" });
    expect(again.status).toBe(412);
    expect(again.json).toEqual({
      error: `"If-None-Match: *" creates a first set, but group "g" has one already (now "${etag("group", "g", 1)}"): someone created it; GET it and redo the change`,
      code: "INGEST_PRECONDITION_FAILED",
      header: "if-none-match",
      etag: etag("group", "g", 1),
    });
    expect((await get(url, "/fleet/thresholds?group=g", AUTH)).json).toMatchObject({
      version: 1,
      thresholds: [NO2_WARNING],
    });
  });

  it("If-Match: stores only over the current version, else 412 naming the current etag", async () => {
    const { url } = await server();
    const unset = await put(url, "group=g", { thresholds: [] }, { "if-match": '"g1-00000000"' });
    expect(unset.status).toBe(412);
    expect(unset.json).toEqual({
      error: '"If-Match" names a set, but group "g" has none yet; send no If-Match to create it',
      code: "INGEST_PRECONDITION_FAILED",
      header: "if-match",
      etag: null,
    });
    await put(url, "group=g", { thresholds: [NO2_WARNING] });
    const v1 = `"${etag("group", "g", 1)}"`;
    expect((await put(url, "group=g", { thresholds: [] }, { "if-match": v1 })).json).toMatchObject({
      version: 2,
    });
    const stale = await put(url, "group=g", { thresholds: [CO_WARNING] }, { "if-match": v1 });
    expect(stale.status).toBe(412);
    expect(stale.json).toEqual({
      error: `"If-Match" is not the current set of group "g" (now "${etag("group", "g", 2)}"): someone changed it; GET it again and redo the change`,
      code: "INGEST_PRECONDITION_FAILED",
      header: "if-match",
      etag: etag("group", "g", 2),
    });
    // The same version of another target is not this one's.
    const other = `"${etag("device", "g", 2)}"`;
    expect((await put(url, "group=g", { thresholds: [] }, { "if-match": other })).status).toBe(412);
    expect((await get(url, "/fleet/thresholds?group=g", AUTH)).json).toMatchObject({
      version: 2,
      thresholds: [],
    });
  });

  it("desired: the device's own set beats its group's, the group's applies without one, none without either", async () => {
    const { url } = await server();
    const desired = (device: string, headers: Record<string, string> = {}) =>
      fetch(`${url}/fleet/desired?device=${device}&group=school-1`, {
        headers: { ...AUTH, ...headers },
      });
    const none = await desired("pi-1");
    expect(none.status).toBe(200);
    expect(none.headers.get("etag")).toBe('"none"');
    expect(none.headers.get("cache-control")).toBe("no-cache");
    expect(await none.json()).toEqual({
      device: "pi-1",
      source: "none",
      version: 0,
      etag: "none",
      thresholds: [],
    });
    expect((await desired("pi-1", { "if-none-match": '"none"' })).status).toBe(304);

    await put(url, "group=school-1", { thresholds: [NO2_WARNING] });
    const group = await desired("pi-1", { "if-none-match": '"none"' });
    expect(group.status).toBe(200);
    const g1 = etag("group", "school-1", 1);
    expect(group.headers.get("etag")).toBe(`"${g1}"`);
    expect(await group.json()).toEqual({
      device: "pi-1",
      source: "group",
      version: 1,
      etag: g1,
      thresholds: [NO2_WARNING],
    });
    const unchanged = await desired("pi-1", { "if-none-match": `"${g1}"` });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get("etag")).toBe(`"${g1}"`);
    expect(await unchanged.text()).toBe("");

    await put(url, "device=pi-1", { thresholds: [CO_WARNING] });
    await put(url, "group=school-1", { thresholds: [NO2_WARNING, NO2_CRITICAL] });
    expect(await (await desired("pi-1", { "if-none-match": `"${g1}"` })).json()).toEqual({
      device: "pi-1",
      source: "device",
      version: 1,
      etag: etag("device", "pi-1", 1),
      thresholds: [CO_WARNING],
    });
    // A new group version changes the etag of every device that follows the group.
    const g2 = await desired("pi-2", { "if-none-match": `"${g1}"` });
    expect(g2.status).toBe(200);
    expect(await g2.json()).toEqual({
      device: "pi-2",
      source: "group",
      version: 2,
      etag: etag("group", "school-1", 2),
      thresholds: [NO2_WARNING, NO2_CRITICAL],
    });
    // An empty device set is a set: the device's own, which sets no rules.
    await put(url, "device=pi-2", { thresholds: [] });
    expect(await (await desired("pi-2")).json()).toMatchObject({
      source: "device",
      thresholds: [],
    });
    const missing = await get(url, "/fleet/desired?group=school-1", AUTH);
    expect(missing.json).toMatchObject({ code: "INGEST_BAD_PARAM", param: "device" });
  });

  it("reported state: uploads carry x-sensord-thresholds; status says in_sync, pending or refused", async () => {
    const { url } = await server();
    await put(url, "group=school-1", { thresholds: [NO2_WARNING] });
    const g1 = etag("group", "school-1", 1);
    const d1 = etag("device", "pi-3", 1);
    await put(url, "device=pi-3", { thresholds: [CO_WARNING] });
    const upload = (device: string, seq: number, report?: string) =>
      post(
        url,
        makeBatch(`b-${device}-${seq}`, [reading(seq)], { id: device, group: "school-1" }),
        {
          headers: { ...AUTH, ...(report === undefined ? {} : { "x-sensord-thresholds": report }) },
        },
      );
    expect((await upload("pi-1", 1, `applied;etag="${g1}"`)).status).toBe(200);
    expect(
      (
        await upload(
          "pi-2",
          2,
          `refused; etag="${g1}"; reason="thresholds[0].unit: \\"ppb\\" cannot be compared"`,
        )
      ).status,
    ).toBe(200);
    // pi-3 applied its group's set, but its own set is what it should run.
    expect((await upload("pi-3", 3, `applied;etag="${g1}"`)).status).toBe(200);
    expect((await upload("pi-4", 4)).status).toBe(200);
    // Another group's device is not listed.
    await post(url, makeBatch("b-other", [reading(5)], { id: "pi-9", group: "school-2" }), {
      headers: AUTH,
    });

    const status = await get(url, "/fleet/thresholds/status?group=school-1", AUTH);
    const reportedAt = new Date(NOW).toISOString();
    expect(status.json).toEqual({
      group: "school-1",
      devices: [
        {
          device: "pi-1",
          group: "school-1",
          desired_etag: g1,
          reported_etag: g1,
          state: "in_sync",
          reason: null,
          reported_at: reportedAt,
        },
        {
          device: "pi-2",
          group: "school-1",
          desired_etag: g1,
          reported_etag: g1,
          state: "refused",
          reason: 'thresholds[0].unit: "ppb" cannot be compared',
          reported_at: reportedAt,
        },
        {
          device: "pi-3",
          group: "school-1",
          desired_etag: d1,
          reported_etag: g1,
          state: "pending",
          reason: null,
          reported_at: reportedAt,
        },
        {
          device: "pi-4",
          group: "school-1",
          desired_etag: g1,
          reported_etag: null,
          state: "pending",
          reason: null,
          reported_at: null,
        },
      ],
    });

    // A new group version: the refusal was of the old one, so pi-2 is pending again.
    await put(url, "group=school-1", { thresholds: [] });
    const g2 = etag("group", "school-1", 2);
    // Alert uploads and original documents report too.
    const alerts = await post(
      url,
      {
        schema: "sensord.alerts.v1",
        device: { id: "pi-3", group: "school-1" },
        alerts: alertPair("a1", "co", BASE_MS, null),
      },
      {
        path: "/ingest/alerts",
        headers: { ...AUTH, "x-sensord-thresholds": `applied;etag="${d1}"` },
      },
    );
    expect(alerts.status).toBe(200);
    const original = await post(
      url,
      { ...originalDocument("doc-9"), groupid: "school-1" },
      {
        path: "/proxyLambda",
        headers: {
          ...AUTH,
          index: "gasdetect",
          "x-device-id": "pi-1",
          "x-sensord-thresholds": `applied;etag="${g2}"`,
        },
      },
    );
    expect(original.status).toBe(200);
    const after = await get(url, "/fleet/thresholds/status?group=school-1", AUTH);
    expect(
      (
        after.json as { devices: Array<{ device: string; state: string; reason: unknown }> }
      ).devices.map(({ device, state, reason }) => ({ device, state, reason })),
    ).toEqual([
      { device: "pi-1", state: "in_sync", reason: null },
      { device: "pi-2", state: "pending", reason: null },
      { device: "pi-3", state: "in_sync", reason: null },
      { device: "pi-4", state: "pending", reason: null },
    ]);
  });

  it("a malformed report header is counted and ignored; the readings are stored", async () => {
    const { url } = await server();
    const answer = await post(
      url,
      makeBatch("b-bad", [reading(1), reading(2)], { id: "pi-1", group: "g" }),
      {
        headers: { ...AUTH, "x-sensord-thresholds": "applied;etag=unquoted" },
      },
    );
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ accepted: 2, duplicates: 0 });
    expect((await get(url, "/readings?device=pi-1", AUTH)).json).toMatchObject({
      readings: [{ id: reading(1).id }, { id: reading(2).id }],
    });
    expect((await get(url, "/healthz")).json).toMatchObject({ threshold_reports_malformed: 1 });
    expect((await get(url, "/fleet/thresholds/status?group=g", AUTH)).json).toMatchObject({
      devices: [{ device: "pi-1", reported_etag: null, state: "pending" }],
    });
  });

  it("needs the API key on every route, and answers a wrong method with 405 and Allow", async () => {
    const { url } = await server();
    for (const path of [
      "/fleet/thresholds?group=g",
      "/fleet/thresholds/history?group=g",
      "/fleet/thresholds/status?group=g",
      "/fleet/desired?device=d",
    ]) {
      const answer = await get(url, path);
      expect(answer.status, path).toBe(401);
      expect(answer.json, path).toMatchObject({ code: "INGEST_UNAUTHORIZED", header: "x-api-key" });
    }
    const unauthorized = await fetch(`${url}/fleet/thresholds?group=g`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"thresholds": []}',
    });
    expect(unauthorized.status).toBe(401);
    const wrong = await post(
      url,
      { thresholds: [] },
      { path: "/fleet/thresholds?group=g", headers: AUTH },
    );
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, PUT");
    expect(wrong.json).toMatchObject({ code: "INGEST_METHOD" });
    const desired = await fetch(`${url}/fleet/desired?device=d`, { method: "PUT", headers: AUTH });
    expect(desired.status).toBe(405);
    expect(desired.headers.get("allow")).toBe("GET");
    // The core's body checks apply to PUT as to uploads.
    const text = await put(url, "group=g", { thresholds: [] }, { "content-type": "text/plain" });
    expect(text.json).toMatchObject({ code: "INGEST_CONTENT_TYPE" });
    expect(text.status).toBe(415);
    for (const query of [
      "",
      "group=a&device=b",
      `group=${"g".repeat(65)}`,
      "group=%07",
      "group=a&group=b",
      "team=a",
    ]) {
      const answer = await put(url, query, { thresholds: [] });
      expect(answer.status, query).toBe(400);
      expect(answer.json, query).toMatchObject({ code: "INGEST_BAD_PARAM" });
    }
  });
});

describe.each(STORE_KINDS)("fleet thresholds under concurrency on %s", (kind) => {
  const start = useIngestServer(kind);

  it("two concurrent PUTs to one group get versions N+1 and N+2; twelve get twelve versions", async () => {
    const { url } = await start({ apiKey: KEY });
    await put(url, "group=g", { thresholds: [] });
    const pair = await Promise.all([
      put(url, "group=g", { thresholds: [NO2_WARNING], changed_by: "a" }),
      put(url, "group=g", { thresholds: [CO_WARNING], changed_by: "b" }),
    ]);
    expect(pair.map((answer) => answer.status)).toEqual([200, 200]);
    expect(pair.map((answer) => (answer.json as { version: number }).version).sort()).toEqual([
      2, 3,
    ]);
    const many = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        put(url, "group=g", { thresholds: [], changed_by: `writer-${index}` }),
      ),
    );
    expect(
      many.map((answer) => (answer.json as { version: number }).version).sort((a, b) => a - b),
    ).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const history = (await get(url, "/fleet/thresholds/history?group=g", AUTH)).json as {
      versions: Array<{ version: number; changed_by: string }>;
    };
    expect(history.versions.map((entry) => entry.version)).toEqual(
      Array.from({ length: 15 }, (_, index) => 15 - index),
    );
  });
});

describe("fleet thresholds on PostgreSQL, two stores on one database", () => {
  it("stores on one database racing each other never give a version twice", async () => {
    const { url } = await createTestDatabase("fleet_race");
    const password = inject("postgres").password;
    const stores = await Promise.all([
      openPostgresStore({ url, password }),
      openPostgresStore({ url, password }),
    ]);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          (stores[index % 2] ?? stores[0]).putThresholds(
            { scope: "group", name: "g" },
            { thresholds: [], changedBy: `writer-${index}`, changedAt: NOW },
            null,
          ),
        ),
      );
      expect(
        outcomes
          .map((outcome) => (outcome.kind === "stored" ? outcome.version : 0))
          .sort((a, b) => a - b),
      ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      const history = await stores[0].thresholdHistory({ scope: "group", name: "g" });
      expect(history.map((entry) => entry.version)).toEqual([
        12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
      ]);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});
