import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../cloud/store/open.js";
import { SignedHttp } from "../../cloud/store/opensearch/http.js";
import {
  type OpenSearchStoreError,
  openOpenSearchStore,
} from "../../cloud/store/opensearch/index.js";
import type { CloudStore } from "../../cloud/store/types.js";
import {
  type OpenSearchStandIn,
  startOpenSearchStandIn,
  TEST_CREDENTIALS,
  TEST_REGION,
} from "../support/opensearch/server.js";
import {
  get,
  makeBatch,
  post,
  reading,
  standIns,
  useIngestServer,
  useOpenSearchEnv,
} from "./helpers.js";

const start = useIngestServer("opensearch");

/** The ingest server and the stand-in behind it. */
async function startPair(): Promise<{
  url: string;
  standIn: OpenSearchStandIn;
  store: CloudStore;
}> {
  const server = await start();
  const standIn = standIns.get(server.dbPath);
  if (standIn === undefined) throw new Error("no stand-in behind the server");
  return { url: server.url, standIn, store: server.store };
}

const bulkRequests = (standIn: OpenSearchStandIn) =>
  standIn.requests.filter((r) => r.path === "/_bulk");

describe("OpenSearch store: writes through the ingest HTTP server", () => {
  it("one _bulk of `create` actions, _id = reading id, into the month index of each reading's own ts", async () => {
    const { url, standIn } = await startPair();
    const batch = makeBatch("b-months", [
      reading(1, { id: "oct-last", ts: "2026-10-31T23:59:59.999Z" }),
      reading(2, { id: "nov-first", ts: "2026-11-01T00:00:00.000Z" }),
      reading(3),
    ]);
    expect((await post(url, batch)).json).toEqual({
      accepted: 3,
      duplicates: 0,
      batchId: "b-months",
    });
    const bulks = bulkRequests(standIn);
    expect(bulks).toHaveLength(1);
    expect(bulks[0]?.query).toEqual({ refresh: "wait_for" });
    const actions = (bulks[0]?.lines ?? []).filter((_, i) => i % 2 === 0);
    expect(actions).toEqual([
      { create: { _index: "sensord-readings-2026-10", _id: "oct-last" } },
      { create: { _index: "sensord-readings-2026-11", _id: "nov-first" } },
      { create: { _index: "sensord-readings-2026-11", _id: "testprefix-r3" } },
    ]);
    const stored = standIn.documents("sensord-readings-*");
    expect(stored.map((doc) => `${doc.index} ${doc.id}`)).toEqual([
      "sensord-readings-2026-10 oct-last",
      "sensord-readings-2026-11 nov-first",
      "sensord-readings-2026-11 testprefix-r3",
    ]);
    expect(stored[0]?.source).toMatchObject({
      device: "pi-1",
      group: "2",
      gas: "no2",
      value: 0.01,
      ts: Date.parse("2026-10-31T23:59:59.999Z"),
      gpsText: "37.61, 126.99",
      gps: { lat: 37.61, lon: 126.99 },
    });
  });

  it("a batch sent twice (another key) is stored once: the second answer is all duplicates; the same key replays", async () => {
    const { url, standIn } = await startPair();
    const batch = makeBatch("b-twice", [reading(1), reading(2), reading(3), reading(2)]);
    expect((await post(url, batch, { headers: { "idempotency-key": "k1" } })).json).toEqual({
      accepted: 3,
      duplicates: 1,
      batchId: "b-twice",
    });
    expect((await post(url, batch, { headers: { "idempotency-key": "k2" } })).json).toEqual({
      accepted: 0,
      duplicates: 4,
      batchId: "b-twice",
    });
    expect(standIn.documents("sensord-readings-*")).toHaveLength(3);
    const bulksBefore = bulkRequests(standIn).length;
    const replay = await post(url, batch, { headers: { "idempotency-key": "k1" } });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.json).toEqual({ accepted: 3, duplicates: 1, batchId: "b-twice" });
    expect(bulkRequests(standIn)).toHaveLength(bulksBefore);
    expect(standIn.documents("sensord-requests").map((doc) => doc.id)).toEqual(["k1", "k2"]);
  });

  it("a key another process recorded meanwhile: its answer is returned (replayed), the readings stored once", async () => {
    const { standIn, store } = await startPair();
    const unit = {
      format: "batch" as const,
      batchId: "b-race",
      device: "pi-1",
      group: "2",
      gps: "",
      indexName: null,
      rows: [
        {
          id: "r-race",
          sensor: "gas0",
          gas: "co",
          value: 1,
          unit: "ppm",
          ts: Date.UTC(2026, 10, 26),
          flags: "",
          sensorId: "",
          sensorType: "",
        },
      ],
    };
    // Both passed the replay check before either recorded the key.
    const first = await store.ingest(unit, "race-key", Date.now());
    const second = await store.ingest(unit, "race-key", Date.now());
    expect(first).toMatchObject({ replayed: false, accepted: 1, duplicates: 0 });
    expect(second).toEqual({
      status: 200,
      body: first.body,
      replayed: true,
      accepted: 0,
      duplicates: 0,
    });
    expect(standIn.documents("sensord-readings-*")).toHaveLength(1);
    expect(standIn.documents("sensord-requests").map((doc) => doc.id)).toEqual(["race-key"]);
  });

  it("throttled (429) items are retried alone and the request succeeds; throttled past the budget it answers 503 with Retry-After", async () => {
    const { url, standIn } = await startPair();
    standIn.failNextItems(2, 429);
    const first = await post(url, makeBatch("b-429", [reading(1), reading(2), reading(3)]));
    expect(first.json).toEqual({ accepted: 3, duplicates: 0, batchId: "b-429" });
    const bulks = bulkRequests(standIn);
    expect(bulks.map((bulk) => (bulk.lines ?? []).length / 2)).toEqual([3, 2]);

    standIn.failNextItems(1000, 429);
    const started = Date.now();
    const busy = await post(url, makeBatch("b-busy", [reading(4), reading(5)]));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).toBe("5");
    expect(busy.json).toMatchObject({ code: "INGEST_BUSY", retryAfter: 5 });
    expect(String((busy.json as { error: string }).error)).toMatch(/throttling 2 of 2 readings/);
    standIn.clearFaults();
    // Nothing was recorded under the batch's key: the device's retry is processed and stores them.
    expect((await post(url, makeBatch("b-busy", [reading(4), reading(5)]))).json).toEqual({
      accepted: 2,
      duplicates: 0,
      batchId: "b-busy",
    });
  });

  it("a whole request refused with 503 or 429 answers 503 with Retry-After", async () => {
    const { url, standIn } = await startPair();
    for (const status of [503, 429] as const) {
      standIn.failNextRequests(1, status, /_bulk/);
      const answer = await post(url, makeBatch(`b-${status}`, [reading(1)]));
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("5");
      expect(answer.json).toMatchObject({ code: "INGEST_BUSY" });
    }
    standIn.failNextRequests(1, 500, /_bulk/);
    expect((await post(url, makeBatch("b-500", [reading(1)]))).status).toBe(500);
  });

  it("a refused (400) item answers 422 naming the reading; the retry stores only what was missing", async () => {
    const { url, standIn } = await startPair();
    standIn.failNextItems(1, 400);
    const batch = makeBatch("b-400", [reading(1), reading(2), reading(3)]);
    const refused = await post(url, batch);
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({
      code: "INGEST_STORE_REJECTED",
      readingId: "testprefix-r1",
    });
    expect(String((refused.json as { error: string }).error)).toMatch(
      /reading "testprefix-r1".*mapper_parsing_exception/,
    );
    // The other two were written: a retry finds them (409) and stores the one missing, never twice.
    expect((await post(url, batch)).json).toEqual({ accepted: 1, duplicates: 2, batchId: "b-400" });
    expect(standIn.documents("sensord-readings-*")).toHaveLength(3);
    expect((await get(url, "/healthz")).json).toMatchObject({
      store: "opensearch",
      scope: "process",
    });
  });

  it("alerts: stored once per (device, event id), _id device/event, storedIds the 201s in batch order", async () => {
    const { standIn, store } = await startPair();
    const event = (id: string, ts: string) => ({
      id,
      readingId: `${id}-r`,
      rule: "no2>=35ppm:warning",
      sensor: "gas0",
      gas: "no2" as const,
      kind: "raise" as const,
      value: 40,
      unit: "ppm" as const,
      threshold: 35,
      op: ">=" as const,
      severity: "warning" as const,
      ts,
    });
    const batch = {
      schema: "sensord.alerts.v1" as const,
      device: { id: "pi-a", group: "1" },
      alerts: [event("e2", "2026-11-26T10:00:02.000Z"), event("e1", "2026-11-26T10:00:01.000Z")],
    };
    expect(await store.addAlerts(batch, Date.now())).toEqual({
      accepted: 2,
      duplicates: 0,
      storedIds: ["e2", "e1"],
    });
    const again = { ...batch, alerts: [event("e3", "2026-11-26T10:00:03.000Z"), ...batch.alerts] };
    expect(await store.addAlerts(again, Date.now())).toEqual({
      accepted: 1,
      duplicates: 2,
      storedIds: ["e3"],
    });
    expect(standIn.documents("sensord-alerts").map((doc) => doc.id)).toEqual([
      "pi-a/e2",
      "pi-a/e1",
      "pi-a/e3",
    ]);
  });

  it("prune deletes whole monthly indices before the cutoff's month and deletes by query within it", async () => {
    const { url, standIn, store } = await startPair();
    const at = (id: string, ts: string) => reading(1, { id, ts });
    await post(
      url,
      makeBatch("b-prune", [
        at("aug", "2026-08-15T00:00:00.000Z"),
        at("sep", "2026-09-15T00:00:00.000Z"),
        at("oct-early", "2026-10-02T00:00:00.000Z"),
        at("oct-late", "2026-10-20T00:00:00.000Z"),
      ]),
    );
    const removed = await store.prune(Date.parse("2026-10-10T00:00:00.000Z"));
    expect(removed).toMatchObject({ readings: 3, alerts: 0 });
    expect(
      [...standIn.cluster.indices.keys()].filter((name) => name.includes("readings")).sort(),
    ).toEqual(["sensord-readings-2026-10"]);
    expect(standIn.documents("sensord-readings-*").map((doc) => doc.id)).toEqual(["oct-late"]);
    expect(
      standIn.requests.some(
        (r) =>
          r.method === "DELETE" && r.path === "/sensord-readings-2026-08,sensord-readings-2026-09",
      ),
    ).toBe(true);
  });
});

describe("OpenSearch store: signing, access and open errors", () => {
  const opened: CloudStore[] = [];
  const running: OpenSearchStandIn[] = [];
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    for (const standIn of running.splice(0)) await standIn.stop();
  });
  const standIn = async () => {
    const instance = await startOpenSearchStandIn();
    running.push(instance);
    return instance;
  };
  const open = async (node: string, secretAccessKey: string = TEST_CREDENTIALS.secretAccessKey) => {
    const store = await openOpenSearchStore({
      node,
      region: TEST_REGION,
      credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey },
    });
    opened.push(store);
    return store;
  };
  const failure = async (promise: Promise<unknown>): Promise<OpenSearchStoreError> => {
    try {
      await promise;
    } catch (error) {
      return error as OpenSearchStoreError;
    }
    throw new Error("expected a failure");
  };

  it("a correct signature is accepted; a wrong secret is refused with 403 and a message naming the fix, never the secret", async () => {
    const domain = await standIn();
    const store = await open(domain.url);
    expect(store.kind).toBe("opensearch");
    expect(domain.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "PUT /_index_template/sensord-readings",
      "PUT /sensord-alerts",
      "PUT /sensord-requests",
      "PUT /sensord-fleet-thresholds",
      "PUT /sensord-threshold-reports",
    ]);
    const wrongSecret = "wrong/secret/key/000000000000000000000000";
    const refused = await failure(open(domain.url, wrongSecret));
    expect(refused.code).toBe("INGEST_OS_FORBIDDEN");
    expect(refused.message).toMatch(/403: The request signature we calculated does not match/);
    expect(refused.message).toMatch(/es:ESHttp\* on the domain/);
    expect(refused.message).not.toContain(wrongSecret);
    // Nothing signed wrongly got past the check.
    expect(domain.requests).toHaveLength(5);
  });

  it("the domain's access policy refusing the role is INGEST_OS_FORBIDDEN naming the principal", async () => {
    const domain = await standIn();
    domain.denyAccess("arn:aws:sts::123456789012:assumed-role/other-role/fn");
    const refused = await failure(open(domain.url));
    expect(refused.code).toBe("INGEST_OS_FORBIDDEN");
    expect(refused.message).toMatch(/other-role.*not authorized to perform: es:ESHttpPut/);
  });

  it("nothing listening is INGEST_OS_UNREACHABLE; a bad URL or prefix is INGEST_OS_URL", async () => {
    const domain = await standIn();
    const url = domain.url;
    await domain.stop();
    expect((await failure(open(url))).code).toBe("INGEST_OS_UNREACHABLE");
    expect((await failure(open("ftp://example.com"))).code).toBe("INGEST_OS_URL");
    expect((await failure(open("https://user:pw@example.com"))).message).not.toContain("pw");
    const badPrefix = openOpenSearchStore({
      node: url,
      region: TEST_REGION,
      indexPrefix: "Sensord",
      credentials: TEST_CREDENTIALS,
    });
    expect((await failure(badPrefix)).code).toBe("INGEST_OS_URL");
  });

  it("the readings template is dynamic: strict: an unknown field is the real 400 strict_dynamic_mapping_exception item", async () => {
    const domain = await standIn();
    await open(domain.url);
    const http = new SignedHttp(
      { node: domain.url, region: TEST_REGION, credentials: TEST_CREDENTIALS },
      domain.url,
    );
    const answer = await http.call<{ errors: boolean; items: unknown[] }>(
      {
        method: "POST",
        path: "/_bulk",
        lines: [
          { create: { _index: "sensord-readings-2026-11", _id: "x" } },
          { id: "x", colour: "red" },
        ],
      },
      "test",
    );
    await http.close();
    expect(answer.body.errors).toBe(true);
    expect(answer.body.items[0]).toMatchObject({
      create: {
        _index: "sensord-readings-2026-11",
        _id: "x",
        status: 400,
        error: {
          type: "strict_dynamic_mapping_exception",
          reason:
            "mapping set to strict, dynamic introduction of [colour] within [_doc] is not allowed",
        },
      },
    });
  });

  it("--db opensearch+http://... opens through open.ts with the environment's keys and AWS_REGION", async () => {
    const domain = await standIn();
    const restore = useOpenSearchEnv();
    try {
      const store = await openStore({ db: `opensearch+${domain.url}` });
      opened.push(store);
      expect(store.location).toBe(`opensearch ${domain.url} (sensord-*)`);
      delete process.env.AWS_REGION;
      await expect(openStore({ db: `opensearch+${domain.url}` })).rejects.toMatchObject({
        code: "INGEST_OS_REGION",
      });
    } finally {
      restore();
    }
  });
});
